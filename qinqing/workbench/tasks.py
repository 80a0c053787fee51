"""Background jobs of the workbench: they receive ids and are queued after commit."""

from huey.contrib.djhuey import db_task

from . import services


@db_task()
def run_export_job(job_id: int) -> str:
    return services.run_export_job(job_id).status
