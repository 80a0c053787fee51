"""/api/v1/fulfilment: the fulfilment ledger (兑现台账) with the same filters as its page and export, and its
totals with seed 002's sentence for a period and a jurisdiction.

Mounted by qinqing/api/api.py with `api.add_router("/fulfilment", router)`. Rows come only from
FulfilmentRecord.objects.visible_to(user): staff see the records of enterprises in their place, an enterprise
account its own.
"""

import datetime as dt
from decimal import Decimal

from ninja import Field, Query, Router, Schema

from qinqing.api.errors import ApiError
from qinqing.api.schemas import doc
from qinqing.policies.models import BenefitType

from . import ledger
from .models import FulfilmentRecord

router = Router(tags=["政策兑现"])

MAX_LIMIT = 100
MAX_OFFSET = 10_000_000


class Error(Schema):
    detail: str = Field(description="给用户看的中文说明")
    code: str = Field(description="简短的错误代码，如 invalid_filter")


class RecordOut(Schema):
    id: int
    policy_id: int
    policy: str = Field(description="政策名称")
    benefit_type: str
    enterprise: str = Field(description="企业名称")
    credit_code: str = Field(description="统一社会信用代码")
    jurisdiction: str = Field(description="企业所在镇街园区")
    source: str = Field(description="application（申报兑现）或 batch（免申即享）")
    amount: Decimal = Field(description="兑现金额（万元）")
    started_on: dt.date = Field(description="起算日期：申报日期或批次审批日期")
    granted_on: dt.date = Field(description="核定日期")
    paid_on: dt.date | None = Field(description="兑现日期；待拨付为 null")
    days_to_pay: int | None = Field(description="兑现用时（自然日）")
    workdays_to_pay: int | None = Field(description="兑现用时（工作日，按国务院办公厅节假日安排）")


class RecordPage(Schema):
    items: list[RecordOut]
    next: int | None = Field(description="下一页的 offset；没有更多时为 null")


class Summary(Schema):
    records: int
    amount: Decimal = Field(description="金额合计（万元）")
    policies: int
    enterprises: int
    average_days: float | None = Field(description="平均兑现用时（自然日）")
    average_workdays: float | None = Field(description="平均兑现用时（工作日）")
    median_days: float | None
    median_workdays: float | None
    sentence: str = Field(description="“已落实N项惠企政策，涉及…金额共X万元，惠及企业Y户。”（仅 state=paid 时）")


class LedgerFilters(Schema):
    state: str | None = Field(None, description="paid（已兑现，默认）、granted（已核定待拨付）、all",
                              **doc(enum=["", *(v for v, _ in ledger.STATE_CHOICES), None], examples=["paid"]))
    date_from: dt.date | None = Field(None, description="起始日期（已兑现按兑现日期，其余按核定日期）")
    date_to: dt.date | None = Field(None, description="截止日期（含当日）")
    jurisdiction: str | None = Field(None, description="区划或镇街代码，含下级", **doc(maxLength=20))
    benefit_type: str | None = Field(None, **doc(enum=["", *BenefitType.values, None]))
    source: str | None = Field(None, **doc(enum=["", *FulfilmentRecord.Source.values, None]))
    policy: int | None = Field(None, description="政策编号", ge=1, le=2_147_483_647)
    q: str | None = Field(None, description="企业名称包含的文字或信用代码", **doc(maxLength=60))


def _filtered(request):
    qs, form = ledger.filter_records(FulfilmentRecord.objects.visible_to(request.auth), request.GET)
    if form.is_bound and form.errors:
        raise ApiError(400, "筛选条件有误：" + "；".join(
            f"{form.fields[k].label if k in form.fields else ''}：{' '.join(v)}" for k, v in form.errors.items()),
            "invalid_filter")
    return qs


@router.get("/records", response={200: RecordPage, 400: Error, 401: Error}, summary="兑现台账")
def list_records(request, filters: Query[LedgerFilters], limit: int = Query(50, ge=1, le=MAX_LIMIT),
                 offset: int = Query(0, ge=0, le=MAX_OFFSET)):
    """The ledger's rows the caller may see, newest payment first; page with `limit` (≤100) and `next`."""
    rows = list(_filtered(request)[offset:offset + limit + 1])
    page, has_next = rows[:limit], len(rows) > limit
    return {"items": [{
        "id": r.pk, "policy_id": r.policy_id, "policy": r.policy.title, "benefit_type": r.benefit_type,
        "enterprise": r.enterprise.name, "credit_code": r.enterprise.credit_code, "jurisdiction": r.jurisdiction.name,
        "source": r.source, "amount": r.amount, "started_on": r.started_on, "granted_on": r.granted_on,
        "paid_on": r.paid_on, "days_to_pay": r.days_to_pay, "workdays_to_pay": r.workdays_to_pay} for r in page],
        "next": offset + limit if has_next else None}


@router.get("/summary", response={200: Summary, 400: Error, 401: Error}, summary="兑现台账合计与通报用语")
def ledger_summary(request, filters: Query[LedgerFilters]):
    """Totals of the filtered rows, the days to payment, and seed 002's sentence for the period."""
    totals = ledger.summary(_filtered(request))
    o = totals["overall"]
    paid = (request.GET.get("state") or "paid") == "paid"
    return {"records": o["records"], "amount": o["amount"], "policies": o["policies"],
            "enterprises": o["enterprises"], "average_days": o["days"], "average_workdays": o["workdays"],
            "median_days": o["median_days"], "median_workdays": o["median_workdays"],
            "sentence": ledger.sentence_of_summary(totals) if paid else ""}
