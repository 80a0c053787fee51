"""Background jobs of the workbench: they receive ids and are queued after commit."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import services


@db_task()
def run_export_job(job_id: int) -> str:
    return services.run_export_job(job_id).status


@db_periodic_task(crontab(minute="*/10"))
def recover_stuck_exports() -> int:
    """Every ten minutes: run again the exports a dead worker left queued or running."""
    return len(services.recover_stuck_exports())
