"""Pages of the people on a demand: 我的诉求, the demand page's assign / watch / note / urge forms, 常用语, and
bulk actions on the ledger and inboxes. Every change goes through qinqing.handling.services."""

from django import forms
from django.contrib import messages
from django.db.models import Exists, OuterRef, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from qinqing.demands.errors import DomainError, NotFoundError
from qinqing.demands.filters import LEDGER_ORDER, filter_demands
from qinqing.demands.models import OPEN_STATES, Demand, State
from qinqing.demands.views.common import LIST_RELATED, paginate, staff_required, visible_demands
from qinqing.demands.views.detail import get_demand
from qinqing.demands.views.ledger import _params

from . import services
from .models import PLACEHOLDERS, CannedReply

# ---------------------------------------------------------------- my demands


@staff_required
def mine(request):
    """我的诉求: the open demands the unit head assigned to me, nearest deadline first, with their total."""
    qs = services.my_demands(request.user).select_related(*LIST_RELATED)
    page = paginate(qs, request)
    return render(request, "handling/mine.html", {"page": page})


# ---------------------------------------------------------------- the demand page's forms


def _back(number: str, anchor: str = "people"):
    return redirect(f"{reverse('demands:detail', args=[number])}#{anchor}")


def _run(request, number: str, call, done: str, anchor: str = "people"):
    """Call a service on the demand named in the URL; its refusal becomes the page's message."""
    demand = get_demand(request.user, number)
    try:
        call(demand)
    except NotFoundError:
        raise Http404("诉求不存在") from None
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return _back(demand.number, anchor)


@staff_required
@require_POST
def assign(request, number):
    return _run(request, number, lambda d: services.assign_demand(
        request.user, d, assignee=request.POST.get("assignee"), reason=request.POST.get("reason", "")),
        "已指派承办人。")


@staff_required
@require_POST
def watch(request, number):
    if request.POST.get("follow") == "0":
        return _run(request, number, lambda d: services.unwatch_demand(request.user, d), "已取消关注。")
    return _run(request, number, lambda d: services.watch_demand(request.user, d),
                "已关注：该诉求的办理进展会通知您。")


@staff_required
@require_POST
def note(request, number):
    return _run(request, number, lambda d: services.add_note(request.user, d, text=request.POST.get("text", "")),
                "已添加内部备注。")


@staff_required
@require_POST
def urge(request, number):
    return _run(request, number, lambda d: services.urge_demand(request.user, d, note=request.POST.get("note", "")),
                "已催办，主办单位已收到通知。")


# ---------------------------------------------------------------- canned replies


class CannedReplyForm(forms.Form):
    title = forms.CharField(label="标题", max_length=40)
    text = forms.CharField(label="内容", max_length=2000, widget=forms.Textarea(attrs={"rows": 5}),
                           help_text="可用占位符：" + " ".join("{" + p + "}" for p in PLACEHOLDERS))
    scope = forms.ChoiceField(label="范围")

    def __init__(self, *args, user, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["scope"]
        else:
            self.fields["scope"].choices = services.scopes_for(user)


def _may_keep_replies(user) -> bool:
    return bool(services.scopes_for(user))


@staff_required
def canned(request):
    """常用语: the replies the user keeps, and a form for a new one (unit heads, dispatchers, administrators)."""
    if not _may_keep_replies(request.user):
        raise Http404("页面不存在")
    form = CannedReplyForm(request.POST or None, user=request.user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.create_canned_reply(request.user, **form.cleaned_data)
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"已新增常用语“{form.cleaned_data['title']}”。")
                return redirect("handling:canned")
        status = 400
    page = paginate(services.manageable_replies(request.user).order_by("title", "id"), request)
    return render(request, "handling/canned.html", {"form": form, "page": page, "placeholders": PLACEHOLDERS},
                  status=status)


def _kept(request, pk) -> CannedReply:
    reply = services.manageable_replies(request.user).filter(pk=pk).first()
    if reply is None or not services.may_manage(request.user, reply):
        raise Http404("常用语不存在或您无权维护。")
    return reply


@staff_required
def canned_edit(request, pk):
    reply = _kept(request, pk)
    initial = {"title": reply.title, "text": reply.text}
    form = CannedReplyForm(request.POST or None, initial=initial, user=request.user, editing=True)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.update_canned_reply(request.user, reply.pk, **form.cleaned_data)
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "已保存常用语。")
                return redirect("handling:canned")
        status = 400
    return render(request, "handling/canned_edit.html", {"form": form, "reply": reply}, status=status)


@staff_required
@require_POST
def canned_delete(request, pk):
    reply = _kept(request, pk)
    services.delete_canned_reply(request.user, reply.pk)
    messages.success(request, f"已删除常用语“{reply.title}”。")
    return redirect("handling:canned")


# ---------------------------------------------------------------- bulk actions

SOURCES = {"ledger": "诉求台账", "dispatch": "交办箱", "unit": "本单位", "mine": "我的诉求"}
# The lists that carry the action bar themselves (handling_tags.bulk_bar): their form says origin=list, and
# the result page and any refusal lead back to that list, with its filters and page, not to the bulk page.
LIST_URLS = {"ledger": "demands:ledger", "unit": "demands:unit_inbox", "dispatch": "demands:dispatch_inbox"}


def _list_back(request, source: str) -> str:
    """Where "返回继续操作" leads: the list the bar was on (its filters and page kept), or the bulk page."""
    if request.POST.get("origin") == "list" and source in LIST_URLS:
        query = request.GET.copy()
        query.pop("source", None)
        return reverse(LIST_URLS[source]) + (f"?{query.urlencode()}" if query else "")
    return request.get_full_path()


def _bulk_rows(request, source: str):
    """The rows of the list the bulk page was opened from, as that list selects them."""
    user = request.user
    base = visible_demands(user)
    if source == "dispatch":
        return base.filter(state__in=[State.RECEIVED, State.RETURNED]).order_by(*LEDGER_ORDER), None
    if source == "unit":
        if not user.unit_id:
            return base.none(), None
        co = Demand.co_units.through.objects.filter(demand_id=OuterRef("pk"), unit_id=user.unit_id)
        return (base.filter(Q(lead_unit_id=user.unit_id) | Exists(co), state__in=OPEN_STATES)
                .order_by(*LEDGER_ORDER)), None
    if source == "mine":
        return services.my_demands(user).select_related(*LIST_RELATED), None
    qs, form = filter_demands(base, _params(request))
    return qs.order_by(*LEDGER_ORDER), form


@staff_required
def bulk(request):
    """批量操作: tick demands of a list, then dispatch them to one unit, urge them, assign them to a handler or
    export them. Each row goes through its own service in its own transaction; the result names every row."""
    user = request.user
    source = request.GET.get("source") if request.GET.get("source") in SOURCES else "ledger"
    if request.method == "POST":
        picked = request.POST.getlist("pick")
        action = request.POST.get("action", "")
        back = _list_back(request, source)
        if action == "export":
            if not picked:
                messages.error(request, "请至少勾选一件诉求。")
                return redirect(back)
            if len(picked) > services.BULK_MAX:
                messages.error(request, f"一次最多导出所选{services.BULK_MAX}件，请改用台账的按筛选导出。")
                return redirect(back)
            return redirect(f"{reverse('workbench:export')}?{urlencode({'numbers': ','.join(picked)})}")
        try:
            results = services.bulk_act(user, action, picked, unit=request.POST.get("unit") or None,
                                        assignee=request.POST.get("assignee") or None,
                                        note=request.POST.get("note", ""))
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect(back)
        ok = sum(r.ok for r in results)
        context = {"results": results, "ok": ok, "failed": len(results) - ok,
                   "action_label": services.BULK_ACTIONS[action], "source": source,
                   "source_label": SOURCES[source], "back": back}
        return render(request, "handling/bulk_result.html", context)
    rows, form = _bulk_rows(request, source)
    page = paginate(rows, request, size=services.BULK_MAX)
    units, handlers = services.bulk_choices(user)
    query = request.GET.copy()
    query.pop("page", None)
    context = {"page": page, "source": source, "source_label": SOURCES[source], "units": units,
               "handlers": handlers, "form": form, "query": query.urlencode(),
               # the list's filters, carried and shown so the user knows which rows these are
               "query_pairs": [(name, value) for name, values in query.lists() for value in values],
               "may_dispatch": bool(units), "may_assign": bool(handlers), "may_urge": services.may_bulk_urge(user)}
    return render(request, "handling/bulk.html", context)
