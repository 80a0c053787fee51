"""Staff pages of contact duties and visits. Rows come only through visible_to; changes only through services."""

import io

from django.contrib import messages
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from qinqing.accounts.models import Role
from qinqing.audit.services import record_export
from qinqing.demands.errors import DomainError
from qinqing.demands.views.common import paginate, staff_required
from qinqing.enterprises.models import Enterprise
from qinqing.lib import clock

from . import excel, filters, queries, services
from .forms import (
    PROBLEM_ROWS,
    AssignForm,
    CampaignForm,
    GroupForm,
    ImportForm,
    RuleForm,
    SeminarForm,
    VisitForm,
)
from .models import Assignment, Cadre, Campaign, Duty, Level, Seminar, Visit
from .visibility import JURISDICTION_ROLES, is_admin


def _scope_path(user) -> str | None:
    """None for administrators (everything), else the user's jurisdiction path; 404 without one."""
    if is_admin(user):
        return None
    if user.has_role(*JURISDICTION_ROLES) and user.jurisdiction_id:
        return user.jurisdiction.path
    raise Http404("页面不存在")


def _can_manage(user) -> bool:
    return is_admin(user) or (user.has_role(Role.DISPATCHER, Role.LEADER) and bool(user.jurisdiction_id))


def _visit_rows(qs):
    return qs.select_related("enterprise", "recorded_by").prefetch_related(
        queries.visitors_prefetch())


# ---------------------------------------------------------------- a cadre's week

@staff_required
def my_week(request):
    """我的包联: what is due this week, and every enterprise held."""
    today = clock.today()
    cadre = Cadre.objects.filter(user=request.user).first()
    context = {"cadre": cadre, "today": today, "week_end": queries.week_end(today),
               "can_manage": _can_manage(request.user)}
    if cadre is not None:
        context["due"] = list(queries.due_this_week(cadre.pk, today))
        context["held"] = Assignment.objects.current().filter(cadre=cadre).count()
        context["recent"] = list(_visit_rows(Visit.objects.filter(visitors=request.user)).order_by(
            "-visited_on", "-pk")[:10])
    return render(request, "visits/my_week.html", context)


# ---------------------------------------------------------------- visits

@staff_required
def visit_log(request):
    chosen = filters.read_filters(request.GET, request.user)
    visits = filters.apply_filters(Visit.objects.visible_to(request.user), chosen)
    page = paginate(_visit_rows(visits).order_by("-visited_on", "-pk"), request)
    return render(request, "visits/log.html", {"page": page, "form_value": chosen.form,
                                               "confirmation": chosen.confirmation, "chosen": chosen})


@staff_required
def visit_new(request):
    """Quick entry after a visit, phone-first; the page keeps a local draft until the server has the visit."""
    if request.method == "POST":
        form = VisitForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                visit = services.record_visit(request.user, **form.service_kwargs())
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                raised = visit.demands.count()
                messages.success(request, f"走访已记录{f'，{raised}个问题已转为诉求' if raised else ''}。")
                return redirect(f"{reverse('visits:detail', args=[visit.pk])}?saved=1")
    else:
        initial = {}
        enterprise_id = request.GET.get("enterprise", "")
        if enterprise_id.isascii() and enterprise_id.isdigit():
            initial["enterprise"] = enterprise_id
        form = VisitForm(user=request.user, initial=initial)
    enterprise = None
    raw = form["enterprise"].value()
    if raw and str(raw).isascii() and str(raw).isdigit():
        enterprise = Enterprise.objects.visible_to(request.user).filter(pk=raw).first()
    choices = []
    if enterprise is None:
        choices = list(Enterprise.objects.filter(
            pk__in=Assignment.objects.current().filter(cadre__user=request.user).values("enterprise_id"))
            .only("pk", "name").order_by("name")[:200])
    rows = [(form[f"problem_{i}_title"], form[f"problem_{i}_content"], form[f"problem_{i}_solution"])
            for i in range(1, PROBLEM_ROWS + 1)]
    return render(request, "visits/visit_form.html",
                  {"form": form, "enterprise": enterprise, "choices": choices, "problem_rows": rows,
                   "not_found": bool(raw) and enterprise is None},
                  status=400 if form.is_bound else 200)


@staff_required
def visit_detail(request, pk):
    visit = get_object_or_404(_visit_rows(Visit.objects.visible_to(request.user)), pk=pk)
    demands = list(visit.demands.select_related("category").order_by("pk"))
    solved = set(visit.solved_demands.values_list("pk", flat=True))
    return render(request, "visits/visit_detail.html",
                  {"visit": visit, "demands": demands, "solved": solved, "saved": request.GET.get("saved")})


# ---------------------------------------------------------------- an enterprise's helpers

@staff_required
def enterprise_duties(request, pk):
    enterprise = get_object_or_404(Enterprise.objects.visible_to(request.user).select_related(
        "jurisdiction", "helpers__contact_leader", "helpers__service_specialist"), pk=pk)
    history = list(Assignment.objects.of_enterprise(enterprise.pk).select_related("cadre__user", "assigned_by")
                   .order_by("duty", "-started_on", "-pk"))
    visits = list(_visit_rows(Visit.objects.visible_to(request.user).filter(enterprise=enterprise))
                  .order_by("-visited_on", "-pk")[:30])
    return render(request, "visits/enterprise.html", {
        "enterprise": enterprise, "history": history, "visits": visits, "form": AssignForm(),
        "can_manage": _can_manage(request.user)})


@staff_required
@require_POST
def assign(request, pk):
    enterprise = get_object_or_404(Enterprise.objects.visible_to(request.user).select_related("jurisdiction"), pk=pk)
    form = AssignForm(request.POST)
    if form.is_valid():
        cadre = Cadre.objects.filter(user__username=form.cleaned_data["username"]).select_related("user").first()
        if cadre is None:
            messages.error(request, "该用户尚未登记为包联干部，请先在后台“包联干部”中登记。")
        else:
            try:
                services.assign_contact(request.user, enterprise, cadre, duty=form.cleaned_data["duty"],
                                        on=form.cleaned_data["on"])
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, f"已将{cadre.user}设为{Duty(form.cleaned_data['duty']).label}。")
    else:
        messages.error(request, "请填写职责和干部用户名。")
    return redirect("visits:enterprise", pk=enterprise.pk)


# ---------------------------------------------------------------- assignments: rule, export, import

@staff_required
def assignments(request):
    path = _scope_path(request.user)
    qs = Assignment.objects.visible_to(request.user).current()
    if path is not None:
        qs = qs.filter(enterprise__jurisdiction__path__startswith=path)
    duty = request.GET.get("duty", "")
    if duty in Duty.values:
        qs = qs.filter(duty=duty)
    if request.GET.get("format") == "xlsx":
        stream = io.BytesIO()
        count = excel.export(qs, stream)
        record_export("包联关系表", actor=request.user, request=request, rows=count,
                      query=request.GET.urlencode())
        response = HttpResponse(stream.getvalue(), content_type="application/vnd.openxmlformats-officedocument"
                                                                 ".spreadsheetml.sheet")
        stamp = clock.today().strftime("%Y%m%d")
        response["Content-Disposition"] = f"attachment; filename=\"assignments-{stamp}.xlsx\""
        return response
    levels, duties = dict(Level.choices), dict(Duty.choices)
    by_level = [(f"{duties[r['duty']]}（{levels[r['level']]}）", r["n"])
                for r in qs.order_by().values("level", "duty").annotate(n=Count("pk")).order_by("duty", "level")]
    page = paginate(qs.select_related("enterprise", "enterprise__jurisdiction", "cadre__user")
                    .order_by("next_contact_due", "pk"), request)
    return render(request, "visits/assignments.html", {
        "page": page, "duty": duty, "by_level": by_level, "can_manage": _can_manage(request.user),
        "import_form": ImportForm()})


@staff_required
@require_POST
def assignments_import(request):
    if not _can_manage(request.user):
        raise Http404("页面不存在")
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "请选择要导入的 .xlsx 文件。")
    else:
        try:
            done = excel.import_assignments(request.user, form.cleaned_data["file"])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"导入完成：变更包联关系{done}条。")
    return redirect("visits:assignments")


@staff_required
def assign_by_rule(request):
    """按规则批量分配: preview (GET with the form filled) then apply (POST)."""
    if not _can_manage(request.user):
        raise Http404("页面不存在")
    jurisdiction = request.user.jurisdiction
    if jurisdiction is None:
        messages.error(request, "您的账号没有所属区划，无法按规则分配。")
        return redirect("visits:assignments")
    plan = None
    if request.method == "POST":
        form = RuleForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                plan = services.apply_bulk_assignment(request.user, jurisdiction, on=d["on"], replace=d["replace"],
                                                      tiers=d["tiers"])
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, f"已按规则分配{plan.placed}家企业"
                                 f"{f'，{plan.unplaced}家未能分配（该层级无在岗干部或已满额）' if plan.unplaced else ''}。")
                return redirect("visits:assignments")
    else:
        form = RuleForm(request.GET or None)
        if form.is_bound and form.is_valid():
            d = form.cleaned_data
            plan = services.plan_bulk_assignment(request.user, jurisdiction, on=d["on"], replace=d["replace"],
                                                 tiers=d["tiers"])
    loads = sorted(plan.loads, key=lambda r: -(r[3] + r[4]))[:200] if plan else []
    return render(request, "visits/assign_rule.html", {"form": form, "plan": plan, "loads": loads,
                                                       "jurisdiction": jurisdiction})


# ---------------------------------------------------------------- campaigns

@staff_required
def campaigns(request):
    page = paginate(Campaign.objects.visible_to(request.user).select_related("jurisdiction")
                    .annotate(n=Count("target_rows")).order_by("-starts_on", "-pk"), request)
    return render(request, "visits/campaigns.html", {"campaigns": page.rows, "page": page,
                                                     "can_manage": _can_manage(request.user)})


@staff_required
def campaign_new(request):
    """创建集中走访活动, with its target list drawn by rule at once (an import can add more later)."""
    if not _can_manage(request.user) or request.user.jurisdiction is None:
        raise Http404("页面不存在")
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            with transaction.atomic():
                campaign = services.create_campaign(request.user, name=d["name"],
                                                    jurisdiction=request.user.jurisdiction, starts_on=d["starts_on"],
                                                    ends_on=d["ends_on"], description=d["description"])
                added = services.target_by_rule(request.user, campaign, form.rule())
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"活动已创建，目标企业{added}家。")
            return redirect("visits:campaign", pk=campaign.pk)
    return render(request, "visits/campaign_form.html", {"form": form}, status=400 if form.errors else 200)


def _managed_campaign(request, pk):
    campaign = get_object_or_404(Campaign.objects.visible_to(request.user).select_related("jurisdiction"), pk=pk)
    if not _can_manage(request.user):
        raise Http404("页面不存在")
    return campaign


@staff_required
@require_POST
def campaign_targets(request, pk):
    campaign = _managed_campaign(request, pk)
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "请选择要导入的 .xlsx 文件。")
    else:
        try:
            added = excel.import_targets(request.user, campaign, form.cleaned_data["file"])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"已导入目标企业{added}家（已在名单中的不重复计算）。")
    return redirect("visits:campaign", pk=campaign.pk)


@staff_required
@require_POST
def campaign_group(request, pk):
    campaign = _managed_campaign(request, pk)
    form = GroupForm(request.POST)
    if not form.is_valid():
        messages.error(request, "；".join(e for errors in form.errors.values() for e in errors))
    else:
        d = form.cleaned_data
        try:
            group = services.form_group(request.user, campaign, name=d["name"], leader=d["leader"],
                                        members=d["members"])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"走访组“{group.name}”已保存。")
    return redirect("visits:campaign", pk=campaign.pk)


@staff_required
@require_POST
def campaign_seminar(request, pk):
    campaign = get_object_or_404(Campaign.objects.visible_to(request.user).select_related("jurisdiction"), pk=pk)
    form = SeminarForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写类型、主题和举办日期。")
    else:
        d = form.cleaned_data
        try:
            services.record_seminar(request.user, kind=d["kind"], title=d["title"], held_on=d["held_on"],
                                    jurisdiction=campaign.jurisdiction, organiser=request.user.unit,
                                    campaign=campaign)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"已记录{Seminar.Kind(d['kind']).label}“{d['title']}”。")
    return redirect("visits:campaign", pk=campaign.pk)


@staff_required
def campaign_detail(request, pk):
    campaign = get_object_or_404(Campaign.objects.visible_to(request.user).select_related("jurisdiction"), pk=pk)
    cov = queries.coverage(campaign)
    page = paginate(queries.not_visited(campaign), request)
    groups = list(campaign.groups.select_related("leader").annotate(n=Count("members")))
    seminars = campaign.seminars.count()
    return render(request, "visits/campaign.html", {
        "campaign": campaign, "cov": cov, "page": page, "groups": groups, "seminars": seminars,
        "can_manage": _can_manage(request.user), "import_form": ImportForm(), "seminar_form": SeminarForm(),
        "group_form": GroupForm()})


# ---------------------------------------------------------------- neglect

NEGLECT_TABS = (("overdue", "超期未联系"), ("cadres", "走访率偏低的干部"), ("empty", "空白走访记录"),
                ("disputed", "企业有异议的走访"))


@staff_required
def neglect(request):
    path = _scope_path(request.user)
    today = clock.today()
    tab = request.GET.get("tab") if request.GET.get("tab") in dict(NEGLECT_TABS) else "overdue"
    visits = Visit.objects.visible_to(request.user)
    if tab == "overdue":
        page = paginate(queries.overdue_contacts(path, today), request)
    elif tab == "cadres":
        page = paginate(queries.cadres_below_rate(path, today), request)
    elif tab == "empty":
        page = paginate(_visit_rows(queries.empty_visits(visits)).order_by("-visited_on", "-pk"), request)
    else:
        page = paginate(_visit_rows(queries.disputed_visits(visits)).order_by("-visited_on", "-pk"), request)
    return render(request, "visits/neglect.html", {"tab": tab, "tabs": NEGLECT_TABS, "page": page, "today": today})
