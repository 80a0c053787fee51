"""Who is told about a timeline entry, in which words and through which channels; reading them.

The in-app notification is always written; e-mail (Django's mail backend) and SMS (the gateway in
sms.py) follow each person's Preference. Everything here runs in the worker after commit, and running
it twice for the same entry sends nothing twice.
"""

import datetime as dt
import logging
from collections.abc import Mapping
from string import Formatter

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet

from qinqing.accounts.models import Jurisdiction, Role, User
from qinqing.cooperation.notify import COOPERATION_TEXT
from qinqing.cooperation.notify import recipients_q as cooperation_recipients
from qinqing.demands.models import DemandEvent
from qinqing.demands.public import public_view_of
from qinqing.demands.search import index_received
from qinqing.lib import clock

from .models import Notification, Preference
from .sms import send_sms

log = logging.getLogger(__name__)

# What an enterprise reads, in plain words, for each step of its demand: never a staff note or a staff name.
ENTERPRISE_TEXT = {
    "receive": "您反映的问题“{title}”已受理，编号{number}。",
    "dispatch": "您反映的问题已交由{unit}办理，对方将在2个工作日内与您联系。",
    "return": "我们正在为您的问题重新安排承办单位，请耐心等待。",
    "accept": "{unit}已接手办理您的问题。",
    "approve_extension": "您的问题办理时间需要延长，预计{resolve_due}前办结。",
    "evaluate": "工作人员已电话回访并记录您的评价：{evaluation}。",
    "contact": "{unit}已与您联系，正在办理。",
    "plan": "{unit}已给出解决路径，请在进度中查看。",
    "reply": "{unit}已正式答复您的问题，请查看并评价。",
    "reopen": "您的问题已重新交办，{unit}将再次办理。",
    "close": "您的问题已办结销号，感谢您的评价。",
    "settle": "您反映的问题“{title}”已现场解决，编号{number}。",
    "mark_long_term": "您的问题需要区里研究推进，我们会持续跟进并告知进展。",
    "transfer": "您的问题已移送市级部门研究，我们会跟进结果。",
    # qinqing.handoffs
    "handoff_out": "您的问题已移交上级或下级部门办理，我们会跟进结果。",
    "handoff_reply": "您的问题已正式答复，请查看并评价。",
    "default_satisfied": "您的问题答复后未评价，已按默认满意办结。",
    "reply_files": "{unit}上传了答复附件，请在进度中查看。",
}
STAFF_TEXT = {
    "receive": "新诉求待交办：{number} {title}",
    "dispatch": "新交办诉求：{number} {title}，请及时签收并联系企业。",
    "return": "诉求被退回，请重新交办：{number} {title}",
    "evaluate": "企业已评价（{evaluation}）：{number} {title}",
    "reopen": "诉求需重办：{number} {title}",
    "request_extension": "延期申请待审批：{number} {title}",
    "approve_extension": "延期申请已批准：{number}",
    "reject_extension": "延期申请未获批准：{number}",
    "urge": "【催办】{number} {title}：{note}",
    "escalate": "诉求已提级：{number} {title}",
    "reply": "承办单位已答复，待企业评价：{number} {title}",
    # 督办单 (qinqing.supervision.services); the requirement or answer comes last, where a cut hurts least.
    "supervise": "【督办】{notice}：诉求{number} {title}，请于{reply_due}前书面反馈。督办要求：{note}",
    "escalate_notice": "【升级督办】{notice}：{parent}逾期未反馈，已报区领导。诉求{number} {title}，"
                       "请于{reply_due}前书面反馈。",
    "answer_notice": "督办单已反馈：{notice}（诉求{number} {title}）。反馈内容：{note}",
    # The people on a demand (qinqing.handling): its named handler, and whom an internal note mentions.
    "assign": "诉求已指派给您承办：{number} {title}",
    "reassign": "诉求承办人已改派：{number} {title}，改派理由：{note}",
    "note": "【内部备注】诉求{number}中有人提到了您：{note}",
    # Hand-offs and pauses (qinqing.handoffs).
    "handoff_in": "移交诉求待交办：{number} {title}",
    "handoff_reply": "移交诉求已答复回传，待企业评价：{number} {title}",
    "request_pause": "挂起申请待审批：{number} {title}",
    "approve_pause": "挂起申请已批准，暂停计时：{number}",
    "refuse_pause": "挂起申请未获批准：{number}",
    # 补充材料 (qinqing.transparency.material): the enterprise added a message or files after intake or reply.
    "follow_up": "企业补充了材料：{number} {title}：{note}",
}
STAFF_TEXT.update(COOPERATION_TEXT)  # 协办, 退单争议, 批示, 研究推进 (qinqing.cooperation.notify)
NOTICE_VERBS = ("supervise", "escalate_notice", "answer_notice")
# Free text is cut to these lengths in every notification, by Python here and by the sweep's SQL alike.
FIELD_LIMITS = {"title": 60, "note": 80}
TEXT_LIMIT = Notification._meta.get_field("text").max_length


def render_text(template: str, fields: Mapping[str, object]) -> str:
    """A STAFF_TEXT or ENTERPRISE_TEXT entry with the demand's words filled in, as it is stored."""
    cut = {k: v[:FIELD_LIMITS[k]] if k in FIELD_LIMITS else v for k, v in fields.items()}
    return template.format(**cut)[:TEXT_LIMIT]


def text_sql(template: str, columns: Mapping[str, str]) -> tuple[str, list[str]]:
    """The same text as an SQL expression over `columns` (placeholder -> column), for set-based writes.

    The template's literal parts become query parameters and its placeholders the columns, cut with
    substr as render_text cuts them (both count characters), so the sweep's statement and the per-event
    path write the identical text from the one template.
    """
    parts, params = [], []
    for literal, name, spec, conversion in Formatter().parse(template):
        if literal:
            parts.append("%s")
            params.append(literal)
        if name is None:
            continue
        if spec or conversion:
            raise ValueError(f"{template!r}: no format specs in a text the SQL also writes")
        column = columns[name]
        parts.append(f"substr({column}, 1, {FIELD_LIMITS[name]})" if name in FIELD_LIMITS else column)
    return f"substr({' || '.join(parts)}, 1, {TEXT_LIMIT})", params


def _unit_members(unit_ids):
    return Q(unit_id__in=[u for u in unit_ids if u], role_grants__role__in=[Role.HANDLER, Role.UNIT_HEAD])


def _dispatchers(demand):
    """Dispatchers whose jurisdiction is the demand's or one of its ancestors."""
    parts = demand.jurisdiction.path.strip("/").split("/")
    ancestors = ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
    return Q(role_grants__role=Role.DISPATCHER, jurisdiction__path__in=ancestors)


def _district_leaders(demand):
    """Leaders of the demand's district and town: an escalated 督办单 is "报区领导", not the whole city's."""
    parts = demand.jurisdiction.path.strip("/").split("/")
    ancestors = ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
    return Q(role_grants__role=Role.LEADER, jurisdiction__path__in=ancestors,
             jurisdiction__level__in=[Jurisdiction.Level.DISTRICT, Jurisdiction.Level.TOWN])


def _notice_recipients(event: DemandEvent) -> Q:
    """督办单 steps: the notice's unit is told of a notice, the issuer (and for an escalated one the
    leaders) of the answer, the unit and the district's leaders of an escalation."""
    data, verb = (event.data or {}).get("notice", {}), event.verb
    q = Q(pk__in=[])
    if verb in ("supervise", "escalate_notice"):
        q |= _unit_members([data.get("unit")])
    if verb == "escalate_notice" or (verb == "answer_notice" and data.get("level", 1) > 1):
        q |= _district_leaders(event.demand)
    if verb == "answer_notice" and data.get("issuer"):
        q |= Q(pk=data["issuer"])
    return q


def recipients(event: DemandEvent):
    demand = event.demand
    verb = event.verb
    units = [demand.lead_unit_id, *demand.co_units.values_list("pk", flat=True)]
    q = Q(pk__in=[])
    if verb in ("dispatch", "evaluate", "reopen", "urge", "approve_extension", "reject_extension"):
        q |= _unit_members(units if verb == "dispatch" else [demand.lead_unit_id])
    if verb in ("receive", "return", "request_extension", "escalate", "reply", "evaluate") and not event.internal:
        q |= _dispatchers(demand)
    if verb in ("handoff_in", "handoff_reply", "request_pause"):  # qinqing.handoffs
        q |= _dispatchers(demand)
    if verb == "follow_up":  # the lead unit hears of it; before dispatch, the dispatchers
        q |= _unit_members([demand.lead_unit_id]) if demand.lead_unit_id else _dispatchers(demand)
    if verb in ("approve_pause", "refuse_pause"):
        q |= _unit_members([demand.lead_unit_id])
    if verb in NOTICE_VERBS:
        q |= _notice_recipients(event)
    q |= cooperation_recipients(event)  # co-units, disputes, 批示; the leaders reached by an escalation
    from qinqing.handling.notify import handling_recipients

    q |= handling_recipients(event)  # the named handler, the people an internal note mentions
    staff = list(User.objects.filter(q, is_active=True).exclude(pk=event.actor_id).distinct())
    owners = []
    # The enterprise hears only of steps its own timeline shows (the one rule of qinqing.demands.public).
    # Not of another level's copy of a handed-over demand (qinqing.handoffs): the enterprise follows the original,
    # which gets the reply back; it would be told twice, and of a demand it cannot open.
    if (demand.enterprise_id and demand.handed_from_id is None and verb in ENTERPRISE_TEXT
            and public_view_of(event) is not None):
        owners = list(User.objects.filter(enterprise_id=demand.enterprise_id, is_active=True,
                                          role_grants__role=Role.ENTERPRISE).exclude(pk=event.actor_id))
    return staff, owners


def _notice_fields(event: DemandEvent) -> dict[str, str]:
    if event.verb not in NOTICE_VERBS:
        return {}
    data = (event.data or {}).get("notice", {})
    due = dt.date.fromisoformat(data["reply_due"]) if data.get("reply_due") else None
    return {"notice": data.get("number", "督办单"), "parent": data.get("parent", "原督办单"),
            "reply_due": f"{due.month}月{due.day}日" if due else ""}


def notify_for_event(event_id: int) -> int:
    """Create the notifications of one timeline entry; running it twice creates (and sends) nothing more.

    The entry's `awaiting_delivery` mark is cleared in the same transaction as the notifications are
    written, by an UPDATE that comes first: it holds the entry's row (PostgreSQL) or the database's write
    lock (SQLite) until commit, so a second delivery of the same entry (the catch-up re-running one whose
    task was only slow) waits, then finds every recipient already told. E-mail and SMS go after the
    commit, for the notifications this run created: a crash may lose one, never send one twice.
    """
    with transaction.atomic():
        # The timeline is append-only (its querysets refuse updates); this bookkeeping mark is the one column
        # that changes, and only here, so it goes through a plain queryset.
        QuerySet(DemandEvent).filter(pk=event_id).update(awaiting_delivery=False)
        rows = _new_notifications(event_id)
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
    if rows:
        _send_outside(rows)
    return len(rows)


def _new_notifications(event_id: int) -> list[Notification]:
    event = DemandEvent.objects.select_related("demand__lead_unit", "demand__jurisdiction",
                                               "demand__enterprise").get(pk=event_id)
    demand = event.demand
    if event.verb == "receive":  # the intake left its search words to this delivery
        index_received(demand)
        from qinqing.textmodel.services import read_received

        read_received(demand)  # the duplicate check's index, then auto-dispatch if switched on
    staff, owners = recipients(event)
    fields = {"number": demand.number, "title": demand.title, "note": event.note,
              "unit": demand.lead_unit.name if demand.lead_unit else "承办单位",
              "evaluation": demand.get_evaluation_display() or "",
              "resolve_due": f"{demand.resolve_due.month}月{demand.resolve_due.day}日",
              **_notice_fields(event)}
    already = set(Notification.objects.filter(event=event).values_list("recipient_id", flat=True))
    rows = []
    if event.verb in STAFF_TEXT:
        text = render_text(STAFF_TEXT[event.verb], fields)
        rows += [Notification(recipient=u, demand=demand, event=event, text=text) for u in staff if u.pk not in already]
    if owners:
        text = render_text(ENTERPRISE_TEXT[event.verb], fields)
        rows += [Notification(recipient=u, demand=demand, event=event, text=text) for u in owners if u.pk not in already]
    from qinqing.handling.notify import watcher_notifications

    rows += watcher_notifications(event, already | {n.recipient.pk for n in rows})  # 关注: the demand's watchers
    return rows


CATCH_UP_AFTER = dt.timedelta(minutes=1)
CATCH_UP_BATCH = 500


def deliver_overdue_events(limit: int = CATCH_UP_BATCH) -> int:
    """Deliver the timeline entries still awaiting delivery a minute after they were written.

    Their notifications were lost on the way: the process died between its commit and handing the entry to
    Huey, or the worker died while delivering it. Reads the partial index of entries awaiting delivery,
    oldest first, at most `limit` a run; each is delivered in its own transaction by notify_for_event, which
    clears the mark, so a run killed half-way leaves the rest for the next. How many entries it delivered.
    """
    cutoff = clock.now() - CATCH_UP_AFTER
    swept = 0
    for sweep in _sweeps_awaiting_delivery(cutoff):  # the overdue sweep's entries go by sweep, as they first would
        notify_sweep(sweep)
        swept += 1
    ids = list(DemandEvent.objects.filter(awaiting_delivery=True, created_at__lt=cutoff)
               .order_by("created_at").values_list("pk", flat=True)[:limit])
    for event_id in ids:
        notify_for_event(event_id)
    return len(ids) + swept


def _sweeps_awaiting_delivery(cutoff) -> list[str]:
    """Sweeps whose urgings were committed but never told (the worker died before notify_sweep committed)."""
    with connection.cursor() as cursor:
        cursor.execute(
            # Driven by the partial index of entries awaiting delivery (usually none), not by every urging ever.
            """SELECT DISTINCT sweep FROM demands_urging WHERE (demand_id, created_at) IN (
                   SELECT demand_id, created_at FROM demands_demandevent
                   WHERE awaiting_delivery AND verb = 'urge' AND created_at < %s)""",
            [connection.ops.adapt_datetimefield_value(cutoff)])
        return [row[0] for row in cursor.fetchall()]


def _send_outside(rows: list[Notification]) -> None:
    """E-mail and SMS for the people who asked for them; a failing channel never stops the others."""
    wanted = {p.user_id: p for p in Preference.objects.filter(user_id__in=[n.recipient.pk for n in rows])}
    for note in rows:
        if (pref := wanted.get(note.recipient.pk)) is not None:
            _deliver(pref, note.recipient, f"【亲清】{note.demand.number if note.demand else '通知'}", note.text)


def _deliver(pref: Preference, user, subject: str, text: str) -> None:
    """One message by the channels `pref` asks for; a failing e-mail is logged, the SMS still goes."""
    if pref.by_email and user.email:
        try:
            send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, [user.email])
        except Exception:  # noqa: BLE001 - the in-app notification stands; the failure is logged
            log.exception("notification e-mail to user %s failed", user.pk)
    if pref.by_sms and user.phone:
        send_sms(user.phone, f"【亲清】{text}", recipient=user)


def notify_sweep(sweep: str) -> int:
    """Tell each lead unit's handlers of the urgings one sweep issued, in one statement.

    A first sweep over a large ledger issues tens of thousands of urgings; each becomes a
    notification to the lead unit's handlers and head (as `notify_for_event` would write it), inserted
    set-based, its text built in SQL from the same STAFF_TEXT["urge"] (text_sql). Those who asked for
    e-mail or SMS get one digest with their count rather than a message per demand. Running it twice creates nothing more: (recipient, event) is unique.

    The sweep's entries are written `awaiting_delivery`; the mark is cleared first, in the same
    transaction as the notifications (a second run of the same sweep waits for it, then finds everyone
    told), so a worker killed before this commits leaves them for `deliver_overdue_events`.
    """
    stamp = clock.now()
    db_stamp = connection.ops.adapt_datetimefield_value(stamp)
    text, text_params = text_sql(STAFF_TEXT["urge"], {"number": "d.number", "title": "d.title", "note": "e.note"})
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            # A row-value IN, read once: a correlated EXISTS scanned the sweep's urgings once per entry on
            # SQLite (108 s instead of 0.05 for 31,595 urgings, bench/kill_worker.py).
            """UPDATE demands_demandevent SET awaiting_delivery = %s
               WHERE awaiting_delivery AND verb = 'urge' AND (demand_id, created_at) IN (
                   SELECT demand_id, created_at FROM demands_urging WHERE sweep = %s)""",
            [False, sweep])
        cursor.execute(
            f"""INSERT INTO notifications_notification (recipient_id, demand_id, event_id, text, created_at)
                SELECT m.user_id, u.demand_id, e.id, {text}, %s
                FROM demands_urging u
                JOIN demands_demandevent e ON e.demand_id = u.demand_id AND e.verb = 'urge'
                                           AND e.created_at = u.created_at
                JOIN demands_demand d ON d.id = u.demand_id
                JOIN (SELECT DISTINCT usr.id AS user_id, usr.unit_id FROM accounts_user usr
                      JOIN accounts_rolegrant g ON g.user_id = usr.id AND g.role IN (%s, %s)
                      WHERE usr.is_active AND usr.unit_id IS NOT NULL) m ON m.unit_id = u.unit_id
                WHERE u.sweep = %s
                ON CONFLICT DO NOTHING""",  # noqa: S608 - the SQL is ours, values are parameters
            [*text_params, db_stamp, Role.HANDLER, Role.UNIT_HEAD, sweep])
        created = cursor.rowcount
        from qinqing.handling.notify import notify_watchers_of_sweep

        created += notify_watchers_of_sweep(sweep)  # 关注: the urged demands' watchers, in bulk (in-app only)
    if created:
        _send_digests(Notification.objects.filter(created_at=stamp, event__verb="urge"))
    return created


def _send_digests(notes) -> None:
    """One e-mail or SMS per person who asked for them, counting their new urgings."""
    counts = dict(notes.values_list("recipient").annotate(n=Count("id")).order_by())
    prefs = Preference.objects.filter(user_id__in=counts).filter(Q(by_email=True) | Q(by_sms=True))
    for pref in prefs.select_related("user"):
        _deliver(pref, pref.user, "【亲清】超期催办",
                 f"【催办】本单位有{counts[pref.user_id]}件诉求超期，请登录亲清平台尽快办理。")


# ---------------------------------------------------------------- the reader's side

def visible_notifications(user):
    """A person's own notifications; nobody reads anybody else's."""
    return Notification.objects.filter(recipient=user)


UNREAD_CAP = 99  # the header shows "99+" beyond this, so it never counts a backlog in full


def unread_count(user) -> int:
    """Unread notifications, up to UNREAD_CAP + 1: one short index read, whatever the backlog."""
    if not user.is_authenticated:
        return 0
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True).order_by()
    return len(unread.values_list("pk", flat=True)[:UNREAD_CAP + 1])


def mark_read(user, notification_id) -> Notification | None:
    """Mark one of the user's notifications read; another person's id finds nothing."""
    note = visible_notifications(user).select_related("demand").filter(pk=notification_id).first()
    if note is not None and note.read_at is None:
        note.read_at = clock.now()
        Notification.objects.filter(pk=note.pk, read_at__isnull=True).update(read_at=note.read_at)
    return note


def mark_all_read(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=clock.now())


def preference_for(user) -> Preference:
    return Preference.objects.filter(user=user).first() or Preference(user=user)


def set_preferences(user, *, by_email: bool, by_sms: bool) -> Preference:
    """Save how the user wants to be told; asking for a channel without an address is refused."""
    from qinqing.demands.errors import DomainError

    if by_email and not user.email:
        raise DomainError("您的账号没有登记电子邮箱，无法开启邮件通知。请联系管理员登记邮箱。")
    if by_sms and not user.phone:
        raise DomainError("您的账号没有登记手机号，无法开启短信通知。请联系管理员登记手机号。")
    with transaction.atomic():
        pref, _ = Preference.objects.select_for_update().get_or_create(user=user)
        pref.by_email, pref.by_sms, pref.updated_at = by_email, by_sms, clock.now()
        pref.save(update_fields=["by_email", "by_sms", "updated_at"])
    return pref
