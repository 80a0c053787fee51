"""Which transitions exist, from which states, and who may take them.

One table serves the services (which refuse anything else), the demand page (which shows
only the forms the user may use) and the API (which lists the allowed verbs).
"""

from collections.abc import Callable
from dataclasses import dataclass

from qinqing.accounts.models import Role

from .models import Evaluation, Extension, State, Tier

VERB_LABELS = {
    "receive": "受理", "dispatch": "交办", "return": "退回", "accept": "签收", "contact": "联系企业",
    "plan": "反馈解决路径", "request_extension": "申请延期", "approve_extension": "批准延期",
    "reject_extension": "驳回延期", "escalate": "提级办理", "mark_long_term": "转区级研究推进",
    "transfer": "移送市级", "reply": "正式答复", "evaluate": "评价", "reopen": "重办", "close": "销号",
    "merge": "并单", "settle": "现场解决", "urge": "催办", "edit": "修改",
    "import_history": "导入历史办理结果", "follow_up": "补充材料", "reply_files": "上传答复附件",  # written by demands.importer, the portal
    # 督办单 steps, written to the timeline by qinqing.supervision.services (internal entries).
    "supervise": "下发督办单", "answer_notice": "反馈督办单", "escalate_notice": "升级督办",
    # Hand-offs between levels, pauses and 默认满意 (qinqing.handoffs.services).
    "handoff_out": "移交", "handoff_in": "接收移交", "handoff_reply": "移交答复回传", "request_pause": "申请挂起",
    "approve_pause": "批准挂起", "refuse_pause": "驳回挂起", "resume": "恢复计时", "default_satisfied": "默认满意",
    # 协办, 退单争议, 批示 and 研究推进 steps, written by qinqing.cooperation.services.
    "co_accept": "接收协办", "co_opinion": "协办意见", "co_urge": "催办协办单位", "dispute": "提出退单争议",
    "decide_dispute": "裁定退单争议", "instruct": "领导批示", "answer_instruction": "反馈批示落实情况",
    "set_review": "调整评估日期", "progress": "研究推进进展",
    # A hot issue turned into a policy study (qinqing.hotissues.services.start_policy_study).
    "policy_study": "纳入研究推进课题",
    # People on a demand (qinqing.handling, internal entries but for the hand urging).
    "assign": "指派承办人", "reassign": "改派承办人", "note": "内部备注",
}


def _in_jurisdiction(user, demand) -> bool:
    return bool(user.jurisdiction_id) and demand.jurisdiction.path.startswith(user.jurisdiction.path)


def is_admin(user) -> bool:
    return user.is_superuser or user.has_role(Role.ADMIN)


def is_dispatcher(user, demand) -> bool:
    return is_admin(user) or (user.has_role(Role.DISPATCHER) and _in_jurisdiction(user, demand))


def is_lead_handler(user, demand) -> bool:
    return (user.has_role(Role.HANDLER, Role.UNIT_HEAD) and user.unit_id is not None
            and user.unit_id == demand.lead_unit_id)


def is_lead_head(user, demand) -> bool:
    return user.has_role(Role.UNIT_HEAD) and user.unit_id is not None and user.unit_id == demand.lead_unit_id


def is_owner(user, demand) -> bool:
    return (user.has_role(Role.ENTERPRISE) and user.enterprise_id is not None
            and user.enterprise_id == demand.enterprise_id)


def _serves(user, demand) -> bool:
    return demand.enterprise_id is not None and demand.enterprise.service_specialist_id == user.pk


def is_first_receiver(user, demand) -> bool:
    """Whoever took the demand in (首接负责), while it is still within their reach: in their jurisdiction or
    for an enterprise they serve. A demand filed outside it (as the API once allowed) gives no rights."""
    return demand.first_receiver_id == user.pk and (_in_jurisdiction(user, demand) or _serves(user, demand))


def is_callback_staff(user, demand) -> bool:
    if is_dispatcher(user, demand):
        return True
    if user.has_role(Role.SUPERVISOR) and _in_jurisdiction(user, demand):
        return True
    return user.has_role(Role.SPECIALIST) and demand.enterprise_id is not None and (
        _serves(user, demand) or is_first_receiver(user, demand))


HANDLING = (State.ACCEPTED, State.CONTACTED, State.PLANNED, State.REOPENED)


@dataclass(frozen=True)
class Rule:
    states: tuple[str, ...]
    who: Callable
    who_label: str
    condition: Callable | None = None  # further condition on the demand; returns an error message or None


def _pending_extension(demand):
    if not any(e.status == Extension.Status.PENDING for e in demand.extensions.all()):
        return "该诉求没有待审批的延期申请。"
    return None


def _no_pending_extension(demand):
    if any(e.status == Extension.Status.PENDING for e in demand.extensions.all()):
        return "已有一份延期申请待审批，请等待审批结果。"
    return None


def _can_escalate(demand):
    return "已是区领导层级，如需上报请移送市级。" if demand.tier >= Tier.DISTRICT_LEADER else None


def _merged_and_replied(demand):
    # 并单: an enterprise whose demand was merged rates the reply copied onto it from the demand it joined.
    if demand.state != State.MERGED:
        return None
    if not demand.reply:
        return "本诉求已并入其他诉求办理，答复后即可评价。"
    return "已评价。" if demand.evaluation else None


def _unsatisfied(demand):
    return None if demand.evaluation == Evaluation.UNSATISFIED else "只有评价为“不满意”的诉求才能重办。"


# Problems raised face to face can be solved while the enterprise is still in the room.
FACE_TO_FACE = ("visit", "meeting", "seminar", "officer")


def _face_to_face(demand):
    if demand.channel not in FACE_TO_FACE:
        return "只有走访、约见、座谈会或体验官当面反映的问题才能登记为现场解决。"
    return None


def is_receiver(user, demand) -> bool:
    return is_dispatcher(user, demand) or is_first_receiver(user, demand)


def _not_unsatisfied(demand):
    if demand.evaluation == Evaluation.UNSATISFIED:
        return "企业评价为“不满意”，应先重办，不能销号。"
    return None


RULES: dict[str, Rule] = {
    "dispatch": Rule((State.RECEIVED, State.RETURNED), is_dispatcher, "调度员"),
    "return": Rule((State.DISPATCHED, State.ACCEPTED), is_lead_handler, "主办单位"),
    "accept": Rule((State.DISPATCHED,), is_lead_handler, "主办单位"),
    "contact": Rule((State.DISPATCHED, *HANDLING), is_lead_handler, "主办单位"),
    "plan": Rule((State.CONTACTED, State.PLANNED), is_lead_handler, "主办单位"),
    "request_extension": Rule(HANDLING, is_lead_handler, "主办单位", _no_pending_extension),
    "approve_extension": Rule(HANDLING, is_dispatcher, "调度员", _pending_extension),
    "reject_extension": Rule(HANDLING, is_dispatcher, "调度员", _pending_extension),
    "escalate": Rule((State.DISPATCHED, *HANDLING, State.RETURNED),
                     lambda u, d: is_dispatcher(u, d) or is_lead_head(u, d), "调度员或主办单位负责人",
                     _can_escalate),
    "mark_long_term": Rule((State.DISPATCHED, *HANDLING), is_dispatcher, "调度员"),
    "transfer": Rule((State.DISPATCHED, *HANDLING, State.LONG_TERM), is_dispatcher, "调度员"),
    "reply": Rule((State.CONTACTED, State.PLANNED, State.REOPENED, State.LONG_TERM), is_lead_handler, "主办单位"),
    "evaluate": Rule((State.REPLIED, State.MERGED), lambda u, d: is_owner(u, d) or is_callback_staff(u, d),
                     "企业或回访人员", _merged_and_replied),
    "reopen": Rule((State.EVALUATED,), lambda u, d: is_owner(u, d) or is_dispatcher(u, d), "企业或调度员",
                   _unsatisfied),
    "close": Rule((State.EVALUATED,), is_dispatcher, "调度员", _not_unsatisfied),
    "merge": Rule((State.RECEIVED, State.RETURNED, State.DISPATCHED, State.ACCEPTED), is_dispatcher, "调度员"),
    "settle": Rule((State.RECEIVED,), is_receiver, "受理人或调度员", _face_to_face),
}


def refusal(verb: str, user, demand) -> tuple[str, str] | None:
    """Why `user` may not take `verb` on `demand` now: ("state"|"permission"|"condition", message)."""
    rule = RULES[verb]
    label = VERB_LABELS[verb]
    if demand.state not in rule.states:
        return "state", f"诉求当前状态为“{demand.get_state_display()}”，不能进行“{label}”操作。"
    if not rule.who(user, demand):
        return "permission", f"只有{rule.who_label}可以对该诉求进行“{label}”操作。"
    if rule.condition is not None and (message := rule.condition(demand)):
        return "condition", message
    return None


def allowed_verbs(user, demand) -> list[str]:
    return [verb for verb in RULES if refusal(verb, user, demand) is None]
