"""The demand page's 承办人与关注 card and the reply form's 常用语 picker (qinqing.handling)."""

from django import template

from qinqing.handling import services
from qinqing.handling.models import Assignment, Watch

register = template.Library()


@register.inclusion_tag("handling/_demand_people.html", takes_context=True)
def demand_people(context, demand):
    """Who handles the demand, who follows it, and the forms the viewer may use: assign, watch, urge, note."""
    user = context["request"].user
    assignment = (Assignment.objects.filter(demand_id=demand.pk, unit_id=demand.lead_unit_id)
                  .select_related("assignee").first() if demand.lead_unit_id else None)
    watchers = list(Watch.objects.filter(demand_id=demand.pk).select_related("user").order_by("created_at"))
    may_assign = services.refuse_assign(user, demand) is None
    return {
        "demand": demand,
        "assignment": assignment,
        "watchers": watchers,
        "watching": any(w.user_id == user.pk for w in watchers),
        "may_assign": may_assign,
        "handlers": list(services.assignable_handlers(demand)) if may_assign else [],
        "may_urge": services.refuse_urge(user, demand) is None,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("handling/_canned_picker.html")
def canned_picker(demand):
    """The canned replies offered on this demand, their placeholders filled in, to pick into the reply."""
    replies = [(r, services.fill_placeholders(r.text, demand)) for r in services.replies_for(demand)[:50]]
    return {"replies": replies, "demand": demand}
