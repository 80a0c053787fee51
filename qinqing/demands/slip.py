"""交办单: the dispatch slip a unit files, as a Word document in the usual official layout.

GB/T 9704 page (A4, margins 37/35/28/26 mm), a 小标宋 title, the number under it, one table with the
enterprise, the demand, the lead and co-units and the 1231 deadlines, the dispatcher's instructions,
and a signature block (交办单位盖章, 经办人, 日期). Fonts are named, not embedded: Word and WPS on an
official's machine have them; elsewhere the document falls back to any Chinese font.
"""

import datetime as dt
from io import BytesIO

from django.utils import timezone
from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from qinqing.lib import clock, privacy
from qinqing.lib.text import xml_text

from .models import Demand, DemandEvent

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
LABEL_FONT = "黑体"
REQUIREMENTS = ("请于{contact}前与企业取得联系，{path}前反馈解决路径，{resolve}前办结并正式答复企业；"
                "确有困难需延期的，请在办结期限前提出申请。不属于本单位职责的，请于1个工作日内退回并说明理由。")


def _md(day: dt.date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else "—"


def _font(run, name: str, size: float, bold: bool = False) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)


def _para(container, text: str, *, font=BODY_FONT, size=16, bold=False, align=None, space_after=0):
    p = container.add_paragraph()
    if align is not None:
        p.alignment = align
    p.paragraph_format.space_after = Pt(space_after)
    p.paragraph_format.space_before = Pt(0)
    _font(p.add_run(xml_text(text)), font, size, bold)  # stored control characters must not break the file
    return p


def _cell(cell, text: str, *, label=False):
    cell.text = ""
    lines = xml_text(str(text or "—")).splitlines() or ["—"]
    first = cell.paragraphs[0]
    for i, line in enumerate(lines):
        p = first if i == 0 else cell.add_paragraph()
        if label:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _font(p.add_run(line), LABEL_FONT if label else BODY_FONT, 12 if label else 12)


def _issuing_body(demand: Demand, dispatcher) -> str:
    if dispatcher is not None and dispatcher.unit_id:
        return dispatcher.unit.name
    return f"{demand.jurisdiction.name}民营经济联席办"


def last_dispatch(demand: Demand) -> DemandEvent | None:
    return (demand.events.filter(verb="dispatch").select_related("actor__unit")
            .order_by("-created_at", "-id").first())


def dispatch_slip(demand: Demand, viewer) -> bytes:
    """The .docx bytes of a dispatched demand's slip, its contact phone as `viewer` may see it (in full for
    the dispatcher and the lead unit, who contact the enterprise; masked for others: qinqing.lib.privacy)."""
    event = last_dispatch(demand)
    dispatcher = event.actor if event else None
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)

    _para(doc, "政企服务诉求交办单", font=TITLE_FONT, size=22, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=6)
    _para(doc, f"编号：{demand.number}", size=14, align=WD_ALIGN_PARAGRAPH.RIGHT, space_after=6)

    enterprise = demand.enterprise
    if enterprise is not None:
        who = enterprise.name
        code = enterprise.credit_code
        phone = privacy.shown(viewer, demand, "contact_phone")
        contact = " ".join(x for x in (enterprise.contact_name, phone) if x) or "—"
    else:
        who, code = f"{demand.reporter_name or '匿名'}（个人）", "—"
        contact = privacy.shown(viewer, demand, "reporter_phone") or "—"
    received = timezone.localtime(demand.received_at)
    dispatched = timezone.localtime(demand.dispatched_at) if demand.dispatched_at else None
    co_units = "、".join(u.name for u in demand.co_units.all()) or "无"
    rows = [
        ("企业名称", who),
        ("信用代码", code),
        ("联系人及电话", contact),
        ("诉求标题", demand.title),
        ("诉求类别", demand.category.name),
        ("来源渠道", demand.get_channel_display()),
        ("受理时间", f"{received:%Y年%m月%d日 %H:%M}"),
        ("诉求内容", demand.content),
        ("主办单位", demand.lead_unit.name if demand.lead_unit_id else "—"),
        ("协办单位", co_units),
        ("交办时间", f"{dispatched:%Y年%m月%d日 %H:%M}" if dispatched else "—"),
        ("办理时限", f"联系企业：{_md(demand.contact_due)}\n反馈路径：{_md(demand.path_due)}\n"
                     f"办结答复：{_md(demand.resolve_due)}"),
        ("交办意见", (event.note if event and event.note else "请按“1231”工作机制抓紧办理。")),
        ("办理要求", REQUIREMENTS.format(contact=_md(demand.contact_due), path=_md(demand.path_due),
                                         resolve=_md(demand.resolve_due))),
    ]
    table = doc.add_table(rows=len(rows), cols=2)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for row, (label, value) in zip(table.rows, rows, strict=True):
        row.cells[0].width, row.cells[1].width = Mm(32), Mm(124)
        _cell(row.cells[0], label, label=True)
        _cell(row.cells[1], value)

    _para(doc, "", space_after=12)
    _para(doc, f"交办单位（盖章）：{_issuing_body(demand, dispatcher)}", size=14, space_after=6)
    handler = dispatcher.display_name if dispatcher else ""
    phone = dispatcher.phone if dispatcher and dispatcher.phone else ""
    _para(doc, f"经办人：{handler or '　　　　'}　　联系电话：{phone or '　　　　　　'}", size=14, space_after=6)
    _para(doc, f"日期：{_md(dispatched.date() if dispatched else clock.today())}", size=14,
          align=WD_ALIGN_PARAGRAPH.RIGHT, space_after=18)
    _para(doc, "承办单位签收人：　　　　　　　签收时间：　　　年　　月　　日", size=14)

    out = BytesIO()
    doc.save(out)
    return out.getvalue()
