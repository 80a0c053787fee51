"""The ledger's columns, declared once: the HTML table renders them and a column chooser or an
Excel export can offer the same list.

Rows are rendered in Python rather than in a template: a 50-row page has some two thousand
template nodes, and walking them was most of the ledger's time. Cells are plain strings built with
html.escape (Django's format_html per cell cost as much again as the template).
"""

from collections.abc import Callable
from dataclasses import dataclass
from html import escape as esc

from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from .countdown import countdown_pill
from .models import Channel, Demand, Evaluation, Outcome, Stage, State, Tier
from .taxonomy import aspect_label

MUTED_DASH = '<span class="muted">—</span>'
STATE_LABELS = dict(State.choices)
CHANNEL_LABELS = dict(Channel.choices)
STAGE_LABELS = dict(Stage.choices)
EVALUATION_LABELS = dict(Evaluation.choices)
OUTCOME_LABELS = dict(Outcome.choices)
TIER_LABELS = dict(Tier.choices)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    cell: Callable[[Demand, dict], str]  # the cell's HTML, every value escaped; the dict has page-wide values
    value: Callable[[Demand], object]  # the plain value, for exports
    css: str = ""
    default: bool = True


def _link(d: Demand, ctx: dict) -> str:
    return ctx["detail_prefix"] + esc(d.number) + "/"


def _number(d, ctx):
    return f'<a href="{_link(d, ctx)}">{esc(d.number)}</a>'


def _title(d, ctx):
    title = esc(d.title)
    return f'<a href="{_link(d, ctx)}" title="{title}">{title}</a>'


def _enterprise(d, ctx):
    if d.enterprise_id:
        return esc(d.enterprise.name)
    return f'<span class="muted">{esc(d.reporter_name or "—")}（个人）</span>'


def _unit(d, ctx):
    if not d.lead_unit_id:
        return '<span class="muted">未交办</span>'
    html = esc(d.lead_unit.short_name or d.lead_unit.name)
    own = getattr(ctx.get("own_unit"), "pk", None)  # a template passes "" when there is no own unit
    if own is not None and d.lead_unit_id != own:
        html += ' <span class="tag">本单位协办</span>'
    return html


def _state(d, ctx):
    return f'<span class="badge badge-{State.colour(d.state)}">{esc(STATE_LABELS.get(d.state, d.state))}</span>'


def _countdown(d, ctx):
    if not d.next_due:
        return MUTED_DASH
    return str(countdown_pill(d.next_due, STAGE_LABELS.get(d.current_stage, "")))


def _date(value):
    return value.strftime("%Y-%m-%d") if value else ""


def _local_date(moment):
    return timezone.localtime(moment).date() if moment else None


COLUMNS = [
    Column("number", "编号", _number, lambda d: d.number, css="c-number"),
    Column("title", "标题", _title, lambda d: d.title, css="c-title"),
    Column("enterprise", "企业", _enterprise,
           lambda d: d.enterprise.name if d.enterprise_id else f"{d.reporter_name}（个人）", css="c-ent"),
    Column("category", "类别", lambda d, ctx: esc(d.category.name), lambda d: d.category.name, css="c-narrow"),
    Column("aspect", "营商环境方面", lambda d, ctx: esc(aspect_label(d.aspect_id)) or MUTED_DASH,
           lambda d: aspect_label(d.aspect_id), css="c-narrow", default=False),
    Column("channel", "渠道", lambda d, ctx: esc(CHANNEL_LABELS.get(d.channel, d.channel)),
           lambda d: CHANNEL_LABELS.get(d.channel, d.channel), css="c-narrow c-channel"),
    Column("jurisdiction", "属地", lambda d, ctx: esc(d.jurisdiction.name), lambda d: d.jurisdiction.name,
           default=False),
    Column("lead_unit", "主办单位", _unit, lambda d: d.lead_unit.name if d.lead_unit_id else ""),
    Column("state", "状态", _state, lambda d: STATE_LABELS.get(d.state, d.state), css="c-narrow"),
    Column("next_due", "当前环节期限", _countdown, lambda d: d.next_due),
    Column("resolve_due", "办结期限", lambda d, ctx: _date(d.resolve_due), lambda d: d.resolve_due,
           css="c-date", default=False),
    Column("tier", "办理层级", lambda d, ctx: esc(TIER_LABELS.get(d.tier, "")), lambda d: TIER_LABELS.get(d.tier, ""),
           css="c-narrow", default=False),
    Column("outcome", "办理结果", lambda d, ctx: esc(OUTCOME_LABELS.get(d.outcome, "")),
           lambda d: OUTCOME_LABELS.get(d.outcome, ""), css="c-narrow", default=False),
    Column("evaluation", "评价", lambda d, ctx: esc(EVALUATION_LABELS.get(d.evaluation, "")),
           lambda d: EVALUATION_LABELS.get(d.evaluation, ""), css="c-narrow", default=False),
    Column("received_at", "受理日期", lambda d, ctx: _date(_local_date(d.received_at)),
           lambda d: _local_date(d.received_at), css="c-date"),
]
BY_KEY = {c.key: c for c in COLUMNS}
DEFAULT_KEYS = [c.key for c in COLUMNS if c.default]


def chosen(keys=None) -> list[Column]:
    """The columns named by `keys` in the registry's order; unknown keys are ignored, none means default."""
    wanted = {k for k in (keys or ()) if k in BY_KEY}
    return [c for c in COLUMNS if c.key in wanted] or [BY_KEY[k] for k in DEFAULT_KEYS]


def render_rows(rows, columns: list[Column], own_unit=None) -> SafeString:
    """The <tr> elements of a demand table."""
    ctx = {"detail_prefix": reverse("demands:detail", args=["QQ0000-000000"])[: -len("QQ0000-000000/")],
           "own_unit": own_unit}
    opens = [f'<td class="{esc(c.css)}">' if c.css else "<td>" for c in columns]
    out = []
    for d in rows:
        out.append("<tr>")
        for open_tag, column in zip(opens, columns, strict=True):
            out += (open_tag, column.cell(d, ctx), "</td>")
        out.append("</tr>")
    # Safe: every value in a cell went through html.escape above.
    return mark_safe("".join(out))  # noqa: S308
