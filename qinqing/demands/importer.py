"""Excel → demands: a historical ledger (台账) or a 12345 export sheet, all rows checked before any is written.

Reading: the sheet streams through the registry importer's hardened reader (enterprises.xlsx.SheetReader:
zip-bomb checks, lxml iterparse, rows cleared as read), so memory stays flat at 100,000 rows. The header is
found among the first rows and each column mapped through its Chinese aliases (工单编号/诉求编号/来电编号 →
来源编号, 诉求内容/来电内容, 受理时间/来电时间 …).

Checking (`DemandImporter.check`): every row is cleaned — required cells, dates (Excel serials or text),
the enterprise by credit code or name in the importer's reach, the unit by name, the category, the outcome
and evaluation by their labels — and each fault is kept as (row, column, message) for the error workbook.
A source number seen twice in the sheet is an error; one already imported (transparency.DemandSource) is
counted and skipped: importing the same sheet again writes nothing new.

Writing (`import_demands`): all or nothing, in one transaction, only when the check found no error. Every
row is received through `services.receive_demands` (200 per call, its limit) with its own receipt time;
the history a row carries (承办单位, 答复内容, 答复时间, 办理结果, 满意度) is then written set-based as what it
is — a finished case imported from the old ledger, closed with the recorded reply, on the timeline as
"导入历史办理结果" — never as dispatches and contacts nobody made (those would count in the 1231 on-time
rates). A row with a unit but no reply is still open: it is dispatched to that unit through
`services.dispatch_demand`, now, by the importer, with its deadlines running from its receipt date.
"""

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone
from openpyxl import Workbook

from qinqing.accounts.models import Jurisdiction, Role, Unit
from qinqing.enterprises.models import Enterprise
from qinqing.enterprises.xlsx import Cell, Limits, SheetReader
from qinqing.lib import clock
from qinqing.lib.text import clean_text
from qinqing.lib.uscc import is_valid as uscc_valid

from . import services
from .errors import DomainError, PermissionDeniedError
from .models import Category, Channel, Demand, DemandEvent, Evaluation, Outcome, State
from .verbs import is_admin

BATCH = 2000  # rows looked up together (enterprises, known source numbers) in one query each
HEADER_SCAN_ROWS = 10
ERRORS_KEPT = 10_000  # listed in the error workbook; beyond that only counted
PREVIEW_ROWS = 20
EXCEL_EPOCH = dt.datetime(1899, 12, 30)  # noqa: DTZ001 - a wall-clock origin, made aware after adding; serial 1 is 1900-01-01, with Lotus's 1900 leap-year bug

# field → (label, aliases). The first alias is the label shown in the error workbook and the preview.
COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "source_number": ("来源编号", ("工单编号", "诉求编号", "来电编号", "台账编号", "工单号", "来源编号", "编号", "序号编号")),
    "received_at": ("受理时间", ("受理时间", "来电时间", "登记时间", "反映时间", "诉求时间", "受理日期", "来电日期")),
    "content": ("诉求内容", ("诉求内容", "来电内容", "问题描述", "反映内容", "诉求描述", "工单内容", "具体诉求")),
    "title": ("标题", ("诉求标题", "标题", "工单标题", "事项名称", "诉求事项")),
    "enterprise_name": ("企业名称", ("企业名称", "企业", "反映企业", "来电单位", "市场主体名称")),
    "credit_code": ("统一社会信用代码", ("统一社会信用代码", "社会信用代码", "信用代码")),
    "reporter_name": ("反映人", ("反映人", "来电人", "联系人", "诉求人")),
    "reporter_phone": ("联系电话", ("联系电话", "来电号码", "联系方式", "反映人电话")),
    "channel": ("来源渠道", ("来源渠道", "渠道", "诉求来源", "来源")),
    "category": ("诉求类别", ("诉求类别", "类别", "问题类别", "问题类型", "诉求类型")),
    "jurisdiction": ("属地", ("属地", "所属镇街", "所属区域", "所属街道", "区域")),
    "unit": ("承办单位", ("承办单位", "主办单位", "办理单位", "责任单位", "承办部门")),
    "outcome": ("办理结果", ("办理结果", "处理结果", "办结情况", "办结类型")),
    "reply": ("答复内容", ("答复内容", "答复意见", "回复内容", "办理情况", "处理意见")),
    "replied_at": ("答复时间", ("答复时间", "办结时间", "回复时间", "答复日期", "办结日期")),
    "evaluation": ("满意度", ("满意度", "企业评价", "评价结果", "评价", "回访结果")),
}
REQUIRED = ("source_number", "received_at", "content")
_ALIAS = {alias: key for key, (_, aliases) in COLUMNS.items() for alias in aliases}
_DECOR = re.compile(r"[\s*＊:：]|[（(](必填|选填|可选)[)）]")

OUTCOME_WORDS = {
    Outcome.SOLVED: ("已解决", "解决", "已办结", "办结"),
    Outcome.EXPLAINED: ("已解释说明", "解释说明", "已解释", "解释"),
    Outcome.UNSOLVABLE: ("无法解决", "未解决", "不能解决"),
}
EVALUATION_WORDS = {
    Evaluation.SATISFIED: ("满意", "非常满意"),
    Evaluation.BASIC: ("基本满意", "比较满意"),
    Evaluation.UNSATISFIED: ("不满意", "非常不满意"),
}
CHANNEL_WORDS = {label: value for value, label in Channel.choices} | {
    "12345": Channel.HOTLINE, "热线": Channel.HOTLINE, "12345热线": Channel.HOTLINE, "网上": Channel.ONLINE,
    "网站": Channel.ONLINE, "会谈": Channel.MEETING, "约见": Channel.MEETING}
_DATE_TEXT = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]+(\d{1,2})[:：时](\d{1,2})(?:[:：分](\d{1,2}))?)?")

Progress = Callable[[str, int, int], None]
CLOSE_SQL = ("UPDATE demands_demand SET lead_unit_id = %s, state = %s, outcome = %s, reply = %s, replied_at = %s, "
             "closed_at = %s, evaluation = %s, evaluation_by_callback = %s, current_stage = '', next_due = NULL, "
             "due_order = %s, version = version + 1, updated_at = %s WHERE id = %s")


def header_key(text: str) -> str | None:
    """The field a header names, through its aliases ("工单编号（必填）" → source_number)."""
    return _ALIAS.get(_DECOR.sub("", clean_text(text or "")))


def _text(cell: Cell | None) -> str:
    if cell is None:
        return ""
    value = cell[1]
    if cell[0] == "n" and value.endswith(".0"):
        value = value[:-2]
    return clean_text(value).strip()


def parse_moment(cell: Cell | None) -> dt.datetime | None:
    """An aware datetime from an Excel date serial or a text such as 2026-05-03 10:20 / 2026年5月3日.
    A date without a time is taken at 09:00, the start of office hours. Raises ValueError."""
    if cell is None:
        return None
    kind, value = cell
    if kind == "n":
        serial = float(value)
        if not 1 <= serial < 2958466:
            raise ValueError
        moment = EXCEL_EPOCH + dt.timedelta(days=serial)
        moment = moment.replace(microsecond=0)
        if moment.time() == dt.time.min:
            moment = moment.replace(hour=9)
        return timezone.make_aware(moment)
    match = _DATE_TEXT.match(clean_text(value).strip())
    if not match:
        raise ValueError
    y, m, d, hh, mm, ss = (int(g) if g else None for g in match.groups())
    moment = dt.datetime(y, m, d, 9 if hh is None else hh, mm or 0, ss or 0)  # noqa: DTZ001 - made aware below
    return timezone.make_aware(moment)


def _choice(text: str, words: dict, what: str) -> str:
    for value, names in words.items():
        if text in names:
            return value
    raise DomainError(f"{what}“{text}”无法识别，应为：{'、'.join(names[0] for names in words.values())}")


@dataclass
class RowError:
    row: int
    column: int | None
    header: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "header": self.header, "message": self.message}


@dataclass
class Row:
    """One clean row, ready for receive_demands and the history written after it."""

    number: int
    source_number: str
    received_at: dt.datetime
    title: str
    content: str
    channel: str
    enterprise_id: int | None = None
    reporter_name: str = ""
    reporter_phone: str = ""
    jurisdiction_id: int | None = None
    category_id: int | None = None
    unit_id: int | None = None
    outcome: str = ""
    reply: str = ""
    replied_at: dt.datetime | None = None
    evaluation: str = ""


@dataclass
class Report:
    header_row: int = 0
    columns: list[dict] = field(default_factory=list)  # [{"header", "field", "label", "column"}]
    total_rows: int = 0
    valid_rows: int = 0
    error_rows: int = 0
    known_rows: int = 0  # already imported (same source number): skipped
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    preview: list[dict] = field(default_factory=list)
    created: int = 0
    dispatched: int = 0
    closed: int = 0
    written: bool = False

    @property
    def ok(self) -> bool:
        return self.error_rows == 0

    def summary(self) -> str:
        text = f"共{self.total_rows}行数据，有效{self.valid_rows}行"
        if self.error_rows:
            text += f"，{self.error_rows}行有错误（{self.error_count}处）"
        if self.known_rows:
            text += f"，{self.known_rows}行的来源编号已导入过（跳过）"
        if self.written:
            text += f"；已导入{self.created}件诉求，其中历史已办结{self.closed}件、交办在办{self.dispatched}件"
        return text + "。"


class DemandImporter:
    """One import of one sheet by one user (a dispatcher of the jurisdiction, or an administrator)."""

    def __init__(self, user, path, *, channel: str = Channel.HOTLINE, progress: Progress | None = None,
                 limits: Limits | None = None):
        check_importer(user)
        if channel not in Channel.values:
            raise DomainError(f"来源渠道“{channel}”无效。")
        self.user, self.path, self.channel = user, Path(path), channel
        self.progress = progress or (lambda stage, done, total: None)
        self.limits = limits or Limits.from_settings()
        self.report = Report()
        self._map: dict[str, int] = {}
        scope = None if is_admin(user) else user.jurisdiction.path
        units = Unit.objects.filter(active=True).exclude(kind=Unit.Kind.SUPERVISION).select_related("jurisdiction")
        places = Jurisdiction.objects.all()
        if scope is not None:
            units, places = units.filter(jurisdiction__path__startswith=scope), places.filter(path__startswith=scope)
        self.units: dict[str, list[Unit]] = {}
        for unit in units:
            for name in {unit.name, unit.short_name} - {""}:
                self.units.setdefault(name, []).append(unit)
        self.places: dict[str, list[Jurisdiction]] = {}
        for place in places:
            self.places.setdefault(place.name, []).append(place)
        self.categories = {c.name: c for c in Category.objects.filter(active=True)}

    # ------------------------------------------------------------ reading

    def _rows(self, reader: SheetReader) -> Iterator[tuple[int, list]]:
        rows = reader.rows()
        for _ in range(HEADER_SCAN_ROWS):
            try:
                number, cells = next(rows)
            except StopIteration:
                break
            mapping, columns = {}, []
            for index, cell in enumerate(cells):
                header = _text(cell)
                if not header:
                    continue
                key = header_key(header)
                if key in mapping:
                    raise DomainError(f"表头“{header}”与另一列都表示“{COLUMNS[key][0]}”，请只保留一列。")
                if key:
                    mapping[key] = index
                columns.append({"header": header, "field": key or "", "label": COLUMNS[key][0] if key else "",
                                "column": index})
            if len(mapping) >= 2:
                missing = [COLUMNS[k][0] for k in REQUIRED if k not in mapping]
                if missing:
                    raise DomainError(f"第{number}行表头缺少必填列：{'、'.join(missing)}。")
                self._map, self.report.header_row, self.report.columns = mapping, number, columns
                yield from rows
                return
        raise DomainError("找不到表头行：前10行中应有一行列名，至少包括“工单编号”（或诉求编号、来电编号）、"
                          "“受理时间”（或来电时间）和“诉求内容”（或来电内容）。")

    # ------------------------------------------------------------ check

    def check(self) -> Report:
        """Clean every row; write nothing. Errors are kept for the error workbook."""
        report = self.report
        seen: dict[str, int] = {}
        with SheetReader(self.path, self.limits) as reader:
            estimate = reader.declared_rows() or 0
            batch: list = []
            for number, cells in self._rows(reader):
                batch.append((number, cells))
                if len(batch) >= BATCH:
                    self._check_batch(batch, seen)
                    batch = []
                    self.progress("check", report.total_rows, max(estimate, report.total_rows))
            self._check_batch(batch, seen)
        if report.total_rows == 0:
            raise DomainError("表头下面没有数据行。")
        return report

    def _check_batch(self, batch: list, seen: dict[str, int], keep: list | None = None) -> None:
        if not batch:
            return
        report = self.report
        col = self._map

        def cell(cells, key):
            return cells[col[key]] if key in col and col[key] < len(cells) else None

        codes = {_text(cell(c, "credit_code")).upper() for _, c in batch} - {""}
        names = {_text(cell(c, "enterprise_name")) for _, c in batch} - {""}
        reach = Enterprise.objects.visible_to(self.user)
        by_code = dict(reach.filter(credit_code__in=codes).values_list("credit_code", "pk")) if codes else {}
        by_name: dict[str, list[int]] = {}
        if names:
            for name, pk in reach.filter(name__in=names).values_list("name", "pk"):
                by_name.setdefault(name, []).append(pk)
        sources = {_text(cell(c, "source_number")) for _, c in batch} - {""}
        from qinqing.transparency.models import DemandSource

        known = set(DemandSource.objects.filter(source_number__in=sources).values_list("source_number", flat=True))
        for number, cells in batch:
            report.total_rows += 1
            problems: dict[str, str] = {}
            row = self._clean(number, cells, cell, problems, by_code, by_name)
            source = row.source_number if row else _text(cell(cells, "source_number"))
            if source and "source_number" not in problems:
                if source in seen:
                    problems["source_number"] = f"与第{seen[source]}行的来源编号重复"
                else:
                    seen[source] = number
            if problems:
                report.error_rows += 1
                for key, message in problems.items():
                    report.error_count += 1
                    if len(report.errors) < ERRORS_KEPT:
                        index = col.get(key)
                        header = next((c["header"] for c in report.columns if c["column"] == index), COLUMNS[key][0])
                        report.errors.append(RowError(number, index, header, message))
                continue
            if source in known:
                report.known_rows += 1
                continue
            report.valid_rows += 1
            if len(report.preview) < PREVIEW_ROWS:
                report.preview.append({"row": number, "source_number": row.source_number,
                                       "received_at": timezone.localtime(row.received_at).strftime("%Y-%m-%d %H:%M"),
                                       "title": row.title, "history": "已办结" if row.reply else (
                                           "交办在办" if row.unit_id else "待交办")})
            if keep is not None:
                keep.append(row)

    def _clean(self, number, cells, cell, problems, by_code, by_name) -> Row | None:
        def text(key: str, limit: int | None = None) -> str:
            value = _text(cell(cells, key))
            if limit and len(value) > limit:
                problems[key] = f"超过{limit}字"
            return value

        source = text("source_number", 64)
        if not source and "source_number" not in problems:
            problems["source_number"] = "必填"
        content = text("content", 5000)
        if not content and "content" not in problems:
            problems["content"] = "必填"
        moments = {}
        for key in ("received_at", "replied_at"):
            try:
                moments[key] = parse_moment(cell(cells, key))
            except (ValueError, OverflowError):
                problems[key] = "不是有效的日期时间（应如 2026-05-03 10:20）"
        received_at, replied_at = moments.get("received_at"), moments.get("replied_at")
        now = clock.now()
        if received_at is None and "received_at" not in problems:
            problems["received_at"] = "必填"
        elif received_at is not None and received_at > now:
            problems["received_at"] = "晚于当前时间"
        elif received_at is not None and received_at.year < 2004:
            problems["received_at"] = "早于工作日历的起始年份（2004年）"
        title = text("title") or content[:30]
        if len(title) > 120:
            problems["title"] = "超过120字"
        channel = self.channel
        if raw := text("channel"):
            channel = CHANNEL_WORDS.get(raw)
            if channel is None:
                problems["channel"] = f"“{raw}”无法识别，应为：{'、'.join(Channel.labels)}"
        enterprise_id = None
        code, name = text("credit_code").upper(), text("enterprise_name")
        if code:
            if not uscc_valid(code):
                problems["credit_code"] = "统一社会信用代码无效（校验位不符）"
            elif code not in by_code:
                problems["credit_code"] = "企业库中没有该统一社会信用代码的企业，或不在您的管辖范围内"
            else:
                enterprise_id = by_code[code]
        elif name:
            found = by_name.get(name, [])
            if len(found) == 1:
                enterprise_id = found[0]
            elif len(found) > 1:
                problems["enterprise_name"] = "企业库中有多家同名企业，请填写统一社会信用代码"
        reporter_name = text("reporter_name", 40)
        if enterprise_id is None and not reporter_name:
            reporter_name = name[:40] if name else "匿名"  # an enterprise not in the registry, or a caller
        jurisdiction_id = None
        if place := text("jurisdiction"):
            found = self.places.get(place, [])
            if len(found) != 1:
                problems["jurisdiction"] = f"“{place}”不是您管辖范围内的区划" if not found else "有多个同名区划"
            else:
                jurisdiction_id = found[0].pk
        category_id = None
        if kind := text("category"):
            if kind not in self.categories:
                problems["category"] = f"“{kind}”不是启用的诉求类别"
            else:
                category_id = self.categories[kind].pk
        unit_id = None
        if unit_name := text("unit"):
            found = self.units.get(unit_name, [])
            if len(found) != 1:
                problems["unit"] = (f"“{unit_name}”不是您管辖范围内启用的承办单位" if not found
                                    else "有多个同名承办单位，请填写全称")
            else:
                unit_id = found[0].pk
        outcome, evaluation = "", ""
        reply = text("reply", 5000)
        try:
            if raw := text("outcome"):
                outcome = _choice(raw, OUTCOME_WORDS, "办理结果")
            if raw := text("evaluation"):
                evaluation = _choice(raw, EVALUATION_WORDS, "满意度")
        except DomainError as exc:
            problems["outcome" if "办理结果" in exc.message else "evaluation"] = exc.message
        if reply or outcome or replied_at or evaluation:
            # A finished case: the reply, its time and the unit that gave it are what the ledger records.
            for key, value in (("reply", reply), ("replied_at", replied_at), ("unit", unit_id)):
                if not value and key not in problems:
                    problems[key] = "已办结的诉求须填写答复内容、答复时间和承办单位"
            if replied_at and received_at and replied_at < received_at:
                problems["replied_at"] = "早于受理时间"
            elif replied_at and replied_at > now:
                problems["replied_at"] = "晚于当前时间"
            outcome = outcome or Outcome.SOLVED
        if problems:
            return None
        return Row(number=number, source_number=source, received_at=received_at, title=title, content=content,
                   channel=channel, enterprise_id=enterprise_id, reporter_name=reporter_name,
                   reporter_phone=text("reporter_phone")[:30], jurisdiction_id=jurisdiction_id,
                   category_id=category_id, unit_id=unit_id, outcome=outcome, reply=reply, replied_at=replied_at,
                   evaluation=evaluation)

    # ------------------------------------------------------------ write

    def write(self) -> Report:
        """Read the sheet again and write every valid new row (call inside a transaction, after check)."""
        report = self.report
        seen: dict[str, int] = {}
        report.total_rows = report.valid_rows = report.error_rows = report.known_rows = report.error_count = 0
        report.errors, report.preview = [], []
        done = 0
        with SheetReader(self.path, self.limits) as reader, services.notifications_suppressed():
            batch: list = []
            for number, cells in self._rows(reader):
                batch.append((number, cells))
                if len(batch) >= BATCH:
                    done += self._write_batch(batch, seen)
                    batch = []
                    self.progress("write", done, report.total_rows)
            done += self._write_batch(batch, seen)
        report.written = True
        return report

    def _write_batch(self, batch, seen) -> int:
        rows: list[Row] = []
        self._check_batch(batch, seen, keep=rows)
        if not self.report.ok:
            raise DomainError(f"第{self.report.errors[0].row}行：{self.report.errors[0].message}。文件在校验后有变化，未导入任何数据。")
        enterprises = Enterprise.objects.select_related("jurisdiction").in_bulk({r.enterprise_id for r in rows} - {None})
        for e in enterprises.values():
            services.mark_within_reach(self.user, e)  # looked up through visible_to in the check
        places = Jurisdiction.objects.in_bulk({r.jurisdiction_id for r in rows} - {None})
        for start in range(0, len(rows), services.MAX_BATCH):
            chunk = rows[start:start + services.MAX_BATCH]
            intakes = [services.Intake(
                channel=r.channel, title=r.title, content=r.content, enterprise=enterprises.get(r.enterprise_id),
                category=self.categories_by_id().get(r.category_id), received_at=r.received_at,
                reporter_name=r.reporter_name, reporter_phone=r.reporter_phone,
                jurisdiction=places.get(r.jurisdiction_id)) for r in chunk]
            demands = services.receive_demands(self.user, intakes)
            self._record_sources(chunk, demands)
            self._record_history(chunk, demands)
        self.report.created += len(rows)
        return len(rows)

    def categories_by_id(self) -> dict[int, Category]:
        if not hasattr(self, "_by_id"):
            self._by_id = {c.pk: c for c in self.categories.values()}
        return self._by_id

    def _record_sources(self, rows: list[Row], demands: list[Demand]) -> None:
        from qinqing.transparency.models import DemandSource

        now = clock.now()
        DemandSource.objects.bulk_create([DemandSource(source_number=r.source_number, demand=d, job_id=self.job_id,
                                                       imported_at=now) for r, d in zip(rows, demands, strict=True)])

    job_id: int | None = None

    def _record_history(self, rows: list[Row], demands: list[Demand]) -> None:
        """A finished case is closed with the reply the ledger recorded; an open one with a unit is
        dispatched to it now."""
        units = {u.pk: u for us in self.units.values() for u in us}
        closed, events, now = [], [], clock.now()
        for row, demand in zip(rows, demands, strict=True):
            if row.reply:
                demand.lead_unit_id = row.unit_id
                demand.state, demand.outcome, demand.reply = State.CLOSED, row.outcome, row.reply
                demand.replied_at = demand.closed_at = row.replied_at
                demand.evaluation = row.evaluation
                demand.evaluation_by_callback = bool(row.evaluation)
                demand.current_stage, demand.next_due, demand.due_order = "", None, dt.date.max
                demand.version += 1  # as the UPDATE below leaves it
                demand.updated_at = now
                closed.append(demand)
                events.append(DemandEvent(
                    demand=demand, actor=self.user, verb="import_history", from_state=State.RECEIVED,
                    to_state=State.CLOSED, note=row.reply[:2000], created_at=now, awaiting_delivery=False,
                    data={"source_number": row.source_number, "unit": units[row.unit_id].name,
                          "outcome": Outcome(row.outcome).label,
                          "replied_at": timezone.localtime(row.replied_at).strftime("%Y-%m-%d %H:%M"),
                          "evaluation": Evaluation(row.evaluation).label if row.evaluation else ""}))
            elif row.unit_id:
                services.dispatch_demand(self.user, demand, lead_unit=row.unit_id,
                                         note=f"按导入台账（来源编号{row.source_number}）交办")
                self.report.dispatched += 1
        if closed:
            # One UPDATE statement sent for all the finished rows (executemany): bulk_update's CASE per column
            # grew with the square of the batch and took most of the import's time.
            conn = connections[DEFAULT_DB_ALIAS]
            at, day = conn.ops.adapt_datetimefield_value, conn.ops.adapt_datefield_value
            with conn.cursor() as cursor:
                cursor.executemany(CLOSE_SQL, [
                    (d.lead_unit_id, d.state, d.outcome, d.reply, at(d.replied_at), at(d.closed_at), d.evaluation,
                     d.evaluation_by_callback, day(d.due_order), at(now), d.pk) for d in closed])
            DemandEvent.objects.bulk_create(events)
            self.report.closed += len(closed)

    # ------------------------------------------------------------ error workbook

    def write_error_workbook(self, out) -> None:
        """The errors as a workbook: row, column, header, message — one line per faulty cell."""
        book = Workbook(write_only=True)
        sheet = book.create_sheet("错误清单")
        for letter, width in zip("ABCD", (8, 8, 20, 70), strict=True):
            sheet.column_dimensions[letter].width = width
        sheet.append(["行号", "列", "列名", "错误原因"])
        for error in self.report.errors:
            sheet.append([error.row, _column_letter(error.column) if error.column is not None else "",
                          error.header, error.message])
        if self.report.error_count > len(self.report.errors):
            sheet.append([None, None, None, f"错误过多，仅列出前{len(self.report.errors)}处。"])
        book.save(out)


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def check_importer(user) -> None:
    """Importing receives and may dispatch: a dispatcher (within their jurisdiction) or an administrator."""
    if user is None or not user.is_authenticated:
        raise PermissionDeniedError("请先登录。")
    if not (is_admin(user) or (user.has_role(Role.DISPATCHER) and user.jurisdiction_id)):
        raise PermissionDeniedError("只有调度员或管理员可以导入诉求。")


def check_demand_import(user, path, *, channel: str = Channel.HOTLINE, progress: Progress | None = None
                        ) -> DemandImporter:
    """校验诉求导入文件: every row cleaned, nothing written. The importer carries its report."""
    importer = DemandImporter(user, path, channel=channel, progress=progress)
    importer.check()
    return importer


def import_demands(user, path, *, channel: str = Channel.HOTLINE, progress: Progress | None = None,
                   importer: DemandImporter | None = None, job_id: int | None = None) -> Report:
    """导入诉求: check every row, then write all of them in one transaction — or nothing, if any row is wrong
    (the DomainError carries the report on `.report`). Rows whose source number was imported before are
    skipped, so a second import of the same sheet writes nothing."""
    if importer is None:
        importer = check_demand_import(user, path, channel=channel, progress=progress)
    importer.job_id = job_id
    report = importer.report
    if not report.ok:
        error = DomainError(f"{report.summary()}按“全部成功才导入”的规则，未导入任何数据；请下载错误清单修正后重新导入。")
        error.report = report
        raise error
    if report.valid_rows:
        with transaction.atomic():
            importer.write()
    else:
        report.written = True
    return report
