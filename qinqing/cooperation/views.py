"""Pages of the cooperation app: the escalation queues, the dispatcher's 退单争议 queue, and one POST view per
step taken from the demand page (each calls its service and returns to the demand with a message)."""

import datetime as dt

from django.contrib import messages
from django.db.models import Count, OuterRef, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from qinqing.accounts.models import Role
from qinqing.demands.errors import DomainError
from qinqing.demands.models import Demand, Tier
from qinqing.demands.views.common import paginate, staff_required
from qinqing.lib import clock

from . import services
from .models import Dispute, DisputeStatus, InstructionAnswer

TIERS = [(Tier.JOINT_OFFICE, "联席办"), (Tier.DISTRICT_LEADER, "区领导")]


def _queue_rows(user, tier: int):
    unanswered = (InstructionAnswer.objects.filter(instruction__demand_id=OuterRef("pk"), answered_at__isnull=True)
                  .order_by().values("instruction__demand_id").annotate(n=Count("pk")).values("n"))
    return (services.escalation_queue(user, tier).select_related("enterprise", "lead_unit", "jurisdiction")
            .annotate(unanswered=Subquery(unanswered[:1])))


@staff_required
def queue(request):
    """提级队列: the open demands escalated to 联席办 or 区领导 in the user's jurisdiction, oldest first, with the
    instructions their units have not yet answered."""
    if not services.may_see_queue(request.user):
        raise Http404("页面不存在")
    try:
        tier = int(request.GET.get("tier", Tier.JOINT_OFFICE))
    except (TypeError, ValueError):
        tier = Tier.JOINT_OFFICE
    if tier not in dict(TIERS):
        tier = Tier.JOINT_OFFICE
    page = paginate(_queue_rows(request.user, tier), request)
    today = clock.today()
    for d in page.rows:
        d.age_days = (today - timezone.localtime(d.received_at).date()).days
    return render(request, "cooperation/queue.html", {"page": page, "tier": tier, "tiers": TIERS,
                                                      "may_decide_disputes": _sees_disputes(request.user)})


def _sees_disputes(user) -> bool:
    return user.is_superuser or user.has_role(Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)


@staff_required
def disputes(request):
    """退单争议: the disputes awaiting the dispatcher's decision (and, below, the ones decided lately)."""
    if not _sees_disputes(request.user):
        raise Http404("页面不存在")
    visible = Dispute.objects.filter(demand__in=Demand.objects.visible_to(request.user).values("pk"))
    status = request.GET.get("status") if request.GET.get("status") in DisputeStatus.values else DisputeStatus.PENDING
    order = ("raised_at", "id") if status == DisputeStatus.PENDING else ("-decided_at", "-id")
    rows = (visible.filter(status=status).select_related("demand", "unit", "entry__unit", "raised_by", "decided_by")
            .order_by(*order))
    page = paginate(rows, request)
    return render(request, "cooperation/disputes.html",
                  {"page": page, "status": status, "statuses": DisputeStatus.choices})


# ---------------------------------------------------------------- steps from the demand page

def _demand(request, number: str) -> Demand:
    return get_object_or_404(Demand.objects.visible_to(request.user), number=number)


def _done(request, demand: Demand, call, success: str):
    """Run a service; its refusal becomes an error message, and either way the user is back on the demand."""
    try:
        call()
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)
    url = reverse("demands:detail", args=[demand.number]) + "#cooperation"
    if not Demand.objects.visible_to(request.user).filter(pk=demand.pk).exists():
        return redirect("home")
    return redirect(url)


@staff_required
@require_POST
def accept_task(request, number):
    demand = _demand(request, number)
    return _done(request, demand, lambda: services.accept_co_task(request.user, demand,
                                                                  note=request.POST.get("note", "")), "已接收协办任务。")


@staff_required
@require_POST
def opinion(request, number):
    demand = _demand(request, number)
    return _done(request, demand, lambda: services.write_opinion(request.user, demand,
                                                                 opinion=request.POST.get("opinion", "")),
                 "已提交协办意见，主办单位可在诉求页查看。")


@staff_required
@require_POST
def dispute(request, number):
    demand = _demand(request, number)
    return _done(request, demand, lambda: services.dispute_dispatch(
        request.user, demand, entry=request.POST.get("entry"), reason=request.POST.get("reason", "")),
        "已提出退单争议，等待调度员裁定。")


@staff_required
@require_POST
def decide(request, number):
    demand = _demand(request, number)
    upheld = request.POST.get("decision") == "upheld"
    if request.POST.get("decision") not in ("upheld", "rejected"):
        messages.error(request, "请选择裁定结果：退单成立或不成立。")
        return redirect(reverse("demands:detail", args=[demand.number]) + "#cooperation")
    return _done(request, demand, lambda: services.decide_dispute(
        request.user, demand, upheld=upheld, note=request.POST.get("note", "")),
        "已裁定：退单成立，已改派。" if upheld else "已裁定：退单不成立。")


@staff_required
@require_POST
def instruct(request, number):
    demand = _demand(request, number)
    return _done(request, demand, lambda: services.write_instruction(request.user, demand,
                                                                     text=request.POST.get("text", "")),
                 "已批示，主办和协办单位将收到通知并反馈落实情况。")


@staff_required
@require_POST
def answer(request, number):
    demand = _demand(request, number)
    instruction = demand.instructions.filter(pk=_int(request.POST.get("instruction"))).first()
    if instruction is None:
        messages.error(request, "批示不存在。")
        return redirect(reverse("demands:detail", args=[demand.number]) + "#cooperation")
    return _done(request, demand, lambda: services.answer_instruction(request.user, instruction,
                                                                      text=request.POST.get("text", "")),
                 "已反馈批示落实情况。")


@staff_required
@require_POST
def progress(request, number):
    demand = _demand(request, number)
    return _done(request, demand, lambda: services.record_progress(request.user, demand,
                                                                   text=request.POST.get("text", "")),
                 "已报送研究推进进展。")


@staff_required
@require_POST
def review(request, number):
    demand = _demand(request, number)
    try:
        review_on = dt.date.fromisoformat(request.POST.get("review_on", ""))
    except ValueError:
        messages.error(request, "请填写有效的评估日期（年-月-日）。")
        return redirect(reverse("demands:detail", args=[demand.number]) + "#cooperation")
    return _done(request, demand, lambda: services.set_review(
        request.user, demand, review_on=review_on, interval_months=request.POST.get("interval_months", 1)),
        "已调整评估日期。")


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
