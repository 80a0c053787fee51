"""Background jobs of the policy library: pushes on publication and the daily run. Jobs receive ids."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import pushes


@db_task()
def push_policy(policy_id: int) -> int:
    """Queued on commit of a publication: tell the eligible enterprises at once, not at the next daily run."""
    told = pushes.push_policy(policy_id)
    pushes.send_registry_sms()
    return told


@db_periodic_task(crontab(hour="8", minute="30"))
def push_due_policies() -> int:
    """Every morning: the reminders due today and whatever a stopped worker missed (each stage once)."""
    return pushes.push_due_policies()
