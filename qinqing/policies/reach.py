"""Reach of a policy: of the enterprises eligible for it, how many were told in time, opened it, applied.

知晓率 = eligible enterprises told at least AWARE_DAYS (15) days before the window closed (at any time for a
policy without a closing date) ÷ eligible enterprises. 申报率 = eligible enterprises that applied ÷ eligible
enterprises. "Opened" is the first time the enterprise opened the policy's portal page or a push notification.
All four counts are one aggregate over the eligible query.

Applications belong to qinqing.fulfilment; `applied_enterprises` is the one place this app asks about them.
"""

import datetime as dt
from dataclasses import dataclass

from django.apps import apps
from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from qinqing.lib import clock

from . import matching
from .models import Policy, PolicyOpen, PolicyPush, PushNotice

AWARE_DAYS = 15
DEFINITIONS = {
    "aware": f"知晓率＝申报截止{AWARE_DAYS}天前（无截止日期的政策：任何时候）已推送告知的符合条件企业数 ÷ 符合条件企业数",
    "applied": "申报率＝已申报（免申即享政策：已兑现）的符合条件企业数 ÷ 符合条件企业数",
    "opened": "已打开＝企业首次打开该政策的企业端页面或推送通知",
}


def applied_enterprises(policy: Policy) -> Q:
    """A condition on Enterprise: applied to the policy (fulfilment's Application) or already granted it (its
    FulfilmentRecord, how a 免申即享 policy is cashed). The fulfilment app owns both; this is the one place this
    app asks about them, and it asks nothing while that app has no such models."""
    q = Q(pk__in=[])
    for model in ("Application", "FulfilmentRecord"):
        try:
            rows = apps.get_model("fulfilment", model)
        except LookupError:
            continue
        q |= Q(pk__in=rows.objects.filter(policy_id=policy.pk).values("enterprise_id"))
    return q


@dataclass
class Reach:
    eligible: int
    aware: int
    opened: int
    applied: int

    @staticmethod
    def rate(part: int, whole: int) -> str:
        return f"{part * 100 / whole:.1f}%" if whole else "—"

    @property
    def aware_rate(self) -> str:
        return self.rate(self.aware, self.eligible)

    @property
    def applied_rate(self) -> str:
        return self.rate(self.applied, self.eligible)


def figures(policy: Policy, enterprises=None, today: dt.date | None = None) -> Reach:
    """The four counts among `enterprises` (the viewer's reach), in one query."""
    pushes = PolicyPush.objects.filter(policy=policy, enterprise_id=OuterRef("pk"))
    if policy.apply_closes is not None:
        # told on the 15th day before the close or earlier: before local midnight starting the 14th
        deadline = policy.apply_closes - dt.timedelta(days=AWARE_DAYS - 1)
        pushes = pushes.filter(created_at__lt=timezone.make_aware(dt.datetime.combine(deadline, dt.time.min)))
    opened = PolicyOpen.objects.filter(policy=policy, enterprise_id=OuterRef("pk"))
    if today is None or today == clock.today():
        qs = matching.eligible_only(policy, enterprises)  # the stored matches of a published policy
    else:
        qs = matching.area(policy, enterprises).filter(matching.rules.compile_rule(policy.rule, today))
    row = (qs.order_by()
           .aggregate(eligible=Count("pk"), aware=Count("pk", filter=Exists(pushes)),
                      opened=Count("pk", filter=Exists(opened)),
                      applied=Count("pk", filter=applied_enterprises(policy))))
    return Reach(**row)


def record_open(policy: Policy, enterprise_id: int, via: str) -> None:
    """Remember the first time the enterprise opened the policy; later opens change nothing."""
    PolicyOpen.objects.bulk_create([PolicyOpen(policy=policy, enterprise_id=enterprise_id, via=via,
                                               opened_at=clock.now())], ignore_conflicts=True)


def notification_target(user, note) -> str | None:
    """Where a push notification leads (the policy's portal page), recording the open; None for others."""
    link = PushNotice.objects.filter(notification=note).select_related("push__policy").first()
    if link is None or not user.enterprise_id:
        return None
    policy = link.push.policy
    if not Policy.objects.visible_to(user).filter(pk=policy.pk).exists():
        return None  # repealed or expired since: the centre says so rather than a 404
    record_open(policy, user.enterprise_id, PolicyOpen.Via.NOTICE)
    return reverse("policies_portal:detail", args=[policy.pk])
