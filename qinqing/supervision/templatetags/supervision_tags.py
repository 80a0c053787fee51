"""The demand page's 督办单 card: one query, only the notices the viewer may see."""

from django import template

from qinqing.demands.models import OPEN_STATES
from qinqing.supervision import services
from qinqing.supervision.models import NoticeStatus, SupervisionNotice

register = template.Library()


@register.inclusion_tag("supervision/_demand_notices.html", takes_context=True)
def demand_notices(context, demand):
    user = context["request"].user
    notices = list(SupervisionNotice.objects.visible_to(user).filter(demand_id=demand.pk)
                   .select_related("unit").order_by("-issued_at", "-id"))
    awaiting = any(n.status == NoticeStatus.ISSUED for n in notices)
    may_issue = (services.may_issue(user) and not awaiting and demand.state in OPEN_STATES
                 and demand.next_due is not None and demand.lead_unit_id is not None)
    return {"notices": notices, "demand": demand, "may_issue": may_issue}
