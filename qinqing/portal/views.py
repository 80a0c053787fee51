"""The enterprise portal: an owner on a phone submits a demand, follows it, rates it, reopens it.

Every page is for one enterprise: rows come from `Demand.objects.visible_to(user)` narrowed to
the user's own enterprise, so a demand of another enterprise is a 404 even for a user who can
see it through some other role. State changes go through `qinqing.demands.services` only.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.datastructures import MultiValueDict
from django.views.decorators.http import require_POST

from qinqing.accounts.models import Role
from qinqing.demands import services
from qinqing.demands.errors import DomainError, NotFoundError
from qinqing.demands.filters import filter_demands
from qinqing.demands.models import OPEN_STATES, Channel, Demand, Evaluation, State
from qinqing.demands.verbs import allowed_verbs
from qinqing.demands.views.common import paginate
from qinqing.enterprises.models import Enterprise
from qinqing.lib import uploads

from . import plain
from .forms import RateForm, ReopenForm, SubmitDemandForm

HOME_LIMIT = 10
HISTORY_PAGE = 20
# What the owner counts as "still being worked on": everything not waiting for them and not finished.
NOT_IN_PROGRESS = (State.REPLIED, State.CLOSED, State.MERGED)
IN_PROGRESS = tuple(s for s in State.values if s not in NOT_IN_PROGRESS)
# History tabs, expressed as parameters of the ledger's own filter form.
TABS = {
    "": ("全部", {}),
    "doing": ("办理中", {"state": list(IN_PROGRESS)}),
    "rate": ("待评价", {"state": [State.REPLIED]}),
    "done": ("已办结", {"group": ["done"]}),
}


def portal_page(view):
    """Only enterprise accounts linked to an enterprise; staff are sent to their workbench."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not (user.has_role(Role.ENTERPRISE) and user.enterprise_id):
            if user.is_staff_user:
                return redirect("home")
            raise Http404("您的账号尚未关联企业。")
        return view(request, *args, **kwargs)

    return wrapper


def own_demands(user):
    """The user's enterprise's demands, through the one visibility rule."""
    return Demand.objects.visible_to(user).filter(enterprise_id=user.enterprise_id)


def get_own_demand(user, number: str) -> Demand:
    qs = own_demands(user).select_related("lead_unit", "category", "jurisdiction",
                                          "enterprise__helpers__service_specialist", "enterprise__helpers__contact_leader")
    return get_object_or_404(qs, number=number)


def _md(day) -> str:
    return f"{day.month}月{day.day}日"


def rows(demands) -> list[dict]:
    out = []
    for demand in demands:
        label, colour = plain.badge(demand)
        out.append({"demand": demand, "badge": label, "colour": colour, "status": plain.status_line(demand)})
    return out


# ---------------------------------------------------------------- pages


@portal_page
def home(request):
    user = request.user
    enterprise = get_object_or_404(
        Enterprise.objects.visible_to(user).select_related("helpers__service_specialist__unit", "helpers__contact_leader"),
        pk=user.enterprise_id,
    )
    demands = own_demands(user)
    counts = demands.aggregate(
        total=Count("pk", filter=~Q(state=State.MERGED)),
        in_progress=Count("pk", filter=Q(state__in=IN_PROGRESS)),
        to_rate=Count("pk", filter=Q(state=State.REPLIED)),
        closed=Count("pk", filter=Q(state=State.CLOSED)),
    )
    recent = demands.select_related("lead_unit").order_by("-received_at", "-id")[:HOME_LIMIT]
    return render(request, "portal/home.html", {
        "enterprise": enterprise, "counts": counts, "rows": rows(recent), "limit": HOME_LIMIT,
    })


@portal_page
def history(request):
    tab = request.GET.get("tab", "")
    if tab not in TABS:
        tab = ""
    params = MultiValueDict(TABS[tab][1]) if tab else None
    qs, _form = filter_demands(own_demands(request.user), params)
    page = paginate(qs.select_related("lead_unit").order_by("-received_at", "-id"), request, size=HISTORY_PAGE)
    return render(request, "portal/history.html", {
        "tabs": [(key, label) for key, (label, _) in TABS.items()], "tab": tab, "page": page,
        "rows": rows(page.rows),
    })


@portal_page
def submit(request):
    form = SubmitDemandForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            demand = services.receive_demand(
                request.user, channel=Channel.ONLINE, title=data["title"], content=data["content"],
                category=data["category"], attachments=data["attachments"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"已提交，编号{demand.number}。"
                                      f"我们会在{_md(demand.dispatch_due)}前安排承办单位，请留意进度。")
            return redirect("portal:detail", number=demand.number)
    return render(request, "portal/submit.html", {"form": form}, status=400 if form.errors else 200)


def _detail(request, demand, *, rate_form=None, reopen_form=None, status=200):
    user = request.user
    verbs = allowed_verbs(user, demand)
    events = demand.events.filter(internal=False).order_by("created_at", "id")
    label, colour = plain.badge(demand)
    if "evaluate" in verbs and rate_form is None:
        rate_form = RateForm(initial={"version": demand.version})
    if "reopen" in verbs and reopen_form is None:
        reopen_form = ReopenForm(initial={"version": demand.version, "reason": demand.evaluation_comment})
    return render(request, "portal/detail.html", {
        "demand": demand, "badge": label, "colour": colour, "status": plain.status_line(demand),
        "steps": plain.progress(demand),
        "timeline": plain.timeline(events, user, shown=(demand.reply, demand.solution_path)),
        "attachments": demand.attachments.order_by("uploaded_at", "id"),
        "can_rate": "evaluate" in verbs, "can_reopen": "reopen" in verbs,
        "rate_form": rate_form if "evaluate" in verbs else None,
        "reopen_form": reopen_form if "reopen" in verbs else None,
        "show_due": demand.state in OPEN_STATES,
        "unsatisfied": demand.evaluation == Evaluation.UNSATISFIED,
    }, status=status)


@portal_page
def detail(request, number):
    return _detail(request, get_own_demand(request.user, number))


def _act(request, demand, form, action, success: str, form_kwarg: str):
    """Run a service with the form's data; on a DomainError show its message inline, change nothing."""
    if form.is_valid():
        try:
            action(form.cleaned_data)
        except NotFoundError:
            raise Http404 from None
        except DomainError as exc:
            form.add_error(None, exc.message)
            return _detail(request, demand, status=exc.status, **{form_kwarg: form})
        messages.success(request, success)
        return redirect("portal:detail", number=demand.number)
    return _detail(request, demand, status=400, **{form_kwarg: form})


@require_POST
@portal_page
def rate(request, number):
    demand = get_own_demand(request.user, number)
    form = RateForm(request.POST)

    def action(data):
        services.evaluate_demand(request.user, demand, evaluation=data["evaluation"], comment=data["comment"],
                                 version=data["version"])

    unsatisfied = request.POST.get("evaluation") == Evaluation.UNSATISFIED
    success = ("已收到您的评价。如需继续解决，可在下方申请重新办理。" if unsatisfied
               else "感谢您的评价！")
    return _act(request, demand, form, action, success, "rate_form")


@require_POST
@portal_page
def reopen(request, number):
    demand = get_own_demand(request.user, number)
    form = ReopenForm(request.POST)

    def action(data):
        services.reopen_demand(request.user, demand, reason=data["reason"], version=data["version"])

    return _act(request, demand, form, action, "已申请重新办理，承办单位会再次与您联系。", "reopen_form")


@portal_page
def attachment(request, number, pk):
    """Download one of the enterprise's own attachments (uploads are not served publicly)."""
    demand = get_own_demand(request.user, number)
    item = get_object_or_404(demand.attachments, pk=pk)
    try:  # a photo or a PDF opens in place, decided by its stored bytes; anything else is downloaded
        return uploads.stored_file_response(item.file, item.name, inline=True)
    except FileNotFoundError:
        raise Http404("文件不存在。") from None

