"""Background work of the app: the public figures every half hour, the demand import's check and write."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import imports, services


@db_periodic_task(crontab(minute="5,35"))
def rebuild_public_figures() -> int:
    """The public page's pre-aggregate (one GROUP BY over six months of demands)."""
    return services.rebuild_public_figures()


@db_task()
def check_demand_import_job(job_id: int) -> str:
    return imports.check_demand_import_job(job_id).status


@db_task()
def run_demand_import_job(job_id: int) -> str:
    return imports.run_demand_import_job(job_id).status


@db_periodic_task(crontab(minute="*/5"))
def recover_stuck_demand_imports() -> int:
    return len(imports.recover_stuck_demand_imports())
