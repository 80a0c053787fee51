"""The demand page, its actions (one POST view for every verb) and attachment downloads."""

from django.contrib import messages
from django.db.models import Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from qinqing.demands import services
from qinqing.demands.countdown import countdown
from qinqing.demands.errors import ConflictError, DomainError, NotFoundError
from qinqing.demands.forms import VERB_FORMS
from qinqing.demands.models import Demand, Extension, Stage
from qinqing.demands.taxonomy import aspect_label
from qinqing.demands.verbs import VERB_LABELS, allowed_verbs

from .common import staff_required

# The four clocks of 1231, with the column that records each one's completion.
STAGE_DONE = [
    (Stage.DISPATCH, "dispatch_due", "dispatched_at"),
    (Stage.CONTACT, "contact_due", "contacted_at"),
    (Stage.PATH, "path_due", "path_at"),
    (Stage.RESOLVE, "resolve_due", "replied_at"),
]


def get_demand(user, number: str) -> Demand:
    """The demand by its human number, if this user may see it; anyone else gets 404."""
    qs = (Demand.objects.visible_to(user)
          .select_related("enterprise", "category__sla_rule", "lead_unit", "jurisdiction", "first_receiver",
                          "duplicate_of")
          .prefetch_related("co_units", "attachments",
                            Prefetch("extensions", queryset=Extension.objects.select_related("requested_by"))))
    return get_object_or_404(qs, number=number)


def deadlines(demand: Demand) -> list[dict]:
    """Each 1231 stage: its deadline, whether and when it was done, and a countdown for the current one."""
    out = []
    for stage, due_field, done_field in STAGE_DONE:
        due, done_at = getattr(demand, due_field), getattr(demand, done_field)
        item = {"stage": stage, "label": stage.label, "due": due, "done_at": done_at, "countdown": None}
        if stage == demand.current_stage:
            item["status"] = "current"
            item["countdown"] = countdown(due)
        elif done_at is not None:
            item["status"] = "late" if timezone.localtime(done_at).date() > due else "done"
        elif demand.is_open:
            item["status"] = "waiting"
        else:
            item["status"] = "skipped"
        out.append(item)
    return out


def action_forms(user, demand, bound=None) -> list:
    """A form for each verb the user may take now; `bound` replaces the one the user just submitted."""
    forms = []
    for verb in allowed_verbs(user, demand):
        if bound is not None and bound.verb == verb:
            forms.append(bound)
        else:
            forms.append(VERB_FORMS[verb](demand=demand, user=user))
    return forms


def is_next_step(form, demand) -> bool:
    """Contacting again or revising the path is possible, but the next step of the loop comes first."""
    if form.verb == "contact":
        return demand.contacted_at is None
    if form.verb == "plan":
        return demand.path_at is None
    return form.primary


def render_detail(request, demand, bound=None, status=200):
    forms = action_forms(request.user, demand, bound)
    extensions = list(demand.extensions.all())
    context = {
        "demand": demand,
        "deadlines": deadlines(demand),
        "rule": demand.category.sla_rule,
        "events": list(demand.events.select_related("actor")),
        "co_units": list(demand.co_units.all()),
        "attachments": list(demand.attachments.all()),
        "pending_extension": next((e for e in extensions if e.status == Extension.Status.PENDING), None),
        "extensions": extensions,
        "duplicates": list(demand.duplicates.values_list("number", flat=True)),
        "primary_forms": [f for f in forms if is_next_step(f, demand)],
        "secondary_forms": [f for f in forms if not is_next_step(f, demand)],
        "verb_labels": VERB_LABELS,
        "aspect_label": aspect_label(demand.aspect_id),
    }
    return render(request, "demands/detail.html", context, status=status)


@staff_required
def detail(request, number):
    return render_detail(request, get_demand(request.user, number))


def _next_url(request, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


@staff_required
@require_POST
def act(request, number, verb):
    """Every action on a demand: bind the verb's form, call the verb's service, redirect or explain."""
    demand = get_demand(request.user, number)
    form_class = VERB_FORMS.get(verb)
    if form_class is None:
        raise Http404("没有这个操作")
    form = form_class(request.POST, request.FILES, demand=demand, user=request.user)
    url = reverse("demands:detail", args=[demand.number])
    if not form.is_valid():
        if "version" in form.errors:
            messages.error(request, "页面已过期，请刷新后再操作。")
            return redirect(url)
        messages.error(request, f"“{VERB_LABELS[verb]}”未提交：请按提示修改。")
        return render_detail(request, demand, bound=form, status=400)
    service = getattr(services, form.service_name)
    try:
        service(request.user, demand, **form.service_kwargs(), version=form.cleaned_data["version"])
    except NotFoundError:
        raise Http404("诉求不存在") from None
    except ConflictError as exc:
        # The page they acted on is stale: show the current one rather than their old input.
        messages.error(request, exc.message)
        return redirect(url)
    except DomainError as exc:
        messages.error(request, exc.message)
        return render_detail(request, get_demand(request.user, number), bound=form, status=exc.status)
    messages.success(request, f"已{VERB_LABELS[verb]}。")
    if not Demand.objects.visible_to(request.user).filter(pk=demand.pk).exists():
        # A return hands the demand back to the dispatcher: the unit no longer sees it.
        return redirect("home")
    return redirect(_next_url(request, url))


@staff_required
def attachment(request, number, pk):
    demand = get_demand(request.user, number)
    item = get_object_or_404(demand.attachments.all(), pk=pk)
    try:
        handle = item.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404("附件文件不存在") from None
    return FileResponse(handle, as_attachment=True, filename=item.name)
