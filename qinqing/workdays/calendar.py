"""The process-wide WorkCalendar: the official calendar plus the administrators' table.

The table is tiny (a few dozen rows a year) and read on almost every request, so it is
cached in memory and reloaded when it changes here or after a short time (another process
may have changed it).
"""

import datetime as dt
import time

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from qinqing.lib import clock
from qinqing.lib.workdays import WorkCalendar

from .models import WorkdayOverride

_TTL_SECONDS = 60
_cache: dict = {"calendar": None, "loaded_at": 0.0}


def load_calendar() -> WorkCalendar:
    """The calendar as the database holds it now, bypassing the cache (one query).

    Used where a stale answer would be written down: moving stored deadlines after a change, which
    may run in a worker whose cached copy is still the one from before the change.
    """
    overrides = {row.date: row.kind == WorkdayOverride.Kind.WORKDAY for row in WorkdayOverride.objects.all()}
    return WorkCalendar(overrides)


def get_calendar() -> WorkCalendar:
    cal = _cache["calendar"]
    if cal is None or time.monotonic() - _cache["loaded_at"] > _TTL_SECONDS:
        cal = load_calendar()
        _cache.update(calendar=cal, loaded_at=time.monotonic())
    return cal


def invalidate() -> None:
    _cache["calendar"] = None


@receiver(post_save, sender=WorkdayOverride)
@receiver(post_delete, sender=WorkdayOverride)
def _override_changed(**kwargs):
    invalidate()


def unknown_years_ahead(horizon_days: int = 45) -> list[int]:
    """Years from today to today+horizon whose official arrangement is not loaded."""
    cal = get_calendar()
    start = clock.today()
    years = {start.year, (start + dt.timedelta(days=horizon_days)).year}
    return sorted(y for y in years if not cal.is_known_year(y))
