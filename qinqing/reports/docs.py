"""Official-looking Word and Excel documents: the layout every circular, briefing and 督办单 shares.

Word follows the usual layout of government documents (GB/T 9704 in spirit): the issuing body in red
at the top, the document number, a red rule, the title centred, body text in 仿宋 at 三号 (16 pt),
tables with a header row, the issuing body and date at the bottom right. Documents are rendered from
plain data only (no database access), so the same data always gives the same document.
"""

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from copy import deepcopy

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter

from qinqing.lib.text import xml_text

RED = RGBColor(0xC0, 0x00, 0x00)
BODY_FONT, TITLE_FONT, HEAD_FONT = "仿宋_GB2312", "方正小标宋简体", "黑体"


def cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _font(run, name: str, size: float, bold: bool = False, color: RGBColor | None = None) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)
    if color is not None:
        run.font.color.rgb = color


class OfficialDocument:
    """A Word document built top to bottom: head, title, paragraphs, tables, signature."""

    def __init__(self):
        self.doc = Document()
        # Fixed core properties: the same content gives the same file, whenever it is rebuilt.
        props = self.doc.core_properties
        props.author = props.last_modified_by = "亲清政企服务平台"
        props.created = props.modified = dt.datetime(2000, 1, 1)  # noqa: DTZ001 - a fixed, meaningless stamp
        props.revision = 1
        section = self.doc.sections[0]
        section.page_width, section.page_height = Cm(21), Cm(29.7)
        section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
        section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)

    def head(self, issuer: str, number: str) -> None:
        p = self.doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _font(p.add_run(issuer), TITLE_FONT, 26, color=RED)
        p = self.doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _font(p.add_run(number), BODY_FONT, 16)
        p = self.doc.add_paragraph()
        _font(p.add_run("━" * 26), BODY_FONT, 12, color=RED)

    def title(self, text: str) -> None:
        p = self.doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _font(p.add_run(text), TITLE_FONT, 22)

    def heading(self, text: str) -> None:
        p = self.doc.add_paragraph()
        p.paragraph_format.first_line_indent = Pt(32)
        _font(p.add_run(text), HEAD_FONT, 16)

    def paragraph(self, text: str, indent: bool = True) -> None:
        p = self.doc.add_paragraph()
        if indent:
            p.paragraph_format.first_line_indent = Pt(32)
        p.paragraph_format.line_spacing = Pt(28)
        _font(p.add_run(xml_text(text)), BODY_FONT, 16)

    def table(self, headers: Sequence[str], rows: Iterable[Sequence]) -> None:
        table = self.doc.add_table(rows=1, cols=len(headers))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        for cell, text in zip(table.rows[0].cells, headers, strict=True):
            _font(cell.paragraphs[0].add_run(xml_text(str(text))), HEAD_FONT, 10.5)
        # One styled row is built with python-docx, then copied as XML for every data row: styling each
        # run through python-docx costs milliseconds per cell, which a 2,000-row overdue list cannot afford.
        template = table.add_row()
        for cell in template.cells:
            _font(cell.paragraphs[0].add_run("-"), BODY_FONT, 10.5)
        tr = template._tr
        for row in rows:
            copy = deepcopy(tr)
            for t, value in zip(copy.iter(qn("w:t")), row, strict=False):
                t.text = "" if value is None else xml_text(str(value))
            tr.addprevious(copy)
        tr.getparent().remove(tr)
        self.doc.add_paragraph()

    def signature(self, issuer: str, day: dt.date) -> None:
        for text in (issuer, cn_date(day)):
            p = self.doc.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            _font(p.add_run(text), BODY_FONT, 16)

    def bytes(self) -> bytes:
        out = io.BytesIO()
        self.doc.save(out)
        return out.getvalue()


HEAD_FILL = PatternFill("solid", fgColor="DDE7F5")
THIN = Side(style="thin", color="999999")


def workbook(sheets: Iterable[tuple[str, str, Sequence[str], Iterable[Sequence]]]) -> bytes:
    """An .xlsx with one sheet per (sheet name, title, headers, rows): a merged title line, a bold
    shaded header row, borders, frozen panes, widths fitted to the text. Text is always text."""
    book = Workbook()
    book.remove(book.active)
    # A named style is assigned by name; setting a Border object per cell hashes it every time.
    book.add_named_style(NamedStyle("表格单元格", border=Border(THIN, THIN, THIN, THIN),
                                    alignment=Alignment(vertical="top", wrap_text=False)))
    for name, title, headers, rows in sheets:
        sheet = book.create_sheet(name[:31])
        sheet.append([xml_text(title)])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(len(headers), 1))
        sheet["A1"].font = Font(bold=True, size=14)
        sheet["A1"].alignment = Alignment(horizontal="center")
        sheet.append([xml_text(h) for h in headers])
        widths = [len(str(h)) * 2 + 2 for h in headers]
        for cell in sheet[2]:
            cell.font, cell.fill, cell.border = Font(bold=True), HEAD_FILL, Border(THIN, THIN, THIN, THIN)
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        for r, row in enumerate(rows, start=3):
            for c, value in enumerate(row, start=1):
                cell = sheet.cell(row=r, column=c, value=xml_text(value))  # stored control characters
                cell.style = "表格单元格"
                if isinstance(value, str):
                    cell.data_type = "s"  # "=…" stays text, never a formula
                if c <= len(widths):
                    widths[c - 1] = min(max(widths[c - 1], len(str(value)) * 2 + 2), 60)
        for i, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = width
        sheet.freeze_panes = "A3"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
