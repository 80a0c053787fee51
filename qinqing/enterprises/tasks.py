"""Background jobs of the registry. They receive ids and are queued after commit (services do that)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import services


@db_task()
def check_import_job(job_id: int) -> str:
    return services.check_import_job(job_id).status


@db_task()
def run_import_job(job_id: int) -> str:
    return services.run_import_job(job_id).status


@db_task()
def refresh_classifications() -> int:
    """After an administrator edits the size or 四上 thresholds (queued by the admin)."""
    return services.refresh_classifications(None)


@db_periodic_task(crontab(minute="*/5"))
def recover_stuck_imports() -> int:
    """Every five minutes: queue again the checks and imports a dead worker left behind."""
    return len(services.recover_stuck_imports())
