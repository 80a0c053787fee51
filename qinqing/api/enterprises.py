"""/api/v1/enterprises: the registry's list, one enterprise, create, update and yearly figures.

Mounted by qinqing/api/api.py with `api.add_router("/enterprises", router)`. Input is cleaned by the
same RowCleaner as the Excel importer and the forms (inside qinqing.enterprises.services); rows come only
from Enterprise.objects.visible_to(user), so an enterprise the caller may not see is a 404 everywhere.
Field problems come back as {"detail": "<中文说明>", "code": "invalid"} like every other API error.
"""

import datetime as dt
from decimal import Decimal

from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from qinqing.demands.errors import NotFoundError
from qinqing.enterprises import services
from qinqing.enterprises.filters import filter_enterprises
from qinqing.enterprises.models import HELPERS, Enterprise, IndustryCode
from qinqing.lib import privacy

from .errors import ApiError
from .idempotency import idempotent

router = Router(tags=["企业库"])

MAX_LIMIT = 200
MAX_OFFSET = 10_000_000  # beyond any registry; a larger number is a 422, not an overflow in the database
NOT_VISIBLE = "企业不存在或您无权查看。"


class Error(Schema):
    detail: str = Field(description="给用户看的中文说明")
    code: str = Field(description="简短的错误代码，如 not_found、forbidden、invalid")


ERRORS = {400: Error, 401: Error, 403: Error, 404: Error, 409: Error}


class Ref(Schema):
    code: str
    name: str


class PersonRef(Schema):
    id: int
    name: str


class FiguresOut(Schema):
    year: int
    employees: int | None
    revenue: Decimal | None = Field(description="营业收入（万元）")
    assets: Decimal | None = Field(description="资产总额（万元）")
    tax_paid: Decimal | None = Field(description="纳税额（万元）")
    size: str = Field(description="large/medium/small/micro；空为无法测算")
    is_four_above: bool
    four_above_rule: str = Field(description="满足的四上类别，如“规模以上工业”")


class EnterpriseOut(Schema):
    id: int
    name: str
    credit_code: str
    credit_code_override: bool = Field(description="是否为管理员特批的校验位不符代码")
    sector: str
    sector_label: str
    industry_code: str = Field(description="GB/T 4754-2017，门类字母+数字，如 C3311")
    industry_name: str
    jurisdiction: Ref
    division: Ref | None = Field(description="GB/T 2260 行政区划")
    size: str
    size_label: str
    is_four_above: bool
    figures_year: int | None = Field(description="规模与四上按哪一年的数据测算")
    qualification: str
    tags: list[str]
    legal_representative: str
    contact_name: str
    contact_phone: str
    address: str
    service_specialist: PersonRef | None
    contact_leader: PersonRef | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_credit_code_override(obj) -> bool:
        return obj.credit_code_override_id is not None

    @staticmethod
    def resolve_contact_phone(obj, context) -> str:
        # Masked unless the caller may see it (qinqing.lib.privacy): in a list, the list rule; for one
        # enterprise, `_present`'s mark.
        return privacy.api_value(obj, "contact_phone", context)

    @staticmethod
    def resolve_sector_label(obj) -> str:
        return obj.get_sector_display()

    @staticmethod
    def resolve_size_label(obj) -> str:
        return obj.get_size_display()

    @staticmethod
    def resolve_industry_name(obj) -> str:
        return getattr(obj, "industry_name", "")

    @staticmethod
    def resolve_service_specialist(obj):
        person = obj.service_specialist
        return {"id": person.pk, "name": person.display_name} if person else None

    @staticmethod
    def resolve_contact_leader(obj):
        person = obj.contact_leader
        return {"id": person.pk, "name": person.display_name} if person else None

    @staticmethod
    def resolve_created_at(obj):
        return timezone.localtime(obj.created_at)

    @staticmethod
    def resolve_updated_at(obj):
        return timezone.localtime(obj.updated_at)


class EnterpriseDetail(EnterpriseOut):
    figures: list[FiguresOut] = Field(description="年度数据，新的在前")

    @staticmethod
    def resolve_figures(obj):
        return list(obj.figures.all())


class EnterprisePage(Schema):
    items: list[EnterpriseOut]
    next: int | None = Field(description="下一页的 offset；没有更多时为 null")
    count: int | None = Field(None, description="仅当请求 count=true 时给出总数")


class EnterpriseFilters(Schema):
    """The registry list's filters (qinqing.enterprises.filters), documented here; parsed by its form."""

    q: str | None = Field(None, description="企业名称、统一社会信用代码（或其开头）、联系人或电话")
    match: str | None = Field(None, description="名称匹配方式：contains（包含，默认）或 prefix（开头）")
    sector: str | None = Field(None, description="统计口径行业：industry、construction …")
    section: str | None = Field(None, description="GB/T 4754 门类字母，如 C")
    division: str | None = Field(None, description="GB/T 4754 大类，如 C33")
    size: str | None = Field(None, description="large、medium、small、micro 或 unknown")
    four_above: str | None = Field(None, description="yes 或 no")
    tag: str | None = Field(None, description="标签名称")
    jurisdiction: str | None = Field(None, description="镇街园区（或其上级）区划代码，含下级")


class EnterpriseIn(Schema):
    """Fields of an enterprise, validated like an Excel row. On update, only the fields sent change;
    a field sent as null or "" is emptied."""

    name: str | None = None
    credit_code: str | None = Field(None, description="18位统一社会信用代码；登记时必填，之后不能修改")
    industry_code: str | None = Field(None, description="GB/T 4754-2017，如 C3311 或 3311")
    sector: str | None = Field(None, description="未给行业代码时必填：industry 或“工业”等")
    jurisdiction: str | None = Field(None, description="镇街园区的区划代码或名称")
    division: str | None = Field(None, description="GB/T 2260 六位代码；不给则取信用代码第3-8位")
    size: str | None = Field(None, description="无年度数据时手工填写的规模")
    is_four_above: bool | None = Field(None, description="无年度数据时手工填写")
    qualification: str | None = None
    tags: list[str] | None = None
    legal_representative: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    address: str | None = None
    service_specialist: str | None = Field(None, description="用户名或姓名")
    contact_leader: str | None = Field(None, description="用户名或姓名")
    year: int | None = Field(None, description="以下年度数据的年份")
    employees: int | None = None
    revenue: Decimal | None = Field(None, description="营业收入（万元）")
    assets: Decimal | None = Field(None, description="资产总额（万元）")
    tax_paid: Decimal | None = Field(None, description="纳税额（万元）")


class FiguresIn(Schema):
    year: int
    employees: int | None = None
    revenue: Decimal | None = Field(None, description="万元")
    assets: Decimal | None = Field(None, description="万元")
    tax_paid: Decimal | None = Field(None, description="万元")


# ---------------------------------------------------------------- lookups

def _queryset(user):
    return (Enterprise.objects.visible_to(user)
            .select_related("jurisdiction", "division", *HELPERS))


def _with_industry_names(rows: list) -> list:
    codes = {e.industry_code for e in rows if e.industry_code}
    names = dict(IndustryCode.objects.filter(code__in=codes).values_list("code", "name")) if codes else {}
    for enterprise in rows:
        enterprise.industry_name = names.get(enterprise.industry_code, "")
    return rows


def _pk(user, ref: str) -> int:
    """An id or a credit code, among the enterprises the user may see."""
    ref = ref.strip().upper()
    visible = Enterprise.objects.visible_to(user)
    by_id = ref.isascii() and ref.isdigit() and len(ref) < 18  # "³" is a digit to isdigit(), not to int()
    pk = (visible.filter(pk=int(ref)) if by_id else visible.filter(credit_code=ref)
          ).values_list("pk", flat=True).first()
    if pk is None:
        raise NotFoundError(NOT_VISIBLE)
    return pk


def _present(user, pk: int) -> Enterprise:
    enterprise = _queryset(user).prefetch_related("figures").filter(pk=pk).first()
    if enterprise is None:
        raise NotFoundError(NOT_VISIBLE)
    privacy.mark_for_api(user, enterprise, "contact_phone")
    return _with_industry_names([enterprise])[0]


def _form_problems(form) -> str:
    return "；".join(f"{form.fields[k].label}：{''.join(v)}" if k in form.fields else "".join(v)
                    for k, v in form.errors.items())


# ---------------------------------------------------------------- endpoints

@router.get("", response={200: EnterprisePage, **ERRORS}, summary="企业列表")
def list_enterprises(request, filters: Query[EnterpriseFilters], limit: int = 50,
                     offset: int = Query(0, le=MAX_OFFSET), count: bool = False):
    """The registry with its filters, by name; page with `limit` (≤200) and `next`."""
    limit = max(1, min(limit, MAX_LIMIT))
    offset = max(0, offset)
    qs, form = filter_enterprises(_queryset(request.auth), request.GET)
    if form.is_bound and form.errors:
        raise ApiError(400, f"筛选条件有误：{_form_problems(form)}", "invalid_filter")
    rows = list(qs[offset:offset + limit + 1])
    has_next = len(rows) > limit
    return {"items": _with_industry_names(rows[:limit]), "next": offset + limit if has_next else None,
            "count": qs.count() if count else None}


@router.post("", response={201: EnterpriseDetail, **ERRORS}, summary="登记企业")
@idempotent
def create_enterprise(request, payload: EnterpriseIn):
    """Register an enterprise (administrators; dispatchers within their jurisdiction)."""
    enterprise = services.register_enterprise(request.auth, payload.model_dump(exclude_unset=True))
    return Status(201, _present(request.auth, enterprise.pk))


@router.get("/{ref}", response={200: EnterpriseDetail, **ERRORS}, summary="企业详情")
def get_enterprise(request, ref: str):
    """One enterprise by id or credit code, with its yearly figures."""
    return _present(request.auth, _pk(request.auth, ref))


@router.patch("/{ref}", response={200: EnterpriseDetail, **ERRORS}, summary="修改企业")
def update_enterprise(request, ref: str, payload: EnterpriseIn):
    """Change the fields sent; the credit code cannot change."""
    user = request.auth
    services.update_enterprise(user, _pk(user, ref), payload.model_dump(exclude_unset=True))
    return _present(user, _pk(user, ref))


@router.post("/{ref}/figures", response={200: EnterpriseDetail, **ERRORS}, summary="录入年度数据")
def record_figures(request, ref: str, payload: FiguresIn):
    """A year's figures; size and 四上 are computed for that year (and carried over if it is the latest)."""
    user = request.auth
    services.record_yearly_figures(user, _pk(user, ref), **payload.model_dump())
    return _present(user, _pk(user, ref))
