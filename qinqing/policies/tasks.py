"""Background jobs of the policy library: pushes on publication and the daily run. Jobs receive ids."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

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


@db_periodic_task(crontab(day_of_week="1-6", hour="4", minute="20"))
@lock_task("qinqing-policy-rematch")
def rematch_all_policies() -> int:
    """Every night but Sunday's, before the morning's pushes: every policy's stored matches brought in line with
    its rule, since yearly figures are imported and registrations age (成立满N年) without any policy changing;
    incremental (the enterprises changed since the last run)."""
    from . import services

    return services.rematch_all_policies()


@db_periodic_task(crontab(day_of_week="0", hour="4", minute="20"))
@lock_task("qinqing-policy-rematch")
def rematch_all_policies_in_full() -> int:
    """Sunday night: every policy re-evaluated on the whole registry, catching what was written around the
    services (a correction made directly in the database does not stamp updated_at)."""
    from . import services

    return services.rematch_all_policies(full=True)
