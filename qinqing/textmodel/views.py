"""The reply form's 检查答复质量 button (htmx): the advice on the reply being written, before it is sent."""

from django.http import Http404, HttpResponseForbidden
from django.shortcuts import render
from django.views.decorators.http import require_POST

from qinqing.demands.verbs import refusal
from qinqing.demands.views.common import staff_required
from qinqing.demands.views.detail import get_demand

from .replies import check_reply


@staff_required
@require_POST
def reply_check(request, number):
    """Whoever may reply to the demand now gets the advice on the text in the form's `reply` field, recorded
    (ReplyCheck, not sent); the reply form itself is untouched and sends as it always did."""
    demand = get_demand(request.user, number)  # 404 outside the caller's sight
    refused = refusal("reply", request.user, demand)
    if refused is not None:
        if refused[0] == "state":
            raise Http404(refused[1])
        return HttpResponseForbidden(refused[1])
    text = request.POST.get("reply", "").strip()
    if not text:
        return render(request, "textmodel/_reply_advice.html", {"empty": True})
    advice, _ = check_reply(request.user, demand, text[:5000])
    return render(request, "textmodel/_reply_advice.html", {"advice": advice})
