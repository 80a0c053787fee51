"""/api/v1/demands: intake, the ledger, one demand, and one endpoint per transition.

Every change goes through qinqing.demands.services; rows come only from
`Demand.objects.visible_to(user)`, so a demand the caller may not see is a 404 everywhere.
"""

from django.db import connection
from django.db.models import Prefetch
from django.http import HttpResponse
from django.utils import timezone
from ninja import Query, Router, Status

from qinqing.accounts.models import Jurisdiction, Role
from qinqing.demands import services
from qinqing.demands.errors import DomainError, NotFoundError, PermissionDeniedError
from qinqing.demands.filters import LEDGER_ORDER, filter_demands
from qinqing.demands.models import (
    Category,
    Channel,
    Demand,
    DemandEvent,
    Evaluation,
    Nature,
    Outcome,
    Stage,
    State,
    Tier,
)
from qinqing.demands.public import timeline_for
from qinqing.demands.taxonomy import get_taxonomy
from qinqing.demands.verbs import RULES, allowed_verbs, refusal
from qinqing.enterprises.models import Enterprise, visible_sql
from qinqing.lib import clock, privacy, uscc
from qinqing.textmodel.suggest import api_body as textmodel_suggestion

from .errors import ApiError
from .idempotency import idempotent
from .renderer import RENDERER
from .schemas import (
    ContactIn,
    DemandBatchIn,
    DemandBatchOut,
    DemandDetail,
    DemandIn,
    DemandPage,
    DispatchIn,
    Error,
    EvaluateIn,
    ExtensionIn,
    LedgerFilters,
    LongReasonIn,
    MergeIn,
    NoteIn,
    PlanIn,
    ReasonIn,
    RejectIn,
    ReplyIn,
    SettleIn,
    ValidationErrorOut,
    demand_ref,
    sees_internal_events,
)
from .sqlrows import Columns

router = Router(tags=["诉求"])

MAX_LIMIT = 200
MAX_OFFSET = 10_000_000  # beyond any ledger; a larger number is a 422, not an overflow in the database
NOT_VISIBLE = "诉求不存在或您无权查看。"
ERRORS = {400: Error, 401: Error, 403: Error, 404: Error, 409: Error, 422: ValidationErrorOut}
VERB_RESPONSES = {200: DemandDetail, **ERRORS}


# ---------------------------------------------------------------- lookups

def _list_queryset(user):
    return (Demand.objects.visible_to(user)
            .select_related("enterprise", "category", "jurisdiction", "lead_unit")
            .prefetch_related("co_units"))


def _detail_queryset(user):
    events = DemandEvent.objects.select_related("actor")
    if not sees_internal_events(user):
        events = events.filter(internal=False)
    return _list_queryset(user).prefetch_related(
        "extensions", Prefetch("events", queryset=events, to_attr="api_events"))


def _demand_pk(user, ref: str) -> int:
    """A numeric id or a demand number (QQ2026-000001), resolved among the demands the user may see."""
    ref = ref.strip()
    if ref.isascii() and ref.isdigit() and len(ref) <= 18:  # "³" is a digit to isdigit(), not to int()
        return int(ref)
    # No ORDER BY: .first() would sort by pk, and PostgreSQL may then walk the pk index at 1M rows.
    pks = list(Demand.objects.visible_to(user).filter(number=ref.upper()).order_by().values_list("pk", flat=True)[:1])
    if not pks:
        raise NotFoundError(NOT_VISIBLE)
    return pks[0]


def present(user, pk: int, fallback: Demand | None = None) -> Demand:
    """The demand with its timeline and the caller's allowed actions, as the caller may see it now.

    After a transition that takes the demand out of the caller's sight (a unit returning it),
    the service's own copy is shown without timeline or actions rather than a confusing 404.
    """
    # Unordered on purpose: the default "-received_at" ordering made this a scan of the date index.
    demand = next(iter(_detail_queryset(user).filter(pk=pk).order_by()[:1]), None)
    if demand is None:
        if fallback is None:
            raise NotFoundError(NOT_VISIBLE)
        return fallback
    demand.api_allowed_verbs = allowed_verbs(user, demand)
    demand.api_suggestion = textmodel_suggestion(demand) if "dispatch" in demand.api_allowed_verbs else None
    privacy.mark_for_api(user, demand, "reporter_phone")
    if not sees_internal_events(user):  # the portal's reading of the timeline (qinqing.demands.public)
        demand.api_events = timeline_for(user, demand.api_events)
    return demand


_LABELS = {field: dict(choices) for field, choices in (
    ("state", State.choices), ("channel", Channel.choices), ("nature", Nature.choices), ("tier", Tier.choices),
    ("outcome", Outcome.choices), ("evaluation", Evaluation.choices), ("current_stage", Stage.choices))}


def _label(field: str, value) -> str:
    """A choice's label as DemandOut's resolvers give it ("" for an empty value), without Django's
    get_FOO_display, which rebuilds the field's choices into a fresh dict on every call."""
    if value == "" or value is None:
        return ""
    return _LABELS[field].get(value, str(value))


def _local_time(moment):
    return timezone.localtime(moment) if moment else None


_JSON = RENDERER  # the API's renderer: dates and times come out as in every answer, Chinese as UTF-8 text


def received_body(user, demand: Demand) -> dict:
    """The 201 body of a demand just received, as `DemandDetail` would serialise it, built from the objects
    the service wrote: a new demand has no lead or co-units, and its timeline is the one receipt entry.

    Validating the ORM objects through the response schema (attribute by attribute, with a resolver per
    label) cost more CPU than the demand's two INSERTs; here it is one dict, rendered by the API's own JSON
    renderer. tests/test_intake_fast.py compares it with what GET /api/v1/demands/{id} answers."""
    events = [demand.receipt_event]
    if not sees_internal_events(user):  # as `present`: the portal's reading of the timeline
        events = timeline_for(user, events)
    # The state test first: a refusal for the state builds a message with the state's label.
    verbs = [verb for verb, rule in RULES.items() if demand.state in rule.states and refusal(verb, user, demand) is None]
    enterprise, category, jurisdiction = demand.enterprise, demand.category, demand.jurisdiction
    aspect = get_taxonomy().aspect_names.get(demand.aspect_id)
    return {  # DemandDetail's fields, in its order
        "id": demand.pk, "number": demand.number, "title": demand.title, "content": demand.content,
        "state": demand.state, "state_label": _label("state", demand.state),
        "channel": demand.channel, "channel_label": _label("channel", demand.channel),
        "nature": demand.nature, "nature_label": _label("nature", demand.nature),
        "enterprise": ({"id": enterprise.pk, "name": enterprise.name, "credit_code": enterprise.credit_code}
                       if enterprise is not None else None),
        "reporter_name": demand.reporter_name, "reporter_phone": privacy.shown(user, demand, "reporter_phone"),
        "category": {"id": category.pk, "name": category.name},
        "aspect": {"id": demand.aspect_id, "env_class": aspect[0], "name": aspect[1]} if aspect else None,
        "jurisdiction": {"code": jurisdiction.code, "name": jurisdiction.name},
        "lead_unit": None, "co_units": [],
        "tier": int(demand.tier), "tier_label": _label("tier", demand.tier),
        "outcome": demand.outcome, "outcome_label": _label("outcome", demand.outcome),
        "evaluation": demand.evaluation, "evaluation_label": _label("evaluation", demand.evaluation),
        "solution_path": demand.solution_path, "reply": demand.reply,
        "received_at": _local_time(demand.received_at),
        "dispatch_due": demand.dispatch_due, "contact_due": demand.contact_due, "path_due": demand.path_due,
        "resolve_due": demand.resolve_due,
        "current_stage": demand.current_stage, "current_stage_label": _label("current_stage", demand.current_stage),
        "next_due": demand.next_due, "overdue": demand.next_due is not None and demand.next_due < clock.today(),
        "version": demand.version, "updated_at": _local_time(demand.updated_at),
        "allowed_verbs": verbs,
        "events": [{
            "verb": event.verb, "verb_label": event.verb_label,
            "actor": event.actor.display_name if event.actor_id else None,
            "from_state": event.from_state, "from_state_label": _label("state", event.from_state),
            "to_state": event.to_state, "to_state_label": _label("state", event.to_state),
            "note": event.note, "data": event.data, "created_at": _local_time(event.created_at),
        } for event in events],
        # Not computed here: the text model's suggestion cost more than the rest of the intake (bench/intake.py);
        # whoever dispatches reads it with the demand (GET) or on the dispatch form.
        "suggestion": None,
    }


def _form_problems(form) -> str:
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        parts.append(f"{label}：{''.join(errors)}" if label else "".join(errors))
    return "；".join(parts)


def _category(value) -> Category | None:
    """A category by id or by name; staff type names, scripts send ids."""
    if value is None or value == "":
        return None
    if isinstance(value, int) or (str(value).strip().isascii() and str(value).strip().isdigit()):
        category = Category.objects.select_related("sla_rule").filter(pk=int(value)).first()
    else:
        # Names are unique per parent only; an active one wins over a retired namesake.
        matches = sorted(Category.objects.select_related("sla_rule").filter(name=str(value).strip()),
                         key=lambda c: not c.active)
        if len(matches) > 1 and matches[1].active:
            raise DomainError(f"类别名称“{value}”不唯一，请改用类别编号。")
        category = matches[0] if matches else None
    if category is None:
        raise DomainError(f"类别“{value}”不存在。")
    if not category.active:
        raise DomainError(f"类别“{category.name}”已停用。")
    return category


def _enterprise(user, raw_code: str | None) -> Enterprise | None:
    """The enterprise named by a credit code; enterprise accounts may only speak for their own."""
    return _enterprises(user, [raw_code])[0]


def _enterprises(user, raw_codes: list[str | None]) -> list[Enterprise | None]:
    """The enterprises named by credit codes, looked up together; a bad code names its position."""
    many = len(raw_codes) > 1
    where = (lambda i: f"第{i}件：") if many else (lambda i: "")
    codes: list[str | None] = []
    for position, raw in enumerate(raw_codes, start=1):
        if raw is None or not raw.strip():
            codes.append(None)
            continue
        try:
            codes.append(uscc.validate(raw))
        except uscc.InvalidCreditCode as exc:
            raise ApiError(400, f"{where(position)}{exc}", "invalid_credit_code") from None
    wanted = {c for c in codes if c}
    if not wanted:
        return [None] * len(codes)
    if user.has_role(Role.ENTERPRISE) and not user.has_role(*services.RECEIVER_ROLES):
        own = Enterprise.objects.filter(pk=user.enterprise_id).values_list("credit_code", flat=True).first()
        if wanted != {own}:
            raise PermissionDeniedError("企业用户只能为本企业提交诉求。")
    # Only enterprises the caller may receive for are looked up (the intake form's rule, visible_to), so that
    # a code outside their reach is refused exactly like an unknown one: the answer reveals nothing.
    if len(wanted) == 1:  # the single intake
        found = _enterprise_with_jurisdiction(next(iter(wanted)), user)
    else:  # unordered: .first() would add ORDER BY id, which a planner may serve from the pk index
        found = {e.credit_code: e for e in Enterprise.objects.visible_to(user).select_related("jurisdiction")
                 .filter(credit_code__in=wanted).order_by()}
    for position, code in enumerate(codes, start=1):
        if code and code not in found:
            raise ApiError(403, f"{where(position)}企业库中没有统一社会信用代码为{code}的企业，或您无权为其受理诉求。",
                           "unknown_enterprise")
    return [services.mark_within_reach(user, found[c]) if c else None for c in codes]


class _EnterpriseQuery:
    """One enterprise by credit code with its jurisdiction, as SQL composed once per process: through
    select_related, building and compiling the statement cost several times running it (qinqing.api.sqlrows)."""

    def __init__(self):
        self.enterprise = Columns(Enterprise, "e")
        self.jurisdiction = Columns(Jurisdiction, "j")
        self.vendor = ""

    def __call__(self, code: str, user) -> dict[str, Enterprise]:
        """The enterprise with this code among those `user` may see (`visible_sql`, a condition of the same
        statement)."""
        if self.vendor != connection.vendor:
            qn = connection.ops.quote_name
            self.sql = (f"SELECT {self.enterprise.select()}, {self.jurisdiction.select()} "  # noqa: S608 - our names
                        f"FROM {qn(Enterprise._meta.db_table)} e "
                        f"JOIN {qn(Jurisdiction._meta.db_table)} j ON j.id = e.jurisdiction_id WHERE e.credit_code = %s")
            self.vendor = connection.vendor
        sql, params = self.sql, [code]
        if (reach := visible_sql(user, "e", "j")) is not None:
            sql, params = f"{sql} AND {reach[0]}", [code, *reach[1]]
        with services.prepared_cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        found = {}
        for row in rows:
            enterprise = self.enterprise.build(row[:self.enterprise.width])
            enterprise.jurisdiction = self.jurisdiction.build(row[self.enterprise.width:])
            found[enterprise.credit_code] = enterprise
        return found


_enterprise_with_jurisdiction = _EnterpriseQuery()


# ---------------------------------------------------------------- intake and reading

@router.post("/demands", response={201: DemandDetail, **ERRORS}, summary="受理诉求")
@idempotent
def create_demand(request, payload: DemandIn):
    """Register a demand and start its 1231 clock; the four deadlines come back in the answer."""
    user = request.auth
    demand = services.receive_demand(
        user, enterprise=_enterprise(user, payload.credit_code), channel=payload.channel,
        title=payload.title, content=payload.content, category=_category(payload.category),
        received_at=payload.received_at, reporter_name=payload.reporter_name,
        reporter_phone=payload.reporter_phone, nature=payload.nature)
    return HttpResponse(_JSON.render(request, received_body(user, demand), response_status=201), status=201,
                        content_type=f"{_JSON.media_type}; charset={_JSON.charset}")


@router.post("/demands/batch", response={201: DemandBatchOut, **ERRORS}, summary="批量受理诉求")
@idempotent
def create_demands(request, payload: DemandBatchIn):
    """Register up to 200 demands at once — how an integration such as the 12345 hotline hands over its
    new work orders. All or none: if any item is refused, nothing is registered and the error names it."""
    user = request.auth
    items = payload.items
    enterprises = _enterprises(user, [item.credit_code for item in items])
    intakes = []
    for position, (item, enterprise) in enumerate(zip(items, enterprises, strict=True), start=1):
        try:
            category = _category(item.category)
        except DomainError as exc:
            raise type(exc)(f"第{position}件：{exc.message}") from None
        intakes.append(services.Intake(
            enterprise=enterprise, channel=item.channel, title=item.title, content=item.content,
            category=category, received_at=item.received_at, reporter_name=item.reporter_name,
            reporter_phone=item.reporter_phone, nature=item.nature))
    demands = services.receive_demands(user, intakes)
    for demand in demands:
        demand.api_co_units = []
        privacy.mark_for_api(user, demand, "reporter_phone")  # each one as its own page would show it
    return Status(201, {"items": demands})


@router.get("/demands", response={200: DemandPage, **ERRORS}, summary="诉求台账")
def list_demands(request, filters: Query[LedgerFilters], limit: int = 50,
                 offset: int = Query(0, le=MAX_OFFSET), count: bool = False):
    """The ledger with its filters, nearest deadline first; page with `limit` (≤200) and `next`."""
    limit = max(1, min(limit, MAX_LIMIT))
    offset = max(0, offset)
    qs, form = filter_demands(_list_queryset(request.auth), request.GET)
    if form.is_bound and form.errors:
        raise ApiError(400, f"筛选条件有误：{_form_problems(form)}", "invalid_filter")
    # One row more than asked tells whether there is a next page, without counting the table.
    rows = list(qs.order_by(*LEDGER_ORDER)[offset:offset + limit + 1])
    has_next = len(rows) > limit
    return {
        "items": rows[:limit],
        "next": offset + limit if has_next else None,
        "count": qs.count() if count else None,
    }


@router.get("/demands/{ref}", response={200: DemandDetail, **ERRORS}, summary="诉求详情")
def get_demand(request, ref: demand_ref("get")):
    """One demand by id or number, with the caller's allowed actions and its timeline."""
    return present(request.auth, _demand_pk(request.auth, ref))


# ---------------------------------------------------------------- transitions (one per verb)

@router.post("/demands/{ref}/dispatch", response=VERB_RESPONSES, summary="交办")
def dispatch(request, ref: demand_ref("dispatch"), payload: DispatchIn):
    user, pk = request.auth, _demand_pk(request.auth, ref)
    demand = services.dispatch_demand(user, pk, lead_unit=payload.lead_unit, co_units=payload.co_units,
                                      category=_category(payload.category), aspect=payload.aspect,
                                      nature=payload.nature, note=payload.note,
                                      version=payload.version)
    return present(user, pk, demand)


@router.post("/demands/{ref}/return", response=VERB_RESPONSES, summary="退回")
def return_(request, ref: demand_ref("return"), payload: ReasonIn):
    user, pk = request.auth, _demand_pk(request.auth, ref)
    demand = services.return_demand(user, pk, reason=payload.reason, version=payload.version)
    return present(user, pk, demand)


@router.post("/demands/{ref}/accept", response=VERB_RESPONSES, summary="签收")
def accept(request, ref: demand_ref("accept"), payload: NoteIn):
    user, pk = request.auth, _demand_pk(request.auth, ref)
    demand = services.accept_demand(user, pk, note=payload.note, version=payload.version)
    return present(user, pk, demand)


@router.post("/demands/{ref}/contact", response=VERB_RESPONSES, summary="联系企业")
def contact(request, ref: demand_ref("contact"), payload: ContactIn):
    user, pk = request.auth, _demand_pk(request.auth, ref)
    demand = services.contact_enterprise(user, pk, method=payload.method, contacted_at=payload.contacted_at,
                                         note=payload.note, version=payload.version)
    return present(user, pk, demand)


@router.post("/demands/{ref}/plan", response=VERB_RESPONSES, summary="反馈解决路径")
def plan(request, ref: demand_ref("plan"), payload: PlanIn):
    user, pk = request.auth, _demand_pk(request.auth, ref)
    demand = services.feed_back_path(user, pk, path=payload.path, version=payload.version)
    return present(user, pk, demand)


@router.post("/demands/{ref}/request_extension", response=VERB_RESPONSES, summary="申请延期")
def request_extension(request, ref: demand_ref("request_extension"), payload: ExtensionIn):
    user, pk = request.auth, _demand_pk(request.auth, ref)
    services.request_extension(user, pk, days=payload.days, reason=payload.reason, version=payload.version)
    return present(user, pk)


@router.post("/demands/{ref}/approve_extension", response=VERB_RESPONSES, summary="批准延期")
def approve_extension(request, ref: demand_ref("approve_extension"), payload: NoteIn):
    user, pk = request.auth, _demand_pk(request.auth, ref)
    demand = services.approve_extension(user, pk, note=payload.note, version=payload.version)
    return present(user, pk, demand)


@router.post("/demands/{ref}/reject_extension", response=VERB_RESPONSES, summary="驳回延期")
def reject_extension(request, ref: demand_ref("reject_extension"), payload: RejectIn):
    user, pk = request.auth, _demand_pk(request.auth, ref)
    demand = services.reject_extension(user, pk, note=payload.note, version=payload.version)
    return present(user, pk, demand)


@router.post("/demands/{ref}/escalate", response=VERB_RESPONSES, summary="提级办理")
def escalate(request, ref: demand_ref("escalate"), payload: ReasonIn):
    user, pk = request.auth, _demand_pk(request.auth, ref)
    demand = services.escalate_demand(user, pk, reason=payload.reason, version=payload.version)
    return present(user, pk, demand)


@router.post("/demands/{ref}/mark_long_term", response=VERB_RESPONSES, summary="转区级研究推进")
def mark_long_term(request, ref: demand_ref("mark_long_term"), payload: LongReasonIn):
    user, pk = request.auth, _demand_pk(request.auth, ref)
    demand = services.mark_long_term(user, pk, reason=payload.reason, version=payload.version)
    return present(user, pk, demand)


@router.post("/demands/{ref}/transfer", response=VERB_RESPONSES, summary="移送市级")
def transfer(request, ref: demand_ref("transfer"), payload: LongReasonIn):
    user, pk = request.auth, _demand_pk(request.auth, ref)
    demand = services.transfer_to_city(user, pk, reason=payload.reason, version=payload.version)
    return present(user, pk, demand)


@router.post("/demands/{ref}/reply", response=VERB_RESPONSES, summary="正式答复")
def reply(request, ref: demand_ref("reply"), payload: ReplyIn):
    user, pk = request.auth, _demand_pk(request.auth, ref)
    demand = services.reply_demand(user, pk, reply=payload.reply, outcome=payload.outcome,
                                   version=payload.version)
    return present(user, pk, demand)


@router.post("/demands/{ref}/evaluate", response=VERB_RESPONSES, summary="评价")
def evaluate(request, ref: demand_ref("evaluate"), payload: EvaluateIn):
    user, pk = request.auth, _demand_pk(request.auth, ref)
    demand = services.evaluate_demand(user, pk, evaluation=payload.evaluation, comment=payload.comment,
                                      version=payload.version)
    return present(user, pk, demand)


@router.post("/demands/{ref}/reopen", response=VERB_RESPONSES, summary="重办")
def reopen(request, ref: demand_ref("reopen"), payload: LongReasonIn):
    user, pk = request.auth, _demand_pk(request.auth, ref)
    demand = services.reopen_demand(user, pk, reason=payload.reason, version=payload.version)
    return present(user, pk, demand)


@router.post("/demands/{ref}/close", response=VERB_RESPONSES, summary="销号")
def close(request, ref: demand_ref("close"), payload: NoteIn):
    user, pk = request.auth, _demand_pk(request.auth, ref)
    demand = services.close_demand(user, pk, note=payload.note, version=payload.version)
    return present(user, pk, demand)


@router.post("/demands/{ref}/merge", response=VERB_RESPONSES, summary="并单")
def merge(request, ref: demand_ref("merge"), payload: MergeIn):
    user, pk = request.auth, _demand_pk(request.auth, ref)
    into = payload.into
    if isinstance(into, str):
        # The service looks targets up by pk; a number is resolved here among visible demands.
        try:
            into = _demand_pk(user, into)
        except NotFoundError:
            raise DomainError("要并入的诉求不存在或您无权查看。") from None
    demand = services.merge_demand(user, pk, into=into, note=payload.note, version=payload.version)
    return present(user, pk, demand)


@router.post("/demands/{ref}/settle", response=VERB_RESPONSES, summary="现场解决")
def settle(request, ref: demand_ref("settle"), payload: SettleIn):
    user, pk = request.auth, _demand_pk(request.auth, ref)
    demand = services.close_on_the_spot(user, pk, solution=payload.solution, version=payload.version)
    return present(user, pk, demand)


@router.post("/demands/{ref}/{verb}", response=ERRORS, include_in_schema=False)
def unknown_verb(request, ref: str, verb: str):
    raise NotFoundError(f"没有名为“{verb}”的操作。")
