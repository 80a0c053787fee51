"""Revealing one masked number (个人信息保护法): a POST with a reason, written to the audit log.

One URL per kind of object, so that the object is fetched the way its own page fetches it, through
visible_to: a demand by its number, an enterprise by its credit code. Works without JavaScript (the answer
is a small page with the number and a way back); with htmx the answer replaces the masked number in place.
"""

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from qinqing.demands.errors import DomainError
from qinqing.demands.models import Demand
from qinqing.demands.views.common import is_htmx, staff_required
from qinqing.enterprises.models import HELPERS, Enterprise
from qinqing.lib import privacy

from . import services


def reveal_url(obj, name: str) -> str:
    if privacy.kind_of(obj) == "demand":
        return reverse("reveal_demand", kwargs={"number": obj.number, "field": name})
    return reverse("reveal_enterprise", kwargs={"code": obj.credit_code, "field": name})


def back_url(obj) -> str:
    if privacy.kind_of(obj) == "demand":
        return reverse("demands:detail", kwargs={"number": obj.number})
    return reverse("enterprises:detail", kwargs={"code": obj.credit_code})


@staff_required
@require_POST
def reveal_demand(request, number: str, field: str):
    """查看诉求的反映人电话或企业联系电话。"""
    demand = (Demand.objects.visible_to(request.user).select_related("enterprise", "jurisdiction")
              .filter(number=number).first())
    if demand is None or ("demand", field) not in privacy.FIELDS:
        raise Http404("诉求不存在或您无权查看。")
    return _reveal(request, demand, field)


@staff_required
@require_POST
def reveal_enterprise(request, code: str, field: str):
    """查看企业的联系电话。"""
    enterprise = (Enterprise.objects.visible_to(request.user).select_related("jurisdiction", *HELPERS)
                  .filter(credit_code=code).first())
    if enterprise is None or ("enterprise", field) not in privacy.FIELDS:
        raise Http404("企业不存在或您无权查看。")
    return _reveal(request, enterprise, field)


def _reveal(request, obj, name: str):
    field = privacy.personal_field(obj, name)
    reason = request.POST.get("reason", "")
    context = {"obj": obj, "field": field, "kind": field.kind, "action": reveal_url(obj, name),
               "back": back_url(obj), "reason": reason, "masked": field.mask(field.value(obj))}
    try:
        context["value"] = services.reveal_personal(request.user, obj, name, reason, request=request)
    except DomainError as exc:
        context["error"] = exc.message
        if is_htmx(request):  # htmx swaps 200 answers only: the form comes back with the reason why
            return render(request, "accounts/_reveal_error.html", context)
        return render(request, "accounts/reveal.html", context, status=exc.status)
    if is_htmx(request):
        return render(request, "accounts/_revealed.html", context)
    return render(request, "accounts/reveal.html", context)
