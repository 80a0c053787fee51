"""What every staff page shares: the staff gate, the visible rows, and cheap pagination."""

from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404

from qinqing.accounts.models import Jurisdiction, Role, Unit
from qinqing.demands.models import Demand

LIST_RELATED = ("enterprise", "category", "lead_unit", "jurisdiction")
PAGE_SIZE = 50
MAX_PAGE = 10_000


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
    def total(self) -> int | None:
        """Known for free on the last page only; elsewhere we do not pay for COUNT(*)."""
        return None if self.has_next else self.end

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
    """Fetch one row more than a page to know whether there is a next one; never count the whole result."""
    size = size or PAGE_SIZE
    number = page_number(request)
    offset = (number - 1) * size
    rows = list(qs[offset:offset + size + 1])
    return Page(rows=rows[:size], number=number, size=size, has_next=len(rows) > size)


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
