"""Scheduled work of hand-offs and pauses."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services import close_unrated_replies


@db_periodic_task(crontab(hour="1", minute="20"))
def close_unrated() -> int:
    """Each night: replies left unrated for the configured working days are closed as 默认满意."""
    return close_unrated_replies()
