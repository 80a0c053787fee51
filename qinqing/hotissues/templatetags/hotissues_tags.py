"""`{% demand_studies demand %}`: the policy studies a demand belongs to, on its detail page (one query)."""

from django import template

from qinqing.hotissues import services

register = template.Library()


@register.inclusion_tag("hotissues/_demand_studies.html", takes_context=True)
def demand_studies(context, demand):
    request = context.get("request")
    user = getattr(request, "user", None)
    return {"studies": services.studies_of(demand), "may_view": services.may_view(user)}
