"""The product's one clock: every module reads "now" and "today" here, never from the machine.

Two reasons it exists. Loading history (the demo, an imported ledger, a benchmark) records every
transition, notification and timestamp as happening at the moment being replayed (`acting_at`), so
the timeline, the deadlines and the counters agree. And tests freeze one function for the whole
product (they also freeze the process clock with time-machine), so no result depends on the day
the suite runs.
"""

import contextlib
import contextvars
import datetime as dt

from django.utils import timezone

_acting_at: contextvars.ContextVar[dt.datetime | None] = contextvars.ContextVar("acting_at", default=None)


def now() -> dt.datetime:
    """The current moment, aware: the replayed moment inside `acting_at`, else the system time."""
    return _acting_at.get() or timezone.now()


def today() -> dt.date:
    """Today's date in the project's time zone (Asia/Shanghai), as seen by `now()`."""
    return timezone.localdate(now())


def localnow() -> dt.datetime:
    """`now()` in the project's time zone, for forms and documents that show the wall clock."""
    return timezone.localtime(now())


@contextlib.contextmanager
def acting_at(moment: dt.datetime):
    """Record everything done inside as happening at `moment` (history loads, the demo, benchmarks)."""
    token = _acting_at.set(moment)
    try:
        yield
    finally:
        _acting_at.reset(token)
