"""The read side of the pages that must stay fast at a province's scale: a cadre's week, a campaign's
coverage, the neglect lists. Each is a handful of indexed statements, whatever the number of rows."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q
from django.db.models.functions import Least

from qinqing.accounts.models import Jurisdiction, User
from qinqing.demands.models import Category, Demand, State
from qinqing.enterprises.models import Sector

from .models import Assignment, Cadre, CampaignGroup, CampaignTarget, Confirmation, Visit


def visitors_prefetch() -> Prefetch:
    """A visit's cadres with just their names, in the order they were registered: the same order on the visit
    log, its export and the enterprise page, on every database."""
    return Prefetch("visitors", queryset=User.objects.only("pk", "full_name", "username").order_by("pk"))


def week_end(today: dt.date) -> dt.date:
    """The Sunday closing today's week."""
    return today + dt.timedelta(days=6 - today.weekday())


def due_by_sunday(today: dt.date):
    """Current assignments with a contact or a visit due by Sunday, soonest (overdue) first, as `first_due`."""
    end = week_end(today)
    return (Assignment.objects.current()
            .filter(Q(next_contact_due__lte=end) | Q(next_visit_due__lte=end))
            .annotate(first_due=Least("next_contact_due", "next_visit_due"))
            .order_by("first_due", "enterprise__name"))


def due_this_week(cadre_id: int, today: dt.date):
    """A cadre's current assignments with a contact or a visit due by Sunday (overdue ones first)."""
    return due_by_sunday(today).filter(cadre_id=cadre_id).select_related("enterprise", "enterprise__jurisdiction")


@dataclass
class Coverage:
    targets: int = 0
    visited: int = 0
    by_sector: list = field(default_factory=list)  # (label, targets, visited)
    by_jurisdiction: list = field(default_factory=list)
    by_cadre: list = field(default_factory=list)
    by_group: list = field(default_factory=list)
    problems_by_kind: list = field(default_factory=list)  # (kind, total, closed, open)
    problems_by_state: list = field(default_factory=list)  # (state label, n)
    problems: int = 0
    solved_on_spot: int = 0  # closed during the visit that raised them (seed 000 counts those)

    @property
    def not_visited(self) -> int:
        return self.targets - self.visited

    @property
    def percent(self) -> int:
        return self.visited * 100 // self.targets if self.targets else 0


def _rows(counter: dict, labels: dict) -> list:
    rows = [(labels.get(k, "未分配"), t, v, v * 100 // t if t else 0) for k, (t, v) in counter.items()]
    return sorted(rows, key=lambda r: (-r[1], r[0]))


def coverage(campaign) -> Coverage:
    """Seed 000's first section for one campaign: coverage by industry, jurisdiction and cadre, problems."""
    cov = Coverage()
    grouped = (CampaignTarget.objects.filter(campaign=campaign)
               .values("sector", "jurisdiction_id", "leader_id", "group_id")
               .annotate(n=Count("pk"), seen=Count("visited_on")).order_by())
    sectors, places, cadres, groups = (defaultdict(lambda: [0, 0]) for _ in range(4))
    for row in grouped:
        n, visited = row["n"], row["seen"]
        for bucket, k in ((sectors, row["sector"]), (places, row["jurisdiction_id"]), (cadres, row["leader_id"]),
                          (groups, row["group_id"])):
            bucket[k][0] += n
            bucket[k][1] += visited
        cov.targets += n
        cov.visited += visited
    cov.by_sector = _rows(sectors, dict(Sector.choices))
    cov.by_jurisdiction = _rows(places, dict(Jurisdiction.objects.filter(pk__in=list(places)).values_list("pk", "name")))
    people = {u.pk: u.display_name for u in User.objects.filter(pk__in=[k for k in cadres if k])
              .only("pk", "full_name", "username")}
    cov.by_cadre = _rows(cadres, people)
    if any(k is not None for k in groups):
        cov.by_group = _rows(groups, dict(CampaignGroup.objects.filter(campaign=campaign).values_list("pk", "name")))
    demands = Demand.objects.filter(visits__campaign=campaign)
    kinds = (demands.values("category_id", "state").annotate(n=Count("pk", distinct=True)).order_by())
    names = dict(Category.objects.values_list("pk", "name"))
    per_kind, per_state = defaultdict(lambda: [0, 0]), defaultdict(int)
    for row in kinds:
        per_kind[row["category_id"]][0] += row["n"]
        if row["state"] == State.CLOSED:
            per_kind[row["category_id"]][1] += row["n"]
        per_state[row["state"]] += row["n"]
        cov.problems += row["n"]
    cov.problems_by_kind = sorted(((names.get(k, "—"), t, c, t - c) for k, (t, c) in per_kind.items()),
                                  key=lambda r: -r[1])
    cov.solved_on_spot = Demand.objects.filter(solved_at_visits__campaign=campaign).count()
    labels = dict(State.choices)
    cov.problems_by_state = sorted(((labels[s], n) for s, n in per_state.items()), key=lambda r: -r[1])
    return cov


def not_visited(campaign):
    """Targets of a campaign nobody has visited during its period, town by town."""
    return (CampaignTarget.objects.filter(campaign=campaign, visited_on__isnull=True)
            .select_related("enterprise", "jurisdiction", "leader", "enterprise__helpers__service_specialist")
            .order_by("jurisdiction_id", "pk"))


# ---------------------------------------------------------------- neglect lists

def _in_scope(qs, path: str | None, prefix: str = "enterprise__"):
    return qs if path is None else qs.filter(**{f"{prefix}jurisdiction__path__startswith": path})


def overdue_contacts(path: str | None, today: dt.date):
    """Current assignments past their contact or visit deadline (企业超期未联系)."""
    qs = (Assignment.objects.current().annotate(first_due=Least("next_contact_due", "next_visit_due"))
          .filter(first_due__lt=today))  # the assign_first_due index
    return (_in_scope(qs, path).select_related("enterprise", "enterprise__jurisdiction", "cadre__user")
            .order_by("first_due", "pk"))


def cadres_below_rate(path: str | None, today: dt.date, threshold: int = 80):
    """Cadres for whom less than `threshold`% of their enterprises are within both deadlines of the cadence."""
    qs = Cadre.objects.filter(active=True)
    if path is not None:
        qs = qs.filter(jurisdiction__path__startswith=path)
    current = Q(assignments__ended_on__isnull=True)
    qs = (qs.annotate(held=Count("assignments", filter=current),
                      on_time=Count("assignments", filter=current & Q(assignments__next_visit_due__gte=today,
                                                                       assignments__next_contact_due__gte=today)))
          .filter(held__gt=0).filter(on_time__lt=F("held") * threshold / 100.0)
          .select_related("user", "unit").order_by("on_time", "-held"))
    return qs


def empty_visits(visits):
    """Visits with nothing recorded: no discussion, policy, situation or problem."""
    return (visits.filter(discussed="", policies="", production="", orders="", employees__isnull=True,
                          financing_need__isnull=True)
            .exclude(Exists(Visit.demands.through.objects.filter(visit_id=OuterRef("pk")))))


def disputed_visits(visits):
    return visits.filter(confirmation=Confirmation.DISPUTED)
