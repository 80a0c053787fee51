"""惠企政策口袋书: the policies valid on a chosen date for one jurisdiction, as a Word document to print on A5.

Grouped by benefit type (资金奖补, 减税降费, …), each policy with its issuer and number, interpretation, the
conditions in plain Chinese (rule_text), the benefit, the application window and the contact. A table of
contents twice: a Word TOC field over the headings (Word fills in the page numbers when the reader updates
fields, F9) and a printed list of the same headings, so the book has a usable contents page even in a viewer
that never updates fields. Rendered from plain data; the same policies give the same file.
"""

import datetime as dt
import io
from dataclasses import dataclass

from django.db.models import Q
from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from qinqing.lib.text import xml_text
from qinqing.reports.docs import cn_date

from .models import BenefitType, Policy, _ancestor_paths

A5 = (Cm(14.8), Cm(21.0))
BODY_FONT, HEAD_FONT = "仿宋_GB2312", "黑体"


def policies_valid_on(user, day: dt.date, place):
    """Published policies valid on `day` that apply in `place`: filed under it, under a jurisdiction above
    it, or under one of its towns and parks; among those the user may see. Grouped order: benefit type, then
    the newest first."""
    return (Policy.objects.visible_to(user).current(day)
            .filter(Q(jurisdiction__path__in=_ancestor_paths(place.path)) | Q(jurisdiction__path__startswith=place.path))
            .select_related("jurisdiction").order_by("benefit_type", "-published_on", "pk"))


@dataclass
class Group:
    label: str
    policies: list


def groups(policies) -> list[Group]:
    """The policies by benefit type, in the order of BenefitType (empty types left out)."""
    by_type: dict[str, list] = {}
    for p in policies:
        by_type.setdefault(p.benefit_type, []).append(p)
    return [Group(label, by_type[code]) for code, label in BenefitType.choices if code in by_type]


def _font(run, name: str, size: float, bold: bool = False) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)


def _style_fonts(doc) -> None:
    """Body and heading styles in Chinese fonts, sized for a small page."""
    for name, font, size in (("Normal", BODY_FONT, 10.5), ("Title", HEAD_FONT, 20), ("Heading 1", HEAD_FONT, 15),
                             ("Heading 2", HEAD_FONT, 12)):
        style = doc.styles[name]
        style.font.name = font
        style.font.size = Pt(size)
        style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)


def _field(paragraph, instruction: str, placeholder: str) -> None:
    """A Word field (TOC, PAGE): begin, instruction, separate, the text shown until updated, end."""
    def char(kind):
        element = OxmlElement("w:fldChar")
        element.set(qn("w:fldCharType"), kind)
        if kind == "begin":
            element.set(qn("w:dirty"), "true")  # ask Word to update it on opening
        return element

    run = paragraph.add_run()
    run._r.append(char("begin"))
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = instruction
    run = paragraph.add_run()
    run._r.append(instr)
    run = paragraph.add_run()
    run._r.append(char("separate"))
    paragraph.add_run(placeholder)
    run = paragraph.add_run()
    run._r.append(char("end"))


def _window(p: Policy) -> str:
    if p.no_application:
        return "免申即享，无需申报，符合条件的由主管部门直接兑现"
    if p.apply_opens or p.apply_closes:
        opens = cn_date(p.apply_opens) if p.apply_opens else "即日"
        closes = cn_date(p.apply_closes) if p.apply_closes else "另行通知"
        return f"{opens}至{closes}"
    return "常年受理"


def _validity(p: Policy) -> str:
    start = cn_date(p.valid_from) if p.valid_from else "发布之日"
    return f"{start}至{cn_date(p.valid_until)}" if p.valid_until else f"{start}起长期有效"


def render(place_name: str, day: dt.date, policies) -> bytes:
    """The pocket book as .docx bytes."""
    book = groups(policies)
    doc = Document()
    props = doc.core_properties
    props.author = props.last_modified_by = "亲清政企服务平台"
    props.title = f"{place_name}惠企政策口袋书"
    props.created = props.modified = dt.datetime(2000, 1, 1)  # noqa: DTZ001 - a fixed stamp: same data, same file
    props.revision = 1
    section = doc.sections[0]
    section.page_width, section.page_height = A5
    section.top_margin, section.bottom_margin = Cm(1.8), Cm(1.6)
    section.left_margin, section.right_margin = Cm(1.7), Cm(1.5)
    section.gutter = Cm(0.3)  # for the binding of a booklet
    _style_fonts(doc)

    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _field(footer, "PAGE", "1")

    total = sum(len(g.policies) for g in book)
    doc.add_paragraph(f"{place_name}惠企政策口袋书", style="Title").alignment = WD_ALIGN_PARAGRAPH.CENTER
    cover = doc.add_paragraph()
    cover.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(cover.add_run(f"截至{cn_date(day)}有效的惠企政策共{total}项"), BODY_FONT, 12)
    lines = "、".join(f"{g.label}{len(g.policies)}项" for g in book)
    if lines:
        doc.add_paragraph(f"其中{lines}。").alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph("金额为政策规定的标准，具体以主管部门审核为准。政策如有调整，以发文机关最新文件为准。")

    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    heading = doc.add_paragraph()
    _font(heading.add_run("目录"), HEAD_FONT, 15, bold=True)
    _field(doc.add_paragraph(), r'TOC \o "1-2" \h \z \u', "（在 Word 中右键此处选择“更新域”可生成带页码的目录）")
    doc.add_paragraph()
    printed = doc.add_paragraph()
    _font(printed.add_run("政策一览"), HEAD_FONT, 12, bold=True)
    number = 0
    for group in book:
        _font(doc.add_paragraph().add_run(f"{group.label}（{len(group.policies)}项）"), HEAD_FONT, 11)
        for p in group.policies:
            number += 1
            line = doc.add_paragraph()
            line.paragraph_format.left_indent = Cm(0.5)
            line.add_run(xml_text(f"{number}. {p.title}"))

    number = 0
    for group in book:
        doc.add_section(WD_SECTION.NEW_PAGE)
        doc.add_heading(group.label, level=1)
        for p in group.policies:
            number += 1
            doc.add_heading(xml_text(f"{number}. {p.title}"), level=2)
            source = "，".join(x for x in (p.issuer, p.doc_number, f"{p.get_level_display()}级") if x)
            for label, text in (("发文", source), ("政策解读", p.interpretation or "（暂无解读，请参阅政策原文）"),
                                ("适用条件", p.rule_text or "适用于：所有企业"), ("扶持标准", p.amount_text()),
                                ("申报时间", _window(p)), ("有效期", _validity(p)),
                                ("咨询", " ".join(x for x in (p.contact_unit, p.contact_phone) if x) or "—")):
                para = doc.add_paragraph()
                para.paragraph_format.space_after = Pt(2)
                _font(para.add_run(f"【{label}】"), HEAD_FONT, 10.5)
                para.add_run(xml_text(text))
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
