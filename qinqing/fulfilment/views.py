"""Pages of 政策兑现: the ledger (with its totals, seed 002's sentence and the Excel export), applications and
their review, one policy's fulfilment (its applications, its batches, a paper application, a new batch), one
batch (its lines, submit / approve / return / pay), and the enterprise's own applications and receipts.

Every write goes through qinqing.fulfilment.services; every row comes through a visible_to(user).
"""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from qinqing.audit.services import record_export
from qinqing.demands.errors import DomainError
from qinqing.demands.views.common import paginate, staff_required
from qinqing.enterprises.models import Enterprise
from qinqing.lib import clock
from qinqing.policies.models import Policy
from qinqing.portal.views import portal_page
from qinqing.reports.views import XLSX

from . import excel, ledger, services
from .models import (
    Application,
    ApplicationStatus,
    Batch,
    BatchLine,
    BatchStatus,
    FulfilmentEvent,
    FulfilmentRecord,
)

EXPORT_ROWS = 20000


def _policy(request, pk):
    return get_object_or_404(Policy.objects.visible_to(request.user).select_related("jurisdiction"), pk=pk)


@staff_required
def ledger_page(request):
    """兑现台账: the filtered records, paged with their total, the totals by policy, type, place and month,
    the days to payment and the sentence for the chosen period."""
    base = FulfilmentRecord.objects.visible_to(request.user)
    qs, form = ledger.filter_records(base, request.GET)
    if request.GET.get("format") == "xlsx":
        rows = list(qs[:EXPORT_ROWS])
        record_export("政策兑现台账", actor=request.user, rows=len(rows), query=request.GET.urlencode(),
                      request=request)
        response = HttpResponse(excel.export(rows), content_type=XLSX)
        name = f"政策兑现台账-{clock.today():%Y%m%d}.xlsx"
        response["Content-Disposition"] = content_disposition_header(True, name)
        return response
    page = paginate(qs, request)
    # The sentence speaks of money paid (已落实), so only when the ledger shows paid records.
    totals = ledger.summary(qs)
    text = ledger.sentence_of_summary(totals) if request.GET.get("state", "paid") in ("", "paid") else ""
    return render(request, "fulfilment/ledger.html", {"page": page, "form": form, "totals": totals,
                                                      "sentence": text})


@staff_required
def application_list(request):
    qs = (Application.objects.visible_to(request.user).select_related("policy", "enterprise")
          .order_by("-submitted_on", "-pk"))
    status = request.GET.get("status", "")
    if status in ApplicationStatus.values:
        qs = qs.filter(status=status)
    return render(request, "fulfilment/applications.html", {
        "page": paginate(qs, request), "statuses": ApplicationStatus.choices, "status": status})


def _application(request, pk):
    return get_object_or_404(Application.objects.visible_to(request.user)
                             .select_related("policy", "enterprise", "submitted_by", "reviewed_by"), pk=pk)


@staff_required
def application_detail(request, pk):
    app = _application(request, pk)
    events = list(FulfilmentEvent.objects.filter(application=app).select_related("actor").order_by("created_at", "pk"))
    record = FulfilmentRecord.objects.filter(application=app).first()
    return render(request, "fulfilment/application.html", {
        "app": app, "events": events, "record": record, "today": clock.today(),
        "may_review": services.may_review(request.user, app.policy)})


@staff_required
@require_POST
def application_act(request, pk):
    app = _application(request, pk)
    action = request.POST.get("action")
    try:
        if action == "approve":
            services.approve_application(request.user, app, request.POST.get("amount_granted"))
            messages.success(request, "已审核通过，兑现台账已登记，企业已收到通知。")
        elif action == "reject":
            services.reject_application(request.user, app, request.POST.get("reason"))
            messages.success(request, "已作不予通过处理，企业已收到原因。")
        elif action == "pay":
            services.record_payment(request.user, app, request.POST.get("paid_on"))
            messages.success(request, "已登记兑现日期。")
        else:
            messages.error(request, "未知的操作。")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("fulfilment:application", app.pk)


@staff_required
def policy_fulfilment(request, pk):
    """One policy's fulfilment: its applications (or, for 免申即享, its batches) and its ledger figures."""
    policy = _policy(request, pk)
    apps = (Application.objects.visible_to(request.user).filter(policy=policy).select_related("enterprise")
            .order_by("-submitted_on", "-pk"))
    batches = list(Batch.objects.visible_to(request.user).filter(policy=policy)
                   .select_related("prepared_by", "decided_by").order_by("-prepared_at", "-pk")[:50])
    records = FulfilmentRecord.objects.visible_to(request.user).filter(policy=policy)
    return render(request, "fulfilment/policy.html", {
        "policy": policy, "page": paginate(apps, request), "batches": batches,
        "totals": ledger.summary(records)["overall"], "today": clock.today(),
        "window_error": services.window_error(policy, clock.today()),
        "may_review": services.may_review(request.user, policy)})


@staff_required
@require_POST
def record_application(request, pk):
    """A paper application, recorded by staff for an enterprise they can see, by its credit code."""
    policy = _policy(request, pk)
    code = (request.POST.get("credit_code") or "").strip().upper()
    enterprise = Enterprise.objects.visible_to(request.user).filter(credit_code=code).first()
    try:
        if enterprise is None:
            raise DomainError(f"“申报企业”的统一社会信用代码“{code}”不在您可查看的企业库中。")
        app = services.apply_for_policy(request.user, policy, enterprise=enterprise,
                                        amount_requested=request.POST.get("amount_requested"),
                                        statement=request.POST.get("statement", ""),
                                        submitted_on=request.POST.get("submitted_on"))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("fulfilment:policy", policy.pk)
    messages.success(request, f"已登记{enterprise.name}的线下申报。")
    return redirect("fulfilment:application", app.pk)


@staff_required
@require_POST
def build_batch(request, pk):
    policy = _policy(request, pk)
    try:
        batch = services.build_batch(request.user, policy, title=request.POST.get("title", ""),
                                     as_of=request.POST.get("as_of") or None)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("fulfilment:policy", policy.pk)
    messages.success(request, f"批次已编制：{batch.enterprise_count}户企业，合计{batch.total_amount}万元。")
    return redirect("fulfilment:batch", batch.pk)


@staff_required
def batch_list(request):
    qs = (Batch.objects.visible_to(request.user).select_related("policy", "prepared_by", "decided_by")
          .order_by("-prepared_at", "-pk"))
    status = request.GET.get("status", "")
    if status in BatchStatus.values:
        qs = qs.filter(status=status)
    return render(request, "fulfilment/batches.html", {"page": paginate(qs, request), "statuses": BatchStatus.choices,
                                                       "status": status})


def _batch(request, pk):
    return get_object_or_404(Batch.objects.visible_to(request.user)
                             .select_related("policy", "policy__jurisdiction", "prepared_by", "decided_by"), pk=pk)


@staff_required
def batch_detail(request, pk):
    batch = _batch(request, pk)
    reach = Enterprise.objects.visible_to(request.user)
    lines = (BatchLine.objects.filter(batch=batch, enterprise__in=reach).select_related("enterprise__jurisdiction")
             .order_by("-amount", "pk"))
    events = list(FulfilmentEvent.objects.filter(batch=batch).select_related("actor").order_by("created_at", "pk"))
    user = request.user
    return render(request, "fulfilment/batch.html", {
        "batch": batch, "page": paginate(lines, request), "events": events, "today": clock.today(),
        "may_review": services.may_review(user, batch.policy), "is_preparer": batch.prepared_by_id == user.pk})


@staff_required
@require_POST
def batch_act(request, pk):
    batch = _batch(request, pk)
    action, user = request.POST.get("action"), request.user
    try:
        if action == "refresh":
            batch = services.refresh_batch(user, batch)
            messages.success(request, f"已重新测算：{batch.enterprise_count}户企业，合计{batch.total_amount}万元。")
        elif action == "submit":
            services.submit_batch(user, batch)
            messages.success(request, "已提交审批，请另一位同事审批。")
        elif action == "approve":
            services.approve_batch(user, batch)
            messages.success(request, "批次已审批，兑现台账已登记，企业已收到通知。")
        elif action == "return":
            services.return_batch(user, batch, request.POST.get("reason"))
            messages.success(request, "批次已退回编制人。")
        elif action == "pay":
            services.pay_batch(user, batch, request.POST.get("paid_on"))
            messages.success(request, "已登记拨付日期，企业已收到通知。")
        else:
            messages.error(request, "未知的操作。")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("fulfilment:batch", batch.pk)


# ---------------------------------------------------------------- the enterprise's side


@portal_page
def my_fulfilment(request):
    """The enterprise's applications with their outcomes, and everything it received (申报 and 免申即享)."""
    user = request.user
    apps = list(Application.objects.visible_to(user).select_related("policy").order_by("-submitted_on", "-pk")[:100])
    received = list(FulfilmentRecord.objects.visible_to(user).select_related("policy")
                    .order_by("-granted_on", "-pk")[:100])
    totals = ledger.summary(FulfilmentRecord.objects.visible_to(user).paid())["overall"]
    return render(request, "fulfilment/portal.html", {"apps": apps, "received": received, "totals": totals})


@portal_page
@require_POST
def apply(request, pk):
    """The enterprise applies for a current policy that applies where it is registered."""
    policy = get_object_or_404(Policy.objects.visible_to(request.user), pk=pk)
    try:
        services.apply_for_policy(request.user, policy, amount_requested=request.POST.get("amount_requested"),
                                  statement=request.POST.get("statement", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("policies_portal:detail", policy.pk)
    messages.success(request, "申报已提交，审核结果将通过消息通知您。")
    return redirect("fulfilment:mine")
