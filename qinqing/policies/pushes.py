"""Telling eligible enterprises of a policy: once on publication, once more at each reminder before the window
closes (QINQING_POLICY_REMINDER_DAYS, default 15 and 3 days), never twice, never to one that opted out or has
already applied.

Set-based: for one policy, one INSERT … SELECT writes the ledger (PolicyPush, unique per policy, enterprise and
stage) from the eligible query itself, a second writes the in-app notifications of the enterprises' accounts
from the rows that insert wrote (its `run`), a third links each notification to its push. Nothing loops over
enterprises in Python; the per-message work left is what the gateways need one call for: e-mail and SMS to the
accounts that asked for them (notifications.Preference), and the 企业手机报 SMS to the registered mobile of an
enterprise that has no account, claimed row by row before it is handed over.

Catch-up: the daily task pushes the stage due today for every current policy (the latest one reached: after
a week of downtime an enterprise gets the 3-day reminder, not a stale 15-day one and then the 3-day one). The
unique constraint and the NOT EXISTS on the ledger make a rerun, or two workers, insert nothing twice.
"""

import datetime as dt
import logging
import uuid

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Value,
    When,
)

from qinqing.accounts.models import Role, User
from qinqing.lib import clock
from qinqing.notifications.models import Notification, Preference
from qinqing.notifications.services import _deliver
from qinqing.notifications.sms import send_sms

from . import matching, reach, rules
from .models import Policy, PolicyPush, PushOptOut, PushStage, Status

log = logging.getLogger(__name__)

DEFAULT_REMINDER_DAYS = (15, 3)
MOBILE = r"^1[3-9][0-9]{9}$"
SMS_BATCH = 2000


def reminder_days() -> tuple[int, ...]:
    """The deployment's reminder days before a window closes, largest first (setting QINQING_POLICY_REMINDER_DAYS:
    a list of ints or a comma-separated string such as "15,3")."""
    value = getattr(settings, "QINQING_POLICY_REMINDER_DAYS", DEFAULT_REMINDER_DAYS)
    if isinstance(value, str):
        value = [v for v in value.replace("，", ",").split(",") if v.strip()]
    days = sorted({int(v) for v in value if int(v) > 0}, reverse=True)
    return tuple(days)


def due_stage(policy: Policy, today: dt.date) -> str | None:
    """The stage an enterprise should be told of today: the latest reached, or None (not current, the window
    closed, or not open for pushes)."""
    if policy.status != Status.PUBLISHED:
        return None
    if (policy.valid_from and policy.valid_from > today) or (policy.valid_until and policy.valid_until < today):
        return None
    closes = policy.apply_closes
    if closes is not None and closes < today and not policy.no_application:
        return None  # telling them after the window closed is the failure this exists to end
    stage = PushStage.PUBLISHED
    if closes is not None and closes >= today:
        for days in reminder_days():
            if closes - dt.timedelta(days=days) <= today:
                stage = PushStage.closing(days)
    return stage


def _mobile() -> Q:
    return Q(contact_phone__regex=MOBILE)


def _accounts():
    """Active enterprise accounts, as a subquery of enterprise ids."""
    return User.objects.filter(is_active=True, role_grants__role=Role.ENTERPRISE,
                               enterprise_id__isnull=False).values("enterprise_id")


def targets(policy: Policy, stage: str, today: dt.date):
    """Eligible enterprises not yet told at this stage, not applied, not opted out, and reachable (an account,
    or a registered mobile): one query, the rule compiled into it."""
    told = PolicyPush.objects.filter(policy=policy, stage=stage, enterprise_id=OuterRef("pk"))
    has_account = Exists(User.objects.filter(enterprise_id=OuterRef("pk"), is_active=True,
                                             role_grants__role=Role.ENTERPRISE))
    return (matching.area(policy).filter(rules.compile_rule(policy.rule, today))
            .exclude(reach.applied_enterprises(policy))
            .exclude(pk__in=PushOptOut.objects.values("enterprise_id"))
            .filter(~Exists(told))
            .filter(Q(pk__in=_accounts()) | _mobile())
            .annotate(sms=Case(When(_mobile() & ~has_account, then=Value(True)), default=Value(False),
                               output_field=BooleanField()))
            .order_by())


def notice_text(policy: Policy, stage: str, today: dt.date) -> str:
    """What the enterprise reads (the same for every enterprise of one run, so it is one parameter)."""
    title = policy.title[:60]
    if policy.no_application:
        text = f"【惠企政策】您的企业可能符合“{title}”的条件，该政策免申即享，无需申报。"
    elif policy.apply_closes:
        left = (policy.apply_closes - today).days
        when = f"{policy.apply_closes.month}月{policy.apply_closes.day}日"
        head = "即将截止" if stage != PushStage.PUBLISHED else "已发布"
        text = f"【惠企政策】“{title}”{head}，您的企业可能符合条件，请于{when}前申报（还剩{left}天）。"
    else:
        text = f"【惠企政策】“{title}”已发布，您的企业可能符合条件，欢迎申报。"
    return text[:Notification._meta.get_field("text").max_length]


def push_policy(policy_id: int, today: dt.date | None = None) -> int:
    """Tell the enterprises due to hear of one policy today; how many were told. Safe to run any number of
    times: the ledger's NOT EXISTS and unique constraint let each (policy, enterprise, stage) through once."""
    today = today or clock.today()
    policy = Policy.objects.select_related("jurisdiction").filter(pk=policy_id).first()
    if policy is None:
        return 0
    stage = due_stage(policy, today)
    if stage is None:
        return 0
    run = f"{policy.pk}-{stage}-{uuid.uuid4().hex[:16]}"
    stamp = clock.now()
    text = notice_text(policy, stage, today)
    rows = targets(policy, stage, today).annotate(
        _e=F("pk"), _p=Value(policy.pk, output_field=IntegerField()), _s=Value(stage, output_field=CharField()),
        _r=Value(run, output_field=CharField()), _t=Value(stamp, output_field=DateTimeField()),
    ).values_list("_e", "_p", "_s", "_r", "_t", "sms")
    select, params = rows.query.sql_with_params()
    db_stamp = connection.ops.adapt_datetimefield_value(stamp)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            # WHERE true: SQLite needs it to read ON CONFLICT as the INSERT's, not as part of the SELECT.
            f"""INSERT INTO policies_policypush (enterprise_id, policy_id, stage, run, created_at, sms_due)
                SELECT t._e, t._p, t._s, t._r, t._t, t.sms FROM ({select}) t WHERE true
                ON CONFLICT DO NOTHING""",  # noqa: S608 - the SQL is Django's and ours, values are parameters
            params)
        told = cursor.rowcount
        if told <= 0:
            return 0
        cursor.execute(
            # One row per account: a run holds one push per enterprise, an account one enterprise role grant.
            """INSERT INTO notifications_notification (recipient_id, text, created_at)
               SELECT u.id, %s, %s FROM policies_policypush p
               JOIN accounts_user u ON u.enterprise_id = p.enterprise_id AND u.is_active
               JOIN accounts_rolegrant g ON g.user_id = u.id AND g.role = %s
               WHERE p.run = %s""",
            [text, db_stamp, Role.ENTERPRISE, run])
        cursor.execute(
            """INSERT INTO policies_pushnotice (push_id, notification_id)
               SELECT p.id, n.id FROM policies_policypush p
               JOIN accounts_user u ON u.enterprise_id = p.enterprise_id
               JOIN notifications_notification n ON n.recipient_id = u.id AND n.created_at = %s
                    AND n.demand_id IS NULL AND n.text = %s
               WHERE p.run = %s""",
            [db_stamp, text, run])
    _send_to_accounts(run, text)
    return told


def _send_to_accounts(run: str, text: str) -> None:
    """E-mail and SMS for the accounts (of this run's enterprises) that asked for them; after commit."""
    prefs = (Preference.objects.filter(Q(by_email=True) | Q(by_sms=True),
                                       user__notifications__policy_notice__push__run=run)
             .select_related("user").distinct())
    for pref in prefs:
        _deliver(pref, pref.user, "【亲清】惠企政策", text)


def send_registry_sms(limit: int = SMS_BATCH) -> int:
    """企业手机报: the SMS to the registered mobile of enterprises told without an account. Each row is claimed
    by a conditional UPDATE before its message goes, so a rerun or a second worker never sends it twice."""
    sent = 0
    due = list(PolicyPush.objects.filter(sms_due=True).select_related("policy", "enterprise")
               .order_by("pk")[:limit])
    for push in due:
        if not PolicyPush.objects.filter(pk=push.pk, sms_due=True).update(sms_due=False, sent_at=clock.now()):
            continue
        text = notice_text(push.policy, push.stage, clock.localnow().date())
        send_sms(push.enterprise.contact_phone, text.replace("【惠企政策】", "【亲清·惠企政策】", 1))
        sent += 1
    return sent


def push_due_policies(today: dt.date | None = None) -> int:
    """The daily run (and its catch-up): every current policy's due stage; then the registry SMS."""
    today = today or clock.today()
    total = 0
    for pk in Policy.objects.current(today).order_by("pk").values_list("pk", flat=True):
        try:
            total += push_policy(pk, today)
        except Exception:  # one policy's failure (a rule the registry no longer supports) must not stop the rest
            log.exception("pushing policy %s failed", pk)
    while send_registry_sms():
        pass
    return total


def told_enterprises(policy: Policy):
    """Enterprise ids told of the policy at any stage (subquery)."""
    return PolicyPush.objects.filter(policy=policy).values("enterprise_id")

