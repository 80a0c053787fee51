"""Every change to a 督办单 goes through one of these functions: issue, answer, escalate.

Each checks who may act, runs in one transaction, appends a NoticeEvent and raises a DomainError with
a Chinese message. Each step is also an internal entry on the demand's timeline (enterprises never see
督办), and the notifications hang off that entry after commit as for any other step of the demand: the
lead unit's heads and handlers learn of a notice, the issuer of its answer, the district's leaders of an
escalation (qinqing.notifications.services.recipients). `escalate_ignored_notices` is the scheduled job: set-based, idempotent (a notice is
escalated only by the UPDATE that moves it out of "issued"), correct after downtime.
"""

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from qinqing.accounts.models import Role
from qinqing.demands import services as demand_services
from qinqing.demands.errors import DomainError, IllegalTransition, NotFoundError, PermissionDeniedError
from qinqing.demands.models import OPEN_STATES, Demand, DemandEvent
from qinqing.lib import clock
from qinqing.lib.text import clean_text
from qinqing.workdays import calendar as workcal

from .models import Level, NoticeEvent, NoticeStatus, SupervisionNotice

ISSUER_ROLES = (Role.SUPERVISOR, Role.LEADER, Role.ADMIN)
ANSWER_DAYS = 3  # working days a unit has to answer a notice
ESCALATED_ANSWER_DAYS = 2
MAX_DAYS = 20


def _actor(user):
    return user if user is not None and getattr(user, "pk", None) else None


def _log(notice, user, verb, note="") -> NoticeEvent:
    return NoticeEvent.objects.create(notice=notice, actor=_actor(user), verb=verb, note=clean_text(note),
                                      created_at=clock.now())


def _timeline(notice, user, verb: str, *, issuer_id=None, parent=None) -> DemandEvent:
    """The demand's timeline entry for a notice step; its notifications are queued after commit.

    `data["notice"]` (not shown on the timeline) carries what the notification says and whom it reaches,
    as it was at this step: the notice's id, number, unit and level, the one it replaces, and for an
    answer the person who issued the notice. The answer deadline is shown.
    """
    demand = notice.demand
    note = notice.answer if verb == "answer_notice" else notice.requirement
    about = {"id": notice.pk, "number": notice.number, "unit": notice.unit_id, "level": notice.level,
             "reply_due": notice.reply_due.isoformat()}
    if issuer_id:
        about["issuer"] = issuer_id
    if parent is not None:
        about["parent"] = parent.number
    data = {"notice": about} if verb == "answer_notice" else {"reply_due": about["reply_due"], "notice": about}
    event = DemandEvent.objects.create(demand=demand, actor=_actor(user), verb=verb, from_state=demand.state,
                                       to_state=demand.state, note=note, data=data, internal=True,
                                       created_at=clock.now(), awaiting_delivery=demand_services.awaits_delivery())
    # The demands' own hook: after commit, and not while history is loaded with notifications suppressed.
    demand_services._queue_notifications(event.pk)
    return event


def move_reply_dues(before, after, since: dt.date) -> int:
    """Move the answer deadlines of the notices awaiting an answer after a working-day calendar change.

    A notice's 反馈期限 is a number of working days after the day it was issued (3, or 2 once escalated).
    That number is not stored: it is read back on the calendar the deadline was computed with
    (`before`), then counted again on `after`. Only a deadline on or after the first changed day can
    move (the count never looks past the deadline). Open notices are few (at most one per open demand),
    so they are recomputed here in the calendar change's own transaction, each with a 督办记录 entry.
    Idempotent: a deadline already right is not written.
    """
    moved = 0
    notices = (SupervisionNotice.objects.filter(status=NoticeStatus.ISSUED, reply_due__gte=since)
               .select_for_update().only("id", "issued_at", "reply_due").order_by("pk"))
    changed, events = [], []
    for notice in notices:
        issued_on = timezone.localdate(notice.issued_at)
        new = after.add_workdays(issued_on, before.workdays_between(issued_on, notice.reply_due))
        if new != notice.reply_due:
            events.append(NoticeEvent(notice=notice, actor=None, verb="recalendar", created_at=clock.now(),
                                      note=f"节假日调整：反馈期限 {notice.reply_due:%Y-%m-%d} → {new:%Y-%m-%d}"))
            notice.reply_due = new
            changed.append(notice)
    if changed:
        SupervisionNotice.objects.bulk_update(changed, ["reply_due"], batch_size=500)
        NoticeEvent.objects.bulk_create(events)
        moved = len(changed)
    return moved


def may_issue(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or user.has_role(*ISSUER_ROLES)))


def _next_serial(year: int) -> int:
    return (SupervisionNotice.objects.filter(year=year).aggregate(m=Max("serial"))["m"] or 0) + 1


def _create(*, demand, user, level, requirement, days, parent=None, today) -> SupervisionNotice:
    cal = workcal.get_calendar()
    for _attempt in range(3):
        try:
            with transaction.atomic():
                notice = SupervisionNotice.objects.create(
                    year=today.year, serial=_next_serial(today.year), demand=demand, unit=demand.lead_unit,
                    stage=demand.current_stage, stage_due=demand.next_due, level=level, parent=parent,
                    requirement=requirement, reply_due=cal.add_workdays(today, days), issued_by=_actor(user))
                return notice
        except IntegrityError as exc:
            if SupervisionNotice.objects.filter(demand=demand, status=NoticeStatus.ISSUED).exists():
                raise IllegalTransition("该诉求已有待反馈的督办单，请等待承办单位反馈。") from exc
    raise DomainError("督办单编号冲突，请稍后重试。")


def issue_notice(user, demand, *, requirement: str, days: int = ANSWER_DAYS,
                 today: dt.date | None = None) -> SupervisionNotice:
    """下发督办单 to the demand's lead unit about its current, overdue or nearly due, stage."""
    if not may_issue(user):
        raise PermissionDeniedError("只有督查室、领导或管理员可以下发督办单。")
    requirement = clean_text(requirement or "").strip()
    if not requirement:
        raise DomainError("请填写督办要求。")
    if len(requirement) > 2000:
        raise DomainError("督办要求不能超过2000个字。")
    try:
        days = int(days)
    except (TypeError, ValueError):
        raise DomainError("反馈期限应为1到20个工作日。") from None
    if not 1 <= days <= MAX_DAYS:
        raise DomainError("反馈期限应为1到20个工作日。")
    today = today or clock.today()
    with transaction.atomic():
        pk = demand.pk if isinstance(demand, Demand) else demand
        demand = (Demand.objects.visible_to(user).select_for_update(of=("self",)).select_related("lead_unit")
                  .filter(pk=pk).first())
        if demand is None:
            raise NotFoundError("诉求不存在或您无权查看。")
        if demand.state not in OPEN_STATES or demand.next_due is None:
            raise IllegalTransition(f"诉求当前状态为“{demand.get_state_display()}”，没有正在计时的环节，无需督办。")
        if demand.lead_unit_id is None:
            raise IllegalTransition("该诉求尚未交办承办单位，请督促调度员先行交办。")
        if SupervisionNotice.objects.filter(demand=demand, status=NoticeStatus.ISSUED).exists():
            raise IllegalTransition("该诉求已有待反馈的督办单，请等待承办单位反馈。")
        notice = _create(demand=demand, user=user, level=Level.OFFICE, requirement=requirement, days=days,
                         today=today)
        _log(notice, user, "issue", requirement)
        _timeline(notice, user, "supervise")
    return notice


def answer_notice(user, notice, *, answer: str) -> SupervisionNotice:
    """书面反馈: the unit says what it has done and when the demand will move on."""
    answer = clean_text(answer or "").strip()
    if not answer:
        raise DomainError("请填写反馈内容。")
    if len(answer) > 5000:
        raise DomainError("反馈内容不能超过5000个字。")
    with transaction.atomic():
        pk = notice.pk if isinstance(notice, SupervisionNotice) else notice
        notice = (SupervisionNotice.objects.visible_to(user).select_for_update(of=("self",))
                  .select_related("demand", "parent").filter(pk=pk).first())
        if notice is None:
            raise NotFoundError("督办单不存在或您无权查看。")
        is_admin = user.is_superuser or user.has_role(Role.ADMIN)
        if not is_admin and not (user.unit_id == notice.unit_id and user.has_role(Role.HANDLER, Role.UNIT_HEAD)):
            raise PermissionDeniedError("只有被督办单位的承办人或负责人可以反馈督办单。")
        if notice.status != NoticeStatus.ISSUED:
            raise IllegalTransition(f"该督办单状态为“{notice.get_status_display()}”，不能再反馈。")
        notice.answer, notice.answered_by, notice.answered_at = answer, user, clock.now()
        notice.status = NoticeStatus.ANSWERED
        notice.save(update_fields=["answer", "answered_by", "answered_at", "status"])
        _log(notice, user, "answer", answer)
        # A notice the system issued on escalation has no issuer: the answer goes to who issued the first.
        issuer_id = notice.issued_by_id or (notice.parent.issued_by_id if notice.parent_id else None)
        _timeline(notice, user, "answer_notice", issuer_id=issuer_id)
    return notice


def escalate_ignored_notices(today: dt.date | None = None) -> int:
    """升级督办: notices past their answer deadline without an answer. Safe to run any number of times."""
    today = today or clock.today()
    escalated = 0
    overdue = SupervisionNotice.objects.filter(status=NoticeStatus.ISSUED, reply_due__lt=today)
    for pk in list(overdue.values_list("pk", flat=True)[:1000]):
        with transaction.atomic():
            moved = SupervisionNotice.objects.filter(pk=pk, status=NoticeStatus.ISSUED).update(
                status=NoticeStatus.ESCALATED, escalated_at=clock.now())
            if moved != 1:
                continue  # another worker got there first
            notice = SupervisionNotice.objects.select_related("demand", "unit").get(pk=pk)
            _log(notice, None, "escalate", f"逾期未反馈（反馈期限{notice.reply_due:%Y-%m-%d}），已升级督办。")
            escalated += 1
            demand = notice.demand
            if notice.level >= Level.LEADERS or demand.state not in OPEN_STATES or demand.next_due is None:
                continue  # the leaders already have it, or the demand has moved on
            follow = _create(demand=demand, user=None, level=Level.LEADERS, parent=notice,
                             days=ESCALATED_ANSWER_DAYS, today=today,
                             requirement=f"{notice.unit.name}对{notice.number}逾期未反馈，现升级督办并报区领导。"
                                         f"请于期限内书面反馈办理进展，逾期将在月度通报中点名。")
            _log(follow, None, "issue", follow.requirement)
            _timeline(follow, None, "escalate_notice", parent=notice)
    return escalated
