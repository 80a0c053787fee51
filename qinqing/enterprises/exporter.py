"""Registry → Excel: any filtered list as .xlsx, and the import template.

Exports use the importer's column headers, so an exported file can be edited and imported back (extra
columns such as 行业名称 are ignored on the way in). Rows stream in chunks of 2,000 through openpyxl's
write-only mode; text is always written as text, so a name beginning with "=" can never become a formula.
Contact phones are masked unless the viewer may see them in lists (qinqing.lib.privacy); a masked column is
headed 联系电话（已脱敏）, which the importer ignores, so importing such a file back keeps the stored numbers.
"""

from collections.abc import Iterator

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from qinqing.lib import privacy
from qinqing.lib.text import xml_text

from .models import HELPERS, IndustryCode, Sector, Size, Tag, YearlyFigures
from .rows import FIELDS, LABELS

CHUNK = 2000
HEAD_FILL = PatternFill("solid", fgColor="DDE7F5")
REQUIRED_FILL = PatternFill("solid", fgColor="FCE4D6")
TEMPLATE_ROWS = 5000  # how far down the template's drop-downs reach


def _cell(sheet, value, *, head=False, fill=None):
    cell = WriteOnlyCell(sheet, value=xml_text(value))
    if isinstance(value, str):
        cell.data_type = "s"
    if head:
        cell.font = Font(bold=True)
        cell.fill = fill or HEAD_FILL
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    return cell


def _safe(sheet, value):
    """Plain values go to openpyxl as they are (a styled cell object costs 50% more time per cell);
    only text that Excel would run as a formula is wrapped and forced to text."""
    if isinstance(value, str) and value.startswith("="):
        return _cell(sheet, value)
    return xml_text(value)  # stored control characters must not break the file


# (header, width, getter(enterprise, figures, industry names))
COLUMNS = [
    (LABELS["name"], 36, lambda e, f, n: e.name),
    (LABELS["credit_code"], 22, lambda e, f, n: e.credit_code),
    (LABELS["industry_code"], 10, lambda e, f, n: e.industry_code),
    ("行业名称", 24, lambda e, f, n: n.get(e.industry_code, "")),
    (LABELS["sector"], 12, lambda e, f, n: e.get_sector_display()),
    (LABELS["jurisdiction"], 14, lambda e, f, n: e.jurisdiction.name),
    (LABELS["division"], 12, lambda e, f, n: e.division.code if e.division_id else ""),
    (LABELS["size"], 8, lambda e, f, n: e.get_size_display()),
    (LABELS["is_four_above"], 8, lambda e, f, n: "是" if e.is_four_above else "否"),
    (LABELS["qualification"], 16, lambda e, f, n: e.qualification),
    (LABELS["tags"], 24, lambda e, f, n: "、".join(e.tags or [])),
    (LABELS["legal_representative"], 10, lambda e, f, n: e.legal_representative),
    (LABELS["contact_name"], 10, lambda e, f, n: e.contact_name),
    (LABELS["contact_phone"], 15, lambda e, f, n: e.contact_phone),
    (LABELS["address"], 36, lambda e, f, n: e.address),
    (LABELS["service_specialist"], 12, lambda e, f, n: e.service_specialist.display_name
     if e.service_specialist_id else ""),
    (LABELS["contact_leader"], 12, lambda e, f, n: e.contact_leader.display_name if e.contact_leader_id else ""),
    (LABELS["year"], 8, lambda e, f, n: f.year if f else None),
    (LABELS["employees"], 10, lambda e, f, n: f.employees if f else None),
    (LABELS["revenue"], 14, lambda e, f, n: f.revenue if f else None),
    (LABELS["assets"], 14, lambda e, f, n: f.assets if f else None),
    (LABELS["tax_paid"], 14, lambda e, f, n: f.tax_paid if f else None),
    ("登记时间", 18, lambda e, f, n: timezone.localtime(e.created_at).strftime("%Y-%m-%d %H:%M")),
]


def _chunks(qs) -> Iterator[list]:
    chunk = []
    for enterprise in qs.iterator(chunk_size=CHUNK):
        chunk.append(enterprise)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _columns_for(viewer) -> list:
    """COLUMNS, with the contact phone masked and its header marked when `viewer` may not see it in full."""
    if privacy.may_see_personal(viewer):
        return COLUMNS
    header = LABELS["contact_phone"]
    return [(privacy.export_header(viewer, header), width, lambda e, f, n: privacy.mask_phone(e.contact_phone))
            if name == header else (name, width, getter) for name, width, getter in COLUMNS]


def export_enterprises(qs, out, *, viewer, title: str = "企业名单") -> int:
    """Write the queryset (already filtered and ordered) to `out` as `viewer` may see it; returns the number
    of rows."""
    columns = _columns_for(viewer)
    names = dict(IndustryCode.objects.values_list("code", "name"))
    qs = qs.select_related("jurisdiction", "division", *HELPERS)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.freeze_panes = "C2"  # the header and the name + code stay in view
    for index, (_, width, _) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}1"
    sheet.append([_cell(sheet, header, head=True) for header, _, _ in columns])
    count = 0
    for chunk in _chunks(qs):
        # The latest year's figures of this chunk in one query.
        wanted = {(e.pk, e.figures_year) for e in chunk if e.figures_year}
        figures = {}
        if wanted:
            for row in YearlyFigures.objects.filter(enterprise_id__in=[pk for pk, _ in wanted],
                                                    year__in={y for _, y in wanted}):
                if (row.enterprise_id, row.year) in wanted:
                    figures[row.enterprise_id] = row
        for enterprise in chunk:
            f = figures.get(enterprise.pk)
            sheet.append([_safe(sheet, getter(enterprise, f, names)) for _, _, getter in columns])
            count += 1
    book.save(out)
    return count


# ---------------------------------------------------------------- the import template

INSTRUCTIONS = [
    "1. 在“企业名单”工作表中，每行填写一家企业；第一行为列名，请勿修改或删除。",
    "2. 带橙色底纹的列为必填项：企业名称、统一社会信用代码；行业代码与行业门类至少填一项；所属镇街园区必填。",
    "3. 统一社会信用代码为18位，请将该列设为“文本”格式，避免 Excel 改成科学计数法；小写字母、全角字符会自动转换。",
    "4. 行业代码按 GB/T 4754-2017《国民经济行业分类》，至少细到大类，如 C3311（金属结构制造）或 3311。",
    "5. 企业规模、是否四上：填写了年份和年度数据（从业人员、营业收入、资产总额）时，系统按国家统计局2017年标准自动测算，"
    "无需填写；没有年度数据时可手工填写。",
    "6. 金额单位为万元；如表头写明“（元）”，系统会自动换算为万元。",
    "7. 标签须为系统标签库中的名称，多个标签用顿号“、”分隔。",
    "8. 不要使用公式：以“=”开头的单元格会被拒绝，请“选择性粘贴为数值”。单元格内容不超过1000字。",
    "9. 导入时先校验全部行：任一行有错误则整个文件不导入，并提供错误标注文件（错误单元格标红并批注原因）下载。",
    "10. 已在企业库中的信用代码会更新该企业的信息（空白单元格不覆盖原有信息），不会重复登记。",
    "11. 单个文件不超过20万行、50MB；更大的名单请拆分后分批导入。",
]
REQUIRED_KEYS = {"name", "credit_code", "jurisdiction"}
EXAMPLES = {
    "name": "常州市恒锐精密机械有限公司", "credit_code": "91320412MA1XXXXXXX", "industry_code": "C3484",
    "sector": "工业", "jurisdiction": "湖塘镇", "division": "320412", "size": "小型", "is_four_above": "是",
    "tags": "专精特新、高新技术企业", "contact_name": "王经理", "contact_phone": "13800000000",
    "year": "2025", "employees": "120", "revenue": "3500", "assets": "5200", "tax_paid": "160",
}


def import_template(out, places=None) -> None:
    """The import workbook: headers, drop-downs (sector, size, 四上, towns, tags) and an instructions sheet."""
    book = Workbook()
    sheet = book.active
    sheet.title = "企业名单"
    options = book.create_sheet("选项")
    guide = book.create_sheet("填写说明")

    lists = {
        "sector": list(Sector.labels),
        "size": list(Size.labels),
        "is_four_above": ["是", "否"],
        "jurisdiction": [p.name for p in (places or [])],
        "tags": list(Tag.objects.filter(active=True).values_list("name", flat=True)),
    }
    for col, (key, values) in enumerate(lists.items(), start=1):
        options.cell(row=1, column=col, value=LABELS[key]).font = Font(bold=True)
        for row, value in enumerate(values, start=2):
            options.cell(row=row, column=col, value=value).data_type = "s"
    options.sheet_state = "hidden"

    for col, spec in enumerate(FIELDS, start=1):
        cell = sheet.cell(row=1, column=col, value=spec.header)
        cell.font = Font(bold=True)
        cell.fill = REQUIRED_FILL if spec.key in REQUIRED_KEYS else HEAD_FILL
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        letter = get_column_letter(col)
        sheet.column_dimensions[letter].width = 30 if spec.key in ("name", "address") else 16
        if spec.key in ("credit_code", "industry_code", "division", "contact_phone"):
            for row in range(2, TEMPLATE_ROWS + 2):
                sheet.cell(row=row, column=col).number_format = "@"  # text, so codes keep their digits
        if spec.key in lists and lists[spec.key] and spec.key != "tags":
            option_col = get_column_letter(list(lists).index(spec.key) + 1)
            source = f"=选项!${option_col}$2:${option_col}${len(lists[spec.key]) + 1}"
            rule = DataValidation(type="list", formula1=source, allow_blank=True, showErrorMessage=True,
                                  errorTitle="请从列表中选择", error=f"请从下拉列表中选择{spec.header}。")
            rule.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
            sheet.add_data_validation(rule)
    sheet.freeze_panes = "A2"

    guide.column_dimensions["A"].width = 20
    guide.column_dimensions["B"].width = 10
    guide.column_dimensions["C"].width = 60
    guide.column_dimensions["D"].width = 30
    guide.append(["导入说明"])
    guide["A1"].font = Font(bold=True, size=14)
    for line in INSTRUCTIONS:
        guide.append([line])
    guide.append([])
    header_row = guide.max_row + 1
    guide.append(["列名", "是否必填", "说明", "示例"])
    for cell in guide[header_row]:
        cell.font = Font(bold=True)
        cell.fill = HEAD_FILL
    for spec in FIELDS:
        aliases = f"（也可写作：{'、'.join(spec.aliases)}）" if spec.aliases else ""
        guide.append([spec.header, "必填" if spec.key in REQUIRED_KEYS else "", spec.hint + aliases,
                      EXAMPLES.get(spec.key, "")])
    book.save(out)
