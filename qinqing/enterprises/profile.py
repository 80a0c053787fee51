"""An enterprise's 360° page (企业画像): what each part of the system knows of one enterprise, as sections.

A section is a template under enterprises/profile/ and a function that gathers its context for one user and
one enterprise. Every row it shows comes through that model's visible_to(user): a cadre who may see the
enterprise but not one of its demands does not see that demand here either. Each gatherer runs a fixed
number of queries whatever the enterprise holds (a few aggregates and the latest rows, never one per row).

Later apps (政策, 融资) add theirs by appending a Section to SECTIONS: the page draws them in that order,
each in its column, and their `moments` join the timeline.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Prefetch, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from qinqing.demands.models import OPEN_STATES, Demand, State
from qinqing.lib import clock
from qinqing.policies.profile import policies as policy_matches
from qinqing.visits.models import Assignment, Duty, Visit
from qinqing.visits.models import Form as VisitForm
from qinqing.visits.queries import visitors_prefetch

from .models import Enterprise

LATEST_DEMANDS = 8
LATEST_VISITS = 6
TIMELINE_LENGTH = 12


@dataclass(frozen=True)
class Section:
    """One block of the page: `gather(user, enterprise)` → the template's context as `section.data`, with
    optional `moments` (timeline lines) and `cards` (figures for the strip under the header: count, label,
    url, tone, hint)."""

    key: str
    template: str
    gather: Callable[[Any, Enterprise], dict]
    column: str = "main"  # "main" or "side"


@dataclass(frozen=True)
class Moment:
    """One line of the timeline: something that happened to the enterprise, newest first."""

    day: dt.date
    at: dt.datetime | None  # the time too, when known (orders moments of one day)
    kind: str
    text: str
    url: str = ""


def _ledger(enterprise: Enterprise, **params) -> str:
    return f"{reverse('demands:ledger')}?{urlencode({'enterprise': enterprise.pk, **params})}"


# ---------------------------------------------------------------- 诉求

def demands(user, enterprise: Enterprise) -> dict:
    """Counts by state (one query) and the latest demands (one query), all from Demand.visible_to."""
    visible = Demand.objects.visible_to(user).filter(enterprise=enterprise)
    today = clock.today()
    rows = (visible.order_by().values("state")
            .annotate(n=Count("pk"), late=Count("pk", filter=Q(state__in=OPEN_STATES, due_order__lt=today))))
    by_state = {row["state"]: row for row in rows}
    states = [{"value": value, "label": label, "count": by_state[value]["n"], "colour": State.colour(value),
               "url": _ledger(enterprise, state=value)}
              for value, label in State.choices if value in by_state]
    total = sum(row["n"] for row in by_state.values())
    open_count = sum(row["n"] for state, row in by_state.items() if state in OPEN_STATES)
    overdue = sum(row["late"] for row in by_state.values())
    latest = list(visible.select_related("category", "lead_unit").order_by("-received_at", "-pk")[:LATEST_DEMANDS])
    moments = [Moment(timezone.localtime(d.received_at).date(), d.received_at, "诉求",
                      f"受理诉求 {d.number}：{d.title}（{d.get_state_display()}）",
                      reverse("demands:detail", args=[d.number])) for d in latest]
    cards = [{"count": total, "label": "诉求", "url": _ledger(enterprise), "tone": "blue"},
             {"count": open_count, "label": "办理中", "url": _ledger(enterprise, group="open"), "tone": "cyan"},
             {"count": overdue, "label": "超期未办", "url": _ledger(enterprise, overdue="any"),
              "tone": "red" if overdue else ""}]
    return {"total": total, "states": states, "latest": latest, "all_url": _ledger(enterprise),
            "moments": moments, "cards": cards}


# ---------------------------------------------------------------- 走访

def visits(user, enterprise: Enterprise) -> dict:
    """How often the enterprise was contacted and the latest visits with the problems raised at each; the
    problems shown are only the demands the user may see."""
    visible = Visit.objects.visible_to(user).filter(enterprise=enterprise)
    summary = visible.aggregate(total=Count("pk"), last=Max("visited_on"),
                                on_site=Count("pk", filter=Q(form=VisitForm.ON_SITE)),
                                last_on_site=Max("visited_on", filter=Q(form=VisitForm.ON_SITE)))
    raised = Demand.objects.visible_to(user).only("pk", "number", "title", "state").order_by("pk")
    latest = list(visible.select_related("recorded_by").prefetch_related(
        visitors_prefetch(),
        Prefetch("demands", queryset=raised, to_attr="raised_shown"),
    ).order_by("-visited_on", "-pk")[:LATEST_VISITS])
    moments = [Moment(v.visited_on, None, "走访",
                      f"{v.get_form_display()}：{'、'.join(p.display_name for p in v.visitors.all()) or '—'}"
                      + (f"，提出问题{len(v.raised_shown)}个" if v.raised_shown else ""),
                      reverse("visits:detail", args=[v.pk])) for v in latest]
    log_url = f"{reverse('visits:log')}?{urlencode({'enterprise': enterprise.pk})}"
    last = summary["last"]
    cards = [{"count": summary["total"], "label": "走访与联系", "url": log_url, "tone": "green",
              "hint": f"最近 {last:%Y-%m-%d}" if last else "尚无您可查看的记录"}]
    return {**summary, "remote": summary["total"] - summary["on_site"], "latest": latest, "moments": moments, "cards": cards, "log_url": log_url,
            "new_url": f"{reverse('visits:new')}?{urlencode({'enterprise': enterprise.pk})}",
            "duties_url": reverse("visits:enterprise", args=[enterprise.pk])}


# ---------------------------------------------------------------- 包联

def helpers(user, enterprise: Enterprise) -> dict:
    """The current 包联领导 and 为企服务专员 with their units (from the registry's Helpers row, joined when the
    enterprise was read) and, where the user may see the assignment, its level and contact deadlines."""
    current = {a.duty: a for a in Assignment.objects.visible_to(user).current().filter(enterprise_id=enterprise.pk)
               .select_related("cadre__unit", "cadre__user")}
    people = ((Duty.CONTACT_LEADER, enterprise.contact_leader), (Duty.SPECIALIST, enterprise.service_specialist))
    today = clock.today()
    rows = []
    for duty, person in people:
        assignment = current.get(duty)
        unit = (assignment and assignment.cadre.unit) or (person and person.unit)
        rows.append({"duty": Duty(duty).label, "person": person, "unit": unit, "assignment": assignment,
                     "contact_late": bool(assignment and assignment.next_contact_due
                                          and assignment.next_contact_due < today)})
    moments = [Moment(a.started_on, None, "包联", f"{a.cadre.user.display_name}开始担任{a.get_duty_display()}")
               for a in current.values()]
    return {"rows": rows, "moments": moments, "duties_url": reverse("visits:enterprise", args=[enterprise.pk])}


SECTIONS: list[Section] = [
    Section("demands", "enterprises/profile/_demands.html", demands),
    Section("visits", "enterprises/profile/_visits.html", visits),
    Section("helpers", "enterprises/profile/_helpers.html", helpers, column="side"),
    Section("policies", "policies/_profile.html", policy_matches),
]


def gather(user, enterprise: Enterprise, extra_moments=()) -> dict:
    """Every section's context for the page, and the timeline merged from their moments."""
    main, side, cards, moments = [], [], [], list(extra_moments)
    for section in SECTIONS:
        data = section.gather(user, enterprise)
        moments += data.get("moments", ())
        cards += data.get("cards", ())
        (side if section.column == "side" else main).append({"key": section.key, "template": section.template,
                                                             "data": data})
    moments.sort(key=lambda m: (m.day, m.at or dt.datetime.min.replace(tzinfo=dt.UTC)), reverse=True)
    return {"main_sections": main, "side_sections": side, "cards": cards, "timeline": moments[:TIMELINE_LENGTH]}
