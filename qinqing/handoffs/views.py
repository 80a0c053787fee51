"""Hand-offs and pauses on the staff pages: the demand page's panel posts here; the hand-off list."""

import datetime as dt

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from qinqing.accounts.models import Jurisdiction
from qinqing.demands.errors import DomainError, NotFoundError
from qinqing.demands.models import Demand
from qinqing.demands.views.common import staff_required
from qinqing.lib import clock
from qinqing.reports.stats import Period, local_bounds

from . import services
from .forms import FORMS
from .models import HandOff

PAGE_SIZE = 100


@staff_required
@require_POST
def act(request, number, verb):
    """Every hand-off and pause action: bind its form, call its service, back to the demand page."""
    form_class = FORMS.get(verb)
    if form_class is None:
        raise Http404("没有这个操作")
    try:
        demand = services.find_demand(request.user, number)
    except NotFoundError:
        raise Http404("诉求不存在") from None
    form = form_class(request.POST, demand=demand, user=request.user)
    url = reverse("demands:detail", args=[demand.number])
    if not form.is_valid():
        problems = "；".join(f"{form.fields[k].label if k in form.fields else ''}{'：' if k in form.fields else ''}{' '.join(v)}"
                            for k, v in form.errors.items())
        messages.error(request, f"“{form.label}”未提交：{problems}")
        return redirect(url)
    try:
        form.service(request.user, demand, **form.kwargs(), version=form.cleaned_data["version"])
    except NotFoundError:
        raise Http404("诉求不存在") from None
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(url)
    messages.success(request, f"已{form.label}。")
    return redirect(url)


@staff_required
def handoff_list(request):
    """移出 / 移入: the hand-offs of the user's jurisdiction this month (or the month asked for), both ways."""
    user = request.user
    jurisdiction = user.jurisdiction if user.jurisdiction_id else Jurisdiction.objects.filter(parent=None).first()
    if jurisdiction is None:
        raise Http404("页面不存在")
    today = clock.today()
    try:
        month = dt.date.fromisoformat(request.GET.get("month", "") + "-01") if request.GET.get("month") else None
    except ValueError:
        month = None
    start = (month or today).replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    lo, hi = local_bounds(Period(start, end))
    base = (HandOff.objects.filter(sent_at__gte=lo, sent_at__lt=hi)
            .select_related("source", "target", "from_jurisdiction", "to_jurisdiction", "sent_by"))
    # Rows only for the demands the user may see; the counts are the jurisdiction's figures.
    sent = list(base.filter(from_jurisdiction__path__startswith=jurisdiction.path,
                            source__in=Demand.objects.visible_to(user).values("pk"))[:PAGE_SIZE])
    received = list(base.filter(to_jurisdiction__path__startswith=jurisdiction.path,
                                target__in=Demand.objects.visible_to(user).values("pk"))[:PAGE_SIZE])
    counts = services.handoff_counts(jurisdiction, lo, hi)
    return render(request, "handoffs/list.html", {
        "jurisdiction": jurisdiction, "start": start, "end": end, "sent": sent, "received": received,
        "counts": counts, "levels": Jurisdiction.Level})
