"""Who else hears of a demand's step: its named handler, the people an internal note mentions, its watchers.

Called by qinqing.notifications.services while it writes one entry's notifications (in the worker, after
commit), so the fan-out stays in one place and runs once per entry.
"""

from django.db.models import Q

from qinqing.demands.models import Demand
from qinqing.demands.verbs import VERB_LABELS

from .models import Watch

WATCH_TEXT = "【关注】您关注的诉求{number}有新进展：{label}"


def handling_recipients(event) -> Q:
    """Staff named by the entry itself: the new (and previous) handler of an assignment, the people a note
    mentions. Their ids are in the entry's data (`people`), written by qinqing.handling.services."""
    people = (event.data or {}).get("people") or {}
    if event.verb in ("assign", "reassign"):
        ids = [people.get("assignee"), people.get("previous")]
    elif event.verb == "note":
        ids = list(people.get("mentioned") or [])
    else:
        return Q(pk__in=[])
    return Q(pk__in=[i for i in ids if isinstance(i, int)])


def watcher_notifications(event, told: set[int]) -> list:
    """Notifications for the demand's watchers not otherwise told (nor the actor), who may still see it."""
    from qinqing.notifications.models import Notification

    demand = event.demand
    watches = (Watch.objects.filter(demand_id=demand.pk, user__is_active=True)
               .exclude(user_id__in=[*told, event.actor_id or 0]).select_related("user"))
    users = [w.user for w in watches]
    if not users:
        return []
    label = VERB_LABELS.get(event.verb, event.verb)
    if event.note and event.verb in ("note", "urge", "return", "reply", "reassign"):
        label = f"{label}（{event.note[:80]}）"
    text = WATCH_TEXT.format(number=demand.number, label=label)[:300]
    # A watcher who no longer sees the demand (a unit it was taken from) is not told of it.
    rows = []
    for user in users:  # few per demand; each visibility is one indexed query
        if user.is_staff_user and Demand.objects.visible_to(user).filter(pk=demand.pk).exists():
            rows.append(Notification(recipient=user, demand=demand, event=event, text=text))
    return rows
