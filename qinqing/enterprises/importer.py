"""Excel → registry: resolve the header, clean every row, compare with the registry, and only then write.

The check pass streams the sheet once, cleans each row with the shared RowCleaner and spools the clean
rows to a temporary file, so that memory stays flat however long the sheet is. For every 2,000 rows it
reads the batch's existing enterprises in one query (their year's figures in one more) and classifies
each row — 新增, 更新 with its changes field by field, 无变化, or 错误 — which is what the preview shows.
A row that would rename an existing enterprise or move it to another place needs the user's explicit
acceptance: without it the write pass skips it and says so (未确认的更名/迁址，已跳过).

The write pass (called by services.import_enterprises inside one transaction) reads the spool back
2,000 rows at a time and compares again the same way, against the registry as it is then, followed
by bulk inserts and updates.
"""

import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.db.models import F
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill

from qinqing.lib import clock

from . import bulk
from .changes import ChangeText
from .classify import Classifier, Figures
from .errors import RefusedFile
from .models import HELPER_FIELDS, Enterprise, EnterpriseEvent, Helpers, YearlyFigures
from .rows import FIELD_BY_KEY, FIGURE_KEYS, LABELS, RowCleaner, _text, field_for_header
from .xlsx import Limits, SheetReader

BATCH = 2000
PREVIEW_ROWS = 20
ERROR_CAP = 100_000  # cells marked in the error workbook; beyond that only the count is kept
HEADER_SCAN_ROWS = 10
REQUIRED_COLUMNS = ("name", "credit_code")
BAD_FILL = PatternFill("solid", fgColor="FFC7CE")
HEAD_FILL = PatternFill("solid", fgColor="DDE7F5")
FIGURE_FIELDS = ("employees", "revenue", "assets", "tax_paid")
CHANGES_SHOWN = 500  # existing enterprises whose changes are kept for the preview, per kind (moves, others)
MOVE_FIELDS = ("name", "jurisdiction_id")  # changes that need the user's explicit acceptance
MOVES_SKIPPED = "未确认的更名/迁址，已跳过"


class Kind:
    """What a row does to the registry, as the preview names it."""

    NEW, UPDATE, SAME, ERROR = "new", "update", "same", "error"
    LABELS = {NEW: "新增", UPDATE: "更新", SAME: "无变化", ERROR: "错误"}

Progress = Callable[[str, int, int], None]


@dataclass
class CellError:
    row: int
    column: int | None  # 0-based column in the sheet; None when the fault is not in one cell
    header: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "header": self.header, "message": self.message}


@dataclass
class ImportReport:
    header_row: int = 0
    columns: list[dict] = field(default_factory=list)  # [{"header", "field", "label"}] in sheet order
    total_rows: int = 0
    valid_rows: int = 0
    error_rows: int = 0
    error_count: int = 0
    errors: list[CellError] = field(default_factory=list)
    preview: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # the check, against the registry: rows that add, change, or leave an enterprise as it is
    new_rows: int = 0
    update_rows: int = 0
    same_rows: int = 0
    move_rows: int = 0  # of update_rows: a rename or a move, which the user must accept
    changes: list[dict] = field(default_factory=list)  # the first CHANGES_SHOWN updates (and moves), described
    # the write
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # renames and moves not accepted
    skipped_rows: list[int] = field(default_factory=list)  # their row numbers (the first CHANGES_SHOWN)
    written: bool = False

    @property
    def ok(self) -> bool:
        return self.error_rows == 0

    def summary(self) -> str:
        text = f"共{self.total_rows}行数据，有效{self.valid_rows}行"
        if self.error_rows:
            text += f"，{self.error_rows}行有错误（{self.error_count}处）"
        if self.written:
            text += f"；新增{self.created}家，更新{self.updated}家，无变化{self.unchanged}家"
            if self.skipped:
                rows = "、".join(f"第{n}行" for n in self.skipped_rows[:10])
                more = "等" if self.skipped > len(self.skipped_rows[:10]) else ""
                text += f"；{MOVES_SKIPPED}{self.skipped}家（{rows}{more}）"
        else:
            text += f"：新增{self.new_rows}家，更新{self.update_rows}家，无变化{self.same_rows}家"
            if self.move_rows:
                text += f"；其中{self.move_rows}家更名或迁址，须确认后才会导入"
        return text + "。"


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class Importer:
    """One import of one file by one user (None: the system, from manage.py)."""

    def __init__(self, user, path, *, partial: bool = False, progress: Progress | None = None,
                 limits: Limits | None = None, source: str = "", accept_moves: bool = False,
                 accepted_rows: Iterable[int] = ()):
        self.user = user if user is not None and getattr(user, "pk", None) else None
        self.path = Path(path)
        self.partial = partial
        # Renames and moves of existing enterprises written: all of them, or those of these sheet rows.
        self.accept_moves = accept_moves
        self.accepted_rows = frozenset(accepted_rows)
        self._classifier: Classifier | None = None
        self._shown = {False: 0, True: 0}  # updates described for the preview: other changes, moves
        self.progress = progress or (lambda stage, done, total: None)
        self.limits = limits or Limits.from_settings()
        self.source = source or self.path.name
        self.cleaner = RowCleaner(user)
        self.report = ImportReport()
        self._spool = None
        self._marks: dict[int, dict[int | None, str]] = {}
        self._key_columns: dict[str, int] = {}
        self._factors: dict[str, Decimal] = {}

    # ------------------------------------------------------------ check

    def _resolve_header(self, rows: Iterator) -> list:
        """Find the header among the first rows (staff put a title above it) and map its columns."""
        for _ in range(HEADER_SCAN_ROWS):
            try:
                number, cells = next(rows)
            except StopIteration:
                break
            mapping: dict[str, int] = {}
            columns, factors, duplicates = [], {}, []
            for index, cell in enumerate(cells):
                header = _text(cell)
                if not header:
                    continue
                key, factor = field_for_header(header)
                if key in mapping:
                    duplicates.append((header, key))
                    key = None
                elif key:
                    mapping[key] = index
                    factors[key] = factor
                columns.append({"header": header, "field": key or "", "label": LABELS.get(key, ""),
                                "column": index})
            if len(mapping) >= 2 and set(REQUIRED_COLUMNS) & mapping.keys():
                missing = [LABELS[k] for k in REQUIRED_COLUMNS if k not in mapping]
                if missing:
                    raise RefusedFile(f"第{number}行表头缺少必填列：{'、'.join(missing)}。")
                if duplicates:
                    header, key = duplicates[0]
                    raise RefusedFile(f"表头“{header}”与另一列都表示“{LABELS[key]}”，请只保留一列。")
                self.report.header_row = number
                self.report.columns = columns
                self._key_columns = mapping
                self._factors = factors
                return cells
        raise RefusedFile("找不到表头行：前10行中应有一行列名，至少包括“企业名称”和“统一社会信用代码”"
                          "（可下载导入模板对照）。")

    def check(self) -> ImportReport:
        """Read and clean every row; nothing is written. Clean rows go to a spool file for write()."""
        report = self.report
        self._spool = tempfile.TemporaryFile(prefix="qinqing-import-")
        with SheetReader(self.path, self.limits) as reader:
            estimate = reader.declared_rows() or 0
            rows = reader.rows()
            self._resolve_header(rows)
            seen_codes: dict[str, int] = {}
            batch: list = []
            for number, cells in rows:
                raw = {key: cells[col] if col < len(cells) else None for key, col in self._key_columns.items()}
                clean = self.cleaner.clean(raw, factors=self._factors)
                code = clean.values.get("credit_code")
                if code:
                    if code in seen_codes:
                        clean.problems["credit_code"] = f"与第{seen_codes[code]}行的统一社会信用代码重复"
                    else:
                        seen_codes[code] = number
                report.total_rows += 1
                batch.append((number, cells, clean))
                if len(batch) >= BATCH:
                    self._finish_batch(batch)
                    batch = []
                    self.progress("check", report.total_rows, max(estimate - report.header_row, report.total_rows))
            self._finish_batch(batch)
            if reader.stopped_at:
                if reader.resumed_after_gap:
                    report.warnings.append(f"第{reader.stopped_at - self.limits.empty_run + 1}行起连续"
                                           f"{self.limits.empty_run}行为空，其后的内容未读取；如需导入请删除空行。")
                else:
                    report.warnings.append(f"第{reader.stopped_at}行之前已连续{self.limits.empty_run}行为空，"
                                           "视为数据结束。")
        if report.total_rows == 0:
            raise RefusedFile("表头下面没有数据行。")
        self.progress("check", report.total_rows, report.total_rows)
        self._spool.seek(0)
        return report

    def _finish_batch(self, batch: list) -> None:
        """Mark the batch's errors, classify its rows against the registry, spool the clean ones."""
        if not batch:
            return
        existing = _existing(c.values["credit_code"] for _, _, c in batch if "credit_code" in c.values)
        self._check_existing_in_scope(batch, existing)
        report = self.report
        good = []
        for number, _, clean in batch:
            if clean.problems:
                report.error_rows += 1
                self._record_problems(number, clean.problems)
                continue
            report.valid_rows += 1
            values = dict(clean.values)
            place = values.pop("jurisdiction", None)
            if place is not None:
                values["jurisdiction_id"] = place.pk
            figures = clean.figures if clean.figures and set(clean.figures) - {"year"} else None
            good.append((number, values, figures, clean.defaults))
        plans = {p.number: p for p in self._plan(good, existing, new_rows=False)}
        self._count_and_describe(plans.values())
        for number, cells, clean in batch[:max(PREVIEW_ROWS - len(report.preview), 0)]:
            report.preview.append(self._preview_row(number, cells, clean, plans.get(number)))
        if good:
            # Our own temporary file, written and read by this process only: never user input.
            pickle.dump(good, self._spool, protocol=pickle.HIGHEST_PROTOCOL)

    def _check_existing_in_scope(self, batch: list, existing: dict) -> None:
        """A row may update an existing enterprise only if the user manages the place it is filed under."""
        scope = self.cleaner.scope
        if scope is None:
            return
        for _, _, clean in batch:
            found = existing.get(clean.values.get("credit_code"))
            if found is not None and not found["place_path"].startswith(scope):
                clean.problems["credit_code"] = f"该企业已在企业库中登记，属于{found['place_name']}，不在您的管辖范围内"

    def _count_and_describe(self, plans: Iterable["Plan"]) -> None:
        """Count the batch's kinds; keep the first updates described in words for the preview."""
        report = self.report
        kept = []
        for plan in plans:
            kind = plan.kind
            if kind == Kind.NEW:
                report.new_rows += 1
            elif kind == Kind.SAME:
                report.same_rows += 1
            else:
                report.update_rows += 1
                report.move_rows += plan.moves
                if self._shown[plan.moves] < CHANGES_SHOWN:
                    self._shown[plan.moves] += 1
                    kept.append(plan)
        if kept:
            text = ChangeText(p.changes for p in kept)  # one query per kind of name, for the batch
            for plan in kept:
                plan.described = text.rows(plan.changes)
                report.changes.append({"row": plan.number, "credit_code": plan.enterprise["credit_code"],
                                       "name": plan.before_name, "moves": plan.moves,
                                       "changes": [list(r) for r in plan.described]})

    def _record_problems(self, number: int, problems: dict[str, str]) -> None:
        report = self.report
        marks = self._marks.setdefault(number, {}) if report.error_count < ERROR_CAP else None
        for key, message in problems.items():
            report.error_count += 1
            column = self._key_columns.get(key)
            header = next((c["header"] for c in report.columns if c["column"] == column), LABELS.get(key, key))
            if marks is not None:
                if column is None:
                    earlier = marks.get(None)
                    marks[None] = f"{earlier}；{header}：{message}" if earlier else f"{header}：{message}"
                else:
                    marks[column] = message
            if len(report.errors) < ERROR_CAP:
                report.errors.append(CellError(number, column, header, message))

    def _preview_row(self, number: int, cells: list, clean, plan: "Plan | None") -> dict:
        errors = {}
        for key, message in clean.problems.items():
            errors[str(self._key_columns.get(key, -1))] = f"{LABELS.get(key, key)}：{message}"
        kind = Kind.ERROR if plan is None else plan.kind
        return {"row": number, "cells": [_text(cells[c["column"]]) if c["column"] < len(cells) else ""
                                         for c in self.report.columns], "errors": errors,
                "kind": kind, "kind_label": Kind.LABELS[kind], "moves": bool(plan and plan.moves),
                "changes": [list(r) for r in plan.described] if plan and plan.described else []}

    # ------------------------------------------------------------ write

    def spooled(self) -> Iterator[list]:
        self._spool.seek(0)
        while True:
            try:
                yield pickle.load(self._spool)  # noqa: S301 - our own spool file, see _finish_batch
            except EOFError:
                return

    def write(self) -> ImportReport:
        """Write the spooled rows. The caller owns the transaction (all-or-nothing)."""
        report = self.report
        if not report.ok and not self.partial:
            raise RefusedFile("文件有错误，未导入任何数据。")
        now = clock.now()
        done = 0
        for batch in self.spooled():
            existing = _existing(values["credit_code"] for _, values, _, _ in batch)
            self._write_batch(self._plan(batch, existing, now=now), now)
            done += len(batch)
            self.progress("write", done, report.valid_rows)
        report.written = True
        return report

    @property
    def classifier(self) -> Classifier:
        if self._classifier is None:
            self._classifier = Classifier.load()
        return self._classifier

    def _plan(self, batch: list, existing: dict, *, now=None, new_rows: bool = True) -> list["Plan"]:
        """What each clean row does to the registry: the same comparison for the preview and the write.

        One query for the year's figures already recorded for the batch's existing enterprises, whatever
        the batch's size. `new_rows=False` (the check pass) skips building the records of new enterprises.
        """
        years = {figures["year"] for _, values, figures, _ in batch if figures and values["credit_code"] in existing}
        known = {}
        if years:
            known = {(r["enterprise_id"], r["year"]): r for r in YearlyFigures.objects.filter(
                enterprise_id__in=[e["id"] for e in existing.values()], year__in=years)
                .values("enterprise_id", "year", *FIGURE_FIELDS)}
        plans = []
        for number, values, figures, defaults in batch:
            before = existing.get(values["credit_code"])
            if before is None:
                if not new_rows:
                    plans.append(Plan(number, Record(values), None))
                    continue
                enterprise = Record(_defaults(now))
                enterprise.update(defaults)
                enterprise.update(values)
                changes = None
            else:
                enterprise = Record(before)
                changes = {}
                for name, value in values.items():
                    old = enterprise[name]
                    if old != value:
                        changes[name] = [_plain(old), _plain(value)]
                        enterprise[name] = value
            plan = Plan(number, enterprise, changes, before_name=before["name"] if before else "")
            plans.append(plan)
            if figures:
                prior = known.get((enterprise.get("id"), figures["year"]))
                row = Record(prior or dict.fromkeys(FIGURE_FIELDS))
                row.update({k: v for k, v in figures.items() if v is not None})
                same = prior is not None and all(row[k] == prior[k] for k in FIGURE_FIELDS)
                if same and not changes:
                    continue  # the same figures again: nothing to record
                moved = classify_year(enterprise, row, self.classifier, explicit=values)
                plan.figures = row
                if changes is not None:
                    if not same:
                        changes["figures"] = [_figures_dict(prior, row["year"]), _figures_dict(row, row["year"])]
                    for name, pair in moved.items():
                        changes.setdefault(name, [_plain(v) for v in pair])
        return plans

    def _accepted(self, plan: "Plan") -> bool:
        return self.accept_moves or plan.number in self.accepted_rows

    def _write_batch(self, plans: list["Plan"], now) -> None:
        """A fixed number of set-based writes per batch, whatever its size."""
        report = self.report
        columns = _enterprise_columns()
        actor_id = self.user.pk if self.user else None
        created, updated, changed_fields, figure_rows = [], [], set(), []
        for plan in plans:
            enterprise, changes = plan.enterprise, plan.changes
            if changes is None:
                created.append((plan.number, enterprise))
            elif not changes:
                report.unchanged += 1
                continue
            elif plan.moves and not self._accepted(plan):
                report.skipped += 1
                if len(report.skipped_rows) < CHANGES_SHOWN:
                    report.skipped_rows.append(plan.number)
                continue
            else:
                updated.append((plan.number, enterprise, changes))
                changed_fields.update(changes)
            if plan.figures is not None:
                figure_rows.append((enterprise, plan.figures))

        adapters = {attname: adapt for attname, adapt in columns}
        names = [attname for attname, _ in columns]
        bulk.insert(Enterprise, names, (tuple(_adapted(e[n], adapters[n]) for n in names) for _, e in created))
        if created:
            ids = dict(Enterprise.objects.filter(credit_code__in=[e["credit_code"] for _, e in created])
                       .values_list("credit_code", "id"))
            for _, enterprise in created:
                enterprise["id"] = ids[enterprise["credit_code"]]
        moved = [e for _, e in created if any(e[f] is not None for f in HELPER_FIELDS)]
        moved += [e for _, e, changes in updated if changes.keys() & set(HELPER_FIELDS)]
        bulk.insert(Helpers, ["enterprise_id", *HELPER_FIELDS],
                    ((e["id"], *(e[f] for f in HELPER_FIELDS)) for e in moved),
                    conflict=("enterprise_id",), update=HELPER_FIELDS)
        if moved:
            from qinqing.visits.services import follow_registry  # visits builds on the registry

            follow_registry(self.user if self.user and self.user.pk else None, [
                *((e["id"], f, e[f]) for _, e in created for f in HELPER_FIELDS if e[f] is not None),
                *((e["id"], f, e[f]) for _, e, changes in updated for f in HELPER_FIELDS if f in changes)])
        if updated:
            fields = [*sorted(changed_fields - {*HELPER_FIELDS, "figures"}), "updated_at"]
            stamp = bulk.adapt_datetime(now)
            bulk.update(Enterprise, fields, (
                (*(_adapted(e[f], adapters[f]) for f in fields[:-1]), stamp, e["id"]) for _, e, _ in updated))
        recorded_at = bulk.adapt_datetime(now)
        bulk.insert(YearlyFigures, FIGURE_COLUMNS, (
            (e["id"], r["year"], r["employees"], r["revenue"], r["assets"], r["tax_paid"], r["size"],
             r["is_four_above"], r["four_above_rule"], recorded_at, actor_id) for e, r in figure_rows),
            conflict=("enterprise_id", "year"), update=FIGURE_COLUMNS[2:])
        note = f"导入“{self.source}”第{{}}行"
        empty = bulk.adapt_json({})
        bulk.insert(EnterpriseEvent, EVENT_COLUMNS, [
            *((e["id"], actor_id, EnterpriseEvent.Verb.IMPORT_CREATE.value, empty, note.format(n), recorded_at)
              for n, e in created),
            *((e["id"], actor_id, EnterpriseEvent.Verb.IMPORT_UPDATE.value, bulk.adapt_json(changes),
               note.format(n), recorded_at) for n, e, changes in updated),
        ])
        report.created += len(created)
        report.updated += len(updated)

    # ------------------------------------------------------------ the error workbook

    def write_error_workbook(self, out) -> None:
        """A copy of the sheet with each bad cell filled red and commented with the reason, a 错误说明 column
        at the end, and a second sheet listing every error. Written in streaming mode."""
        book = Workbook(write_only=True)
        sheet = book.create_sheet("错误标注")
        sheet.freeze_panes = "A2"
        listing = book.create_sheet("错误清单")
        width = max([c["column"] for c in self.report.columns] + [0]) + 1
        headers = {c["column"]: c["header"] for c in self.report.columns}
        for index in range(width + 1):
            sheet.column_dimensions[_column_letter(index)].width = 18
        sheet.column_dimensions[_column_letter(width)].width = 60
        with SheetReader(self.path, self.limits) as reader:
            for number, cells in reader.rows():
                if number < self.report.header_row:
                    continue
                if number == self.report.header_row:
                    head = [_styled(sheet, _text(c), fill=HEAD_FILL, bold=True) for c in cells]
                    head += [None] * (width - len(head))
                    sheet.append([*head, _styled(sheet, "错误说明", fill=BAD_FILL, bold=True)])
                    continue
                marks = self._marks.get(number, {})
                out_cells = []
                for index in range(max(len(cells), width)):
                    cell = cells[index] if index < len(cells) else None
                    message = marks.get(index)
                    out_cells.append(_styled(sheet, cell, fill=BAD_FILL if message else None, comment=message))
                reasons = "；".join(f"{headers.get(i, '')}：{m}" if i is not None else m for i, m in marks.items())
                sheet.append([*out_cells, _styled(sheet, reasons) if reasons else None])
                if reader.stopped_at and number >= reader.stopped_at:
                    break
        listing.freeze_panes = "A2"
        for letter, w in zip("ABCD", (8, 12, 24, 80), strict=True):
            listing.column_dimensions[letter].width = w
        listing.append([_styled(listing, h, fill=HEAD_FILL, bold=True) for h in ("行号", "列", "列名", "错误原因")])
        for error in self.report.errors:
            column = _column_letter(error.column) if error.column is not None else ""
            listing.append([error.row, column, _styled(listing, error.header), _styled(listing, error.message)])
        if self.report.error_count > len(self.report.errors):
            listing.append([None, None, None, f"错误过多，仅列出前{len(self.report.errors)}处。"])
        book.save(out)

def _styled(sheet, value, *, fill=None, bold=False, comment=None):
    """A write-only cell; text is forced to text so that "=…" is never written as a formula."""
    kind = value[0] if isinstance(value, tuple) else None
    if kind == "n":
        try:
            number = Decimal(value[1])
            value = int(number) if number == number.to_integral_value() and abs(number) < 10**15 else float(number)
        except ArithmeticError:
            value = value[1]
    elif kind is not None:
        value = value[1]
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    if fill is not None:
        cell.fill = fill
    if bold:
        cell.font = Font(bold=True)
    if comment:
        cell.comment = Comment(comment, "亲清")
    return cell


@dataclass
class Plan:
    """One clean row against the registry: a new enterprise (changes None), an update, or nothing to do."""

    number: int
    enterprise: "Record"  # the enterprise as the row leaves it
    changes: dict | None  # field → [old, new], as the change log stores them
    before_name: str = ""  # the name the registry has now
    figures: "Record | None" = None  # the year's row to write
    described: list = field(default_factory=list)  # (label, old, new) for the preview

    @property
    def kind(self) -> str:
        return Kind.NEW if self.changes is None else Kind.UPDATE if self.changes else Kind.SAME

    @property
    def moves(self) -> bool:
        """A rename or a move to another place: written only when the user accepted it."""
        return bool(self.changes) and any(f in self.changes for f in MOVE_FIELDS)


def _existing(codes: Iterable[str]) -> dict[str, dict]:
    """The registry's rows for these credit codes, with their helpers and place, in one query."""
    codes = list(codes)
    if not codes:
        return {}
    return {r["credit_code"]: r for r in Enterprise.objects.filter(credit_code__in=codes).values(
        "id", *(attname for attname, _ in _enterprise_columns()),
        place_path=F("jurisdiction__path"), place_name=F("jurisdiction__name"),
        **{name: F(f"helpers__{name}") for name in HELPER_FIELDS})}


def _figures_dict(row, year: int) -> dict | None:
    if row is None:
        return None
    return {"year": year, **{k: _plain(row[k]) for k in FIGURE_FIELDS if row[k] is not None}}


class Record(dict):
    """A row as a dict whose keys also read as attributes, so classify_year treats it like a model."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        self[name] = value


FIGURE_COLUMNS = ["enterprise_id", "year", *FIGURE_FIELDS, "size", "is_four_above", "four_above_rule",
                  "recorded_at", "recorded_by_id"]
EVENT_COLUMNS = ["enterprise_id", "actor_id", "verb", "changes", "note", "created_at"]


def _enterprise_columns() -> list[tuple[str, object]]:
    """(attname, adapter) for every Enterprise column but the id."""
    out = []
    for f in Enterprise._meta.concrete_fields:
        if f.primary_key:
            continue
        kind = f.get_internal_type()
        adapt = bulk.adapt_json if kind == "JSONField" else bulk.adapt_datetime if kind == "DateTimeField" else None
        out.append((f.attname, adapt))
    return out


def _defaults(now) -> dict:
    values = {}
    for f in Enterprise._meta.concrete_fields:
        if not f.primary_key:
            values[f.attname] = f.get_default()
    values["created_at"] = values["updated_at"] = now
    values.update(dict.fromkeys(HELPER_FIELDS))
    return values


def _adapted(value, adapt):
    return adapt(value) if adapt is not None and value is not None else value


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    return value


def merge_figures(enterprise, figures: dict, known: dict, now, user) -> YearlyFigures:
    """The year's row: what the file says, over what was recorded before (blank cells keep old values)."""
    year = figures["year"]
    row = known.get((enterprise.pk, year)) if enterprise.pk else None
    if row is None:
        row = YearlyFigures(enterprise=enterprise, year=year)
    else:
        row.enterprise = enterprise
    for key in FIGURE_KEYS:
        if figures.get(key) is not None:
            setattr(row, key, figures[key])
    row.recorded_at = now
    row.recorded_by = user
    return row


def classify_year(enterprise, row: YearlyFigures, classifier: Classifier, explicit: dict | None = None) -> dict:
    """Compute the year's size and 四上 status; if it is the latest year, carry them onto the enterprise.

    Where the rules cannot decide (no rule for the industry, or a figure the rule needs is missing), what
    staff entered explicitly is kept. Returns the enterprise's changed fields as {field: [old, new]}.
    """
    explicit = explicit or {}
    code = enterprise.industry_code
    figures = Figures(employees=row.employees, revenue=row.revenue, assets=row.assets)
    row.size = classifier.size(code, figures) or explicit.get("size", "")
    if classifier.four_above_rule(code) is None and "is_four_above" in explicit:
        row.is_four_above, row.four_above_rule = explicit["is_four_above"], ""
    else:
        row.is_four_above, row.four_above_rule = classifier.four_above(code, figures, enterprise.qualification)
    changes = {}
    if enterprise.figures_year is None or row.year >= enterprise.figures_year:
        updates = [("is_four_above", row.is_four_above), ("figures_year", row.year)]
        if row.size:
            updates.append(("size", row.size))
        for name, value in updates:
            old = getattr(enterprise, name)
            if old != value:
                changes[name] = [old, value]
                setattr(enterprise, name, value)
    return changes


__all__ = ["FIELD_BY_KEY", "ImportReport", "Importer", "CellError"]
