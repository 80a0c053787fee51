"""Who is told of the cooperation steps, and in which words (read by qinqing.notifications.services).

Kept here so that the notification worker needs one line to learn them: `COOPERATION_TEXT` joins its staff
texts and `recipients_q(event)` its recipients. Units are named by id in the entry's data.
"""

from django.db.models import Q

from qinqing.accounts.models import Jurisdiction, Role

COOPERATION_TEXT = {
    "co_opinion": "收到协办意见：{number} {title}。{note}",
    "co_urge": "【催办】{number} {title}：{note}",
    "dispute": "退单争议待裁定：{number} {title}。理由：{note}",
    "decide_dispute": "退单争议已裁定：{number} {title}。{note}",
    "instruct": "【领导批示】{number} {title}：{note}",
    "answer_instruction": "批示落实情况已反馈：{number} {title}。{note}",
    "set_review": "研究推进评估日期已调整：{number} {title}",
}


def _members(unit_ids) -> Q:
    return Q(unit_id__in=[u for u in unit_ids if u], role_grants__role__in=[Role.HANDLER, Role.UNIT_HEAD])


def _ancestors(demand) -> list[str]:
    parts = demand.jurisdiction.path.strip("/").split("/")
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def leaders_of(demand) -> Q:
    """The leaders (Role.LEADER) of the demand's district and town: those an escalation reaches."""
    return Q(role_grants__role=Role.LEADER, jurisdiction__path__in=_ancestors(demand),
             jurisdiction__level__in=[Jurisdiction.Level.DISTRICT, Jurisdiction.Level.TOWN])


def recipients_q(event) -> Q:
    """The staff told of `event` for the verbs of this app, and the leaders told of an escalation."""
    data, verb, demand = event.data or {}, event.verb, event.demand
    if verb == "escalate":
        return leaders_of(demand)
    if verb in ("co_opinion", "set_review"):
        return _members([demand.lead_unit_id])
    if verb in ("co_urge", "decide_dispute"):
        return _members([data.get("unit_id")])
    if verb == "dispute":
        return Q(role_grants__role=Role.DISPATCHER, jurisdiction__path__in=_ancestors(demand))
    if verb == "instruct":
        return _members([demand.lead_unit_id, *demand.co_units.values_list("pk", flat=True)])
    if verb == "answer_instruction" and data.get("author"):
        return Q(pk=data["author"])
    return Q(pk__in=[])
