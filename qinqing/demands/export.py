"""The ledger's columns, and the ledger view as a well-formed .xlsx.

One list of columns serves the ledger table (which columns a person chose to see) and the Excel export
(the same columns, Chinese headers, widths, dates as real dates). Rows stream through openpyxl's
write-only mode in chunks, so an export of a hundred thousand demands runs in bounded memory; text
beginning with "=" is written as text, never as a formula.
"""

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

CHUNK = 2000
HEAD_FILL = PatternFill("solid", fgColor="DDE7F5")
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


def _local(value: dt.datetime | None) -> dt.datetime | None:
    """Excel has no time zones: local wall-clock time, without tzinfo."""
    return timezone.localtime(value).replace(tzinfo=None) if value else None


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: int
    get: Callable
    kind: str = "text"  # text | date | datetime | number


def _enterprise(d):
    if d.enterprise_id:
        return d.enterprise.name
    return f"{d.reporter_name or '匿名'}（个人）"


COLUMNS = [
    Column("number", "编号", 15, lambda d: d.number),
    Column("title", "标题", 36, lambda d: d.title),
    Column("enterprise", "企业", 30, _enterprise),
    Column("credit_code", "统一社会信用代码", 21, lambda d: d.enterprise.credit_code if d.enterprise_id else ""),
    Column("category", "类别", 12, lambda d: d.category.name),
    Column("channel", "渠道", 10, lambda d: d.get_channel_display()),
    Column("jurisdiction", "属地", 12, lambda d: d.jurisdiction.name),
    Column("lead_unit", "主办单位", 24, lambda d: d.lead_unit.name if d.lead_unit_id else "未交办"),
    Column("co_units", "协办单位", 24, lambda d: "、".join(u.name for u in d.co_units.all())),
    Column("state", "状态", 12, lambda d: d.get_state_display()),
    Column("current_stage", "当前环节", 10, lambda d: d.get_current_stage_display()),
    Column("next_due", "当前环节期限", 13, lambda d: d.next_due, "date"),
    Column("received_at", "受理时间", 17, lambda d: _local(d.received_at), "datetime"),
    Column("dispatched_at", "交办时间", 17, lambda d: _local(d.dispatched_at), "datetime"),
    Column("contact_due", "联系期限", 12, lambda d: d.contact_due, "date"),
    Column("path_due", "路径反馈期限", 13, lambda d: d.path_due, "date"),
    Column("resolve_due", "办结期限", 12, lambda d: d.resolve_due, "date"),
    Column("replied_at", "答复时间", 17, lambda d: _local(d.replied_at), "datetime"),
    Column("outcome", "办理结果", 12, lambda d: d.get_outcome_display()),
    Column("evaluation", "评价", 10, lambda d: d.get_evaluation_display()),
    Column("closed_at", "办结时间", 17, lambda d: _local(d.closed_at), "datetime"),
    Column("tier", "办理层级", 10, lambda d: d.get_tier_display()),
    Column("reopen_count", "重办次数", 9, lambda d: d.reopen_count, "number"),
    Column("content", "诉求内容", 60, lambda d: d.content),
    Column("reply", "正式答复", 60, lambda d: d.reply),
]
BY_KEY = {c.key: c for c in COLUMNS}
DEFAULT_COLUMNS = ["number", "title", "enterprise", "category", "channel", "lead_unit", "state", "next_due",
                   "received_at"]
# Columns the ledger table can show (long texts are for the export only).
TABLE_COLUMNS = [c for c in COLUMNS if c.key not in ("content", "reply")]
RELATED = ("enterprise", "category", "lead_unit", "jurisdiction")


def clean_columns(keys: Iterable[str] | None, *, table: bool = False) -> list[str]:
    """Known column keys in the order given, without repeats; the defaults when none are left."""
    allowed = {c.key for c in (TABLE_COLUMNS if table else COLUMNS)}
    seen, out = set(), []
    for key in keys or ():
        if key in allowed and key not in seen:
            seen.add(key)
            out.append(key)
    return out or list(DEFAULT_COLUMNS)


def _head(sheet, text: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=text)
    cell.font = Font(bold=True)
    cell.fill = HEAD_FILL
    cell.alignment = Alignment(vertical="center")
    return cell


def _value(sheet, column: Column, value):
    if value in (None, ""):
        return None
    if column.kind == "date":
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
        return cell
    if column.kind == "datetime":
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATETIME_FORMAT
        return cell
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"  # never a formula
        return cell
    return value


def prepare(qs, keys: list[str]):
    qs = qs.select_related(*RELATED)
    if "co_units" in keys:
        qs = qs.prefetch_related("co_units")
    return qs


def write_xlsx(qs, keys: list[str], out, *, progress: Callable[[int], None] | None = None) -> int:
    """Write the (filtered, ordered) demands to `out` as .xlsx; returns the number of rows written."""
    columns = [BY_KEY[k] for k in clean_columns(keys)]
    book = Workbook(write_only=True)
    sheet = book.create_sheet("诉求台账")
    frozen = 3 if [c.key for c in columns[:2]] == ["number", "title"] else 1
    sheet.freeze_panes = f"{get_column_letter(frozen)}2"
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}1"
    sheet.append([_head(sheet, c.header) for c in columns])
    count = 0
    for demand in prepare(qs, [c.key for c in columns]).iterator(chunk_size=CHUNK):
        sheet.append([_value(sheet, c, c.get(demand)) for c in columns])
        count += 1
        if progress is not None and count % CHUNK == 0:
            progress(count)
    book.save(out)
    return count
