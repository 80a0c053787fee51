"""The demand page's panels of the text model: the suspected duplicates (并单) and the reply advice."""

from django import template

from qinqing.demands.verbs import refusal

from .. import duplicates

register = template.Library()


@register.inclusion_tag("textmodel/_duplicates.html", takes_context=True)
def duplicate_panel(context, demand):
    """Open, recent demands whose text nearly matches this one's, with their similarity and a button merging
    this one into each: only for a viewer who may merge it now (a dispatcher, while it awaits handling).
    Three queries (qinqing.textmodel.duplicates.candidates)."""
    user = context["request"].user
    if refusal("merge", user, demand) is not None:
        return {"candidates": []}
    return {"demand": demand, "candidates": duplicates.candidates(user, demand), "request": context["request"]}


@register.inclusion_tag("textmodel/_reply_check.html")
def reply_check_button(demand):
    """Inside the reply form: a button asking for the advice on the reply being written (no query)."""
    return {"demand": demand}
