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


def watch_text(number: str, verb: str, note: str) -> str:
    """What a watcher reads of one step, the same from a single entry and from the overdue sweep."""
    label = VERB_LABELS.get(verb, verb)
    if note and verb in ("note", "urge", "return", "reply", "reassign"):
        label = f"{label}（{note[:80]}）"
    return WATCH_TEXT.format(number=number, label=label)[:300]


def watcher_notifications(event, told: set[int]) -> list:
    """Notifications for the demand's watchers not otherwise told (nor the actor), who may still see it."""
    from qinqing.notifications.models import Notification

    demand = event.demand
    watches = (Watch.objects.filter(demand_id=demand.pk, user__is_active=True)
               .exclude(user_id__in=[*told, event.actor_id or 0]).select_related("user"))
    users = [w.user for w in watches]
    if not users:
        return []
    text = watch_text(demand.number, event.verb, event.note)
    # A watcher who no longer sees the demand (a unit it was taken from) is not told of it.
    rows = []
    for user in users:  # few per demand; each visibility is one indexed query
        if user.is_staff_user and Demand.objects.visible_to(user).filter(pk=demand.pk).exists():
            rows.append(Notification(recipient=user, demand=demand, event=event, text=text))
    return rows


CHUNK = 900  # ids per IN list, under SQLite's bound on parameters


def notify_watchers_of_sweep(sweep: str) -> int:
    """关注 for the overdue sweep (qinqing.notifications.services.notify_sweep, in its transaction): the watchers
    of the demands one sweep urged are told, as they are of a single step, and written in bulk.

    Reads only the watched demands among the sweep's urgings (one query), their watches (one), the people
    already told of those entries (one: a watcher in the lead unit got the unit's message), then each distinct
    watcher's visibility over their demands (one query per watcher, never per demand: a watcher who can no
    longer see a demand is not told of it). Running it twice writes nothing more.
    """
    from django.db.models import Exists, OuterRef

    from qinqing.accounts.models import User
    from qinqing.demands.models import DemandEvent, Urging
    from qinqing.notifications.models import Notification

    urged = Urging.objects.filter(sweep=sweep)
    stamp = urged.values_list("created_at", flat=True).first()
    if stamp is None:
        return 0
    watched = Watch.objects.filter(demand_id=OuterRef("demand_id"), user__is_active=True)
    # The sweep writes each urging and its timeline entry with the same stamp (demands.services.urge_overdue).
    events = {demand_id: (pk, note, number) for pk, demand_id, note, number in (
        DemandEvent.objects.filter(verb="urge", created_at=stamp, demand_id__in=urged.values("demand_id"))
        .filter(Exists(watched)).values_list("pk", "demand_id", "note", "demand__number"))}
    if not events:
        return 0
    ids = list(events)
    watches: dict[int, list[int]] = {}
    told = set()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        for user_id, demand_id in Watch.objects.filter(demand_id__in=chunk, user__is_active=True).values_list(
                "user_id", "demand_id"):
            watches.setdefault(user_id, []).append(demand_id)
        told |= set(Notification.objects.filter(event_id__in=[events[d][0] for d in chunk])
                    .values_list("recipient_id", "event_id"))
    rows = []
    for user in User.objects.filter(pk__in=list(watches)):
        if not user.is_staff_user:
            continue
        theirs = watches[user.pk]
        seen = set()
        for start in range(0, len(theirs), CHUNK):
            seen |= set(Demand.objects.visible_to(user).filter(pk__in=theirs[start:start + CHUNK])
                        .values_list("pk", flat=True))
        for demand_id in theirs:
            event_id, note, number = events[demand_id]
            if demand_id in seen and (user.pk, event_id) not in told:
                rows.append(Notification(recipient_id=user.pk, demand_id=demand_id, event_id=event_id,
                                         text=watch_text(number, "urge", note)))
    Notification.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
    return len(rows)
