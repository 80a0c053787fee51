"""Seed 000's three lists (三张清单): "形成意见清单、问题清单和帮扶责任清单".

* 意见清单 — what enterprises suggested (demands whose nature is 意见建议), newest first;
* 问题清单 — the difficulties and problems collected (nature 困难问题), newest first;
* 帮扶责任清单 — each problem still being worked on, with who answers for it: the lead unit (牵头帮扶单位),
  the person in it (帮扶责任人: the unit's member who took it on, else the unit head), the cadre assigned to
  the enterprise (包联干部: its current 包联领导 and 为企服务专员), the deadline and the stage; nearest
  deadline first.

Each list is a set of the demand columns (qinqing.demands.columns) plus a few of its own, rendered as a
page and as an .xlsx in the layout a joint office circulates (a merged title row "XX区企业意见建议清单",
the as-of line, a 序号 column, a frozen header). Rows are read with .values() and the people behind
them per page or per chunk in two queries, so neither the page nor the export queries per row.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from html import escape as esc

from django.db.models import Q
from django.utils.safestring import SafeString, mark_safe
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange

from qinqing.accounts.models import Role, User
from qinqing.lib import tables
from qinqing.lib.tables import MUTED_DASH, Column, ColumnSet
from qinqing.lib.text import xml_text

from .columns import COLUMNS, detail_prefix
from .models import OPEN_STATES, DemandEvent, Nature, Stage, State

CHUNK = 2000
EXPORT_MAX_ROWS = 50_000  # beyond this a list is narrowed by its filters first (a district has a few thousand)
# Problems the district is still answering for: open ones, and those it keeps working on (区级研究推进).
RESPONSIBLE_STATES = (*OPEN_STATES, State.LONG_TERM)
# Who "took it on" in the lead unit: the member who signed for it, contacted the enterprise or fed back the path.
TAKING_VERBS = ("accept", "contact", "plan")
_STAGE, _STATE = dict(Stage.choices), dict(State.choices)


def _name(full_name, username) -> str:
    return full_name or username or ""


# ---------------------------------------------------------------- the lists' own columns

def _content(r) -> str:
    return f"{r['title']}：{r['content']}" if r["content"] else r["title"]


def _content_html(r, ctx) -> str:
    text = r["content"] if len(r["content"]) <= 80 else r["content"][:80] + "…"
    link = ctx["detail_prefix"] + esc(r["number"]) + "/"
    return f'<a href="{link}">{esc(r["title"])}</a><div class="small muted">{esc(text)}</div>'


def _add_responsible(rows: list[dict]) -> None:
    """帮扶责任人 of a page or chunk, in two queries: the last member of the lead unit who took the demand
    on (signed, contacted or planned), else the lead unit's head (承办单位负责人)."""
    units = {r["id"]: r["lead_unit_id"] for r in rows}
    taken: dict[int, str] = {}
    for demand_id, unit_id, full_name, username in (
            DemandEvent.objects.filter(demand_id__in=list(units), verb__in=TAKING_VERBS, actor__isnull=False)
            .order_by("demand_id", "created_at", "id")
            .values_list("demand_id", "actor__unit_id", "actor__full_name", "actor__username")):
        if unit_id is not None and unit_id == units.get(demand_id):
            taken[demand_id] = _name(full_name, username)  # the latest wins
    heads: dict[int, str] = {}
    wanted = {u for u in units.values() if u}
    if wanted:
        for unit_id, full_name, username in (
                User.objects.filter(unit_id__in=wanted, is_active=True, role_grants__role=Role.UNIT_HEAD)
                .order_by("unit_id", "id").values_list("unit_id", "full_name", "username")):
            heads.setdefault(unit_id, _name(full_name, username) + "（负责人）")
    for row in rows:
        row["responsible"] = taken.get(row["id"]) or heads.get(row["lead_unit_id"], "")


HELPERS = "enterprise__helpers__"


def _cadres(r) -> str:
    """包联干部: the enterprise's current 包联领导 and 为企服务专员 (enterprises.Helpers)."""
    people = [(_name(r[f"{HELPERS}contact_leader__full_name"], r[f"{HELPERS}contact_leader__username"]), "包联领导"),
              (_name(r[f"{HELPERS}service_specialist__full_name"], r[f"{HELPERS}service_specialist__username"]),
               "服务专员")]
    return "、".join(f"{name}（{role}）" for name, role in people if name)


def _stage(r) -> str:
    return _STAGE.get(r["current_stage"]) or _STATE.get(r["state"], "")


def _progress(r) -> str:
    text = _STATE.get(r["state"], "")
    if r["solution_path"]:
        text += f"；解决路径：{r['solution_path']}"
    return text


def _due_html(r, ctx) -> str:
    due = r["resolve_due"]
    if due is None:
        return MUTED_DASH
    late = r["state"] in OPEN_STATES and due < ctx["today"]
    return f'<span class="{"overdue" if late else ""}">{due:%Y-%m-%d}</span>'


SEQ = Column("seq", "序号", (), lambda r: r["seq"], css="c-narrow", width=6)
CONTENT = Column("content", "内容", ("number", "title", "content"), _content, _content_html, css="c-title", width=50)
OPINION = Column("opinion", "意见建议内容", CONTENT.reads, _content, _content_html, css="c-title", width=50)
PROBLEM = Column("problem", "问题内容", CONTENT.reads, _content, _content_html, css="c-title", width=50)
ENTERPRISE = Column("enterprise_name", "企业名称", COLUMNS.by_key["enterprise"].reads, COLUMNS.by_key["enterprise"].value,
                    COLUMNS.by_key["enterprise"].html, css="c-ent", width=30)
HANDLING_UNIT = Column("handling_unit", "承办单位", ("lead_unit_id", "lead_unit__name"),
                       lambda r: r["lead_unit__name"] or "未交办", width=24)
LEAD_UNIT = Column("helping_unit", "牵头帮扶单位", HANDLING_UNIT.reads, HANDLING_UNIT.value, width=24)
RESPONSIBLE = Column("responsible", "帮扶责任人", ("lead_unit_id",), lambda r: r["responsible"], width=16)
CADRES = Column("cadres", "包联干部", tuple(f"{HELPERS}{who}__{f}" for who in ("contact_leader", "service_specialist")
                                          for f in ("full_name", "username")), _cadres, width=26)
DUE = Column("time_limit", "办理时限", ("resolve_due", "state"), lambda r: r["resolve_due"], _due_html,
             css="c-date", width=12)
STAGE = Column("stage", "当前环节", ("current_stage", "state"), _stage, width=12)
PROGRESS = Column("progress", "办理进度", ("state", "solution_path"), _progress, width=40)
RECEIVED_DATE = Column("received_date", "收集日期", ("received_at",),
                       lambda r: tables.local_time(r["received_at"]).date(), css="c-date", width=12)
REPLY = Column("reply", "答复意见", ("reply",), lambda r: r["reply"], width=40)
HANDLING = Column("handling", "办理情况", ("state",), COLUMNS.by_key["state"].value, COLUMNS.by_key["state"].html,
                  css="c-narrow", width=12)


@dataclass(frozen=True)
class DemandList:
    """One of the three lists: which demands, in which order, with which columns, under which title."""

    key: str
    name: str  # 意见清单
    sheet_title: str  # "企业意见建议清单", after the place name
    columns: ColumnSet
    where: Q
    order: tuple[str, ...]
    note: str

    def rows(self, demands):
        """The list's demands among `demands` (already visible to the user and filtered), in its order."""
        return demands.filter(self.where).order_by(*self.order)

    def title(self, place: str) -> str:
        return f"{place}{self.sheet_title}"


def _set(*columns: Column) -> ColumnSet:
    return ColumnSet(columns, default=[c.key for c in columns])


OPINIONS = DemandList(
    "opinions", "意见清单", "企业意见建议清单",
    _set(SEQ, ENTERPRISE, OPINION, COLUMNS.by_key["channel"], RECEIVED_DATE, COLUMNS.by_key["aspect"],
         HANDLING_UNIT, HANDLING, REPLY),
    Q(nature=Nature.OPINION) & ~Q(state=State.MERGED), ("-received_at", "-id"),
    "企业提出的意见建议（受理时标为“意见建议”），由新到旧。")
PROBLEMS = DemandList(
    "problems", "问题清单", "企业困难问题清单",
    _set(SEQ, COLUMNS.by_key["number"], ENTERPRISE, PROBLEM, COLUMNS.by_key["category"], COLUMNS.by_key["aspect"],
         RECEIVED_DATE, HANDLING_UNIT, HANDLING, COLUMNS.by_key["outcome"]),
    Q(nature=Nature.PROBLEM) & ~Q(state=State.MERGED), ("-received_at", "-id"),
    "企业反映的困难和问题（不含意见建议和并单），由新到旧。")
RESPONSIBILITY = DemandList(
    "responsibility", "帮扶责任清单", "企业问题帮扶责任清单",
    _set(SEQ, ENTERPRISE, PROBLEM, LEAD_UNIT, RESPONSIBLE, CADRES, DUE, STAGE, PROGRESS),
    Q(nature=Nature.PROBLEM, state__in=RESPONSIBLE_STATES), ("due_order", "-id"),
    "尚未办结的困难问题（含区级研究推进），按当前环节期限由近及远；帮扶责任人为主办单位中签收、联系或反馈路径的"
    "人员，尚无时为单位负责人；包联干部为企业现任包联领导和为企服务专员。")
LISTS = {item.key: item for item in (OPINIONS, PROBLEMS, RESPONSIBILITY)}


# ---------------------------------------------------------------- rendering

def _paths(columns) -> list[str]:
    return list(dict.fromkeys(["id", *(p for c in columns for p in c.reads)]))


def _fill(rows: list[dict], columns, first: int) -> None:
    """Number the rows from `first` and add the people behind them (two queries, whatever the rows)."""
    for seq, row in enumerate(rows, start=first):
        row["seq"] = seq
    if rows and RESPONSIBLE in columns:
        _add_responsible(rows)


def page_rows(demand_list: DemandList, qs, offset: int, size: int) -> list[dict]:
    """One page of the list as row dicts (one more than `size`, to tell whether a next page exists)."""
    columns = list(demand_list.columns)
    rows = list(qs.values(*_paths(columns))[offset:offset + size + 1])
    _fill(rows[:size], columns, offset + 1)
    return rows


def render_page(demand_list: DemandList, rows: list[dict], today: dt.date) -> SafeString:
    """The <tr> elements of a page of the list; every value in a cell is escaped by its column."""
    ctx = {"detail_prefix": detail_prefix(), "today": today}
    columns = list(demand_list.columns)
    opens = [f'<td class="{esc(c.css)}">' if c.css else "<td>" for c in columns]
    out = []
    for row in rows:
        out.append("<tr>")
        for open_tag, column in zip(opens, columns, strict=True):
            out += (open_tag, column.cell_html(row, ctx), "</td>")
        out.append("</tr>")
    return mark_safe("".join(out))  # noqa: S308 - cells are escaped by their columns


THIN = Side(style="thin", color="999999")
BORDER = Border(THIN, THIN, THIN, THIN)
HEAD_FILL = PatternFill("solid", fgColor="DDE7F5")


# Cell styles are registered once per workbook and assigned by name: building a Border and an Alignment
# per cell and hashing them was nine tenths of an export's time (15 s for 3,000 rows of nine columns).
STYLES = {
    "清单单元格": {"alignment": Alignment(vertical="top")},
    "清单单元格换行": {"alignment": Alignment(vertical="top", wrap_text=True)},
    "清单序号": {"alignment": Alignment(horizontal="center", vertical="top")},
    "清单日期": {"alignment": Alignment(vertical="top"), "number_format": "yyyy-mm-dd"},
    "清单表头": {"alignment": Alignment(horizontal="center", vertical="center", wrap_text=True),
                 "font": Font(bold=True), "fill": HEAD_FILL},
}


def _add_styles(book) -> None:
    for name, options in STYLES.items():
        book.add_named_style(NamedStyle(name, border=BORDER, **options))


def _cell(sheet, value, style: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=xml_text(value))  # stored control characters must not break the file
    if isinstance(value, str):
        cell.data_type = "s"  # "=…" stays text, never a formula
    cell.style = style
    return cell


def _value_cell(sheet, column: Column, value) -> WriteOnlyCell:
    if value == "":
        value = None
    if column is SEQ:
        style = "清单序号"
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        style = "清单日期"
    else:
        style = "清单单元格换行" if column.width >= 24 else "清单单元格"
    return _cell(sheet, value, style)


def write_xlsx(demand_list: DemandList, qs, out, *, place: str, as_of: dt.date,
               progress: Callable[[int], None] | None = None) -> int:
    """The list as a joint office circulates it: row 1 the merged title ("南山区企业意见建议清单"), row 2 the
    as-of date, row 3 the headers (frozen with the rows above), then the rows numbered from 1 (序号).
    Streams in chunks through openpyxl's write-only mode; returns the number of rows written."""
    columns = list(demand_list.columns)
    last = get_column_letter(len(columns))
    book = Workbook(write_only=True)
    _add_styles(book)
    sheet = book.create_sheet(demand_list.name)
    sheet.freeze_panes = "A4"
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.merged_cells.add(CellRange(f"A1:{last}1"))
    sheet.merged_cells.add(CellRange(f"A2:{last}2"))
    title = WriteOnlyCell(sheet, value=demand_list.title(place))
    title.font = Font(bold=True, size=16)
    title.alignment = Alignment(horizontal="center", vertical="center")
    sheet.row_dimensions[1].height = 30
    sheet.append([title])
    stamp = WriteOnlyCell(sheet, value=f"截至{as_of.year}年{as_of.month}月{as_of.day}日")
    stamp.alignment = Alignment(horizontal="right")
    sheet.append([stamp])
    sheet.append([_cell(sheet, c.label, "清单表头") for c in columns])
    sheet.print_title_rows = "3:3"
    count = 0
    chunk: list[dict] = []

    def flush():
        nonlocal count
        _fill(chunk, columns, count + 1)
        for row in chunk:
            sheet.append([_value_cell(sheet, c, c.value(row)) for c in columns])
        count += len(chunk)
        if progress is not None:
            progress(count)
        chunk.clear()

    for row in qs.values(*_paths(columns)).iterator(chunk_size=CHUNK):
        chunk.append(row)
        if len(chunk) >= CHUNK:
            flush()
    if chunk:
        flush()
    book.save(out)
    return count
