"""Staff pages of the policy library: the list (with its Excel export and import), one policy with the
enterprises it matches and those it nearly matches, the record form, the rule editor and the status actions.

Every write goes through qinqing.policies.services; every row comes through Policy/Enterprise.visible_to.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from qinqing.audit.services import record_export
from qinqing.demands.errors import DomainError
from qinqing.demands.models import Demand
from qinqing.demands.views.common import paginate, staff_required
from qinqing.enterprises.models import Enterprise
from qinqing.lib import clock, uploads
from qinqing.reports.views import XLSX

from . import excel, matching, models, pocketbook, reach, rules, services
from .filters import filter_eligible, filter_policies
from .forms import ConditionFormSet, PocketBookForm, PolicyForm, initial_rows
from .models import Policy, PolicyAttachment, PolicyEvent, Status

EXPORT_ROWS = 5000
SHOWN_MATCHES = 50


def _policy(request, pk):
    return get_object_or_404(Policy.objects.visible_to(request.user).select_related("jurisdiction", "created_by"),
                             pk=pk)


def _require_editor(user, place=None):
    if not services.may_edit(user, place):
        raise PermissionDenied("只有本辖区营商办或管理员可以维护惠企政策。")


@staff_required
def policy_list(request):
    qs, form = filter_policies(Policy.objects.visible_to(request.user), request.GET)
    today = clock.today()
    if request.GET.get("format") == "xlsx":
        rows = list(qs[:EXPORT_ROWS])
        record_export("惠企政策清单", actor=request.user, rows=len(rows), query=request.GET.urlencode(),
                      request=request)
        response = HttpResponse(excel.export(rows, today), content_type=XLSX)
        response["Content-Disposition"] = content_disposition_header(True, f"惠企政策-{today:%Y%m%d}.xlsx")
        return response
    page = paginate(qs, request)
    return render(request, "policies/list.html", {"page": page, "form": form, "today": today,
                                                  "may_edit": services.may_edit(request.user)})


@staff_required
def policy_detail(request, pk):
    """One policy: its record, its rule in words, the eligible enterprises (reason, estimate) and the near
    misses with the condition each lacks, all among the enterprises the user may see."""
    policy = _policy(request, pk)
    reach_scope = Enterprise.objects.visible_to(request.user)
    eligible, eligible_form = filter_eligible(matching.eligible_list(policy, reach_scope), request.GET)
    eligible = eligible.select_related("jurisdiction").order_by("name", "pk")
    if request.GET.get("format") == "xlsx":
        return _eligible_export(request, policy, eligible)
    page = paginate(eligible, request)
    for e in page.rows:
        e.reason = matching.reason(policy, e.matched_group)
    misses = list(matching.near_misses(policy, reach_scope).select_related("jurisdiction")
                  .order_by("name", "pk")[:SHOWN_MATCHES])
    for e in misses:
        e.missing_text = matching.missing_text(policy, e.missing)
    files = list(policy.attachments.order_by("uploaded_at", "pk"))
    figures = reach.figures(policy, reach_scope)
    questions = list(Demand.objects.visible_to(request.user).filter(policy_link__policy=policy)
                     .select_related("lead_unit", "enterprise").order_by("-received_at", "-pk")[:SHOWN_MATCHES])
    events = list(PolicyEvent.objects.filter(policy=policy).select_related("actor").order_by("-created_at", "-pk")[:20])
    return render(request, "policies/detail.html", {
        "policy": policy, "page": page, "misses": misses, "files": files, "shown": SHOWN_MATCHES, "events": events,
        "reach": figures, "definitions": reach.DEFINITIONS, "questions": questions, "eligible_form": eligible_form,
        "may_edit": services.may_edit(request.user, policy.jurisdiction), "today": clock.today(),
        "stored": matching.stores_matches(policy)})


def _eligible_export(request, policy, eligible):
    """The eligible list (the page's filters) as a workbook, written to the audit log."""
    rows = list(eligible[:EXPORT_ROWS])
    for e in rows:
        e.reason = matching.reason(policy, e.matched_group)
    record_export("政策符合条件企业", actor=request.user, rows=len(rows), query=request.GET.urlencode(),
                  request=request, policy=policy.pk)
    response = HttpResponse(excel.export_eligible(policy, rows), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, f"符合条件企业-{policy.pk}.xlsx")
    return response


def _save_policy(request, policy=None):
    form = PolicyForm(request.POST or None, instance=policy)
    if request.method == "POST":
        try:
            if policy is None:
                policy = services.register_policy(request.user, form.data_for_service())
                messages.success(request, "政策已登记为草稿，请设置适用条件后发布。")
                return redirect("policies:rule", policy.pk)
            services.update_policy(request.user, policy, form.data_for_service())
            messages.success(request, "政策已保存。")
            return redirect("policies:detail", policy.pk)
        except DomainError as exc:
            messages.error(request, exc.message)
    return render(request, "policies/form.html", {"form": form, "policy": policy})


@staff_required
def policy_new(request):
    _require_editor(request.user)
    return _save_policy(request)


@staff_required
def policy_edit(request, pk):
    policy = _policy(request, pk)
    _require_editor(request.user, policy.jurisdiction)
    return _save_policy(request, policy)


@staff_required
def policy_rule(request, pk):
    """The rule editor: rows of conditions; the same group number means 且, another group 或, 非 negates."""
    policy = _policy(request, pk)
    _require_editor(request.user, policy.jurisdiction)
    if request.method == "POST":
        formset = ConditionFormSet(request.POST)
        if formset.is_valid():
            rows = [f.cleaned_data for f in formset.forms if f.cleaned_data.get("field")]
            try:
                policy = services.set_rule(request.user, policy, rows)
            except (DomainError, rules.RuleError) as exc:
                messages.error(request, getattr(exc, "message", str(exc)))
            else:
                messages.success(request, f"适用条件已保存。{policy.rule_text}")
                return redirect("policies:detail", policy.pk)
        else:
            messages.error(request, "请检查标红的条件行。")
    else:
        formset = ConditionFormSet(initial=initial_rows(policy.rule))
    return render(request, "policies/rule.html", {"policy": policy, "formset": formset, "fields": rules.FIELDS})


@staff_required
@require_POST
def policy_status(request, pk):
    policy = _policy(request, pk)
    action = request.POST.get("action")
    try:
        if action == "publish":
            services.publish_policy(request.user, policy)
            messages.success(request, "政策已发布，辖区企业可在企业端看到。")
        elif action in ("expire", "repeal"):
            services.end_policy(request.user, policy, repeal=action == "repeal", reason=request.POST.get("reason", ""))
            messages.success(request, "政策已废止。" if action == "repeal" else "政策已宣布失效。")
        else:
            messages.error(request, "未知的操作。")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("policies:detail", policy.pk)


@staff_required
def policy_import(request):
    _require_editor(request.user)
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, "请选择要导入的 Excel 文件（.xlsx）。")
        else:
            try:
                count = excel.import_file(request.user, upload)
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, f"已导入{count}条政策（草稿），请逐条设置适用条件后发布。")
                return redirect(f"{reverse('policies:list')}?state=draft")
    return render(request, "policies/import.html", {"columns": [h for h, _ in excel.COLUMNS],
                                                    "statuses": Status.choices})


@staff_required
@require_POST
def policy_attach(request, pk):
    policy = _policy(request, pk)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "请选择要上传的附件。")
    else:
        try:
            services.attach_file(request.user, policy, upload)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "附件已上传。")
    return redirect("policies:detail", policy.pk)


@staff_required
def policy_file(request, pk):
    """A policy's attachment, to staff who may see the policy (404 otherwise)."""
    item = get_object_or_404(PolicyAttachment.objects.filter(policy__in=Policy.objects.visible_to(request.user)),
                             pk=pk)
    try:
        return uploads.stored_file_response(item.file, item.name, inline=True)
    except FileNotFoundError:
        raise Http404("附件文件已丢失") from None


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@staff_required
def pocket_book(request):
    """口袋书: choose the day and the jurisdiction, see how many policies per benefit type, download the Word
    file for A5 printing (written to the audit log as an export)."""
    today = clock.today()
    form = PocketBookForm(request.user, request.GET or None, initial={"day": today})
    if not request.GET and (place := models.staff_place(request.user)) is not None:
        form = PocketBookForm(request.user, {"day": today.isoformat(), "place": place.pk})
    book, chosen = [], None
    if form.is_valid():
        day, chosen = form.cleaned_data["day"], form.cleaned_data["place"]
        policies = list(pocketbook.policies_valid_on(request.user, day, chosen))
        if request.GET.get("download"):
            record_export("惠企政策口袋书", actor=request.user, rows=len(policies), query=request.GET.urlencode(),
                          request=request)
            response = HttpResponse(pocketbook.render(chosen.name, day, policies), content_type=DOCX)
            response["Content-Disposition"] = content_disposition_header(
                True, f"惠企政策口袋书-{chosen.name}-{day:%Y%m%d}.docx")
            return response
        book = pocketbook.groups(policies)
    return render(request, "policies/pocketbook.html", {"form": form, "book": book, "place": chosen,
                                                        "total": sum(len(g.policies) for g in book)},
                  status=400 if form.errors else 200)
