"""The leaders' pages: the hot issues of a month (with the heat formula, an Excel export and 重新计算), one hot
issue (representative demands, units, trend line, its demands, 转区级研究推进) and one policy study.

Rows come only through HotIssue/PolicyStudy/Demand.objects.visible_to; every write goes through services.
Anyone who may not see hot issues gets 404, like the other statistics pages.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from qinqing.accounts.models import Jurisdiction, Unit
from qinqing.audit.services import record_export
from qinqing.demands.errors import DomainError, NotFoundError
from qinqing.demands.models import Demand
from qinqing.demands.views.common import paginate
from qinqing.lib import clock
from qinqing.reports.views import XLSX

from . import excel, services
from .cluster import HEAT_FORMULA
from .filters import filter_hot_issues
from .models import HotIssue, HotIssueMember, PolicyStudy

EXPORT_ROWS = 2000
MEMBERS_PAGE = 30


def viewers_only(view):
    """Leaders, dispatchers, supervisors (with a jurisdiction) and administrators; everyone else gets 404."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not services.may_view(request.user):
            raise Http404("页面不存在")
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def _representatives(issues) -> dict[int, list[HotIssueMember]]:
    """Each issue's representative demands, in one query for the page."""
    out: dict[int, list[HotIssueMember]] = {}
    for m in (HotIssueMember.objects.filter(hot_issue__in=[i.pk for i in issues], representative=True)
              .select_related("demand").order_by("hot_issue", "-similarity", "demand_id")):
        out.setdefault(m.hot_issue_id, []).append(m)
    return out


@viewers_only
def hot_list(request):
    qs, form, month = filter_hot_issues(request.user, request.GET)
    today = clock.today()
    if request.GET.get("format") == "xlsx":
        rows = list(qs[:EXPORT_ROWS])
        shown = _representatives(rows)
        record_export("热点问题", actor=request.user, rows=len(rows), query=request.GET.urlencode(), request=request)
        reps = {pk: [f"{m.demand.number} {m.demand.title}" for m in ms] for pk, ms in shown.items()}
        response = HttpResponse(excel.export(rows, reps, today), content_type=XLSX)
        response["Content-Disposition"] = content_disposition_header(True, f"热点问题-{today:%Y%m%d}.xlsx")
        return response
    page = paginate(qs, request)
    shown = _representatives(page.rows)
    for issue in page.rows:
        issue.shown = shown.get(issue.pk, [])
    places = [j for j in services.visible_jurisdictions(request.user) if j.level != Jurisdiction.Level.TOWN]
    return render(request, "hotissues/list.html", {
        "page": page, "form": form, "month": month, "formula": HEAT_FORMULA, "places": places,
        "this_month": today.strftime("%Y-%m")})


@viewers_only
@require_POST
def hot_refresh(request):
    """重新计算: queue one month of one jurisdiction (the caller's by default)."""
    code = request.POST.get("jurisdiction") or (request.user.jurisdiction.code if request.user.jurisdiction_id else "")
    place = Jurisdiction.objects.filter(code=code).first() if code else None
    if place is None:
        raise Http404("区域不存在")
    form_month = request.POST.get("month") or clock.today().strftime("%Y-%m")
    try:
        year, number = (int(x) for x in form_month.split("-"))
        month = clock.today().replace(year=year, month=number, day=1)
    except ValueError:
        messages.error(request, "月份应写成 2026-12。")
        return redirect("hotissues:list")
    try:
        services.request_recompute(request.user, place, month, request=request)
    except NotFoundError:
        raise Http404("区域不存在") from None
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已提交重新计算{place.name}{month:%Y年%m月}的热点问题，稍后刷新本页查看。")
    return redirect(f"{reverse('hotissues:list')}?jurisdiction={place.code}&month={month:%Y-%m}")


@viewers_only
def hot_detail(request, pk):
    issue = get_object_or_404(HotIssue.objects.visible_to(request.user).select_related("jurisdiction"), pk=pk)
    # The demands the viewer may see (all of them for the district's own staff), most central first.
    members = (Demand.objects.visible_to(request.user).filter(hot_issue_members__hot_issue=issue)
               .select_related("enterprise", "lead_unit", "jurisdiction")
               .annotate(similarity=F("hot_issue_members__similarity"),
                         representative=F("hot_issue_members__representative"))
               .order_by("-representative", "-similarity", "pk"))
    page = paginate(members, request, MEMBERS_PAGE)
    studies = list(issue.studies.select_related("lead_unit", "created_by"))
    may_study = not studies and services.may_start_study(request.user, issue.jurisdiction)
    units = (Unit.objects.filter(jurisdiction__path__startswith=issue.jurisdiction.path).order_by("name")
             if may_study else [])
    chart = {"trend": [{"name": d[5:], "value": n} for d, n in issue.trend]}
    return render(request, "hotissues/detail.html", {
        "issue": issue, "page": page, "studies": studies, "may_study": may_study, "units": units,
        "chart": chart, "formula": HEAT_FORMULA})


@viewers_only
@require_POST
def study_start(request, pk):
    issue = get_object_or_404(HotIssue.objects.visible_to(request.user), pk=pk)
    lead_unit = None
    if unit_id := request.POST.get("lead_unit"):
        lead_unit = Unit.objects.filter(pk=unit_id if str(unit_id).isdigit() else None).first()
        if lead_unit is None:
            messages.error(request, "牵头单位不存在。")
            return redirect("hotissues:detail", issue.pk)
    try:
        study = services.start_policy_study(request.user, issue, title=request.POST.get("title", ""),
                                            note=request.POST.get("note", ""), lead_unit=lead_unit,
                                            request=request)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("hotissues:detail", issue.pk)
    messages.success(request, f"已转为区级研究推进课题，关联诉求{study.links.count()}件。")
    return redirect("hotissues:study", study.pk)


@viewers_only
def study_detail(request, pk):
    study = get_object_or_404(PolicyStudy.objects.visible_to(request.user)
                              .select_related("jurisdiction", "lead_unit", "created_by", "hot_issue"), pk=pk)
    demands = (Demand.objects.visible_to(request.user).filter(policy_study_links__study=study)
               .select_related("enterprise", "lead_unit").order_by("received_at", "pk"))
    page = paginate(demands, request)
    return render(request, "hotissues/study.html", {"study": study, "page": page})
