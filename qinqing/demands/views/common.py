"""What every staff page shares: the staff gate, the visible rows, and cheap pagination with its total.

A list shows how many rows its filters match ("共 N 条"), so a figure on the dashboard can be checked
against the ledger. Counting is what pagination used to avoid: COUNT(*) over millions of filtered rows
reads every one of them (PostgreSQL keeps no row count, each row's visibility is checked), seconds at
province size for one page view. So the total is:

* free when the page itself shows the end of the result (a last page, or a first page with no next);
* otherwise an exact COUNT when the table is small (SQLite, or PostgreSQL's `pg_class.reltuples` at most
  `ESTIMATE_ABOVE` rows), which costs milliseconds;
* otherwise the planner's estimate of the filtered query (EXPLAIN, no row read), shown as "约 N 条",
  never below the rows the pages already prove exist.
"""

import json
from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.db import connections
from django.http import Http404

from qinqing.accounts.models import Jurisdiction, Role, Unit
from qinqing.demands.models import Demand

LIST_RELATED = ("enterprise", "category", "lead_unit", "jurisdiction")
PAGE_SIZE = 50
MAX_PAGE = 10_000
ESTIMATE_ABOVE = 100_000  # rows in the table (pg_class.reltuples) above which a list's total is estimated


def staff_required(view):
    """Logged-in staff only. Enterprise accounts get 404: staff pages must not even admit they exist."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_staff_user:
            raise Http404("页面不存在")
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def visible_demands(user):
    """The demands this user may see, with what every list row shows joined in."""
    return Demand.objects.visible_to(user).select_related(*LIST_RELATED)


def is_htmx(request) -> bool:
    """An HTMX swap wants the partial; a history restore after a cache miss wants the whole page."""
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-History-Restore-Request")


@dataclass
class Page:
    rows: list
    number: int
    size: int
    has_next: bool
    count: int | None = None  # the whole result's size when it had to be counted (see `with_total`)
    estimated: bool = False  # `count` is the planner's estimate, shown as "约 N 条"

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def start(self) -> int:
        return (self.number - 1) * self.size + 1 if self.rows else 0

    @property
    def end(self) -> int:
        return (self.number - 1) * self.size + len(self.rows)

    @property
    def shows_the_end(self) -> bool:
        """This page holds the last row (or the result is empty): its end is the total, for free."""
        return not self.has_next and (bool(self.rows) or self.number == 1)

    @property
    def total(self) -> int | None:
        return self.end if self.shows_the_end else self.count

    @property
    def previous_number(self) -> int:
        return self.number - 1

    @property
    def next_number(self) -> int:
        return self.number + 1


def page_number(request) -> int:
    try:
        number = int(request.GET.get("page", 1))
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), MAX_PAGE)


def paginate(qs, request, size: int | None = None) -> Page:
    """Fetch one row more than a page to know whether there is a next one, then the total (`with_total`)."""
    size = size or PAGE_SIZE
    number = page_number(request)
    offset = (number - 1) * size
    rows = list(qs[offset:offset + size + 1])
    return with_total(Page(rows=rows[:size], number=number, size=size, has_next=len(rows) > size), qs)


def with_total(page: Page, qs) -> Page:
    """Give `page` the size of the whole result `qs`: nothing to do when the page shows the end; else one
    query, an exact COUNT on a small table; on a large PostgreSQL table that query returns nothing and
    a second one asks the planner for its estimate (neither reads the rows)."""
    if page.shows_the_end:
        return page
    qs = qs.order_by()
    connection = connections[qs.db]
    if connection.vendor != "postgresql":
        page.count = qs.count()
        return page
    page.count = _count_if_small(connection, qs)
    if page.count is None:
        known = page.end + (1 if page.has_next else 0)  # rows the pages already prove exist
        page.count, page.estimated = max(_rounded(_planned_rows(connection, qs)), known), True
    return page


def _count_if_small(connection, qs) -> int | None:
    """The exact count when the table holds at most ESTIMATE_ABOVE rows by PostgreSQL's own statistics
    (`pg_class.reltuples`, kept by VACUUM/ANALYZE; -1 when never analysed, i.e. new), else None. One
    statement: the count is an InitPlan under CASE, which PostgreSQL runs only when the CASE reaches it."""
    sql, params = qs.values("pk").query.sql_with_params()
    size = "COALESCE((SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)), 0)"
    statement = f"SELECT CASE WHEN {size} > %s THEN NULL ELSE (SELECT COUNT(*) FROM ({sql}) AS listed) END"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(statement, [qs.model._meta.db_table, ESTIMATE_ABOVE, *params])
        return cursor.fetchone()[0]


def _planned_rows(connection, qs) -> int:
    """The rows the planner expects the filtered query to return: EXPLAIN plans it, runs nothing."""
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def _rounded(n: int) -> int:
    """An estimate keeps three significant digits: 1,234,567 → 1,230,000."""
    digits = len(str(n)) - 3
    return round(n, -digits) if digits > 0 else n


def units_in_scope(user):
    """Units offered in filters: the user's jurisdiction subtree, or just their own unit."""
    units = Unit.objects.filter(active=True)
    if user.is_superuser or user.has_role(Role.ADMIN):
        return units
    if user.jurisdiction_id:
        return units.filter(jurisdiction__path__startswith=user.jurisdiction.path)
    return units.filter(pk=user.unit_id)


def jurisdictions_in_scope(user):
    if user.is_superuser or user.has_role(Role.ADMIN):
        return Jurisdiction.objects.all()
    if user.jurisdiction_id:
        return Jurisdiction.objects.filter(path__startswith=user.jurisdiction.path)
    return Jurisdiction.objects.none()
