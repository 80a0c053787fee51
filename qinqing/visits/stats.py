"""Figures other pages and briefings count from visits and seminars."""

import datetime as dt

from django.db.models import QuerySet

from qinqing.enterprises.models import Enterprise
from qinqing.lib import clock

from .models import Seminar, Visit


def visited_enterprises(start: dt.date, end: dt.date, jurisdiction=None) -> QuerySet:
    """Distinct enterprises with at least one visit on a day in [start, end], within the jurisdiction's subtree."""
    visits = Visit.objects.filter(visited_on__gte=start, visited_on__lte=end)
    enterprises = Enterprise.objects.filter(pk__in=visits.values("enterprise_id"))
    if jurisdiction is not None:
        enterprises = enterprises.filter(jurisdiction__path__startswith=jurisdiction.path)
    return enterprises


def seminars_held(start: dt.date, end: dt.date, jurisdiction=None) -> int:
    """座谈会 and 宣讲会 held on a day in [start, end], within the jurisdiction's subtree."""
    seminars = Seminar.objects.filter(held_on__gte=start, held_on__lte=end)
    if jurisdiction is not None:
        seminars = seminars.filter(jurisdiction__path__startswith=jurisdiction.path)
    return seminars.count()


def overdue_contacts(jurisdiction=None, today: dt.date | None = None) -> QuerySet:
    """Current assignments past their contact or visit deadline (for the supervision board)."""

    from .queries import overdue_contacts as _overdue

    return _overdue(jurisdiction.path if jurisdiction is not None else None, today or clock.today())
