"""Every change to co-unit tasks, dispatch disputes, instructions and long-term reviews goes through here.

Each verb checks who may act (the demand must be visible to them, then their role and unit), runs in one
transaction and writes an entry on the demand's timeline through the demand services' own writer, whose
notifications go out after commit (qinqing.cooperation.notify says who is told). The enterprise reads none
of these entries (they are internal), except the re-dispatch that follows an upheld dispute.
"""

import datetime as dt

from django.db import transaction
from django.db.models import F, Q

from qinqing.accounts.models import Role, Unit
from qinqing.demands import services as demand_services
from qinqing.demands.errors import DomainError, IllegalTransition, NotFoundError, PermissionDeniedError
from qinqing.demands.models import OPEN_STATES, UNIT_STATES, Demand, DemandEvent, State, Tier
from qinqing.demands.verbs import is_admin, is_dispatcher, is_lead_handler
from qinqing.lib import clock
from qinqing.lib.text import clean_text
from qinqing.lib.workdays import add_months
from qinqing.workdays.calendar import get_calendar

from .models import (
    OPEN_TASK_STATES,
    CatalogueEntry,
    CoTask,
    Dispute,
    DisputeStatus,
    Instruction,
    InstructionAnswer,
    Progress,
    Review,
    TaskState,
)

# The 协办意见 is due OPINION_DAYS_BEFORE working days before the lead's resolution deadline, so the lead has
# that long to weigh every opinion before its formal reply; but never sooner than the MIN_OPINION_DAYS-th
# working day from the dispatch (the lead's own time to feed back a solution path under 1231), so that a
# co-unit brought in late, even after the lead's deadline, is never overdue the day it is asked. Fixed at
# dispatch: a later extension of the lead's deadline does not move it; a re-dispatch does.
OPINION_DAYS_BEFORE = 2
MIN_OPINION_DAYS = 3
# The demand states in which co-units still work on their part: dispatched, being handled, or kept open as
# 区级研究推进.
CO_STATES = (*UNIT_STATES, State.LONG_TERM)
REVIEW_MONTHS = 1  # default interval between progress entries of a 区级研究推进 demand
INSTRUCTION_STATES = (*OPEN_STATES, State.LONG_TERM)

_log = demand_services._log  # the timeline writer of the demand services: one writer for every entry
_required = demand_services._required


def _workdays_before(cal, day: dt.date, n: int) -> dt.date:
    for _ in range(n):
        day -= dt.timedelta(days=1)
        while not cal.is_workday(day):
            day -= dt.timedelta(days=1)
    return day


def opinion_due(demand: Demand, dispatched_on: dt.date | None = None) -> dt.date:
    """The date a co-unit's 协办意见 is due for `demand` (see OPINION_DAYS_BEFORE)."""
    cal = get_calendar()
    dispatched_on = dispatched_on or clock.today()
    due = _workdays_before(cal, demand.resolve_due, OPINION_DAYS_BEFORE)
    floor = cal.nth_workday(dispatched_on, MIN_OPINION_DAYS)
    return max(due, floor)


# ---------------------------------------------------------------- 协办 tasks

def sync_co_tasks(demand: Demand, unit_ids: list[int] | None = None) -> None:
    """Give each current co-unit of `demand` an open task and withdraw the tasks of units no longer among them.

    Called by the demand services inside their transaction after a dispatch (which sets the co-units) and a
    return (which clears them). A few statements whatever the number of units; a re-dispatch keeps the
    opinions already written and gives the open tasks the new due date.
    """
    if unit_ids is None:  # the caller who has just set the co-units passes them: one query fewer a dispatch
        unit_ids = list(demand.co_units.values_list("pk", flat=True))
    tasks = CoTask.objects.filter(demand_id=demand.pk)
    tasks.exclude(unit_id__in=unit_ids).exclude(state=TaskState.WITHDRAWN).update(state=TaskState.WITHDRAWN)
    if not unit_ids:
        return
    due = opinion_due(demand)
    tasks.filter(unit_id__in=unit_ids, state=TaskState.WITHDRAWN).update(
        state=TaskState.PENDING, accepted_at=None, accepted_by=None)
    tasks.filter(unit_id__in=unit_ids, state__in=OPEN_TASK_STATES).update(due=due)
    now = clock.now()
    CoTask.objects.bulk_create([CoTask(demand_id=demand.pk, unit_id=u, due=due, created_at=now) for u in unit_ids],
                               ignore_conflicts=True)


def _co_member(user, task: CoTask) -> bool:
    return user.has_role(Role.HANDLER, Role.UNIT_HEAD) and user.unit_id is not None and user.unit_id == task.unit_id


def _visible_demand(user, demand_or_id, *, lock: bool = False) -> Demand:
    pk = demand_or_id.pk if isinstance(demand_or_id, Demand) else demand_or_id
    qs = Demand.objects.visible_to(user).select_related("jurisdiction", "lead_unit", "enterprise")
    if lock:
        qs = qs.select_for_update(of=("self",))
    demand = qs.filter(pk=pk).first()
    if demand is None:
        raise NotFoundError("诉求不存在或您无权查看。")
    return demand


def _own_task(user, demand: Demand) -> CoTask:
    """The caller's unit's live task on `demand`, locked."""
    task = (CoTask.objects.select_for_update().select_related("unit").live()
            .filter(demand_id=demand.pk, unit_id=user.unit_id).first() if user.unit_id else None)
    if task is None or not _co_member(user, task):
        raise PermissionDeniedError("只有该诉求协办单位的承办人或负责人可以办理协办任务。")
    if demand.state not in CO_STATES:
        raise IllegalTransition(f"诉求当前状态为“{demand.get_state_display()}”，协办任务已结束。")
    return task


def accept_co_task(user, demand, *, note: str = "") -> CoTask:
    """接收协办: the co-unit takes on its part of the demand."""
    with transaction.atomic():
        demand = _visible_demand(user, demand, lock=True)
        task = _own_task(user, demand)
        if task.state != TaskState.PENDING:
            raise IllegalTransition(f"协办任务当前为“{task.get_state_display()}”，无需再接收。")
        task.state, task.accepted_at, task.accepted_by = TaskState.ACCEPTED, clock.now(), user
        task.save(update_fields=["state", "accepted_at", "accepted_by"])
        _log(demand, user, "co_accept", demand.state, clean_text(note or "").strip()[:1000],
             {"co_unit": task.unit.name, "co_task": task.pk, "due": task.due.isoformat()}, internal=True)
    return task


def write_opinion(user, demand, *, opinion: str) -> CoTask:
    """提交协办意见: the co-unit's opinion for the lead unit; writing it accepts the task if not yet accepted,
    and a later one replaces it (each stays on the timeline) until the lead replies."""
    with transaction.atomic():
        demand = _visible_demand(user, demand, lock=True)
        task = _own_task(user, demand)
        if demand.state == State.REPLIED:
            raise IllegalTransition("主办单位已正式答复，不能再提交协办意见。")
        text = _required(opinion, "协办意见", 3000)
        now = clock.now()
        revised = task.state == TaskState.ANSWERED
        if task.accepted_at is None:
            task.accepted_at, task.accepted_by = now, user
        task.state, task.opinion, task.answered_at, task.answered_by = TaskState.ANSWERED, text, now, user
        task.save(update_fields=["state", "opinion", "answered_at", "answered_by", "accepted_at", "accepted_by"])
        _log(demand, user, "co_opinion", demand.state, text,
             {"co_unit": task.unit.name, "co_task": task.pk, "revised": revised,
              "late": clock.today() > task.due}, internal=True)
    return task


def missing_opinions(demand: Demand) -> list[CoTask]:
    """The co-units whose opinion the lead has not yet received (shown on the reply form: advice, not a block;
    the 12345 rules make the lead answerable for the reply, and a co-unit's silence must not stop it)."""
    return list(CoTask.objects.filter(demand_id=demand.pk, state__in=OPEN_TASK_STATES).select_related("unit"))


def urge_co_units(today: dt.date | None = None) -> int:
    """催办协办单位: one urging per co-unit task and due date once the due date has passed; safe to rerun.

    Claims the overdue open tasks with a conditional UPDATE (urged_for set to the task's due date, only where
    it is not already), so two workers or a rerun never urge the same task twice; a task given a new due
    date by a re-dispatch is urged again when that one passes. Each claimed task gets a 催办 entry on its
    demand's timeline (verb co_urge), whose delivery tells the co-unit's members.
    """
    today = today or clock.today()
    open_demands = Demand.objects.filter(state__in=CO_STATES).values("pk")
    not_urged = Q(urged_for__isnull=True) | Q(urged_for__lt=F("due")) | Q(urged_for__gt=F("due"))
    due = CoTask.objects.filter(not_urged, state__in=OPEN_TASK_STATES, due__lt=today, demand_id__in=open_demands)
    with transaction.atomic():
        # Rows another worker holds are skipped (PostgreSQL); it urges them.
        ids = list(due.select_for_update(skip_locked=True).values_list("pk", flat=True))
        if not ids:
            return 0
        CoTask.objects.filter(not_urged, pk__in=ids).update(urged_for=F("due"))
        rows = list(CoTask.objects.filter(pk__in=ids)
                    .values_list("pk", "demand_id", "demand__state", "unit_id", "unit__name", "due"))
        now = clock.now()
        events = DemandEvent.objects.bulk_create([
            DemandEvent(demand_id=demand_id, actor=None, verb="co_urge", from_state=state, to_state=state,
                        note=f"{unit}的协办意见已超期（期限{task_due:%Y-%m-%d}），请抓紧办理",
                        data={"co_unit": unit, "unit_id": unit_id, "co_task": pk, "due": task_due.isoformat()},
                        internal=True, created_at=now, awaiting_delivery=demand_services.awaits_delivery())
            for pk, demand_id, state, unit_id, unit, task_due in rows])
        for event in events:
            demand_services._queue_notifications(event.pk)
    return len(events)


# ---------------------------------------------------------------- 退单争议

def catalogue_for(demand: Demand):
    """The 派单目录 entries that apply to `demand`: active, of its district (or above), naming an active unit
    other than its lead unit."""
    scope = demand_services.dispatch_scope(demand)
    parts = scope.path.strip("/").split("/")
    ancestors = ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
    qs = (CatalogueEntry.objects.filter(active=True, unit__active=True, jurisdiction__path__in=ancestors)
          .select_related("unit", "category").order_by("matter"))
    if demand.lead_unit_id:
        qs = qs.exclude(unit_id=demand.lead_unit_id)
    return qs


DISPUTE_STATES = (State.DISPATCHED, State.ACCEPTED)


def dispute_dispatch(user, demand, *, entry, reason: str) -> Dispute:
    """提出退单争议: the lead unit says the demand is not its remit, citing the 派单目录 entry naming the unit
    it belongs to; it goes to the dispatcher's queue and the demand stays with the unit until decided."""
    with transaction.atomic():
        demand = _visible_demand(user, demand, lock=True)
        if not is_lead_handler(user, demand):
            raise PermissionDeniedError("只有主办单位的承办人或负责人可以提出退单争议。")
        if demand.state not in DISPUTE_STATES:
            raise IllegalTransition(f"诉求当前状态为“{demand.get_state_display()}”，只有待签收或办理中的诉求可以提出退单争议。")
        if Dispute.objects.filter(demand_id=demand.pk, status=DisputeStatus.PENDING).exists():
            raise IllegalTransition("该诉求已有一份退单争议待调度员裁定。")
        pk = entry.pk if isinstance(entry, CatalogueEntry) else entry
        try:
            entry = catalogue_for(demand).get(pk=int(pk))
        except (CatalogueEntry.DoesNotExist, TypeError, ValueError):
            raise DomainError("请从派单目录中选择一个指向其他单位的条目。") from None
        reason = _required(reason, "退单理由", 1000)
        dispute = Dispute.objects.create(demand=demand, unit=demand.lead_unit, entry=entry, reason=reason,
                                         raised_by=user, raised_at=clock.now())
        _log(demand, user, "dispute", demand.state, reason,
             {"unit": demand.lead_unit.name, "matter": entry.matter, "catalogue_unit": entry.unit.name,
              "dispute": dispute.pk}, internal=True)
    return dispute


def decide_dispute(user, demand, *, upheld: bool, note: str = "", version: int | None = None) -> Dispute:
    """裁定退单争议: upheld, the demand is re-dispatched to the unit the cited 派单目录 entry names (a new
    dispatch: the unit signs for it, the enterprise is told who now handles it); rejected, it stays with the
    unit and the dispatcher's reason is recorded. Both go on the timeline."""
    with transaction.atomic():
        demand = demand_services._lock(user, demand, version)
        if not is_dispatcher(user, demand):
            raise PermissionDeniedError("只有调度员可以裁定退单争议。")
        dispute = (Dispute.objects.select_for_update().select_related("entry__unit", "unit")
                   .filter(demand_id=demand.pk, status=DisputeStatus.PENDING).first())
        if dispute is None:
            raise IllegalTransition("该诉求没有待裁定的退单争议。")
        note = clean_text(note or "").strip()
        if not upheld and not note:
            raise DomainError("请填写不予支持的理由。")
        target = dispute.entry.unit
        if upheld and not target.active:
            raise DomainError(f"派单目录指向的{target.name}已停用，请直接交办给其他单位。")
        now = clock.now()
        dispute.status = DisputeStatus.UPHELD if upheld else DisputeStatus.REJECTED
        dispute.decided_by, dispute.decided_at, dispute.decision_note = user, now, note[:2000]
        dispute.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        data = {"unit": dispute.unit.name, "unit_id": dispute.unit_id, "matter": dispute.entry.matter,
                "catalogue_unit": target.name, "upheld": upheld, "dispute": dispute.pk}
        verdict = f"退单成立，改派{target.name}" if upheld else "退单不成立，仍由本单位办理"
        _log(demand, user, "decide_dispute", demand.state, f"{verdict}。{note}" if note else verdict, data,
             internal=True)
        if upheld and demand.state in DISPUTE_STATES:
            from_state = demand.state
            demand.lead_unit = target
            demand.state, demand.dispatched_at, demand.accepted_at = State.DISPATCHED, now, None
            demand.return_count += 1
            demand_services._save(demand, ["lead_unit", "state", "dispatched_at", "accepted_at", "return_count"])
            demand.co_units.remove(target)
            _log(demand, user, "dispatch", from_state, f"退单争议成立，依派单目录“{dispute.entry.matter}”改派",
                 {"lead_unit": target.name, "co_units": list(demand.co_units.values_list("name", flat=True)),
                  "redispatch": True, "dispute": dispute.pk})
            sync_co_tasks(demand)
    return dispute


# ---------------------------------------------------------------- escalation: queues and 批示

QUEUE_TIERS = (Tier.JOINT_OFFICE, Tier.DISTRICT_LEADER)
QUEUE_ROLES = (Role.LEADER, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)


def may_see_queue(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.has_role(*QUEUE_ROLES))


def escalation_queue(user, tier: int):
    """The open demands escalated to `tier` that the user sees (a leader: their jurisdiction's subtree),
    oldest first. Served by the partial index coop_demand_escalated (migration 0002)."""
    return (Demand.objects.visible_to(user).filter(tier=tier, state__in=INSTRUCTION_STATES)
            .order_by("received_at", "id"))


def may_instruct(user, demand) -> bool:
    if demand.tier < Tier.JOINT_OFFICE or demand.state not in INSTRUCTION_STATES or not demand.lead_unit_id:
        return False
    if is_admin(user):
        return True
    return (user.has_role(Role.LEADER) and bool(user.jurisdiction_id)
            and demand.jurisdiction.path.startswith(user.jurisdiction.path))


def write_instruction(user, demand, *, text: str) -> Instruction:
    """领导批示: a leader of the demand's jurisdiction instructs on an escalated demand; the lead unit and each
    co-unit then owe an answer (one InstructionAnswer each, listed as unanswered until given)."""
    with transaction.atomic():
        demand = _visible_demand(user, demand, lock=True)
        if not may_instruct(user, demand):
            if demand.tier < Tier.JOINT_OFFICE:
                raise IllegalTransition("只有提级至联席办或区领导的诉求可以批示。")
            if demand.state not in INSTRUCTION_STATES:
                raise IllegalTransition(f"诉求当前状态为“{demand.get_state_display()}”，不能批示。")
            if not demand.lead_unit_id:
                raise IllegalTransition("诉求尚未交办到承办单位，不能批示。")
            raise PermissionDeniedError("只有本辖区的领导可以批示。")
        text = _required(text, "批示内容", 2000)
        instruction = Instruction.objects.create(demand=demand, author=user, tier=demand.tier, text=text,
                                                 created_at=clock.now())
        co = list(demand.co_units.values_list("pk", flat=True))
        InstructionAnswer.objects.bulk_create(
            [InstructionAnswer(instruction=instruction, unit_id=demand.lead_unit_id, lead=True)]
            + [InstructionAnswer(instruction=instruction, unit_id=u) for u in co if u != demand.lead_unit_id])
        _log(demand, user, "instruct", demand.state, text,
             {"tier": demand.get_tier_display(), "instruction": instruction.pk}, internal=True)
    return instruction


def answer_instruction(user, instruction, *, text: str) -> InstructionAnswer:
    """落实批示: the caller's unit answers a leader's instruction, once."""
    pk = instruction.pk if isinstance(instruction, Instruction) else instruction
    with transaction.atomic():
        try:
            instruction = Instruction.objects.select_related("demand").get(pk=int(pk))
        except (Instruction.DoesNotExist, TypeError, ValueError):
            raise NotFoundError("批示不存在或您无权查看。") from None
        demand = _visible_demand(user, instruction.demand_id, lock=True)
        answer = (InstructionAnswer.objects.select_for_update().select_related("unit")
                  .filter(instruction=instruction, unit_id=user.unit_id).first() if user.unit_id else None)
        if answer is None or not user.has_role(Role.HANDLER, Role.UNIT_HEAD):
            raise PermissionDeniedError("只有批示要求反馈的单位的承办人或负责人可以反馈落实情况。")
        if answer.answered_at is not None:
            raise IllegalTransition("本单位已反馈该批示的落实情况。")
        answer.text = _required(text, "落实情况", 2000)
        answer.answered_by, answer.answered_at = user, clock.now()
        answer.save(update_fields=["text", "answered_by", "answered_at"])
        _log(demand, user, "answer_instruction", demand.state, answer.text,
             {"answer_unit": answer.unit.name, "instruction": instruction.pk, "author": instruction.author_id},
             internal=True)
    return answer


def unanswered_for_unit(unit_id: int):
    """The instruction answers a unit still owes, oldest first."""
    return (InstructionAnswer.objects.filter(unit_id=unit_id, answered_at__isnull=True)
            .select_related("instruction__demand", "instruction__author").order_by("instruction__created_at"))


# ---------------------------------------------------------------- 区级研究推进 reviews

def _next_review(day: dt.date, months: int) -> dt.date:
    return get_calendar().next_workday(add_months(day, months))


def start_review(user, demand: Demand) -> Review:
    """Called by mark_long_term in its transaction: the first review date, one interval from today."""
    review, _ = Review.objects.update_or_create(
        demand_id=demand.pk,
        defaults={"review_on": _next_review(clock.today(), REVIEW_MONTHS), "interval_months": REVIEW_MONTHS,
                  "updated_at": clock.now()})
    return review


def set_review(user, demand, *, review_on: dt.date, interval_months: int = REVIEW_MONTHS) -> Review:
    """调整评估日期: the dispatcher sets the next review date and the interval of progress entries."""
    with transaction.atomic():
        demand = _visible_demand(user, demand, lock=True)
        if not is_dispatcher(user, demand):
            raise PermissionDeniedError("只有调度员可以调整研究推进的评估日期。")
        if demand.state != State.LONG_TERM:
            raise IllegalTransition("只有区级研究推进的诉求有评估日期。")
        try:
            interval_months = int(interval_months)
        except (TypeError, ValueError):
            raise DomainError("进展报送周期应为1至12个月。") from None
        if not 1 <= interval_months <= 12:
            raise DomainError("进展报送周期应为1至12个月。")
        if not isinstance(review_on, dt.date) or review_on < clock.today():
            raise DomainError("评估日期不能早于今天。")
        if review_on > clock.today() + dt.timedelta(days=366):
            raise DomainError("评估日期不能晚于一年以后。")
        review, _ = Review.objects.update_or_create(
            demand_id=demand.pk, defaults={"review_on": review_on, "interval_months": interval_months,
                                           "updated_at": clock.now()})
        _log(demand, user, "set_review", demand.state, "",
             {"review_on": review_on.isoformat(), "interval_months": interval_months}, internal=True)
    return review


def record_progress(user, demand, *, text: str) -> Progress:
    """报送研究推进进展: the lead unit's periodic progress entry; the next review falls one interval later."""
    with transaction.atomic():
        demand = _visible_demand(user, demand, lock=True)
        if not is_lead_handler(user, demand):
            raise PermissionDeniedError("只有主办单位的承办人或负责人可以报送研究推进进展。")
        if demand.state != State.LONG_TERM:
            raise IllegalTransition("只有区级研究推进的诉求需要报送进展。")
        text = _required(text, "进展情况", 3000)
        now = clock.now()
        entry = Progress.objects.create(demand=demand, unit_id=demand.lead_unit_id, author=user, text=text,
                                        created_at=now)
        review = Review.objects.select_for_update().filter(demand_id=demand.pk).first()
        interval = review.interval_months if review else REVIEW_MONTHS
        review_on = _next_review(clock.today(), interval)
        Review.objects.update_or_create(demand_id=demand.pk, defaults={
            "review_on": review_on, "interval_months": interval, "last_progress_at": now, "updated_at": now})
        _log(demand, user, "progress", demand.state, text, {"review_on": review_on.isoformat()})
    return entry


def stalled_long_term(user, today: dt.date | None = None):
    """区级研究推进 demands the user sees whose review date has passed without a progress entry."""
    today = today or clock.today()
    return (Demand.objects.visible_to(user).filter(state=State.LONG_TERM, long_term_review__review_on__lt=today)
            .select_related("lead_unit", "enterprise", "long_term_review")
            .order_by("long_term_review__review_on", "id"))


def units_named(ids) -> dict[int, str]:
    return dict(Unit.objects.filter(pk__in=ids).values_list("pk", "name"))
