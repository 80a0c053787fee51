"""Scheduled supervision work."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services import escalate_ignored_notices


@db_periodic_task(crontab(hour="8", minute="45"))
def escalate_notices() -> int:
    """Each morning: notices whose answer deadline passed without an answer are escalated."""
    return escalate_ignored_notices()
