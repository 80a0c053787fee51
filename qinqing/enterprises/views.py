"""Registry pages: the list (search, filters, Excel export), an enterprise's page, its forms.

Rows come only from Enterprise.objects.visible_to(user): an enterprise outside the user's sight is a
404 everywhere. Changes go through qinqing.enterprises.services; their Chinese messages are shown as is.
"""

import tempfile

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from qinqing.accounts.models import Jurisdiction
from qinqing.audit.services import record_export
from qinqing.demands.errors import DomainError
from qinqing.demands.views.common import is_htmx, jurisdictions_in_scope, paginate, staff_required
from qinqing.lib import clock

from . import profile, services
from .changes import describe_events
from .errors import InvalidEnterpriseData
from .exporter import export_enterprises, import_template
from .filters import filter_enterprises
from .forms import EnterpriseForm, FiguresForm
from .models import HELPERS, Enterprise, IndustryCode
from .permissions import managed_scope, may_manage_place, may_manage_registry

LIST_RELATED = ("jurisdiction", "helpers__service_specialist")
EXPORT_LIMIT = 50_000  # ≈20 s of writing; a bigger list is not read in Excel anyway
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _visible(user):
    return Enterprise.objects.visible_to(user)


def _places_for_filters(user):
    return jurisdictions_in_scope(user).only("code", "name", "path").order_by("path")


def _managed_places(user):
    """Where the user may file enterprises: their managed subtree (everywhere for administrators)."""
    scope = managed_scope(user)
    places = Jurisdiction.objects.all() if scope is None else Jurisdiction.objects.filter(path__startswith=scope)
    return places.only("code", "name", "path").order_by("path")


def _industry_names(codes) -> dict[str, str]:
    codes = {c for c in codes if c}
    return dict(IndustryCode.objects.filter(code__in=codes).values_list("code", "name")) if codes else {}


def _xlsx_response(out, filename: str) -> FileResponse:
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=filename, content_type=XLSX)


@staff_required
def registry(request):
    """企业库: search by name, code or contact; filter by industry, size, 四上, tag and place."""
    user = request.user
    qs, form = filter_enterprises(_visible(user).select_related(*LIST_RELATED), request.GET,
                                  places=_places_for_filters(user))
    page = paginate(qs, request)
    names = _industry_names(e.industry_code for e in page.rows)
    for enterprise in page.rows:
        enterprise.industry_name = names.get(enterprise.industry_code, "")
    context = {"form": form, "page": page, "may_manage": may_manage_registry(user),
               "export_query": request.GET.urlencode()}
    template = "enterprises/_results.html" if is_htmx(request) else "enterprises/list.html"
    return render(request, template, context)


@staff_required
def export(request):
    """The list as it is filtered, as .xlsx (at most EXPORT_LIMIT rows: narrow the filters beyond that)."""
    user = request.user
    qs, _ = filter_enterprises(_visible(user), request.GET, places=_places_for_filters(user))
    if qs[EXPORT_LIMIT:EXPORT_LIMIT + 1].exists():
        messages.error(request, f"符合条件的企业超过{EXPORT_LIMIT:,}家，请缩小筛选范围后再导出。")
        return redirect(f"{reverse('enterprises:list')}?{request.GET.urlencode()}")
    out = tempfile.TemporaryFile()
    count = export_enterprises(qs, out, viewer=user)
    record_export("企业名单", actor=user, request=request, rows=count, query=request.GET.urlencode())
    return _xlsx_response(out, f"企业名单_{clock.today():%Y%m%d}.xlsx")


@staff_required
def template(request):
    """The import template with its instructions sheet and drop-downs (towns of the user's scope)."""
    places = jurisdictions_in_scope(request.user).filter(level="town").only("name").order_by("path")
    out = tempfile.TemporaryFile()
    import_template(out, places=list(places))
    return _xlsx_response(out, "企业名单导入模板.xlsx")


def _enterprise(request, code: str) -> Enterprise:
    enterprise = (_visible(request.user).select_related(
        "jurisdiction", "division", *HELPERS, "helpers__service_specialist__unit", "helpers__contact_leader__unit",
        "credit_code_override__accepted_by")
        .filter(credit_code=code.upper()).first())
    if enterprise is None:
        raise Http404("企业不存在或您无权查看。")
    return enterprise


def _industry_path(code: str) -> list:
    """门类 → 大类 → 中类 → 小类 of a code, in one query."""
    if not code:
        return []
    prefixes = [code[:n] for n in (1, 3, 4, 5) if len(code) >= n]
    return list(IndustryCode.objects.filter(code__in=prefixes).order_by("code"))


@staff_required
def detail(request, code: str):
    """企业画像: the enterprise's identity and figures, then one section per part of the system (its demands,
    visits and helpers; qinqing.enterprises.profile.SECTIONS), a timeline merged from them, and the registry's
    trail. Every section reads through visible_to; the page costs the same queries whatever the enterprise holds."""
    user = request.user
    enterprise = _enterprise(request, code)
    events = list(enterprise.events.select_related("actor").order_by("-created_at", "-id")[:30])
    describe_events(events)  # labels, not codes: 行业门类：工业 → 批发零售业
    figures = list(enterprise.figures.all())
    trail = [profile.Moment(timezone.localtime(ev.created_at).date(), ev.created_at, "企业库",
                            f"{ev.get_verb_display()}（{ev.actor.display_name if ev.actor else '系统'}）")
             for ev in events[:profile.TIMELINE_LENGTH]]
    context = {
        "enterprise": enterprise,
        "industry_path": _industry_path(enterprise.industry_code),
        "figures": figures,
        "latest_figures": figures[0] if figures else None,
        "events": events,
        "may_edit": may_manage_place(user, enterprise.jurisdiction),
        "figures_form": FiguresForm(initial={"year": clock.today().year - 1}),
        **profile.gather(user, enterprise, extra_moments=trail),
    }
    return render(request, "enterprises/detail.html", context)


@staff_required
def create(request):
    user = request.user
    if not may_manage_registry(user):
        raise Http404("页面不存在")
    places = list(_managed_places(user))
    form = EnterpriseForm(request.POST or None, places=places)
    if request.method == "POST" and form.is_valid():
        try:
            enterprise = services.register_enterprise(user, form.data_for_service())
        except InvalidEnterpriseData as exc:
            form.show_problems(exc.problems)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"已登记“{enterprise.name}”。")
            return redirect("enterprises:detail", code=enterprise.credit_code)
    return render(request, "enterprises/form.html", {"form": form, "title": "登记企业"})


@staff_required
def edit(request, code: str):
    user = request.user
    enterprise = _enterprise(request, code)
    if not may_manage_place(user, enterprise.jurisdiction):
        raise Http404("页面不存在")
    places = list(_managed_places(user))
    form = EnterpriseForm(request.POST or None, places=places, editing=True,
                          initial=EnterpriseForm.initial_for(enterprise))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_enterprise(user, enterprise, form.data_for_service())
        except InvalidEnterpriseData as exc:
            form.show_problems(exc.problems)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "企业信息已更新。")
            return redirect("enterprises:detail", code=enterprise.credit_code)
    return render(request, "enterprises/form.html", {"form": form, "title": f"修改：{enterprise.name}",
                                                     "enterprise": enterprise})


@staff_required
@require_POST
def add_figures(request, code: str):
    enterprise = _enterprise(request, code)
    form = FiguresForm(request.POST)
    if form.is_valid():
        try:
            row = services.record_yearly_figures(request.user, enterprise, **form.cleaned_data)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"已录入{row.year}年数据：规模{row.get_size_display() or '无法测算'}，"
                                      f"{'四上（' + row.four_above_rule + '）' if row.is_four_above else '非四上'}。")
    else:
        messages.error(request, "年度数据有误：" + "；".join(f"{form.fields[k].label}{''.join(v)}"
                                                         for k, v in form.errors.items() if k in form.fields))
    return redirect("enterprises:detail", code=enterprise.credit_code)

