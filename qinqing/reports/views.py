"""Leader pages: the dashboard, the briefing and the circulars, with their Word and Excel downloads.

Only users who read a jurisdiction's statistics (dispatchers, supervisors, leaders, administrators) get
these pages; anyone else, and anyone asking for a jurisdiction outside their subtree, gets 404.
"""

import datetime as dt
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from qinqing.accounts.models import Jurisdiction
from qinqing.demands.errors import DomainError
from qinqing.demands.views.common import paginate
from qinqing.lib import clock

from . import briefing as briefings
from . import rollup, services, stats
from .circulars import period_for
from .docs import workbook
from .lists import list_counts
from .models import Circular, CircularKind
from .rates import rate_sheet

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
RANGES = [("4w", "近4周"), ("12w", "近12周"), ("26w", "近半年"), ("52w", "近一年")]


def statistics_required(view):
    """Dispatchers, supervisors, leaders and administrators; everyone else gets 404."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not stats.may_see_statistics(request.user):
            raise Http404("页面不存在")
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def _choices(request, node):
    """Jurisdictions offered in the selector: province, cities and districts in scope, and the current one."""
    levels = [Jurisdiction.Level.PROVINCE, Jurisdiction.Level.CITY, Jurisdiction.Level.DISTRICT]
    return stats.jurisdictions_for(request.user).filter(Q(level__in=levels) | Q(pk=node.pk)).order_by("path")[:300]


def _jurisdiction(request):
    code = request.GET.get("jurisdiction") or request.POST.get("jurisdiction")
    allowed = stats.jurisdictions_for(request.user)
    if code:
        node = allowed.filter(code=code).first()
        if node is None:
            raise Http404("该区划不存在或不在您的管辖范围内。")
        return node
    node = stats.default_jurisdiction(request.user)
    if node is None:
        raise Http404("没有可查看的区划。")
    return node


def _download(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


# ---------------------------------------------------------------- dashboard

def _dashboard_period(request, today: dt.date) -> tuple[stats.Period, str]:
    chosen = request.GET.get("range") if request.GET.get("range") in dict(RANGES) else "12w"
    return stats.recent_weeks(today, int(chosen[:-1])), chosen


def _chart_data(board: stats.Dashboard) -> dict:
    def items(rows):
        return [{"name": i.label, "value": i.value, "url": i.url} for i in rows]

    return {
        "category": items(board.by_category), "channel": items(board.by_channel), "state": items(board.by_state),
        "unit": items(board.by_unit), "trend": items(board.trend), "jurisdiction": items(board.by_jurisdiction),
        "hot": items(board.hot),
        "environment": [{"name": c.label, "value": c.value, "url": c.url} for c in board.environment],
        "rates": [{"name": r.name, "value": r.value or 0} for r in board.rate_set.shown],
    }


@statistics_required
def dashboard(request):
    """领导驾驶舱: one screen of charts, each clickable to the ledger; tables underneath as the fallback."""
    node = _jurisdiction(request)
    today = clock.today()
    period, chosen = _dashboard_period(request, today)
    freshness = rollup.refresh_for_reading()
    board = stats.dashboard(node, period, today)
    if request.GET.get("format") == "xlsx":
        services.log_export(request.user, "export_dashboard", {"jurisdiction": node.code})
        stamp = min(period.end, today)  # the figures run to today; the week's end may still be days ahead
        return _download(_dashboard_workbook(board), f"统计概览-{node.name}-{stamp:%Y%m%d}.xlsx", XLSX)
    context = {
        "board": board, "node": node, "ranges": RANGES, "freshness": freshness, "chosen": chosen, "today": today,
        "jurisdictions": _choices(request, node),
        "charts": _chart_data(board),
    }
    return render(request, "reports/dashboard.html", context)


def _dashboard_workbook(board: stats.Dashboard) -> bytes:
    title = f"{board.jurisdiction.name} {board.period.label}"

    def rows(items):
        return [[i.label, i.value] for i in items]

    return workbook([
        ("概览", f"统计概览 {title}", ["项目", "件数"], rows(board.cards)),
        ("按类别", f"按类别 {title}", ["类别", "件数"], rows(board.by_category)),
        ("按渠道", f"按渠道 {title}", ["渠道", "件数"], rows(board.by_channel)),
        ("按状态", f"按状态 {title}", ["状态", "件数"], rows(board.by_state)),
        ("按单位", f"按承办单位 {title}", ["承办单位", "件数"], rows(board.by_unit)),
        ("按区划", f"按区划 {title}", ["区划", "件数"], rows(board.by_jurisdiction)),
        ("按周", f"按周趋势 {title}", ["周（周一）", "件数"], rows(board.trend)),
        ("按时率", f"按时率与满意率 {title}", *rate_sheet(board.rate_set)),
        ("当前超期", "当前超期", ["环节", "件数"], rows(board.overdue)),
        ("4大类16个方面", f"营商环境4大类16个方面 {title}", ["大类", "方面", "件数"],
         [row for c in board.environment
          for row in ([[c.label, a.label, a.value] for a in c.aspects]
                      + [[c.label, "小计" if c.aspects else "", c.value]])]),
    ])


# ---------------------------------------------------------------- briefing

class PeriodForm(forms.Form):
    start = forms.DateField(label="统计起", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    end = forms.DateField(label="统计止", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end"):
            if data["start"] > data["end"]:
                raise forms.ValidationError("开始日期不能晚于结束日期。")
            if (data["end"] - data["start"]).days > services.MAX_PERIOD_DAYS:
                raise forms.ValidationError("统计期不能超过一年。")
        return data


@statistics_required
def briefing(request):
    """简报: the statistical paragraph for a period, to copy or to download inside a Word briefing."""
    node = _jurisdiction(request)
    today = clock.today()
    initial = {"start": today.replace(day=1), "end": today}
    form = PeriodForm(request.GET if "start" in request.GET else None, initial=initial)
    the_briefing = None
    if form.is_bound and form.is_valid():
        the_briefing = briefings.build_briefing(node, form.cleaned_data["start"], form.cleaned_data["end"], today)
    elif not form.is_bound:
        the_briefing = briefings.build_briefing(node, initial["start"], initial["end"], today)
    if the_briefing is not None and request.GET.get("format") == "docx":
        services.log_export(request.user, "export_briefing", {"jurisdiction": node.code,
                                                              "period": the_briefing.as_dict()["period"]})
        issuer = f"{node.name}民营经济联席会议办公室"
        name = f"简报-{node.name}-{the_briefing.period.start:%Y%m%d}-{the_briefing.period.end:%Y%m%d}.docx"
        return _download(briefings.briefing_docx(the_briefing, issuer), name, DOCX)
    if the_briefing is not None and request.GET.get("format") == "xlsx":
        services.log_export(request.user, "export_briefing_xlsx", {"jurisdiction": node.code,
                                                                   "period": the_briefing.as_dict()["period"]})
        name = f"简报数据-{node.name}-{the_briefing.period.start:%Y%m%d}-{the_briefing.period.end:%Y%m%d}.xlsx"
        return _download(briefings.briefing_xlsx(the_briefing), name, XLSX)
    context = {"form": form, "node": node, "briefing": the_briefing,
               "jurisdictions": _choices(request, node)}
    if the_briefing is not None:  # 三张清单, counted apart from the briefing's own clauses
        context["lists"] = list_counts(node, the_briefing.period)
    return render(request, "reports/briefing.html", context)


# ---------------------------------------------------------------- circulars

class CircularForm(PeriodForm):
    kind = forms.ChoiceField(label="类型", choices=CircularKind.choices)


def visible_circulars(user):
    return Circular.objects.filter(jurisdiction__in=stats.jurisdictions_for(user))


@statistics_required
def circular_list(request):
    """通报: what the worker issued on schedule, and a form to issue one now."""
    node = _jurisdiction(request)
    page = paginate(visible_circulars(request.user).filter(jurisdiction__path__startswith=node.path)
                    .select_related("jurisdiction", "created_by").order_by("-period_end", "-id"), request)
    today = clock.today()
    week = period_for(CircularKind.WEEKLY, today)
    form = CircularForm(initial={"kind": CircularKind.WEEKLY, "start": week.start, "end": week.end})
    return render(request, "reports/circulars.html", {"rows": page.rows, "page": page, "node": node, "form": form,
                                                       "jurisdictions": _choices(request, node)})


@statistics_required
@require_POST
def circular_issue(request):
    node = _jurisdiction(request)
    form = CircularForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(f"{reverse('reports:circulars')}?jurisdiction={node.code}")
    try:
        circular = services.issue_circular(request.user, kind=form.cleaned_data["kind"], jurisdiction=node,
                                           start=form.cleaned_data["start"], end=form.cleaned_data["end"])
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect(f"{reverse('reports:circulars')}?jurisdiction={node.code}")
    messages.success(request, f"已生成：{circular.title}（{circular.number}）")
    return redirect("reports:circular", pk=circular.pk)


@statistics_required
def circular_detail(request, pk: int):
    circular = get_object_or_404(visible_circulars(request.user).select_related("jurisdiction"), pk=pk)
    return render(request, "reports/circular_detail.html", {"c": circular, "data": circular.snapshot})


@statistics_required
def circular_file(request, pk: int, fmt: str):
    circular = get_object_or_404(visible_circulars(request.user), pk=pk)
    field = {"word": circular.word, "excel": circular.excel}.get(fmt)
    if not field:
        raise Http404("文件不存在")
    suffix = ".docx" if fmt == "word" else ".xlsx"
    try:
        handle = field.open("rb")
    except FileNotFoundError:  # the record outlived its file (media restored from an older backup): a 404, not a 500
        raise Http404("通报文件已不存在，请联系系统管理员重新生成。") from None
    services.log_export(request.user, f"download_circular_{fmt}", {"circular": circular.pk})
    return FileResponse(handle, as_attachment=True, filename=f"{circular.number}{circular.title}{suffix}",
                        content_type=DOCX if fmt == "word" else XLSX)
