"""Hand-offs between levels, pauses (挂起) and 默认满意: verb-named services like qinqing.demands.services.

Each checks permission and state, runs in one transaction, writes the timeline of every demand it changes
and goes through the demand services' own locking, saving (version check, deadline recompute) and logging.
"""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from qinqing.accounts.models import Jurisdiction
from qinqing.demands import services as ds
from qinqing.demands.errors import DomainError, IllegalTransition, NotFoundError, PermissionDeniedError
from qinqing.demands.models import (
    Attachment,
    Demand,
    DemandEvent,
    Evaluation,
    Outcome,
    State,
    Tier,
)
from qinqing.demands.verbs import HANDLING, VERB_LABELS, is_dispatcher, is_lead_handler
from qinqing.lib import clock
from qinqing.workdays.calendar import get_calendar

from .models import HandOff, Pause

# A demand may be handed over before or during handling, or while the district studies it.
HANDOFF_STATES = (State.RECEIVED, State.RETURNED, State.DISPATCHED, *HANDLING, State.LONG_TERM)
HISTORY_LINES = 30  # the timeline summary carried to the receiving level


# ---------------------------------------------------------------- hand-offs

def handoff_targets(user, demand) -> list[Jurisdiction]:
    """The jurisdictions `user` may hand `demand` to: the levels above its district (移送上级), and the
    districts below the user's own jurisdiction other than the one already handling it (下转)."""
    if not is_dispatcher(user, demand) or demand.state not in HANDOFF_STATES:
        return []
    scope = ds.dispatch_scope(demand)
    codes = scope.path.strip("/").split("/")[:-1]
    up = [j for j in Jurisdiction.objects.filter(code__in=codes) if j.level != Jurisdiction.Level.TOWN]
    down = []
    if user.jurisdiction_id:
        down = list(Jurisdiction.objects.filter(path__startswith=user.jurisdiction.path,
                                                level=Jurisdiction.Level.DISTRICT)
                    .exclude(pk=user.jurisdiction_id).exclude(pk=scope.pk).order_by("path"))
    return sorted(up, key=lambda j: len(j.path)) + down


def _target(user, demand, to_jurisdiction) -> tuple[Jurisdiction, str]:
    pk = to_jurisdiction.pk if isinstance(to_jurisdiction, Jurisdiction) else to_jurisdiction
    for j in handoff_targets(user, demand):
        if str(j.pk) == str(pk) or j.code == str(pk):
            up = ds.dispatch_scope(demand).path.startswith(j.path)
            return j, HandOff.Direction.UP if up else HandOff.Direction.DOWN
    raise DomainError("请选择可以接收该诉求的层级：上级（市级）或本级以下的区县。")


def _history(demand) -> list[dict]:
    """The sending demand's timeline in brief, for the receiving level (no internal entries)."""
    events = demand.events.filter(internal=False).select_related("actor").order_by("created_at", "id")
    return [{"at": timezone.localtime(e.created_at).strftime("%Y-%m-%d %H:%M"), "verb": VERB_LABELS.get(e.verb, e.verb),
             "note": e.note[:200]} for e in events[:HISTORY_LINES]]


def hand_off_demand(user, demand, *, to_jurisdiction, reason: str, version: int | None = None) -> HandOff:
    """移送上级 / 下转: the dispatcher hands the demand to another level's dispatcher, with the reason.

    A linked demand is created in the receiving jurisdiction through the intake's own preparation and insert
    (same checks, numbering, search words) with its own 1231 clock from now, the enterprise, title, content
    and attachments of the original, and a summary of its history; it waits in the receiving dispatcher's
    inbox. The original waits too (移送), and gets the receiving level's reply back (`return_reply`)."""
    with transaction.atomic():
        demand = ds._lock(user, demand, version)
        if not is_dispatcher(user, demand):
            raise PermissionDeniedError("只有本级调度员可以移交诉求。")
        if demand.state not in HANDOFF_STATES:
            raise IllegalTransition(f"诉求当前状态为“{demand.get_state_display()}”，不能移交。")
        if demand.paused_since:
            raise IllegalTransition("诉求挂起中，请先恢复计时再移交。")
        target_j, direction = _target(user, demand, to_jurisdiction)
        reason = ds._required(reason, "移交理由", 2000)
        now = ds._now()
        intake = ds.Intake(channel=demand.channel, title=demand.title, content=demand.content,
                           enterprise=demand.enterprise, category=demand.category, received_at=now,
                           reporter_name=demand.reporter_name, reporter_phone=demand.reporter_phone,
                           jurisdiction=demand.jurisdiction, nature=demand.nature)
        copy = ds._prepared_demand(user, intake, now)
        copy.jurisdiction, copy.handed_from, copy.aspect_id = target_j, demand, demand.aspect_id
        # Indexed now: the worker indexes only entries of intake ("receive"), and this one is a hand-off.
        copy.search_text = ds.search_words(copy.title, copy.content, demand.enterprise.name if demand.enterprise else "")
        year = timezone.localtime(now).year
        copy.number = f"QQ{year}-{ds._reserve_numbers(year, 1):06d}"
        ds._insert_demand(copy)
        Attachment.objects.bulk_create([  # the same stored files, referenced: nothing is copied
            Attachment(demand=copy, file=a.file.name, name=a.name, size=a.size, uploaded_by_id=a.uploaded_by_id,
                       uploaded_at=a.uploaded_at) for a in demand.attachments.all()])
        handoff = HandOff.objects.create(source=demand, target=copy, direction=direction,
                                         from_jurisdiction=ds.dispatch_scope(demand), to_jurisdiction=target_j,
                                         reason=reason, sent_by=user, sent_at=now)
        label = HandOff.Direction(direction).label
        ds._log(copy, user, "handoff_in", "", f"{demand.jurisdiction.name}{label}：{reason}",
                {"source": demand.number, "source_id": demand.pk, "from": handoff.from_jurisdiction.name,
                 "direction": direction, "history": _history(demand)})
        from_state = demand.state
        demand.state = State.TRANSFERRED
        if direction == HandOff.Direction.UP:
            demand.outcome, demand.tier = Outcome.TRANSFERRED, Tier.CITY
        ds._save(demand, ["state", "outcome", "tier"])
        ds._log(demand, user, "handoff_out", from_state, reason,
                {"to": target_j.name, "target": copy.number, "target_id": copy.pk, "direction": direction})
    return handoff


def hand_off_up(user, demand, *, reason: str, version: int | None = None) -> HandOff:
    """移送上级 to the nearest level above the demand's district: what the older 移送市级 verb
    (demands.services.transfer_to_city) and its API operation do, through `hand_off_demand`, so a demand
    sent up is one hand-off however it was sent, counted once at each level (移出 / 移入)."""
    scope = ds.dispatch_scope(demand)
    ups = [j for j in handoff_targets(user, demand) if scope.path.startswith(j.path)]
    if not ups and is_dispatcher(user, demand) and demand.state in HANDOFF_STATES:
        raise DomainError(f"{scope.name}以上没有可以接收移送的层级。")
    # None when the user may not hand it over or the state forbids it: hand_off_demand says which.
    return hand_off_demand(user, demand, to_jurisdiction=ups[-1] if ups else None, reason=reason, version=version)


def return_reply(user, target: Demand) -> HandOff | None:
    """答复回传: the receiving level's reply and outcome go back to the demand it was handed from.

    Called by `reply_demand` for every reply; does nothing for a demand that was not handed over. The
    original becomes 已答复待评价 with that reply (the enterprise rates it there); the linked demand is
    closed, its work done. A chain of hand-offs passes the reply all the way back."""
    if target.handed_from_id is None:
        return None
    handoff = HandOff.objects.select_for_update().filter(target_id=target.pk, status=HandOff.Status.OPEN).first()
    if handoff is None:
        return None
    now = ds._now()
    source = (Demand.objects.select_for_update(of=("self",)).select_related("jurisdiction", "category")
              .get(pk=handoff.source_id))
    if source.state != State.TRANSFERRED:
        return None
    source.reply, source.outcome, source.state = target.reply, target.outcome, State.REPLIED
    source.replied_at = now
    source.path_at = source.path_at or now
    source.evaluation, source.evaluation_comment, source.evaluated_at = "", "", None
    ds._save(source, ["reply", "outcome", "state", "replied_at", "path_at", "evaluation", "evaluation_comment",
                      "evaluated_at"])
    ds._log(source, user, "handoff_reply", State.TRANSFERRED, source.reply,
            {"outcome": source.get_outcome_display(), "from": handoff.to_jurisdiction.name, "target": target.number})
    handoff.status, handoff.answered_at = HandOff.Status.ANSWERED, now
    handoff.save(update_fields=["status", "answered_at"])
    target.state, target.closed_at = State.CLOSED, now
    ds._save(target, ["state", "closed_at"])
    ds._log(target, user, "handoff_reply", State.REPLIED, f"答复已回传{source.number}，由来源层级请企业评价",
            {"source": source.number}, internal=True)
    return_reply(user, source)
    return handoff


def handoff_counts(jurisdiction: Jurisdiction, start: dt.datetime, end: dt.datetime) -> dict[str, int]:
    """移出 / 移入 of a jurisdiction's ledger in [start, end): hand-offs sent from its subtree and received
    into it, each counted once in its own column (the linked demand is not a new receipt)."""
    return HandOff.objects.filter(sent_at__gte=start, sent_at__lt=end).aggregate(
        out=Count("pk", filter=Q(from_jurisdiction__path__startswith=jurisdiction.path)),
        **{"in": Count("pk", filter=Q(to_jurisdiction__path__startswith=jurisdiction.path))})


# ---------------------------------------------------------------- pauses (挂起)

def _live_pause(demand, status: str) -> Pause:
    pause = Pause.objects.select_for_update().filter(demand=demand, status=status).first()
    if pause is None:
        what = {Pause.Status.PENDING: "待审批的挂起申请", Pause.Status.ACTIVE: "挂起"}[status]
        raise IllegalTransition(f"该诉求没有{what}。")
    return pause


def request_pause(user, demand, *, reason: str, detail: str = "", version: int | None = None) -> Pause:
    """申请挂起: the lead unit asks to stop the clock for a reason the rules allow."""
    with transaction.atomic():
        demand = ds._lock(user, demand, version)
        if not is_lead_handler(user, demand):
            raise PermissionDeniedError("只有主办单位可以申请挂起。")
        if demand.state not in HANDLING:
            raise IllegalTransition(f"诉求当前状态为“{demand.get_state_display()}”，不能申请挂起。")
        if reason not in Pause.Reason.values:
            raise DomainError(f"请选择挂起原因：{'、'.join(Pause.Reason.labels)}。")
        detail = (detail or "").strip()
        if reason == Pause.Reason.OTHER:
            detail = ds._required(detail, "挂起原因说明", 500)
        elif len(detail) > 500:
            raise DomainError("说明不能超过500个字。")
        if Pause.objects.filter(demand=demand, status__in=[Pause.Status.PENDING, Pause.Status.ACTIVE]).exists():
            raise IllegalTransition("该诉求已有挂起申请或正在挂起。")
        pause = Pause.objects.create(demand=demand, reason=reason, detail=detail, requested_by=user,
                                     requested_at=ds._now())
        ds._save(demand, [], recompute=False)
        ds._log(demand, user, "request_pause", demand.state, pause.reason_text, {"pause": pause.pk}, internal=True)
    return pause


def _decide(user, demand, approve: bool, note: str, version) -> Pause:
    with transaction.atomic():
        demand = ds._lock(user, demand, version)
        if not is_dispatcher(user, demand):
            raise PermissionDeniedError("只有调度员可以审批挂起申请。")
        pause = _live_pause(demand, Pause.Status.PENDING)
        note = (note or "").strip()
        if not approve and not note:
            raise DomainError("请填写驳回理由。")
        if approve and demand.state not in HANDLING:
            raise IllegalTransition(f"诉求当前状态为“{demand.get_state_display()}”，不能挂起。")
        now = ds._now()
        pause.status = Pause.Status.ACTIVE if approve else Pause.Status.REFUSED
        pause.decided_by, pause.decided_at, pause.decision_note = user, now, note[:500]
        pause.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        if approve:
            demand.paused_since = now
        ds._save(demand, ["paused_since"])
        verb = "approve_pause" if approve else "refuse_pause"
        ds._log(demand, user, verb, demand.state, note or pause.reason_text,
                {"pause": pause.pk, "reason": pause.reason_text}, internal=not approve)
    return pause


def approve_pause(user, demand, *, note: str = "", version: int | None = None) -> Pause:
    """批准挂起: the clock stops; no deadline runs and nobody is urged until it resumes."""
    return _decide(user, demand, True, note, version)


def refuse_pause(user, demand, *, note: str, version: int | None = None) -> Pause:
    """驳回挂起: the clock keeps running."""
    return _decide(user, demand, False, note, version)


REMAINING = {"contact": ("contact", "path", "resolve"), "path": ("path", "resolve"), "resolve": ("resolve",)}


def resume_demand(user, demand, *, note: str = "", version: int | None = None) -> Pause:
    """恢复计时: every deadline still to be met moves by the working days the pause lasted.

    Paused working days are those after the day it began up to the day it ends (a pause begun and ended on
    the same day costs nothing; a holiday in between is not counted), on the official calendar."""
    with transaction.atomic():
        demand = ds._lock(user, demand, version)
        if not (is_dispatcher(user, demand) or is_lead_handler(user, demand)):
            raise PermissionDeniedError("只有调度员或主办单位可以恢复计时。")
        pause = _live_pause(demand, Pause.Status.ACTIVE)
        now = ds._now()
        cal = get_calendar()
        days = max(cal.workdays_between(timezone.localtime(demand.paused_since).date(),
                                        timezone.localtime(now).date()), 0)
        old = {s: getattr(demand, f"{s}_due").isoformat() for s in ("contact", "path", "resolve")}
        shift = dict(demand.pause_shift or {})
        for stage in REMAINING.get(demand.current_stage, ()):
            if stage == "resolve" and shift.get("round", 0) != demand.reopen_count:
                shift["resolve"], shift["round"] = 0, demand.reopen_count  # an earlier round's shift is spent
            shift[stage] = shift.get(stage, 0) + days
        shift.setdefault("round", demand.reopen_count)
        demand.pause_shift, demand.paused_since = shift, None
        ds._save(demand, ["pause_shift", "paused_since"])
        pause.status, pause.resumed_by, pause.resumed_at, pause.workdays = Pause.Status.ENDED, user, now, days
        pause.save(update_fields=["status", "resumed_by", "resumed_at", "workdays"])
        new = {s: getattr(demand, f"{s}_due").isoformat() for s in ("contact", "path", "resolve")}
        ds._log(demand, user, "resume", demand.state, note.strip() or f"挂起{days}个工作日，期限相应顺延",
                {"pause": pause.pk, "workdays": days, "resolve_due": new["resolve"],
                 "deadlines": {s: {"old": old[s], "new": new[s]} for s in old if old[s] != new[s]}})
    return pause


# ---------------------------------------------------------------- 默认满意

BATCH = 500


def default_satisfied_cutoff(today: dt.date, workdays: int) -> dt.date:
    """The last reply date whose rating time has run out by `today`: `workdays` working days after it."""
    cal = get_calendar()
    day = today
    while cal.workdays_between(day, today) < workdays:
        day -= dt.timedelta(days=1)
    return day


def close_unrated_replies(today: dt.date | None = None) -> int:
    """默认满意: replies left unrated for `QINQING_DEFAULT_SATISFIED_WORKDAYS` working days are closed.

    Marked 默认满意 (Evaluation.DEFAULT), never 满意: the rates count them apart. Set-based per batch: the
    candidates are locked (skipping rows another worker or a user holds), closed by one UPDATE that still
    requires 已答复待评价, and given one timeline entry each; safe to run again or on two workers."""
    today = today or clock.today()
    workdays = settings.QINQING_DEFAULT_SATISFIED_WORKDAYS
    cutoff = default_satisfied_cutoff(today, workdays)
    until = timezone.make_aware(dt.datetime.combine(cutoff + dt.timedelta(days=1), dt.time.min))
    note = f"答复后{workdays}个工作日内企业未评价，按默认满意办结"
    total = 0
    while True:
        with transaction.atomic():
            ids = list(Demand.objects.filter(state=State.REPLIED, replied_at__lt=until).order_by("pk")
                       .select_for_update(skip_locked=True).values_list("pk", flat=True)[:BATCH])
            if not ids:
                return total
            now = ds._now()
            Demand.objects.filter(pk__in=ids, state=State.REPLIED).update(
                state=State.CLOSED, evaluation=Evaluation.DEFAULT, evaluation_comment="",
                evaluation_by_callback=False, evaluated_at=now, closed_at=now, version=F("version") + 1,
                updated_at=now)
            events = DemandEvent.objects.bulk_create([
                DemandEvent(demand_id=pk, actor=None, verb="default_satisfied", from_state=State.REPLIED,
                            to_state=State.CLOSED, note=note, data={"workdays": workdays}, created_at=now,
                            awaiting_delivery=ds.awaits_delivery()) for pk in ids])
            for event in events:
                if event.pk:
                    ds._queue_notifications(event.pk)
            total += len(ids)


def handoff_for(demand) -> dict:
    """What the demand page shows of hand-offs: the one it came from, the ones it went to, with the other
    demand's state (read directly: the other level's demand may be outside the reader's sight)."""
    incoming = HandOff.objects.filter(target=demand).select_related("source", "from_jurisdiction").first()
    outgoing = list(HandOff.objects.filter(source=demand).select_related("target", "to_jurisdiction"))
    return {"incoming": incoming, "outgoing": outgoing}


def find_demand(user, ref) -> Demand:
    """A demand the user may see, by id or number (views and the API name demands both ways)."""
    qs = Demand.objects.visible_to(user).select_related("jurisdiction", "enterprise", "category", "lead_unit")
    ref = str(ref).strip()
    found = qs.filter(pk=int(ref)).first() if ref.isascii() and ref.isdigit() else qs.filter(number=ref.upper()).first()
    if found is None:
        raise NotFoundError("诉求不存在或您无权查看。")
    return found
