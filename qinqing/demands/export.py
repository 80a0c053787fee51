"""The ledger's columns, and the ledger view as a well-formed .xlsx.

One list of columns serves the ledger table (which columns a person chose to see) and the Excel export
(the same columns, Chinese headers, widths, dates as real dates). Rows stream through openpyxl's
write-only mode in chunks, so an export of a hundred thousand demands runs in bounded memory; text
beginning with "=" is written as text, never as a formula.
"""

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .models import Channel, Demand, Evaluation, Outcome, Stage, State, Tier
from .taxonomy import aspect_label

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
    fields: tuple[str, ...]  # the values() lookups the column reads
    get: Callable  # row dict → cell value
    kind: str = "text"  # text | date | datetime | number


def _label(choices):
    labels = dict(choices)
    return lambda value: labels.get(value, value or "")


_state, _stage, _channel = _label(State.choices), _label(Stage.choices), _label(Channel.choices)
_outcome, _evaluation, _tier = _label(Outcome.choices), _label(Evaluation.choices), _label(Tier.choices)


def _enterprise(r):
    if r["enterprise__name"]:
        return r["enterprise__name"]
    return f"{r['reporter_name'] or '匿名'}（个人）"


def _field(name, convert=None):
    return (name,), (lambda r: convert(r[name])) if convert else (lambda r: r[name])


COLUMNS = [
    Column("number", "编号", 15, *_field("number")),
    Column("title", "标题", 36, *_field("title")),
    Column("enterprise", "企业", 30, ("enterprise__name", "reporter_name"), _enterprise),
    Column("credit_code", "统一社会信用代码", 21, *_field("enterprise__credit_code", lambda v: v or "")),
    Column("category", "类别", 12, *_field("category__name")),
    Column("aspect", "营商环境方面", 18, *_field("aspect_id", aspect_label)),
    Column("channel", "渠道", 10, *_field("channel", _channel)),
    Column("jurisdiction", "属地", 12, *_field("jurisdiction__name")),
    Column("lead_unit", "主办单位", 24, *_field("lead_unit__name", lambda v: v or "未交办")),
    Column("co_units", "协办单位", 24, ("id",), lambda r: r["co_units"]),
    Column("state", "状态", 12, *_field("state", _state)),
    Column("current_stage", "当前环节", 10, *_field("current_stage", _stage)),
    Column("next_due", "当前环节期限", 13, *_field("next_due"), "date"),
    Column("received_at", "受理时间", 17, *_field("received_at", _local), "datetime"),
    Column("dispatched_at", "交办时间", 17, *_field("dispatched_at", _local), "datetime"),
    Column("contact_due", "联系期限", 12, *_field("contact_due"), "date"),
    Column("path_due", "路径反馈期限", 13, *_field("path_due"), "date"),
    Column("resolve_due", "办结期限", 12, *_field("resolve_due"), "date"),
    Column("replied_at", "答复时间", 17, *_field("replied_at", _local), "datetime"),
    Column("outcome", "办理结果", 12, *_field("outcome", _outcome)),
    Column("evaluation", "评价", 10, *_field("evaluation", _evaluation)),
    Column("closed_at", "办结时间", 17, *_field("closed_at", _local), "datetime"),
    Column("tier", "办理层级", 10, *_field("tier", _tier)),
    Column("reopen_count", "重办次数", 9, *_field("reopen_count"), "number"),
    Column("content", "诉求内容", 60, *_field("content")),
    Column("reply", "正式答复", 60, *_field("reply")),
]
BY_KEY = {c.key: c for c in COLUMNS}
DEFAULT_COLUMNS = ["number", "title", "enterprise", "category", "channel", "lead_unit", "state", "next_due",
                   "received_at"]
# Columns the ledger table can show (long texts are for the export only).
TABLE_COLUMNS = [c for c in COLUMNS if c.key not in ("content", "reply")]


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
        return value  # openpyxl formats a date as yyyy-mm-dd by itself
    if column.kind == "datetime":
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATETIME_FORMAT
        return cell
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"  # never a formula
        return cell
    return value


def _co_units(ids: list[int]) -> dict[int, str]:
    """The co-units of a chunk of demands in one query."""
    through = Demand.co_units.through
    names: dict[int, list[str]] = {}
    for demand_id, name in (through.objects.filter(demand_id__in=ids).order_by("unit__name")
                            .values_list("demand_id", "unit__name")):
        names.setdefault(demand_id, []).append(name)
    return {pk: "、".join(v) for pk, v in names.items()}


def _chunks(qs, fields: list[str]) -> Iterator[list[dict]]:
    """Rows as plain dicts (no model instances: five of them per row was most of the export's time)."""
    chunk = []
    for row in qs.values(*fields).iterator(chunk_size=CHUNK):
        chunk.append(row)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def write_xlsx(qs, keys: list[str], out, *, progress: Callable[[int], None] | None = None) -> int:
    """Write the (filtered, ordered) demands to `out` as .xlsx; returns the number of rows written."""
    columns = [BY_KEY[k] for k in clean_columns(keys)]
    fields = list(dict.fromkeys(["id", *(f for c in columns for f in c.fields)]))
    with_co = any(c.key == "co_units" for c in columns)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("诉求台账")
    frozen = 3 if [c.key for c in columns[:2]] == ["number", "title"] else 1
    sheet.freeze_panes = f"{get_column_letter(frozen)}2"
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}1"
    sheet.append([_head(sheet, c.header) for c in columns])
    count = 0
    for chunk in _chunks(qs, fields):
        co = _co_units([r["id"] for r in chunk]) if with_co else {}
        for row in chunk:
            row["co_units"] = co.get(row["id"], "")
            sheet.append([_value(sheet, c, c.get(row)) for c in columns])
        count += len(chunk)
        if progress is not None:
            progress(count)
    book.save(out)
    return count
