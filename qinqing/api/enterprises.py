"""/api/v1/enterprises: the registry's list, one enterprise, create, update and yearly figures.

Mounted by qinqing/api/api.py with `api.add_router("/enterprises", router)`. Input is cleaned by the
same RowCleaner as the Excel importer and the forms (inside qinqing.enterprises.services); rows come only
from Enterprise.objects.visible_to(user), so an enterprise the caller may not see is a 404 everywhere.
Field problems come back as {"detail": "<中文说明>", "code": "invalid"} like every other API error.
"""

import datetime as dt
from decimal import Decimal
from typing import Annotated

from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from pydantic import WithJsonSchema

from qinqing.demands.errors import NotFoundError
from qinqing.enterprises import services
from qinqing.enterprises.filters import filter_enterprises
from qinqing.enterprises.models import HELPERS, Enterprise, IndustryCode, Sector, Size
from qinqing.lib import clock, privacy

from .errors import ApiError
from .idempotency import idempotent
from .schemas import CREDIT_CODE, EXAMPLE_CREDIT_CODE, EXAMPLE_NEW_CREDIT_CODE, ValidationErrorOut, doc

router = Router(tags=["企业库"])

MAX_LIMIT = 200
MAX_OFFSET = 10_000_000  # beyond any registry; a larger number is a 422, not an overflow in the database
NOT_VISIBLE = "企业不存在或您无权查看。"


class Error(Schema):
    detail: str = Field(description="给用户看的中文说明")
    code: str = Field(description="简短的错误代码，如 not_found、forbidden、invalid")


ERRORS = {400: Error, 401: Error, 403: Error, 404: Error, 409: Error, 422: ValidationErrorOut}
# The registry's text fields as its RowCleaner takes them: a formula ("=…") is refused, blanks are trimmed.
NOT_A_FORMULA = "^[\\s\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*($|[^\\s=\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f])"
FILLED = "^[\\s\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[^\\s=\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]"  # and not blank
# An id (up to 17 digits) or a credit code; surrounding blanks are ignored, letters may be lower case.
ENTERPRISE_REF = "^\\s*([0-9]{1,17}|[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{18})\\s*$"
Ref_ = Annotated[str, WithJsonSchema({"type": "string", "pattern": ENTERPRISE_REF,
                                     "description": "企业编号（id）或统一社会信用代码",
                                     "examples": [EXAMPLE_CREDIT_CODE]})]


def _text(max_length: int, *examples) -> dict:
    return doc(maxLength=max_length, pattern=NOT_A_FORMULA, **({"examples": list(examples)} if examples else {}))


def _money() -> dict:
    # numeric(14, 2): what rounds to a cent above 999999999999.99 is refused
    return doc(anyOf=[{"type": "number", "minimum": 0, "maximum": 999_999_999_999.99}, {"type": "null"}])


def _year_range(schema: dict) -> None:
    # RowCleaner's bounds: 1949 to next year, which moves with the clock.
    schema.update(minimum=1949, maximum=clock.today().year + 1)


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
    contact_phone: str = Field(description="联系电话；列表中及无需完整号码的调用者见到脱敏号码，如 138****5678")
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

    q: str | None = Field(None, description="企业名称、统一社会信用代码（或其开头）、联系人或电话",
                          **doc(maxLength=60, examples=["南头"]))
    match: str | None = Field(None, description="名称匹配方式：contains（包含，默认）或 prefix（开头）",
                              **doc(enum=["", "contains", "prefix", None]))
    sector: str | None = Field(None, description="统计口径行业：industry、construction …",
                               **doc(enum=["", *Sector.values, None]))
    section: str | None = Field(None, description="GB/T 4754 门类字母，如 C",
                                **doc(enum=["", *"ABCDEFGHIJKLMNOPQRST", None]))
    division: str | None = Field(None, description="GB/T 4754 大类，如 C33", **doc(pattern="^$|^[A-T][0-9]{2}$"))
    size: str | None = Field(None, description="large、medium、small、micro 或 unknown",
                             **doc(enum=["", *Size.values, "unknown", None]))
    four_above: str | None = Field(None, description="yes 或 no", **doc(enum=["", "yes", "no", None]))
    tag: str | None = Field(None, description="标签名称")
    jurisdiction: str | None = Field(None, description="镇街园区（或其上级）区划代码，含下级")


class EnterpriseIn(Schema):
    """Fields of an enterprise, validated like an Excel row. On update, only the fields sent change;
    a field sent as null or "" is emptied."""

    name: str | None = Field(None, description="企业名称，登记时必填；至多120字，不能清空",
                             **doc(type="string", maxLength=120, pattern=FILLED, examples=["深圳市南山智造科技有限公司"]))
    credit_code: str | None = Field(None, description="18位统一社会信用代码；登记时必填，之后不能修改",
                                    **doc(type="string", pattern=CREDIT_CODE, examples=[EXAMPLE_NEW_CREDIT_CODE]))
    industry_code: str | None = Field(None, description="GB/T 4754-2017，如 C3311 或 3311",
                                      **doc(maxLength=1000, pattern=NOT_A_FORMULA, examples=["C3311"]))
    sector: str | None = Field(None, description="未给行业代码时必填：industry 或“工业”等",
                               **doc(enum=[*Sector.values, *Sector.labels, "", None]))
    jurisdiction: str | None = Field(None, description="镇街园区的区划代码或名称",
                                     **doc(maxLength=1000, pattern=NOT_A_FORMULA, examples=["440305001"]))
    division: str | None = Field(None, description="GB/T 2260 六位代码；不给则取信用代码第3-8位",
                                 **doc(pattern="^\\s*([0-9]{6})?\\s*$"))
    size: str | None = Field(None, description="无年度数据时手工填写的规模",
                             **doc(enum=[*Size.values, *Size.labels, "", None]))
    is_four_above: bool | None = Field(None, description="无年度数据时手工填写")
    qualification: str | None = Field(None, **_text(60))
    tags: list[str] | None = Field(None, description="标签库中的名称")
    legal_representative: str | None = Field(None, **_text(40))
    contact_name: str | None = Field(None, **_text(40, "林总"))
    contact_phone: str | None = Field(None, description="5–30位数字、+、-、括号、空格、转、#",
                                      **doc(pattern="^$|^[0-9+\\-()（）转#]([0-9+\\-()（）转# ]{3,28})[0-9+\\-()（）转#]$",
                                            examples=["0755-26661234"]))
    address: str | None = Field(None, **_text(200))
    service_specialist: str | None = Field(None, description="用户名或姓名", **doc(maxLength=1000, pattern=NOT_A_FORMULA))
    contact_leader: str | None = Field(None, description="用户名或姓名", **doc(maxLength=1000, pattern=NOT_A_FORMULA))
    year: int | None = Field(None, description="以下年度数据的年份：1949至明年", json_schema_extra=_year_range)
    employees: int | None = Field(None, description="从业人员（人）", **doc(minimum=0, maximum=10_000_000))
    revenue: Decimal | None = Field(None, description="营业收入（万元）", **_money())
    assets: Decimal | None = Field(None, description="资产总额（万元）", **_money())
    tax_paid: Decimal | None = Field(None, description="纳税额（万元）", **_money())


class EnterpriseNew(EnterpriseIn):
    """登记: name, credit code and place are required, and an industry code or a sector."""

    @staticmethod
    def _registration(schema: dict) -> None:
        schema["required"] = ["name", "credit_code", "jurisdiction"]
        for key in schema["required"]:
            schema["properties"][key]["type"] = "string"  # with the field's anyOf: not null
        schema["properties"]["jurisdiction"]["pattern"] = FILLED
        schema["anyOf"] = [
            {"required": ["industry_code"], "properties": {"industry_code": {"type": "string", "pattern": FILLED}}},
            {"required": ["sector"], "properties": {"sector": {"type": "string", "minLength": 1}}}]

    model_config = {"json_schema_extra": _registration}


class EnterpriseChange(EnterpriseIn):
    """修改: the same fields; a credit code, if sent, must be the enterprise's own."""

    credit_code: str | None = Field(None, description="不能修改：如给出，须与原代码相同",
                                    **doc(type="string", pattern=CREDIT_CODE, examples=[EXAMPLE_CREDIT_CODE]))


class FiguresIn(Schema):
    """A year's figures: at least one of them."""

    year: int = Field(description="1949至明年", json_schema_extra=_year_range, examples=[2025])
    employees: int | None = Field(None, description="从业人员（人）", **doc(minimum=0, maximum=10_000_000, examples=[120]))
    revenue: Decimal | None = Field(None, description="万元", **_money())
    assets: Decimal | None = Field(None, description="万元", **_money())
    tax_paid: Decimal | None = Field(None, description="万元", **_money())


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
def create_enterprise(request, payload: EnterpriseNew):
    """Register an enterprise (administrators; dispatchers within their jurisdiction)."""
    enterprise = services.register_enterprise(request.auth, payload.model_dump(exclude_unset=True))
    return Status(201, _present(request.auth, enterprise.pk))


@router.get("/{ref}", response={200: EnterpriseDetail, **ERRORS}, summary="企业详情")
def get_enterprise(request, ref: Ref_):
    """One enterprise by id or credit code, with its yearly figures."""
    return _present(request.auth, _pk(request.auth, ref))


@router.patch("/{ref}", response={200: EnterpriseDetail, **ERRORS}, summary="修改企业")
def update_enterprise(request, ref: Ref_, payload: EnterpriseChange):
    """Change the fields sent; the credit code cannot change."""
    user = request.auth
    services.update_enterprise(user, _pk(user, ref), payload.model_dump(exclude_unset=True))
    return _present(user, _pk(user, ref))


@router.post("/{ref}/figures", response={200: EnterpriseDetail, **ERRORS}, summary="录入年度数据")
def record_figures(request, ref: Ref_, payload: FiguresIn):
    """A year's figures; size and 四上 are computed for that year (and carried over if it is the latest)."""
    user = request.auth
    services.record_yearly_figures(user, _pk(user, ref), **payload.model_dump())
    return _present(user, _pk(user, ref))
