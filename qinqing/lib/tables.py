"""Columns declared once, rendered twice: as the cells of an HTML table and as a streaming .xlsx sheet.

A Column names the lookups it reads (Django's "enterprise__name" paths) and turns a row of them into a
plain value (what Excel gets) and into the cell's HTML. A ColumnSet is an ordered choice of columns with
defaults; a list page and its export declare their sets from the same Column objects, so a column's
label, value and width are written once.

Rows reach a column as a dict of its lookups, whichever side renders it: an export reads them with
.values() (model instances, five per row, were most of an export's time), a page lifts them off the
instances it already loaded with select_related. Cells are plain strings built with html.escape: a
50-row page has some two thousand cells, and Django's format_html per cell cost as much as a template.
"""

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from html import escape as esc
from typing import Any

from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .text import xml_text

Row = Mapping[str, Any]
MUTED_DASH = '<span class="muted">—</span>'
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
CHUNK = 2000
HEAD_FILL = PatternFill("solid", fgColor="DDE7F5")


@dataclass(frozen=True)
class Column:
    """One column of a list: its key (kept in people's saved choices), Chinese label, what it reads and
    how it shows in a page and in Excel."""

    key: str
    label: str
    reads: tuple[str, ...]  # the lookups the column reads, as .values() names ("lead_unit__name")
    value: Callable[[Row], object]  # the plain value from a row of those lookups: what Excel gets
    html: Callable[[Row, dict], str] | None = None  # the cell's HTML, every value escaped; None: the value, escaped
    css: str = ""  # class of the table cell
    width: int = 12  # Excel column width
    number_format: str | None = None  # Excel number format; dates need none (openpyxl writes yyyy-mm-dd)
    # Values that need a query of their own (many-to-many): row ids -> {id: value}, one query per chunk or page.
    batch: Callable[[list[int]], dict[int, object]] | None = None
    annotate: Mapping[str, Callable[[], Any]] = field(default_factory=dict)  # name -> expression factory

    @property
    def related(self) -> tuple[str, ...]:
        """The select_related paths the column's lookups cross."""
        return tuple(path.rsplit("__", 1)[0] for path in self.reads if "__" in path)

    def cell_html(self, row: Row, ctx: dict) -> str:
        if self.html is not None:
            return self.html(row, ctx)
        value = self.value(row)
        if value is None or value == "":
            return ""
        if isinstance(value, dt.datetime):
            return value.strftime("%Y-%m-%d %H:%M")
        if isinstance(value, dt.date):
            return value.strftime("%Y-%m-%d")
        return esc(str(value))


def field_column(key: str, label: str, lookup: str, convert: Callable[[Any], object] | None = None,
                 **options) -> Column:
    """A column showing one lookup, optionally converted (a choice label, a local time)."""
    if convert is None:
        return Column(key, label, (lookup,), lambda r: r[lookup], **options)
    return Column(key, label, (lookup,), lambda r: convert(r[lookup]), **options)


def choice_label(choices) -> Callable[[Any], str]:
    """value -> its Chinese label ("" for none) for a TextChoices' .choices."""
    labels = dict(choices)
    return lambda value: labels.get(value, value or "")


def local_time(value: dt.datetime | None) -> dt.datetime | None:
    """Excel has no time zones: local wall-clock time, without tzinfo."""
    return timezone.localtime(value).replace(tzinfo=None) if value else None


class ColumnSet:
    """An ordered choice of columns for one list, with the ones shown when a person chose none."""

    def __init__(self, columns: Iterable[Column], default: Iterable[str]):
        self.columns = list(columns)
        self.by_key = {c.key: c for c in self.columns}
        if len(self.by_key) != len(self.columns):
            raise ValueError("two columns share a key")
        self.default_keys = list(default)
        unknown = set(self.default_keys) - set(self.by_key)
        if unknown:
            raise ValueError(f"default columns not in the set: {sorted(unknown)}")

    def __iter__(self):
        return iter(self.columns)

    def __len__(self):
        return len(self.columns)

    def keys(self) -> list[str]:
        return [c.key for c in self.columns]

    def clean(self, keys: Iterable[str] | None) -> list[str]:
        """Known keys in the order given, without repeats; the defaults when none are left."""
        out: list[str] = []
        for key in keys or ():
            if key in self.by_key and key not in out:
                out.append(key)
        return out or list(self.default_keys)

    def chosen(self, keys: Iterable[str] | None = None) -> list[Column]:
        """The columns named by `keys` in the set's order; unknown keys are ignored, none means default."""
        wanted = {k for k in (keys or ()) if k in self.by_key}
        return [c for c in self.columns if c.key in wanted] or [self.by_key[k] for k in self.default_keys]

    def pick(self, keys: Iterable[str] | None) -> list[Column]:
        """The columns named by `keys` in the order given (an export's order), the defaults if none."""
        return [self.by_key[k] for k in self.clean(keys)]

    def extend(self, *extra: Column, default: Iterable[str] | None = None,
               only: Iterable[str] | None = None) -> "ColumnSet":
        """Another list's set: these columns (all, or the keys in `only`, in that order) plus its own."""
        base = [self.by_key[k] for k in only] if only is not None else list(self.columns)
        return ColumnSet([*base, *extra], self.default_keys if default is None else default)


def _reads(columns: Iterable[Column]) -> list[str]:
    return list(dict.fromkeys(path for c in columns for path in c.reads))


def _lift(obj, path: str):
    """A .values()-style lookup read off a model instance: "lead_unit__name" is obj.lead_unit.name."""
    for part in path.split("__"):
        if obj is None:
            return None
        obj = getattr(obj, part)
    return obj


def prepare(qs, columns: Iterable[Column]):
    """`qs` with the joins and annotations the columns need (a page calls this before paginating)."""
    columns = list(columns)
    related = list(dict.fromkeys(p for c in columns for p in c.related))
    annotations = {name: make() for c in columns for name, make in c.annotate.items()}
    if related:
        qs = qs.select_related(*related)
    return qs.annotate(**annotations) if annotations else qs


def _batches(columns: list[Column], ids: list[int]) -> dict[str, dict[int, object]]:
    return {c.key: c.batch(ids) for c in columns if c.batch is not None}


# ---------------------------------------------------------------- HTML


def render_rows(objects, columns: list[Column], ctx: dict | None = None) -> SafeString:
    """The <tr> elements of a table of model instances, one <td> per column."""
    ctx = ctx or {}
    paths = _reads(columns)
    objects = list(objects)
    batches = _batches(columns, [o.pk for o in objects]) if any(c.batch for c in columns) else {}
    opens = [f'<td class="{esc(c.css)}">' if c.css else "<td>" for c in columns]
    out = []
    for obj in objects:
        row = {path: _lift(obj, path) for path in paths}
        for key, values in batches.items():
            row[key] = values.get(obj.pk, "")
        out.append("<tr>")
        for open_tag, column in zip(opens, columns, strict=True):
            out += (open_tag, column.cell_html(row, ctx), "</td>")
        out.append("</tr>")
    # Safe: every value in a cell went through html.escape above.
    return mark_safe("".join(out))  # noqa: S308


# ---------------------------------------------------------------- Excel


def _head(sheet, text: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=text)
    cell.font = Font(bold=True)
    cell.fill = HEAD_FILL
    cell.alignment = Alignment(vertical="center")
    return cell


def _excel(sheet, column: Column, value):
    if value is None or value == "":
        return None
    value = xml_text(value)  # text stored with control characters must not break the file
    if column.number_format:
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = column.number_format
        return cell
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"  # text, never a formula
        return cell
    return value


def _chunks(qs, paths: list[str]) -> Iterator[list[dict]]:
    chunk = []
    for row in qs.values(*paths).iterator(chunk_size=CHUNK):
        chunk.append(row)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def write_xlsx(qs, columns: list[Column], out, *, sheet_title: str, frozen_columns: int = 0,
               progress: Callable[[int], None] | None = None) -> int:
    """Write the (filtered, ordered) rows of `qs` to `out` as one .xlsx sheet; returns the rows written.

    Rows stream through openpyxl's write-only mode in chunks, so a hundred thousand rows run in bounded
    memory. `frozen_columns` columns stay in view when scrolling sideways; the header row always does.
    """
    annotations = {name: make() for c in columns for name, make in c.annotate.items()}
    if annotations:
        qs = qs.annotate(**annotations)
    paths = list(dict.fromkeys(["id", *_reads(columns), *annotations]))
    batched = [c for c in columns if c.batch is not None]
    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_title)
    sheet.freeze_panes = f"{get_column_letter(frozen_columns + 1)}2"
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}1"
    sheet.append([_head(sheet, c.label) for c in columns])
    count = 0
    for chunk in _chunks(qs, paths):
        batches = _batches(batched, [r["id"] for r in chunk])
        for row in chunk:
            for key, values in batches.items():
                row[key] = values.get(row["id"], "")
            sheet.append([_excel(sheet, c, c.value(row)) for c in columns])
        count += len(chunk)
        if progress is not None:
            progress(count)
    book.save(out)
    return count
