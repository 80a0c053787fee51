"""Assignments ↔ Excel: export the current assignments of a scope, import a list (all or nothing).

The import reads with the registry's hardened sheet reader (size, zip-bomb and row limits) and
applies each row through services.assign_contact inside one transaction: one bad row and nothing
is written, with every problem listed by row number.
"""

import tempfile
from pathlib import Path

from django.conf import settings
from django.db import transaction
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from qinqing.demands.errors import DomainError
from qinqing.enterprises.models import Enterprise
from qinqing.enterprises.xlsx import Limits, SheetReader
from qinqing.lib import uploads, uscc
from qinqing.lib.text import clean_text, xml_text

from . import services
from .models import Assignment, Cadre, Duty

HEADERS = ["统一社会信用代码", "企业名称", "职责", "干部用户名", "干部姓名", "包联层级", "开始日期", "最近联系",
           "下次联系期限", "下次走访期限"]
REQUIRED = ("统一社会信用代码", "职责", "干部用户名")
MAX_ROWS = 5000
CHUNK = 2000
DUTY_BY_LABEL = {label: value for value, label in Duty.choices} | {"包联": Duty.CONTACT_LEADER,
                                                                     "专员": Duty.SPECIALIST}


def _text(sheet, value):
    cell = WriteOnlyCell(sheet, value=xml_text(value))
    cell.data_type = "s"
    return cell


def export(assignments, stream) -> int:
    """Write `assignments` (already scoped) to `stream` as .xlsx; returns the number of rows."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("包联关系")
    head = []
    for h in HEADERS:
        cell = WriteOnlyCell(sheet, value=h)
        cell.font = Font(bold=True)
        head.append(cell)
    sheet.append(head)
    qs = assignments.select_related("enterprise", "cadre__user").order_by("pk")
    n, last = 0, 0
    while True:
        rows = list(qs.filter(pk__gt=last)[:CHUNK])
        if not rows:
            break
        for a in rows:
            sheet.append([_text(sheet, a.enterprise.credit_code), _text(sheet, a.enterprise.name),
                          a.get_duty_display(), _text(sheet, a.cadre.user.username),
                          _text(sheet, a.cadre.user.display_name), a.get_level_display(), a.started_on,
                          a.last_contact_on, a.next_contact_due, a.next_visit_due])
        n += len(rows)
        last = rows[-1].pk
    book.save(stream)
    return n


class ImportRefused(DomainError):
    def __init__(self, errors: list[str]):
        super().__init__("导入未执行，请修改后重新上传：" + "；".join(errors[:20])
                         + (f"……共{len(errors)}处问题" if len(errors) > 20 else ""))
        self.errors = errors


def _cell(cell) -> str:
    """A cell's text without control characters: they would reach error messages and names looked up."""
    if not cell:
        return ""
    return clean_text(cell[1]) if isinstance(cell[1], str) else cell[1]


def read_rows(upload, max_rows: int = MAX_ROWS) -> list[tuple[int, list[str]]]:
    """An uploaded .xlsx as (row number, cell texts), through the registry's hardened reader."""
    max_bytes = settings.QINQING_WORKBOOK_UPLOAD_MAX_BYTES
    try:
        uploads.check_upload(upload, allowed=["xlsx"], max_bytes=max_bytes)
    except uploads.UploadRefused as exc:
        raise DomainError(exc.message) from None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload.xlsx"
        with path.open("wb") as fh:
            for chunk in upload.chunks():
                fh.write(chunk)
        limits = Limits(max_upload_bytes=max_bytes, max_rows=max_rows + 1)
        with SheetReader(path, limits) as reader:
            rows = [(number, [_cell(c) for c in cells]) for number, cells in reader.rows()]
    if not rows:
        raise DomainError("文件里没有数据。")
    return rows


def import_targets(user, campaign, upload) -> int:
    """A campaign's target list from a workbook with a 统一社会信用代码 column: every code known, or nothing."""
    rows = read_rows(upload, 200_000)
    header = [h.strip() for h in rows[0][1]]
    if "统一社会信用代码" not in header:
        raise DomainError("缺少“统一社会信用代码”列。")
    i = header.index("统一社会信用代码")
    codes = {uscc.normalize(cells[i]): n for n, cells in rows[1:] if i < len(cells) and str(cells[i]).strip()}
    if not codes:
        raise DomainError("文件里没有信用代码。")
    found = dict(Enterprise.objects.filter(credit_code__in=codes,
                                           jurisdiction__path__startswith=campaign.jurisdiction.path)
                 .values_list("credit_code", "pk"))
    missing = [f"第{n}行：{code}" for code, n in codes.items() if code not in found]
    if missing:
        raise ImportRefused([f"{m} 不在企业库或不在活动区划内" for m in missing])
    return services.target_enterprises(user, campaign, found.values())


def import_assignments(user, upload) -> int:
    """Read an uploaded workbook and assign every row, or nothing."""
    rows = read_rows(upload)
    header = [h.strip() for h in rows[0][1]]
    missing = [h for h in REQUIRED if h not in header]
    if missing:
        raise DomainError(f"缺少必填列：{'、'.join(missing)}。表头应包含：{'、'.join(REQUIRED)}。")
    col = {h: header.index(h) for h in REQUIRED}
    data = [(n, cells) for n, cells in rows[1:] if any(str(c).strip() for c in cells)]
    if len(data) > MAX_ROWS:
        raise DomainError(f"一次最多导入{MAX_ROWS}行，请拆分文件。")

    def get(cells, name):
        i = col[name]
        return str(cells[i]).strip() if i < len(cells) else ""

    codes = {uscc.normalize(get(c, "统一社会信用代码")) for _, c in data}
    enterprises = {e.credit_code: e for e in Enterprise.objects.visible_to(user).filter(credit_code__in=codes)
                   .select_related("jurisdiction")}
    cadres = {c.user.username: c for c in Cadre.objects.filter(user__username__in={get(c, "干部用户名") for _, c in data})
              .select_related("user")}
    errors, plan = [], []
    for number, cells in data:
        code = uscc.normalize(get(cells, "统一社会信用代码"))
        duty = DUTY_BY_LABEL.get(get(cells, "职责"))
        username = get(cells, "干部用户名")
        if code not in enterprises:
            errors.append(f"第{number}行：未找到信用代码为 {code} 的企业（或不在您的辖区）")
        elif duty is None:
            errors.append(f"第{number}行：职责应为“包联领导”或“为企服务专员”")
        elif username not in cadres:
            errors.append(f"第{number}行：{username} 尚未登记为包联干部")
        else:
            plan.append((number, enterprises[code], duty, cadres[username]))
    if errors:
        raise ImportRefused(errors)
    done = 0
    with transaction.atomic():
        for number, enterprise, duty, cadre in plan:
            current = Assignment.objects.current().filter(enterprise=enterprise, duty=duty).first()
            if current is not None and current.cadre_id == cadre.pk:
                continue  # already so: an exported file imported back changes nothing
            try:
                services.assign_contact(user, enterprise, cadre, duty=duty, note="导入包联关系")
            except DomainError as exc:
                raise ImportRefused([f"第{number}行：{exc.message}"]) from exc
            done += 1
    return done
