"""Working-day arithmetic on China's official calendar.

The State Council's arrangement (holidays and the weekend days worked instead, 调休上班)
comes from `chinese_calendar` for the years it knows; administrators add or correct days
in a table whose entries win over it. A year neither source knows falls back to
Monday–Friday, and callers can ask whether a year is known to warn about it.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping

import chinese_calendar

CC_FIRST_YEAR = min(chinese_calendar.holidays).year
CC_LAST_YEAR = max(chinese_calendar.holidays).year


class WorkCalendar:
    """Answers working-day questions. `overrides` maps a date to True (working) or False (rest)."""

    def __init__(self, overrides: Mapping[dt.date, bool] | None = None):
        self.overrides = dict(overrides or {})
        self.override_years = {d.year for d in self.overrides}
        # Each day's answer, remembered: the official-calendar lookup is slow and every deadline
        # computation asks about the same few weeks again (the instance is rebuilt when overrides change).
        self._known: dict[dt.date, bool] = {}
        self._totals: dict[int, list[int]] = {}

    def is_known_year(self, year: int) -> bool:
        return CC_FIRST_YEAR <= year <= CC_LAST_YEAR or year in self.override_years

    def is_workday(self, day: dt.date) -> bool:
        known = self._known.get(day)
        if known is None:
            known = self._known[day] = self._is_workday(day)
        return known

    def _is_workday(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        if CC_FIRST_YEAR <= day.year <= CC_LAST_YEAR:
            return chinese_calendar.is_workday(day)
        return day.weekday() < 5

    def next_workday(self, day: dt.date) -> dt.date:
        """The given day if it is a working day, else the first working day after it."""
        while not self.is_workday(day):
            day += dt.timedelta(days=1)
        return day

    def nth_workday(self, start: dt.date, n: int) -> dt.date:
        """The n-th working day counting `start` as day 1 when it is a working day."""
        if n < 1:
            raise ValueError("n must be at least 1")
        day = self.next_workday(start)
        for _ in range(n - 1):
            day = self.next_workday(day + dt.timedelta(days=1))
        return day

    def add_workdays(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day strictly after `day` (n >= 0; 0 returns `day`)."""
        for _ in range(n):
            day = self.next_workday(day + dt.timedelta(days=1))
        return day

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]; negative when end is before start. Used for countdowns.

        Answered from per-year running totals, so a ledger page of demands overdue by a year
        costs a few lookups per row rather than a walk over every day.
        """
        if end == start:
            return 0
        sign = 1
        if end < start:
            start, end, sign = end, start, -1
        count = self._through(end) - self._through(start)
        for year in range(start.year, end.year):
            count += self._through(dt.date(year, 12, 31))
        return sign * count

    def _through(self, day: dt.date) -> int:
        """Working days from 1 January of `day`'s year up to and including `day`."""
        totals = self._totals.get(day.year)
        if totals is None:
            totals, running, current = [], 0, dt.date(day.year, 1, 1)
            while current.year == day.year:
                running += self.is_workday(current)
                totals.append(running)
                current += dt.timedelta(days=1)
            self._totals[day.year] = totals
        return totals[day.timetuple().tm_yday - 1]

    def non_standard_days(self, year: int) -> list[tuple[dt.date, str, str]]:
        """Holidays on weekdays and working weekends of a year: (date, kind, source)."""
        out = []
        day = dt.date(year, 1, 1)
        while day.year == year:
            standard = day.weekday() < 5
            working = self.is_workday(day)
            if working != standard:
                source = "管理员维护" if day in self.overrides else "国务院安排"
                out.append((day, "workday" if working else "holiday", source))
            day += dt.timedelta(days=1)
        return out


def add_months(day: dt.date, months: int) -> dt.date:
    """Same day `months` calendar months later, clamped to the month's end (1月31日 → 2月28日)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
