"""The cooperation cards of staff pages: the demand page's 协办/退单争议/批示/研究推进 card, the reply form's
notice of missing opinions, the supervision board's stalled 研究推进 list and the unit's own to-do."""

from django import template
from django.db.models import Prefetch

from qinqing.demands.models import State
from qinqing.demands.verbs import is_dispatcher, is_lead_handler
from qinqing.lib import clock

from .. import services
from ..models import CoTask, Dispute, DisputeStatus, InstructionAnswer, Review, TaskState

register = template.Library()

STALLED_SHOWN = 20


@register.inclusion_tag("cooperation/_demand_panel.html", takes_context=True)
def cooperation_panel(context, demand):
    user = context["request"].user
    tasks = list(CoTask.objects.filter(demand_id=demand.pk).live().select_related("unit", "answered_by"))
    own_task = next((t for t in tasks if user.unit_id and t.unit_id == user.unit_id), None)
    disputes = list(Dispute.objects.filter(demand_id=demand.pk)
                    .select_related("unit", "entry__unit", "raised_by", "decided_by").order_by("-raised_at", "-id"))
    pending = next((d for d in disputes if d.status == DisputeStatus.PENDING), None)
    instructions = list(demand.instructions.select_related("author").prefetch_related(
        Prefetch("answers", queryset=InstructionAnswer.objects.select_related("unit", "answered_by"))))
    owing = {i.pk for i in instructions for a in i.answers.all()
             if a.answered_at is None and user.unit_id and a.unit_id == user.unit_id}
    lead = is_lead_handler(user, demand)
    dispatcher = is_dispatcher(user, demand)
    long_term = demand.state == State.LONG_TERM
    review = Review.objects.filter(demand_id=demand.pk).first() if long_term else None
    progress = list(demand.progress_entries.select_related("author")[:10]) if long_term else []
    may_dispute = lead and demand.state in services.DISPUTE_STATES and pending is None
    catalogue = list(services.catalogue_for(demand)) if may_dispute else []
    context_out = {
        "demand": demand, "tasks": tasks, "own_task": own_task,
        "may_work_task": own_task is not None and demand.state in services.CO_STATES
        and demand.state != State.REPLIED,
        "disputes": disputes, "pending_dispute": pending, "may_decide": pending is not None and dispatcher,
        "may_dispute": may_dispute and bool(catalogue), "catalogue": catalogue,
        "instructions": instructions, "owing": owing, "may_instruct": services.may_instruct(user, demand),
        "review": review, "progress": progress, "may_progress": lead and long_term,
        "may_review": dispatcher and long_term, "today": clock.today(), "TaskState": TaskState,
    }
    context_out["shown"] = bool(tasks or disputes or instructions or long_term or context_out["may_dispute"]
                                or context_out["may_instruct"])
    return context_out


@register.inclusion_tag("cooperation/_missing_opinions.html")
def missing_opinions(demand):
    """On the reply form: the co-units whose opinion has not come in (advice; the reply is not blocked)."""
    return {"missing": services.missing_opinions(demand)}


@register.inclusion_tag("cooperation/_stalled.html", takes_context=True)
def stalled_long_term(context):
    """On the supervision board: 区级研究推进 demands whose review date passed without a progress entry."""
    rows = list(services.stalled_long_term(context["request"].user)[:STALLED_SHOWN + 1])
    return {"rows": rows[:STALLED_SHOWN], "more": len(rows) > STALLED_SHOWN, "today": clock.today()}


@register.inclusion_tag("cooperation/_unit_todo.html", takes_context=True)
def unit_cooperation_todo(context, unit):
    """On the unit's page: its open 协办 tasks and the 批示 it has not yet answered."""
    if unit is None:
        return {"tasks": [], "answers": []}
    tasks = list(CoTask.objects.filter(unit_id=unit.pk, state__in=services.OPEN_TASK_STATES,
                                       demand__state__in=services.CO_STATES)
                 .select_related("demand").order_by("due", "id")[:50])
    answers = list(services.unanswered_for_unit(unit.pk)[:50])
    return {"tasks": tasks, "answers": answers, "today": clock.today()}
