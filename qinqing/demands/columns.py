"""The demand columns, declared once (qinqing.lib.tables): the ledger table and its Excel export both
iterate them, so a column's key, label and value are written in one place.

COLUMNS is the registry; LEDGER_TABLE is what the ledger table offers (long texts are for the export
only), LEDGER_EXPORT what "导出全部字段" writes, in the export's order. Keys are kept in people's saved
column choices and export jobs: never rename one. Another list of demands declares its own set from
these columns plus a few of its own (ColumnSet.extend).
"""

from html import escape as esc

from django.urls import reverse
from django.utils.safestring import SafeString

from qinqing.lib import tables
from qinqing.lib.tables import MUTED_DASH, Column, ColumnSet, choice_label, field_column, local_time

from .countdown import countdown_pill
from .models import Channel, Demand, Evaluation, Outcome, Stage, State, Tier
from .taxonomy import aspect_label

STATE_LABELS = dict(State.choices)
_state, _stage, _channel = choice_label(State.choices), choice_label(Stage.choices), choice_label(Channel.choices)
_outcome, _evaluation, _tier = choice_label(Outcome.choices), choice_label(Evaluation.choices), choice_label(Tier.choices)


def _link(r, ctx) -> str:
    return ctx["detail_prefix"] + esc(r["number"]) + "/"


def _number_html(r, ctx):
    return f'<a href="{_link(r, ctx)}">{esc(r["number"])}</a>'


def _title_html(r, ctx):
    title = esc(r["title"])
    return f'<a href="{_link(r, ctx)}" title="{title}">{title}</a>'


def _enterprise(r):
    return r["enterprise__name"] or f"{r['reporter_name'] or '匿名'}（个人）"


def _enterprise_html(r, ctx):
    if r["enterprise__name"]:
        return esc(r["enterprise__name"])
    return f'<span class="muted">{esc(r["reporter_name"] or "—")}（个人）</span>'


def _unit_html(r, ctx):
    if not r["lead_unit_id"]:
        return '<span class="muted">未交办</span>'
    html = esc(r["lead_unit__short_name"] or r["lead_unit__name"])
    own = getattr(ctx.get("own_unit"), "pk", None)  # a template passes "" when there is no own unit
    if own is not None and r["lead_unit_id"] != own:
        html += ' <span class="tag">本单位协办</span>'
    return html


def _state_html(r, ctx):
    return f'<span class="badge badge-{State.colour(r["state"])}">{esc(_state(r["state"]))}</span>'


def _countdown_html(r, ctx):
    if r["paused_since"]:  # 挂起: no next deadline while paused (qinqing.handoffs)
        return str(countdown_pill(None, _stage(r["current_stage"]), paused=True))
    if not r["next_due"]:
        return MUTED_DASH
    return str(countdown_pill(r["next_due"], _stage(r["current_stage"])))


def _received_html(r, ctx):
    moment = local_time(r["received_at"])
    return moment.strftime("%Y-%m-%d") if moment else ""


def _co_units(ids: list[int]) -> dict[int, str]:
    """The co-units of a chunk of demands in one query."""
    names: dict[int, list[str]] = {}
    for demand_id, name in (Demand.co_units.through.objects.filter(demand_id__in=ids).order_by("unit__name")
                            .values_list("demand_id", "unit__name")):
        names.setdefault(demand_id, []).append(name)
    return {pk: "、".join(v) for pk, v in names.items()}


COLUMNS = ColumnSet([
    Column("number", "编号", ("number",), lambda r: r["number"], _number_html, css="c-number", width=15),
    Column("title", "标题", ("number", "title"), lambda r: r["title"], _title_html, css="c-title", width=36),
    Column("enterprise", "企业", ("enterprise__name", "reporter_name"), _enterprise, _enterprise_html,
           css="c-ent", width=30),
    field_column("credit_code", "统一社会信用代码", "enterprise__credit_code", lambda v: v or "", width=21),
    field_column("category", "类别", "category__name", css="c-narrow", width=12),
    Column("aspect", "营商环境方面", ("aspect_id",), lambda r: aspect_label(r["aspect_id"]),
           lambda r, ctx: esc(aspect_label(r["aspect_id"])) or MUTED_DASH, css="c-narrow", width=18),
    field_column("channel", "渠道", "channel", _channel, css="c-narrow c-channel", width=10),
    field_column("jurisdiction", "属地", "jurisdiction__name", width=12),
    Column("lead_unit", "主办单位", ("lead_unit_id", "lead_unit__name", "lead_unit__short_name"),
           lambda r: r["lead_unit__name"] or "未交办", _unit_html, width=24),
    Column("co_units", "协办单位", (), lambda r: r["co_units"], width=24, batch=_co_units),
    Column("state", "状态", ("state",), lambda r: _state(r["state"]), _state_html, css="c-narrow", width=12),
    field_column("current_stage", "当前环节", "current_stage", _stage, width=10),
    Column("next_due", "当前环节期限", ("next_due", "current_stage", "paused_since"), lambda r: r["next_due"], _countdown_html,
           width=13),
    Column("received_at", "受理时间", ("received_at",), lambda r: local_time(r["received_at"]), _received_html,
           css="c-date", width=17, number_format=tables.DATETIME_FORMAT),
    field_column("dispatched_at", "交办时间", "dispatched_at", local_time, width=17,
                 number_format=tables.DATETIME_FORMAT),
    field_column("contact_due", "联系期限", "contact_due", width=12),
    field_column("path_due", "路径反馈期限", "path_due", width=13),
    field_column("resolve_due", "办结期限", "resolve_due", css="c-date", width=12),
    field_column("replied_at", "答复时间", "replied_at", local_time, width=17, number_format=tables.DATETIME_FORMAT),
    field_column("outcome", "办理结果", "outcome", _outcome, css="c-narrow", width=12),
    field_column("evaluation", "评价", "evaluation", _evaluation, css="c-narrow", width=10),
    field_column("closed_at", "办结时间", "closed_at", local_time, width=17, number_format=tables.DATETIME_FORMAT),
    field_column("tier", "办理层级", "tier", _tier, css="c-narrow", width=10),
    field_column("reopen_count", "重办次数", "reopen_count", width=9),
    field_column("content", "诉求内容", "content", width=60),
    field_column("reply", "正式答复", "reply", width=60),
], default=["number", "title", "enterprise", "category", "channel", "lead_unit", "state", "next_due", "received_at"])

# What the ledger table offers, in the order its chooser and header show them.
LEDGER_TABLE = COLUMNS.extend(only=["number", "title", "enterprise", "category", "aspect", "channel", "jurisdiction",
                                    "lead_unit", "state", "next_due", "resolve_due", "tier", "outcome", "evaluation",
                                    "received_at"])
# What the export can write: every column, in the registry's order.
LEDGER_EXPORT = COLUMNS

BY_KEY = LEDGER_TABLE.by_key
DEFAULT_KEYS = LEDGER_TABLE.default_keys


def chosen(keys=None) -> list[Column]:
    """The ledger table's columns named by `keys` in the table's order; none means the default set."""
    return LEDGER_TABLE.chosen(keys)


def detail_prefix() -> str:
    return reverse("demands:detail", args=["QQ0000-000000"])[: -len("QQ0000-000000/")]


def render_rows(rows, columns: list[Column], own_unit=None) -> SafeString:
    """The <tr> elements of a demand table."""
    return tables.render_rows(rows, columns, {"detail_prefix": detail_prefix(), "own_unit": own_unit})
