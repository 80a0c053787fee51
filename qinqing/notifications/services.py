"""Who is told about a timeline entry, and in which words."""

from django.db.models import Q

from qinqing.accounts.models import Role, User
from qinqing.demands.models import DemandEvent

from .models import Notification

# What an enterprise reads, in plain words, for each step of its demand.
ENTERPRISE_TEXT = {
    "receive": "您反映的问题“{title}”已受理，编号{number}。",
    "dispatch": "您反映的问题已交由{unit}办理，对方将在2个工作日内与您联系。",
    "contact": "{unit}已与您联系，正在办理。",
    "plan": "{unit}已给出解决路径，请在进度中查看。",
    "reply": "{unit}已正式答复您的问题，请查看并评价。",
    "reopen": "您的问题已重新交办，{unit}将再次办理。",
    "close": "您的问题已办结销号，感谢您的评价。",
    "mark_long_term": "您的问题需要区里研究推进，我们会持续跟进并告知进展。",
    "transfer": "您的问题已移送市级部门研究，我们会跟进结果。",
}
STAFF_TEXT = {
    "receive": "新诉求待交办：{number} {title}",
    "dispatch": "新交办诉求：{number} {title}，请及时签收并联系企业。",
    "return": "诉求被退回，请重新交办：{number} {title}",
    "evaluate": "企业已评价（{evaluation}）：{number} {title}",
    "reopen": "诉求需重办：{number} {title}",
    "request_extension": "延期申请待审批：{number} {title}",
    "approve_extension": "延期申请已批准：{number}",
    "reject_extension": "延期申请未获批准：{number}",
    "urge": "【催办】{number} {title}：{note}",
    "escalate": "诉求已提级：{number} {title}",
}


def _unit_members(unit_ids):
    return Q(unit_id__in=[u for u in unit_ids if u], role_grants__role__in=[Role.HANDLER, Role.UNIT_HEAD])


def _dispatchers(demand):
    """Dispatchers whose jurisdiction is the demand's or one of its ancestors."""
    parts = demand.jurisdiction.path.strip("/").split("/")
    ancestors = ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
    return Q(role_grants__role=Role.DISPATCHER, jurisdiction__path__in=ancestors)


def recipients(event: DemandEvent):
    demand = event.demand
    verb = event.verb
    units = [demand.lead_unit_id, *demand.co_units.values_list("pk", flat=True)]
    q = Q(pk__in=[])
    if verb in ("dispatch", "evaluate", "reopen", "urge", "approve_extension", "reject_extension"):
        q |= _unit_members(units if verb == "dispatch" else [demand.lead_unit_id])
    if verb in ("receive", "return", "request_extension", "escalate") and not event.internal:
        q |= _dispatchers(demand)
    staff = list(User.objects.filter(q, is_active=True).exclude(pk=event.actor_id).distinct())
    owners = []
    if demand.enterprise_id and not event.internal and verb in ENTERPRISE_TEXT:
        owners = list(User.objects.filter(enterprise_id=demand.enterprise_id, is_active=True,
                                          role_grants__role=Role.ENTERPRISE).exclude(pk=event.actor_id))
    return staff, owners


def notify_for_event(event_id: int) -> int:
    """Create the notifications of one timeline entry; running it twice creates nothing more."""
    event = DemandEvent.objects.select_related("demand__lead_unit", "demand__jurisdiction").get(pk=event_id)
    demand = event.demand
    staff, owners = recipients(event)
    fields = {"number": demand.number, "title": demand.title[:60], "note": event.note[:80],
              "unit": demand.lead_unit.name if demand.lead_unit else "承办单位",
              "evaluation": demand.get_evaluation_display() or ""}
    rows = []
    if event.verb in STAFF_TEXT:
        rows += [Notification(recipient=u, demand=demand, event=event, text=STAFF_TEXT[event.verb].format(**fields))
                 for u in staff]
    rows += [Notification(recipient=u, demand=demand, event=event, text=ENTERPRISE_TEXT[event.verb].format(**fields))
             for u in owners]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
