"""Hooks other apps' pages include: the apply box on the enterprise's policy page and the fulfilment panel on
the staff policy page, so those views stay as they are (one or two queries each)."""

from django import template
from django.db.models import Count, Q, Sum

from qinqing.lib import clock

from ..models import Application, ApplicationStatus, FulfilmentRecord
from ..services import window_error

register = template.Library()


@register.inclusion_tag("fulfilment/_portal_apply.html", takes_context=True)
def portal_apply_box(context, policy):
    """The enterprise's application for `policy` if it made one, else the form, or why it cannot apply now."""
    user = context["request"].user
    application = Application.objects.visible_to(user).filter(policy=policy).first()
    return {"policy": policy, "application": application, "csrf_token": context.get("csrf_token"),
            "window_error": None if application else window_error(policy, clock.today())}


@register.inclusion_tag("fulfilment/_policy_panel.html", takes_context=True)
def policy_fulfilment_panel(context, policy):
    """The policy's paid total and, for an ordinary policy, the applications waiting for review (in reach)."""
    user = context["request"].user
    figures = FulfilmentRecord.objects.visible_to(user).paid().filter(policy=policy).aggregate(
        records=Count("pk"), amount=Sum("amount"), enterprises=Count("enterprise", distinct=True))
    figures["amount"] = figures["amount"] or 0
    figures["waiting"] = 0 if policy.no_application else Application.objects.visible_to(user).filter(
        Q(status=ApplicationStatus.SUBMITTED), policy=policy).count()
    return {"policy": policy, "figures": figures}
