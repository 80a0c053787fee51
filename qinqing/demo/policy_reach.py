"""The demo's policy reach: the pushes the worker would have sent since each current policy was published, and
which enterprises opened them, so that a policy page shows believable 知晓率 (and the demo owners find
惠企政策 messages in their notification centre).

Pushes go through qinqing.policies.pushes as the worker runs them (set-based), each replayed on its day with
clock.acting_at: the publication push on the day the policy was published (at most 40 days ago: pushes are
newer than the library), then each reminder on its day before the close. The SMS to registered mobiles are
history by now, so they are marked handed over rather than sent again when the worker starts. About a third
of the enterprises told opened the policy the day they were told, chosen by their ids (deterministic).
"""

import datetime as dt

from django.db import connection
from django.db.models import F
from django.utils import timezone

from qinqing.lib import clock
from qinqing.policies import pushes
from qinqing.policies.models import Policy, PolicyOpen, PolicyPush

PUSHES_STARTED_DAYS_AGO = 40
OPEN_PERCENT = 35


def _at(day: dt.date, hour: int = 9) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def build(step) -> None:
    today = clock.today()
    told = 0
    for policy in Policy.objects.current(today).order_by("pk"):
        start = max(policy.published_on or today, today - dt.timedelta(days=PUSHES_STARTED_DAYS_AGO))
        days = [start]
        if policy.apply_closes:
            days += sorted(policy.apply_closes - dt.timedelta(days=n) for n in pushes.reminder_days())
        for day in days:
            if start <= day <= today:
                with clock.acting_at(_at(day)):
                    told += pushes.push_policy(policy.pk, today=day)
    PolicyPush.objects.filter(sms_due=True).update(sms_due=False, sent_at=F("created_at"))
    with connection.cursor() as cursor:
        # The first open of about a third of the enterprises told, on the day of their first push.
        cursor.execute(
            """INSERT INTO policies_policyopen (policy_id, enterprise_id, via, opened_at)
               SELECT p.policy_id, p.enterprise_id, CASE WHEN p.enterprise_id %% 2 = 0 THEN %s ELSE %s END,
                      MIN(p.created_at)
               FROM policies_policypush p
               WHERE (p.enterprise_id * 37 + p.policy_id * 11) %% 100 < %s
               GROUP BY p.policy_id, p.enterprise_id""",
            [PolicyOpen.Via.NOTICE, PolicyOpen.Via.PAGE, OPEN_PERCENT])
        opened = cursor.rowcount
    step(f"政策推送已回放：告知企业{told}家次，其中约三分之一已打开（{opened}家次）")
