"""Background jobs of the audit log: sealing the hash chains every minute."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from .chain import seal_all


@db_periodic_task(crontab(minute="*"))
@lock_task("qinqing-audit-seal")
def seal_audit_chains() -> dict[str, int]:
    """Chain what was written since the last run (the head's row lock makes overlapping runs harmless too)."""
    return seal_all()
