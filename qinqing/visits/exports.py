"""Excel exports of the visit log, a campaign's coverage and the seminars: the rows their pages show, through
the same filters and visibility, each export written to the audit log (what, filters, row count).

Written with openpyxl's write-only workbook (rows streamed to the file, not kept as cell objects), capped at
EXPORT_ROWS rows, which the last line says when it is reached.
"""

import datetime as dt
import io

from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from openpyxl import Workbook

from qinqing.audit.services import record_export
from qinqing.demands.views.common import staff_required
from qinqing.enterprises.models import Sector
from qinqing.lib import clock

from . import filters, queries
from .models import Campaign, Seminar, Visit

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_ROWS = 50_000
VISIT_HEADERS = ["走访日期", "企业", "统一社会信用代码", "方式", "走访人", "所属活动", "交流内容", "送达政策", "生产经营",
                 "订单情况", "用工人数", "用工缺口（人）", "融资需求（万元）", "提出问题（件）", "企业确认", "记录人"]
SEMINAR_HEADERS = ["举办日期", "类型", "主题", "举办区划", "组织单位", "所属活动", "参会企业（家）", "纪要"]


def _sheet(book: Workbook, title: str, headers: list[str], widths: dict[str, int] | None = None):
    sheet = book.create_sheet(title)
    sheet.freeze_panes = "A2"
    for letter, width in (widths or {}).items():
        sheet.column_dimensions[letter].width = width
    sheet.append(headers)
    return sheet


def _response(book: Workbook, filename: str) -> HttpResponse:
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def _capped(sheet, written: int) -> None:
    if written >= EXPORT_ROWS:
        sheet.append([f"仅导出前{EXPORT_ROWS}行，请缩小筛选范围后分批导出。"])


def visit_rows(visits) -> list[list]:
    """The visit log's rows as the export writes them (visits already filtered and visible)."""
    qs = (visits.select_related("enterprise", "campaign", "recorded_by")
          .prefetch_related(queries.visitors_prefetch())
          .annotate(raised=Count("demands", distinct=True)).order_by("-visited_on", "-pk"))
    return [[v.visited_on, v.enterprise.name, v.enterprise.credit_code, v.get_form_display(),
             "、".join(u.display_name for u in v.visitors.all()), v.campaign.name if v.campaign_id else "",
             v.discussed, v.policies, v.get_production_display(), v.get_orders_display(), v.employees,
             v.hiring_need, v.financing_need, v.raised, v.get_confirmation_display(),
             v.recorded_by.display_name if v.recorded_by_id else ""] for v in qs[:EXPORT_ROWS]]


@staff_required
def visit_log_xlsx(request):
    """走访记录导出: the log page's filters (方式, 企业确认, 企业) over the visits the user may see."""
    chosen = filters.read_filters(request.GET, request.user)
    rows = visit_rows(filters.apply_filters(Visit.objects.visible_to(request.user), chosen))
    book = Workbook(write_only=True)
    sheet = _sheet(book, "走访记录", VISIT_HEADERS, {"A": 12, "B": 30, "C": 22, "E": 16, "G": 50, "H": 30})
    for row in rows:
        sheet.append(row)
    _capped(sheet, len(rows))
    record_export("走访记录", actor=request.user, rows=len(rows), query=request.GET.urlencode(), request=request)
    return _response(book, f"走访记录-{clock.today():%Y%m%d}.xlsx")


def seminar_rows(seminars) -> list[list]:
    qs = (seminars.select_related("jurisdiction", "organiser", "campaign")
          .annotate(attending=Count("enterprises", distinct=True)).order_by("-held_on", "-pk"))
    return [[s.held_on, s.get_kind_display(), s.title, s.jurisdiction.name, s.organiser.name if s.organiser_id else "",
             s.campaign.name if s.campaign_id else "", s.attending, s.notes] for s in qs[:EXPORT_ROWS]]


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@staff_required
def seminars_xlsx(request):
    """座谈会、宣讲会导出: the seminars the user may see, optionally held between `from` and `to` and of a kind."""
    seminars = Seminar.objects.visible_to(request.user)
    if start := _date(request.GET.get("from", "")):
        seminars = seminars.filter(held_on__gte=start)
    if end := _date(request.GET.get("to", "")):
        seminars = seminars.filter(held_on__lte=end)
    if request.GET.get("kind") in Seminar.Kind.values:
        seminars = seminars.filter(kind=request.GET["kind"])
    rows = seminar_rows(seminars)
    book = Workbook(write_only=True)
    sheet = _sheet(book, "座谈宣讲", SEMINAR_HEADERS, {"A": 12, "C": 40, "E": 24, "H": 60})
    for row in rows:
        sheet.append(row)
    _capped(sheet, len(rows))
    record_export("座谈会和宣讲会", actor=request.user, rows=len(rows), query=request.GET.urlencode(), request=request)
    return _response(book, f"座谈会和宣讲会-{clock.today():%Y%m%d}.xlsx")


@staff_required
def campaign_xlsx(request, pk: int):
    """集中走访活动导出: the progress page's coverage (by industry, place, contact leader, group), the
    enterprises not yet visited and the campaign's seminars — for whoever may open the campaign's page."""
    campaign = get_object_or_404(Campaign.objects.visible_to(request.user).select_related("jurisdiction"), pk=pk)
    cov = queries.coverage(campaign)
    book = Workbook(write_only=True)
    summary = _sheet(book, "覆盖情况", ["维度", "名称", "目标企业（家）", "已走访（家）", "覆盖率（%）"], {"B": 30})
    summary.append(["合计", campaign.name, cov.targets, cov.visited, cov.percent])
    for label, rows in (("行业", cov.by_sector), ("属地", cov.by_jurisdiction), ("包联领导", cov.by_cadre),
                        ("走访组", cov.by_group)):
        for name, targets, visited, percent in rows:
            summary.append([label, name, targets, visited, percent])
    missing = _sheet(book, "未走访企业", ["企业", "统一社会信用代码", "行业", "所在镇街园区", "包联领导", "为企服务专员"],
                     {"A": 32, "B": 22, "D": 16})
    sectors = dict(Sector.choices)
    written = 0
    for target in queries.not_visited(campaign)[:EXPORT_ROWS]:
        helpers = getattr(target.enterprise, "helpers", None)
        specialist = helpers.service_specialist if helpers and helpers.service_specialist_id else None
        missing.append([target.enterprise.name, target.enterprise.credit_code, sectors.get(target.sector, target.sector),
                        target.jurisdiction.name if target.jurisdiction_id else "",
                        target.leader.display_name if target.leader_id else "",
                        specialist.display_name if specialist else ""])
        written += 1
    _capped(missing, written)
    held = seminar_rows(campaign.seminars.all())
    sheet = _sheet(book, "座谈宣讲", SEMINAR_HEADERS, {"A": 12, "C": 40, "H": 60})
    for row in held:
        sheet.append(row)
    record_export("集中走访活动覆盖情况", actor=request.user, rows=cov.targets, query=request.GET.urlencode(),
                  request=request, campaign=campaign.pk, not_visited=written, seminars=len(held))
    return _response(book, f"{campaign.name[:40]}-覆盖情况-{clock.today():%Y%m%d}.xlsx")
