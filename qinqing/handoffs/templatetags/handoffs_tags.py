"""The demand page's panel of hand-offs and pauses."""

from django import template

from ..forms import FORMS, available
from ..models import Pause
from ..services import handoff_for

register = template.Library()


@register.inclusion_tag("handoffs/_demand.html", takes_context=True)
def handoff_panel(context, demand):
    """Where the demand came from or went to (with the other level's progress), its pauses, and the forms
    the user may use now. Three queries."""
    user = context["request"].user
    links = handoff_for(demand)
    pauses = list(Pause.objects.filter(demand=demand).select_related("requested_by", "decided_by"))
    live = next((p for p in pauses if p.status in (Pause.Status.PENDING, Pause.Status.ACTIVE)), None)
    forms = [FORMS[verb](demand=demand, user=user) for verb in available(user, demand, live)]
    return {"demand": demand, "incoming": links["incoming"], "outgoing": links["outgoing"], "pauses": pauses,
            "live": live, "forms": forms, "request": context["request"]}
