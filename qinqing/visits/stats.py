"""Figures other pages and briefings count from visits and seminars.

走访, as seed 000 means it ("通过深入企业生产经营一线"), is going to the enterprise. A visit record may
also be a phone call, a video call or a meeting (会见), so the briefing's 走访 counts only the forms of
`visit_forms()`: on-site visits, and meetings as well when the deployment sets
QINQING_BRIEFING_MEETINGS_COUNT_AS_VISITS (for districts whose 会见 take place at the enterprise).
Enterprises reached in the period only by the other forms are counted apart (`contacted_only`); an
enterprise both visited and phoned counts once, under 走访. Every page and command counts through here.
"""

import datetime as dt

from django.conf import settings
from django.db.models import QuerySet

from qinqing.enterprises.models import Enterprise
from qinqing.lib import clock

from .models import Form, Seminar, Visit


def visit_forms() -> tuple[str, ...]:
    """The forms of contact counted as 走访 (read from the settings at each call, not at import)."""
    if settings.QINQING_BRIEFING_MEETINGS_COUNT_AS_VISITS:
        return (Form.ON_SITE, Form.MEETING)
    return (Form.ON_SITE,)


def contact_forms() -> tuple[str, ...]:
    """The other forms (电话, 视频, and 会见 unless it counts as 走访), in the order of `Form`."""
    counted = visit_forms()
    return tuple(f for f in Form.values if f not in counted)


def contact_label() -> str:
    """How the briefing names the other forms: "电话、视频" or "电话、视频、会见"."""
    return "、".join(Form(f).label for f in contact_forms())


def visit_rule() -> str:
    """The counting rule in words, for the briefing page's notes."""
    counted = "、".join(Form(f).label for f in visit_forms())
    meetings = ("会见计入走访（QINQING_BRIEFING_MEETINGS_COUNT_AS_VISITS=true）" if Form.MEETING in visit_forms()
                else "会见不计入走访（可由 QINQING_BRIEFING_MEETINGS_COUNT_AS_VISITS 设置）")
    return (f"走访口径：统计期内有{counted}记录的企业，按企业计数（同一企业多次走访计1家）；{meetings}。"
            f"“{contact_label()}联系”为统计期内仅以{contact_label()}方式联系、没有走访记录的企业；"
            "既走访又电话、视频联系的企业只计入走访。四上/四下和行业分布均按走访企业统计。")


def _with_visits(start: dt.date, end: dt.date, jurisdiction, forms) -> QuerySet:
    visits = Visit.objects.filter(visited_on__gte=start, visited_on__lte=end, form__in=forms)
    enterprises = Enterprise.objects.filter(pk__in=visits.values("enterprise_id"))
    if jurisdiction is not None:
        enterprises = enterprises.filter(jurisdiction__path__startswith=jurisdiction.path)
    return enterprises


def visited_enterprises(start: dt.date, end: dt.date, jurisdiction=None) -> QuerySet:
    """走访: distinct enterprises with at least one visit of a `visit_forms()` form on a day in
    [start, end], within the jurisdiction's subtree."""
    return _with_visits(start, end, jurisdiction, visit_forms())


def contacted_only(start: dt.date, end: dt.date, jurisdiction=None) -> QuerySet:
    """Distinct enterprises contacted in [start, end] only by the `contact_forms()` (no 走访 that period)."""
    visited = Visit.objects.filter(visited_on__gte=start, visited_on__lte=end, form__in=visit_forms())
    return _with_visits(start, end, jurisdiction, contact_forms()).exclude(pk__in=visited.values("enterprise_id"))


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
