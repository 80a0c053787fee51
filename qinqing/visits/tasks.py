"""Background jobs of contact duties. Jobs receive ids and are queued after commit."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from qinqing.notifications.models import Notification

from .models import ContactUrging


@db_task()
def notify_sweep(sweep: str) -> int:
    """Tell each cadre, in one message, how many of their contacts and visits are overdue."""
    from django.db.models import Count

    rows = (ContactUrging.objects.filter(sweep=sweep).values("cadre__user_id", "kind")
            .annotate(n=Count("pk")).order_by())
    per_user: dict[int, dict[str, int]] = {}
    for row in rows:
        per_user.setdefault(row["cadre__user_id"], {})[row["kind"]] = row["n"]
    notes = []
    for user_id, kinds in per_user.items():
        parts = []
        if kinds.get(ContactUrging.Kind.CONTACT):
            parts.append(f"{kinds[ContactUrging.Kind.CONTACT]}家企业超过联系周期未联系")
        if kinds.get(ContactUrging.Kind.VISIT):
            parts.append(f"{kinds[ContactUrging.Kind.VISIT]}家企业超过走访周期未实地走访")
        notes.append(Notification(recipient_id=user_id, text=f"包联催办：{'，'.join(parts)}，请尽快联系走访。"))
    Notification.objects.bulk_create(notes)
    return len(notes)


@db_periodic_task(crontab(hour="8", minute="40"))
def sweep_overdue_contacts() -> int:
    """Each morning: urge contacts and visits past their cadence. Idempotent."""
    from .services import urge_overdue_contacts

    return urge_overdue_contacts()
