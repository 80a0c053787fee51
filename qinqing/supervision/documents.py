"""督办单 as a Word document in the official layout, rendered from the notice alone."""

from django.utils import timezone

from qinqing.reports.docs import OfficialDocument, cn_date
from qinqing.workdays import calendar as workcal

from .models import Level


def notice_docx(notice) -> bytes:
    demand = notice.demand
    district = demand.jurisdiction
    while district.level == "town" and district.parent_id:
        district = district.parent
    issuer = f"{district.name}督查室"
    issued = timezone.localtime(notice.issued_at).date()
    late = workcal.get_calendar().workdays_between(notice.stage_due, issued) if notice.stage_due < issued else 0
    doc = OfficialDocument()
    doc.head(issuer, notice.number)
    doc.title("督办通知单" if notice.level == Level.OFFICE else "升级督办通知单")
    doc.paragraph(f"{notice.unit.name}：", indent=False)
    doc.paragraph(notice.requirement)
    doc.table(["项目", "内容"], [
        ["诉求编号", demand.number],
        ["诉求标题", demand.title],
        ["反映企业", demand.enterprise.name if demand.enterprise_id else demand.reporter_name],
        ["受理时间", timezone.localtime(demand.received_at).strftime("%Y-%m-%d %H:%M")],
        ["督办环节", notice.get_stage_display()],
        ["环节期限", cn_date(notice.stage_due)],
        ["下发时已超期", f"{late}个工作日" if late else "未超期（临近期限）"],
        ["督办级别", notice.get_level_display()],
        ["书面反馈期限", cn_date(notice.reply_due)],
    ])
    doc.paragraph("请于反馈期限前通过亲清平台提交书面反馈；逾期未反馈的，将升级督办并在月度通报中通报。")
    doc.signature(issuer, issued)
    return doc.bytes()
