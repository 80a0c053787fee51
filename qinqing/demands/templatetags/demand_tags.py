"""Template helpers of the staff pages: state badges, working-day countdowns, timeline details."""

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.html import format_html

from qinqing.demands.countdown import countdown
from qinqing.demands.countdown import countdown_pill as _countdown_pill
from qinqing.demands.models import Channel, State
from qinqing.lib import clock

register = template.Library()


@register.simple_tag
def due_countdown(due, today=None):
    return countdown(due, today)


@register.simple_tag
def state_badge(state: str, label: str = ""):
    """A coloured pill for a demand state; the colour comes from State.colour."""
    if not state:
        return ""
    label = label or dict(State.choices).get(state, state)
    return format_html('<span class="badge badge-{}">{}</span>', State.colour(state), label)


@register.simple_tag
def countdown_pill(due, stage_label="", paused=False):
    return _countdown_pill(due, stage_label, paused)


@register.simple_tag
def demand_columns(keys=None):
    """The columns of a demand table (qinqing.demands.columns): the chosen ones, or the default set."""
    from qinqing.demands.columns import chosen

    return chosen(keys)


@register.simple_tag
def demand_rows(rows, columns, own_unit=None):
    """The rows of a demand table, rendered in one pass (see qinqing.demands.columns)."""
    from qinqing.demands.columns import render_rows

    return render_rows(rows, columns, own_unit)


@register.filter
def hours_left(due: dt.date | None) -> int | None:
    """Whole hours until the end of the due day (local time); the dispatch clock is that tight."""
    if due is None:
        return None
    end = timezone.make_aware(dt.datetime.combine(due + dt.timedelta(days=1), dt.time.min))
    return int((end - clock.now()).total_seconds() // 3600)


# How timeline details are shown: key → label; values that are codes are translated below.
DATA_LABELS = {
    "lead_unit": "主办单位", "co_units": "协办单位", "category": "类别", "channel": "渠道", "method": "联系方式",
    "contacted_at": "联系时间", "days": "延期天数", "old_resolve_due": "原办结期限", "resolve_due": "办结期限",
    "outcome": "办理结果", "evaluation": "评价", "callback": "回访代评", "into": "并入", "merged": "并入本件",
    "from": "原层级", "to": "新层级", "unit": "退回单位", "redispatch": "重新交办",
    "aspect": "营商环境方面", "old_aspect": "原营商环境方面", "nature": "性质", "reply_due": "督办反馈期限",
    "assignee": "承办人", "previous_assignee": "原承办人", "mentioned": "提及",
    # qinqing.cooperation
    "co_unit": "协办单位", "due": "意见期限", "revised": "修改意见", "late": "逾期提交", "matter": "援引派单目录",
    "catalogue_unit": "目录责任单位", "upheld": "退单成立", "tier": "层级", "answer_unit": "反馈单位",
    "review_on": "下次评估", "interval_months": "报送周期（月）",
}
# calendar: the moved dates, which the entry's note already states; notice: whom a 督办单 step notifies.
_HIDDEN_KEYS = {"extension", "calendar", "notice", "people", "co_task", "unit_id", "dispute", "instruction", "author"}  # people: whom a handling step notifies (ids)


def _value(key, value):
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(str(v) for v in value) or "无"
    if key == "channel":
        return dict(Channel.choices).get(value, value)
    if key == "contacted_at" and isinstance(value, str):
        return value.replace("T", " ")[:16]
    return value


@register.filter
def event_details(data) -> list[tuple[str, str]]:
    """(label, value) pairs of a timeline entry's data, skipping empty and internal keys."""
    if not isinstance(data, dict):
        return []
    out = []
    for key, value in data.items():
        if key in _HIDDEN_KEYS or value in ("", None, []) or (key == "redispatch" and not value):
            continue
        out.append((DATA_LABELS.get(key, key), _value(key, value)))
    return out


# ---------------------------------------------------------------- navigation

@register.simple_tag(takes_context=True)
def staff_nav(context) -> list[dict]:
    """The header links a user's roles call for, with the current one marked."""
    from django.urls import reverse

    from qinqing.accounts.models import Role
    from qinqing.demands.services import RECEIVER_ROLES

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff_user:
        return []
    admin = user.is_superuser or user.has_role(Role.ADMIN)
    items = [("home", "工作台", True), ("demands:ledger", "诉求台账", True),
             ("demands:dispatch_inbox", "交办箱", admin or user.has_role(Role.DISPATCHER)),
             ("demands:unit_inbox", "本单位", bool(user.unit_id) and user.has_role(Role.HANDLER, Role.UNIT_HEAD)),
             ("handling:mine", "我的诉求", bool(user.unit_id) and user.has_role(Role.HANDLER)),
             ("supervision:board", "超期督办",
              admin or user.has_role(Role.SUPERVISOR, Role.LEADER, Role.DISPATCHER)),
             ("cooperation:queue", "提级队列", admin or user.has_role(Role.LEADER, Role.DISPATCHER, Role.SUPERVISOR)),
             ("reports:dashboard", "统计通报",
              admin or user.has_role(Role.SUPERVISOR, Role.LEADER, Role.DISPATCHER)),
             ("enterprises:list", "企业库", True),
             ("visits:my_week", "包联走访", True),
             ("policies:list", "惠企政策", True),
             ("fulfilment:ledger", "政策兑现", True),
             ("demands:receive", "新增诉求", admin or user.has_role(*RECEIVER_ROLES))]
    current = getattr(getattr(request, "resolver_match", None), "view_name", "")
    if current == "demands:detail" or current == "demands:act":
        current = "demands:ledger"
    elif current.startswith("enterprises:"):
        current = "enterprises:list"
    elif current.startswith("visits:"):
        current = "visits:my_week"
    elif current.startswith("policies:"):
        current = "policies:list"
    elif current.startswith("fulfilment:"):
        current = "fulfilment:ledger"
    elif current.startswith("cooperation:"):
        current = "cooperation:queue"
    elif current.startswith(("supervision:", "reports:")):
        current = current.split(":")[0] + (":board" if current.startswith("supervision:") else ":dashboard")
    return [{"url": reverse(name), "label": label, "active": name == current}
            for name, label, shown in items if shown]


@register.filter
def get_item(mapping, key):
    return mapping.get(key, key) if hasattr(mapping, "get") else key
