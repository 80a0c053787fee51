"""诉求台账: every visible demand, filtered by the shared filter form, nearest deadline first."""

from django import forms
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from qinqing.demands.filters import LEDGER_ORDER, filter_demands
from qinqing.demands.models import State
from qinqing.demands.taxonomy import environment_choices
from qinqing.demands.widgets import QuickSelect
from qinqing.enterprises.models import Enterprise

from .common import is_htmx, jurisdictions_in_scope, paginate, staff_required, units_in_scope, visible_demands
from .tools import ledger_tools


def _params(request):
    """The GET parameters without empty 'state' values (an unselected single select posts one)."""
    params = request.GET.copy()
    if "state" in params:
        params.setlist("state", [v for v in params.getlist("state") if v])
    return params


def _decorate(form, user):
    """Narrow the dropdowns to the user's scope and give the fields widgets that suit a filter bar."""
    form.fields["unit"].queryset = units_in_scope(user)
    form.fields["jurisdiction"].queryset = jurisdictions_in_scope(user)
    for name in ("category", "unit", "jurisdiction"):
        form.fields[name].empty_label = "全部"
    # One state is picked from a drop-down. A link naming several (the dashboard's figures count every state
    # but 已并单; a home card counts 待交办 and 已退回) keeps its multiple select: a drop-down would show only
    # the last of them, and the next change to any filter would send that one alone.
    if len([v for v in form.data.getlist("state") if v]) <= 1:
        form.fields["state"].widget = QuickSelect(choices=[("", "全部"), *State.choices])
    form.fields["env_class"].widget.choices, form.fields["aspect"].widget.choices = environment_choices()
    for name in ("received_from", "received_to"):
        form.fields[name].widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    form.fields["q"].widget.attrs.update(placeholder="标题、内容、企业或编号", type="search")
    return form


def _enterprise_named(form, user):
    """The enterprise a link from its page filters by (a hidden field), to say so above the rows; None if
    the user may not see it (the filter then matches nothing they may see)."""
    pk = form.cleaned_data.get("enterprise") if form.is_bound and form.is_valid() else None
    if not pk:
        return None
    return Enterprise.objects.visible_to(user).filter(pk=pk).only("pk", "name", "credit_code").first()


@staff_required
def ledger(request):
    qs, form = filter_demands(visible_demands(request.user), _params(request))
    page = paginate(qs.order_by(*LEDGER_ORDER), request)
    filtered = any(v for k, vs in request.GET.lists() if k != "page" for v in vs)
    context = {"form": _decorate(form, request.user), "page": page, "filtered": filtered,
               "for_enterprise": _enterprise_named(form, request.user), **ledger_tools(request)}
    template = "demands/_ledger_results.html" if is_htmx(request) else "demands/ledger.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response
