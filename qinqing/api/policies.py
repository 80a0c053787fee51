"""/api/v1/policies: the policy library's list, with the same filters as the staff page and its export.

Mounted by qinqing/api/api.py with `api.add_router("/policies", router)`. Rows come only from
Policy.objects.visible_to(user): staff see their jurisdiction's and those above it, enterprises the current
policies that apply where they are registered. For an enterprise caller each policy says whether the
enterprise qualifies and the estimated amount, computed in one query for the page (policies.matching).
"""

import datetime as dt
from decimal import Decimal

from ninja import Field, Query, Router, Schema

from qinqing.accounts.models import Role
from qinqing.enterprises.models import Enterprise
from qinqing.lib import clock
from qinqing.policies import matching
from qinqing.policies.filters import STATE_CHOICES, filter_eligible, filter_policies
from qinqing.policies.models import BenefitType, Level, Policy

from .errors import ApiError
from .schemas import doc

router = Router(tags=["惠企政策"])

MAX_LIMIT = 100
MAX_OFFSET = 10_000_000


class Error(Schema):
    detail: str = Field(description="给用户看的中文说明")
    code: str = Field(description="简短的错误代码，如 invalid_filter")


class PolicyOut(Schema):
    id: int
    title: str
    issuer: str
    doc_number: str = Field(description="文号")
    level: str = Field(description="national/province/city/district")
    jurisdiction: str = Field(description="适用区域名称（含下辖区域）")
    published_on: dt.date | None
    valid_from: dt.date | None
    valid_until: dt.date | None = Field(description="有效期至（含当日），次日起失效")
    apply_opens: dt.date | None
    apply_closes: dt.date | None
    days_left: int | None = Field(description="距申报截止的天数；无截止日期为 null，已截止为负数")
    no_application: bool = Field(description="免申即享")
    benefit_type: str
    benefit_type_label: str
    amount: str = Field(description="金额规则的文字说明，如“2025年营业收入的1%，最高50万元”或“按实际”")
    status: str = Field(description="draft/published/expired/repealed（已过有效期的已发布政策为 expired）")
    rule_text: str = Field(description="适用条件的中文说明")
    eligible: bool | None = Field(description="企业调用时：本企业是否符合条件；工作人员调用时为 null")
    estimate: Decimal | None = Field(description="企业调用且符合条件时：预计金额（万元）；按实际为 null")


class PolicyPage(Schema):
    items: list[PolicyOut]
    next: int | None = Field(description="下一页的 offset；没有更多时为 null")


class PolicyFilters(Schema):
    q: str | None = Field(None, description="政策名称、文号或发文机关包含的文字",
                         **doc(maxLength=60, examples=["补贴"]))
    state: str | None = Field(None, description="current（现行有效，默认）、draft、expired、repealed、all",
                              **doc(enum=["", *(v for v, _ in STATE_CHOICES), None], examples=["current"]))
    level: str | None = Field(None, **doc(enum=["", *Level.values, None]))
    benefit_type: str | None = Field(None, **doc(enum=["", *BenefitType.values, None]))
    no_application: bool | None = Field(None, description="只看免申即享")
    open_now: bool | None = Field(None, description="只看正在申报")


def _out(p: Policy, today: dt.date, match=None, enterprise: bool = False) -> dict:
    return {"id": p.pk, "title": p.title, "issuer": p.issuer, "doc_number": p.doc_number, "level": p.level,
            "jurisdiction": p.jurisdiction.name, "published_on": p.published_on, "valid_from": p.valid_from,
            "valid_until": p.valid_until, "apply_opens": p.apply_opens, "apply_closes": p.apply_closes,
            "days_left": p.days_left(today), "no_application": p.no_application, "benefit_type": p.benefit_type,
            "benefit_type_label": p.get_benefit_type_display(), "amount": p.amount_text(),
            "status": p.shown_status(today), "rule_text": p.rule_text,
            "eligible": (match is not None) if enterprise else None,
            "estimate": match.estimate if match is not None else None}


@router.get("", response={200: PolicyPage, 400: Error, 401: Error}, summary="政策列表")
def list_policies(request, filters: Query[PolicyFilters], limit: int = Query(50, ge=1, le=MAX_LIMIT),
                  offset: int = Query(0, ge=0, le=MAX_OFFSET)):
    """The policies the caller may see, newest first; page with `limit` (≤100) and `next`."""
    user, today = request.auth, clock.today()
    qs, form = filter_policies(Policy.objects.visible_to(user), request.GET)
    if form.is_bound and form.errors:
        raise ApiError(400, "筛选条件有误：" + "；".join(f"{form.fields[k].label}：{' '.join(v)}"
                                                   for k, v in form.errors.items()), "invalid_filter")
    rows = list(qs[offset:offset + limit + 1])
    page, has_next = rows[:limit], len(rows) > limit
    enterprise = user.has_role(Role.ENTERPRISE) and bool(user.enterprise_id)
    matches = {m.policy.pk: m for m in matching.policies_for(user.enterprise, page)} if enterprise and page else {}
    return {"items": [_out(p, today, matches.get(p.pk), enterprise) for p in page],
            "next": offset + limit if has_next else None}


class EligibleOut(Schema):
    credit_code: str
    name: str
    jurisdiction: str = Field(description="所在镇街园区")
    reason: str = Field(description="符合的条件（中文）")
    estimate: Decimal | None = Field(description="预计金额（万元）；按实际或缺少年度数据时为 null")


class EligiblePage(Schema):
    policy: int
    count: int = Field(description="符合条件的企业总数（调用者可查看的范围内，含筛选）")
    items: list[EligibleOut]
    next: int | None = Field(description="下一页的 offset；没有更多时为 null")


class EligibleFilters(Schema):
    q: str | None = Field(None, description="企业名称包含的文字，或完整的统一社会信用代码",
                          **doc(maxLength=60, examples=["精密"]))
    place: str | None = Field(None, description="区划代码（含下辖）", **doc(maxLength=12, examples=["440305001"]))


def _filter_error(form):
    return ApiError(400, "筛选条件有误：" + "；".join(f"{form.fields[k].label}：{' '.join(v)}"
                                                for k, v in form.errors.items()), "invalid_filter")


@router.get("/{ref}/eligible", response={200: EligiblePage, 400: Error, 401: Error, 404: Error},
            summary="政策的符合条件企业")
def eligible_enterprises(request, ref: int, filters: Query[EligibleFilters],
                         limit: int = Query(50, ge=1, le=MAX_LIMIT), offset: int = Query(0, ge=0, le=MAX_OFFSET)):
    """The enterprises (among those the caller may see) that satisfy the policy's rule, by name, with the
    condition group each satisfies and the estimated amount, and their count: three queries whatever the size
    (the policy, the count, the page). The same filters as the policy page and its Excel export."""
    user = request.auth
    policy = Policy.objects.visible_to(user).select_related("jurisdiction").filter(pk=ref).first()
    if policy is None:
        raise ApiError(404, "政策不存在或您无权查看。", "not_found")
    qs, form = filter_eligible(matching.eligible_list(policy, Enterprise.objects.visible_to(user)), request.GET)
    if form.is_bound and form.errors:
        raise _filter_error(form)
    count = qs.order_by().count()
    rows = list(qs.select_related("jurisdiction").order_by("name", "pk")[offset:offset + limit])
    items = [{"credit_code": e.credit_code, "name": e.name, "jurisdiction": e.jurisdiction.name,
              "reason": matching.reason(policy, e.matched_group), "estimate": matching.money(e.estimate)}
             for e in rows]
    return {"policy": policy.pk, "count": count, "items": items,
            "next": offset + limit if offset + limit < count else None}


class MatchPage(Schema):
    enterprise: str = Field(description="统一社会信用代码")
    count: int = Field(description="符合条件的现行政策数")
    items: list[PolicyOut]


enterprise_router = Router(tags=["惠企政策"])


@enterprise_router.get("/{ref}/policies", response={200: MatchPage, 400: Error, 401: Error, 404: Error},
                       summary="企业可享的政策")
def enterprise_matches(request, ref: str, filters: Query[PolicyFilters]):
    """The current policies (of those the caller may see, applying where the enterprise is registered) whose
    rule the enterprise satisfies, with the estimated amount: two queries (the candidates, then one row of the
    enterprise with every rule as a column). The policy list's filters narrow the candidates."""
    user, today = request.auth, clock.today()
    enterprise = (Enterprise.objects.visible_to(user).select_related("jurisdiction")
                  .filter(credit_code=ref.strip().upper()).first())
    if enterprise is None:
        raise ApiError(404, "企业不存在或您无权查看。", "not_found")
    params = request.GET.copy()
    params["state"] = "current"
    qs, form = filter_policies(Policy.objects.visible_to(user).applying_in(enterprise.jurisdiction), params)
    if form.errors:
        raise _filter_error(form)
    matches = matching.policies_for(enterprise, list(qs), today)
    items = [_out(m.policy, today, m, enterprise=True) for m in matches]
    return {"enterprise": enterprise.credit_code, "count": len(items), "items": items}
