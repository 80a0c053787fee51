"""Office hours on the working-day calendar: when demo staff plausibly do things."""

import datetime as dt
import random

from django.utils import timezone

from qinqing.lib.workdays import WorkCalendar

MORNING = (dt.time(8, 35), dt.time(11, 50))
AFTERNOON = (dt.time(13, 40), dt.time(17, 20))
LATEST = dt.time(17, 50)


class Office:
    """Picks moments inside office hours of working days; all results are aware (Asia/Shanghai)."""

    def __init__(self, cal: WorkCalendar, rng: random.Random):
        self.cal = cal
        self.rng = rng
        self.tz = timezone.get_default_timezone()

    def at(self, day: dt.date, time: dt.time) -> dt.datetime:
        return dt.datetime.combine(day, time, tzinfo=self.tz)

    def workday(self, day: dt.date, n: int = 0) -> dt.date:
        """`day` itself (or the next working day) when n == 0, else the n-th working day after it."""
        return self.cal.next_workday(day) if n <= 0 else self.cal.add_workdays(day, n)

    def moment(self, day: dt.date, start: dt.time = MORNING[0], end: dt.time = AFTERNOON[1]) -> dt.datetime:
        """A random minute in office hours of `day` between `start` and `end`, skipping the lunch break."""
        windows = []
        for lo, hi in (MORNING, AFTERNOON):
            lo, hi = max(lo, start), min(hi, end)
            if lo < hi:
                windows.append((lo, hi))
        if not windows:
            return self.at(day, start)
        lengths = [_minutes(hi) - _minutes(lo) for lo, hi in windows]
        lo, hi = self.rng.choices(windows, lengths)[0]
        minute = self.rng.randint(_minutes(lo), _minutes(hi))
        return self.at(day, dt.time(minute // 60, minute % 60))

    def after(self, prev: dt.datetime, lo: int, hi: int) -> dt.datetime:
        """`lo`–`hi` minutes later, or the next working morning when that falls after hours."""
        moment = prev + dt.timedelta(minutes=self.rng.randint(lo, hi))
        local = timezone.localtime(moment, self.tz)
        if local.date() == timezone.localtime(prev, self.tz).date() and local.time() <= LATEST:
            return moment
        following = self.workday(timezone.localtime(prev, self.tz).date(), 1)
        return self.moment(following, MORNING[0], dt.time(10, 30))

    def on(self, day: dt.date, prev: dt.datetime, lo: int = 5, hi: int = 90) -> dt.datetime:
        """A moment on `day` (a working day) after `prev`; `lo`–`hi` minutes after `prev` on `prev`'s day."""
        if timezone.localtime(prev, self.tz).date() >= day:
            return self.after(prev, lo, hi)
        return self.moment(day)

    def day_of(self, moment: dt.datetime) -> dt.date:
        return timezone.localtime(moment, self.tz).date()


def _minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute
