"""Work queues: the dispatcher's inbox, the unit's inbox and the supervision office's overdue board."""

from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.shortcuts import render

from qinqing.accounts.models import Unit
from qinqing.demands.filters import LEDGER_ORDER
from qinqing.demands.models import OPEN_STATES, Demand, Extension, Stage, State, Urging
from qinqing.lib import clock

from .common import paginate, staff_required, visible_demands


@staff_required
def dispatch_inbox(request):
    """Received and returned demands waiting for a lead unit, and extension requests waiting for a decision."""
    visible = Demand.objects.visible_to(request.user)
    waiting = (visible_demands(request.user).filter(state__in=[State.RECEIVED, State.RETURNED])
               .order_by(*LEDGER_ORDER))
    page = paginate(waiting, request)
    extensions = list(
        Extension.objects.filter(status=Extension.Status.PENDING, demand__in=visible)
        .select_related("demand__lead_unit", "demand__enterprise", "requested_by")
        .order_by("requested_at")[:100])
    return render(request, "demands/dispatch_inbox.html", {"page": page, "extensions": extensions})


UNIT_TABS = [("todo", "待办"), ("all", "全部")]


@staff_required
def unit_inbox(request):
    """Demands the user's unit leads or helps with: open ones first, nearest deadline first."""
    unit = request.user.unit
    tab = request.GET.get("tab") if request.GET.get("tab") in dict(UNIT_TABS) else "todo"
    page = None
    if unit is not None:
        co = Demand.co_units.through.objects.filter(demand_id=OuterRef("pk"), unit_id=unit.pk)
        qs = visible_demands(request.user).filter(Q(lead_unit=unit) | Exists(co))
        if tab == "todo":
            qs = qs.filter(state__in=OPEN_STATES)
        page = paginate(qs.order_by(*LEDGER_ORDER), request)
    return render(request, "demands/unit_inbox.html",
                  {"unit": unit, "page": page, "tab": tab, "tabs": UNIT_TABS})


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@staff_required
def overdue(request):
    """挂账督办: open demands whose current stage is past its deadline, by stage and by unit."""
    today = clock.today()
    base = Demand.objects.visible_to(request.user).filter(state__in=OPEN_STATES, next_due__lt=today)
    stage = request.GET.get("stage") if request.GET.get("stage") in Stage.values else ""
    unit_id = _int_or_none(request.GET.get("unit"))
    scoped = base
    if stage:
        scoped = scoped.filter(current_stage=stage)
    if unit_id:
        scoped = scoped.filter(lead_unit_id=unit_id)

    # Two small GROUP BYs for the summary, whatever the number of rows.
    by_stage = dict(base.order_by().values_list("current_stage").annotate(n=Count("pk")))
    stage_counts = [(value, label, by_stage.get(value, 0)) for value, label in Stage.choices]
    unit_rows = list((base.filter(current_stage=stage) if stage else base).order_by()
                     .values("lead_unit_id").annotate(n=Count("pk")).order_by("-n")[:30])
    names = dict(Unit.objects.filter(pk__in=[r["lead_unit_id"] for r in unit_rows if r["lead_unit_id"]])
                 .values_list("pk", "name"))
    unit_counts = [(r["lead_unit_id"], names.get(r["lead_unit_id"], "未交办"), r["n"]) for r in unit_rows]

    urgings = Urging.objects.filter(demand=OuterRef("pk"))
    current_urging = urgings.filter(stage=OuterRef("current_stage"), due=OuterRef("next_due"))
    rows = (scoped.select_related("enterprise", "category", "lead_unit", "jurisdiction")
            .annotate(urged_at=Subquery(current_urging.order_by("created_at").values("created_at")[:1]),
                      urge_count=Subquery(urgings.order_by().values("demand")
                                          .annotate(c=Count("pk")).values("c")[:1]))
            .order_by(*LEDGER_ORDER))
    page = paginate(rows, request)
    context = {
        "page": page, "stage": stage, "unit_id": unit_id, "stage_counts": stage_counts,
        "unit_counts": unit_counts, "total": sum(by_stage.values()), "today": today,
        "selected_unit": names.get(unit_id) if unit_id else None,
    }
    return render(request, "demands/overdue.html", context)
