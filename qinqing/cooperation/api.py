"""/api/v1/cooperation: the escalation queue, a demand's 协办意见 and 批示, and writing them.

Mounted by qinqing/api/api.py. Rows come only from `Demand.objects.visible_to(user)`, so a demand the caller
may not see is a 404; every change goes through qinqing.cooperation.services, and the creating calls take an
`Idempotency-Key`. Co-unit opinions and instructions are internal: an enterprise caller reads empty lists.
"""

import datetime as dt

from django.db.models import Count, OuterRef, Prefetch, Subquery
from ninja import Field, Query, Router, Schema, Status

from qinqing.api.demands import ERRORS, _demand_pk
from qinqing.api.idempotency import idempotent
from qinqing.api.schemas import demand_ref, doc, sees_internal_events, text
from qinqing.demands.errors import NotFoundError
from qinqing.demands.models import Demand, Tier

from . import services
from .models import CoTask, Instruction, InstructionAnswer

router = Router(tags=["协办与督导"])

MAX_LIMIT = 100
MAX_OFFSET = 10_000_000


class QueueItem(Schema):
    id: int
    number: str
    title: str
    enterprise: str | None = Field(description="企业名称；个人反映为 null")
    jurisdiction: str
    lead_unit: str | None
    state: str
    state_label: str
    tier: int
    received_at: dt.datetime
    unanswered_instructions: int = Field(description="主办、协办单位尚未反馈的批示条数")


class QueuePage(Schema):
    items: list[QueueItem]
    next: int | None = Field(description="下一页的 offset；没有更多时为 null")


class QueueFilters(Schema):
    tier: int = Field(Tier.JOINT_OFFICE, description="2 联席办，3 区领导", **doc(enum=[2, 3], examples=[2]))
    limit: int = Field(50, ge=1, le=MAX_LIMIT, **doc(examples=[50]))
    offset: int = Field(0, ge=0, le=MAX_OFFSET, **doc(examples=[0]))


class CoTaskOut(Schema):
    id: int
    unit: str
    state: str = Field(description="pending 待接收 / accepted 已接收 / answered 已提交意见")
    due: dt.date = Field(description="协办意见期限：主办单位办结期限前2个工作日，且不早于交办后第3个工作日")
    opinion: str
    answered_at: dt.datetime | None


class AnswerOut(Schema):
    unit: str
    lead: bool
    text: str
    answered_at: dt.datetime | None = Field(description="为 null 时该单位尚未反馈")


class InstructionOut(Schema):
    id: int
    author: str
    tier: int
    text: str
    created_at: dt.datetime
    answers: list[AnswerOut]


class CooperationOut(Schema):
    number: str
    co_tasks: list[CoTaskOut]
    instructions: list[InstructionOut]


class TextIn(Schema):
    text: str = Field(description="内容，1–2000字", **text(2000, "请两部门一周内拿出联合方案"))


class AnswerIn(Schema):
    text: str = Field(description="落实情况，1–2000字", **text(2000, "已会同金融工作局对接三家银行"))
    instruction: int | None = Field(None, description="批示编号；省略时为本单位在该诉求上最早一条未反馈的批示",
                                    **doc(minimum=1))


def _queue_item(d) -> dict:
    return {"id": d.pk, "number": d.number, "title": d.title,
            "enterprise": d.enterprise.name if d.enterprise_id else None, "jurisdiction": d.jurisdiction.name,
            "lead_unit": d.lead_unit.name if d.lead_unit_id else None, "state": d.state,
            "state_label": d.get_state_display(), "tier": d.tier, "received_at": d.received_at,
            "unanswered_instructions": d.unanswered or 0}


@router.get("/escalations", response={200: QueuePage, **ERRORS}, summary="提级队列")
def escalations(request, filters: Query[QueueFilters]):
    """The open demands escalated to 联席办 (tier 2) or 区领导 (tier 3) that the caller sees, oldest first. Leaders,
    dispatchers and supervisors read their jurisdiction's; other callers get an empty list."""
    user = request.auth
    if not services.may_see_queue(user) or filters.tier not in (Tier.JOINT_OFFICE, Tier.DISTRICT_LEADER):
        return {"items": [], "next": None}
    unanswered = (InstructionAnswer.objects.filter(instruction__demand_id=OuterRef("pk"), answered_at__isnull=True)
                  .order_by().values("instruction__demand_id").annotate(n=Count("pk")).values("n"))
    rows = list(services.escalation_queue(user, filters.tier)
                .select_related("enterprise", "lead_unit", "jurisdiction")
                .annotate(unanswered=Subquery(unanswered[:1]))[filters.offset:filters.offset + filters.limit + 1])
    more = len(rows) > filters.limit
    return {"items": [_queue_item(d) for d in rows[:filters.limit]],
            "next": filters.offset + filters.limit if more else None}


def _cooperation(user, pk: int) -> dict:
    number = Demand.objects.visible_to(user).filter(pk=pk).values_list("number", flat=True).first()
    if number is None:  # a numeric ref is not checked by _demand_pk
        raise NotFoundError("诉求不存在或您无权查看。")
    if not sees_internal_events(user):
        return {"number": number, "co_tasks": [], "instructions": []}
    tasks = CoTask.objects.filter(demand_id=pk).live().select_related("unit")
    instructions = (Instruction.objects.filter(demand_id=pk).select_related("author")
                    .prefetch_related(Prefetch("answers", queryset=InstructionAnswer.objects.select_related("unit"))))
    return {
        "number": number,
        "co_tasks": [{"id": t.pk, "unit": t.unit.name, "state": t.state, "due": t.due, "opinion": t.opinion,
                      "answered_at": t.answered_at} for t in tasks],
        "instructions": [{"id": i.pk, "author": i.author.display_name, "tier": i.tier, "text": i.text,
                          "created_at": i.created_at,
                          "answers": [{"unit": a.unit.name, "lead": a.lead, "text": a.text,
                                       "answered_at": a.answered_at} for a in i.answers.all()]}
                         for i in instructions],
    }


@router.get("/demands/{ref}", response={200: CooperationOut, **ERRORS}, summary="诉求的协办意见与批示")
def demand_cooperation(request, ref: demand_ref("get")):
    """Each co-unit's task (state, due date, opinion) and each leader's instruction with every unit's answer."""
    user = request.auth
    return _cooperation(user, _demand_pk(user, ref))


@router.post("/demands/{ref}/opinions", response={201: CooperationOut, **ERRORS}, summary="提交协办意见")
@idempotent
def write_opinion(request, ref: demand_ref("co_opinion"), payload: TextIn):
    """The caller's unit, a co-unit of the demand, writes (or revises) its 协办意见 until the lead replies."""
    user = request.auth
    pk = _demand_pk(user, ref)
    services.write_opinion(user, pk, opinion=payload.text)
    return Status(201, _cooperation(user, pk))


@router.post("/demands/{ref}/instructions", response={201: CooperationOut, **ERRORS}, summary="领导批示")
@idempotent
def write_instruction(request, ref: demand_ref("instruct"), payload: TextIn):
    """A leader of the demand's jurisdiction instructs on a demand escalated to 联席办 or 区领导; the lead unit
    and each co-unit then owe an answer."""
    user = request.auth
    pk = _demand_pk(user, ref)
    services.write_instruction(user, pk, text=payload.text)
    return Status(201, _cooperation(user, pk))


@router.post("/demands/{ref}/answers", response={201: CooperationOut, **ERRORS}, summary="反馈批示落实情况")
@idempotent
def answer_instruction(request, ref: demand_ref("answer_instruction"), payload: AnswerIn):
    """The caller's unit answers a leader's instruction on the demand, once."""
    user = request.auth
    pk = _demand_pk(user, ref)
    owed = InstructionAnswer.objects.filter(instruction__demand_id=pk, unit_id=user.unit_id)
    if payload.instruction is not None:
        owed = owed.filter(instruction_id=payload.instruction)
    else:
        owed = owed.filter(answered_at__isnull=True)
    instruction_id = owed.order_by("instruction__created_at", "instruction_id").values_list(
        "instruction_id", flat=True).first() if user.unit_id else None
    if instruction_id is None:
        raise NotFoundError("没有需要本单位反馈的批示。")
    services.answer_instruction(user, instruction_id, text=payload.text)
    return Status(201, _cooperation(user, pk))
