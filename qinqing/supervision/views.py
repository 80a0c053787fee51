"""The supervision office's pages: the overdue board, 督办单 and the unit assessment.

The board counts and lists the same queryset (the user's visible open demands past or near their current
deadline), so a count on the board always equals the rows behind it.
"""

import datetime as dt

from django import forms
from django.contrib import messages
from django.db.models import Count, Exists, OuterRef, Subquery
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from qinqing.accounts.models import Unit
from qinqing.demands.errors import DomainError
from qinqing.demands.models import OPEN_STATES, Demand, Stage, Urging
from qinqing.demands.views.common import paginate, staff_required, units_in_scope
from qinqing.lib import clock
from qinqing.reports import rates as rate_defs
from qinqing.reports import stats
from qinqing.reports.docs import workbook
from qinqing.reports.views import DOCX, XLSX, PeriodForm, statistics_required
from qinqing.workdays import calendar as workcal

from . import assessment, documents, services
from .models import NoticeStatus, SupervisionNotice

FLAGS = [("red", "红灯：已超期"), ("yellow", "黄灯：今日或下一工作日到期"), ("ignored", "催办后仍未办理"),
         ("notices", "督办单")]
IGNORED_AFTER = 3  # working days after an automatic urging with the stage still overdue
EXPORT_ROWS = 20000


def _download(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _working_days_before(cal, day: dt.date, n: int) -> dt.date:
    for _ in range(n):
        day -= dt.timedelta(days=1)
        while not cal.is_workday(day):
            day -= dt.timedelta(days=1)
    return day


def _flagged(user, flag: str, today: dt.date):
    """red: past the current stage's deadline; yellow: due today or by the next working day;
    ignored: urged automatically at least IGNORED_AFTER working days ago and still overdue at that stage."""
    cal = workcal.get_calendar()
    base = Demand.objects.visible_to(user).filter(state__in=OPEN_STATES)
    if flag == "yellow":
        return base.filter(next_due__gte=today, next_due__lte=cal.add_workdays(today, 1))
    overdue = base.filter(next_due__lt=today)
    if flag == "ignored":
        cutoff = _working_days_before(cal, today, IGNORED_AFTER)
        urged = Urging.objects.filter(demand=OuterRef("pk"), stage=OuterRef("current_stage"),
                                      due=OuterRef("next_due"), created_at__date__lte=cutoff)
        return overdue.filter(Exists(urged))
    return overdue


@statistics_required
def board(request):
    """督办看板: red and yellow flags, overdue by stage × lead unit, working days overdue, notices."""
    today = clock.today()
    flag = request.GET.get("flag") if request.GET.get("flag") in dict(FLAGS) else "red"
    if flag == "notices":
        return _notices(request, today)
    stage = request.GET.get("stage") if request.GET.get("stage") in Stage.values else ""
    unit_id = _int(request.GET.get("unit"))
    flagged = _flagged(request.user, flag, today)
    counts = {f: _flagged(request.user, f, today).count() for f, _ in FLAGS if f != "notices"}
    counts["notices"] = SupervisionNotice.objects.visible_to(request.user).filter(
        status=NoticeStatus.ISSUED).count()
    matrix_rows = list(flagged.order_by().values("lead_unit_id", "current_stage").annotate(n=Count("pk")))
    names = dict(Unit.objects.filter(pk__in={r["lead_unit_id"] for r in matrix_rows if r["lead_unit_id"]})
                 .values_list("pk", "name"))
    matrix: dict = {}
    for r in matrix_rows:
        row = matrix.setdefault(r["lead_unit_id"], {"unit_id": r["lead_unit_id"],
                                                    "name": names.get(r["lead_unit_id"], "未交办"),
                                                    "cells": dict.fromkeys(Stage.values, 0), "total": 0})
        row["cells"][r["current_stage"]] += r["n"]
        row["total"] += r["n"]
    matrix_list = sorted(matrix.values(), key=lambda r: -r["total"])
    stage_totals = {s: sum(r["cells"][s] for r in matrix_list) for s in Stage.values}

    scoped = flagged
    if stage:
        scoped = scoped.filter(current_stage=stage)
    if unit_id:
        scoped = scoped.filter(lead_unit_id=unit_id)
    open_notice = SupervisionNotice.objects.filter(demand=OuterRef("pk"), status=NoticeStatus.ISSUED)
    urgings = Urging.objects.filter(demand=OuterRef("pk")).order_by().values("demand").annotate(c=Count("pk"))
    rows = (scoped.select_related("enterprise", "lead_unit", "category")
            .annotate(notice_id=Subquery(open_notice.values("pk")[:1]),
                      urge_count=Subquery(urgings.values("c")[:1]))
            .order_by("next_due", "id"))
    if request.GET.get("format") == "xlsx":
        return _board_workbook(rows, flag, today)
    page = paginate(rows, request)
    cal = workcal.get_calendar()
    for d in page.rows:
        d.late_days = cal.workdays_between(d.next_due, today) if d.next_due < today else 0
    context = {"page": page, "flag": flag, "flags": FLAGS, "counts": counts, "matrix": matrix_list,
               "stages": Stage.choices, "stage_labels": dict(Stage.choices), "stage_totals": stage_totals, "stage": stage, "unit_id": unit_id,
               "today": today, "may_issue": services.may_issue(request.user),
               "selected_unit": names.get(unit_id) if unit_id else None}
    return render(request, "supervision/board.html", context)


def _board_workbook(rows, flag: str, today: dt.date) -> HttpResponse:
    cal = workcal.get_calendar()
    stages = dict(Stage.choices)
    data = [[d.number, d.title, d.enterprise.name if d.enterprise_id else d.reporter_name,
             d.lead_unit.name if d.lead_unit_id else "未交办", d.get_state_display(), stages.get(d.current_stage),
             d.next_due.isoformat(), cal.workdays_between(d.next_due, today) if d.next_due < today else 0,
             d.urge_count or 0, "是" if d.notice_id else "否"] for d in rows[:EXPORT_ROWS]]
    content = workbook([("督办看板", f"督办看板（{dict(FLAGS)[flag]}，截至{today:%Y-%m-%d}）",
                         ["编号", "标题", "企业", "主办单位", "状态", "当前环节", "期限", "超期工作日", "催办次数",
                          "有待反馈督办单"], data)])
    return _download(content, f"督办看板-{today:%Y%m%d}.xlsx", XLSX)


def _notices(request, today):
    """The 督办单 the user sees, by status and optionally addressed to one unit (?unit=, the workbench's card).

    Unit staff reach it too (at /supervision/notices/); the board's tabs are shown only to those who may
    open the board, so the page offers no link that answers 404."""
    status = request.GET.get("status") if request.GET.get("status") in NoticeStatus.values else ""
    unit_id = _int(request.GET.get("unit"))
    visible = SupervisionNotice.objects.visible_to(request.user)
    scoped = visible.filter(unit_id=unit_id) if unit_id else visible
    qs = scoped.select_related("demand", "unit", "issued_by")
    if status:
        qs = qs.filter(status=status)
    page = paginate(qs.order_by("-issued_at", "-id"), request)
    counts = dict.fromkeys(NoticeStatus.values, 0)
    counts.update(scoped.order_by().values_list("status").annotate(n=Count("pk")))
    board = stats.may_see_statistics(request.user)
    flag_counts = {}
    if board:
        flag_counts = {f: _flagged(request.user, f, today).count() for f, _ in FLAGS if f != "notices"}
        flag_counts["notices"] = (visible.filter(status=NoticeStatus.ISSUED).count() if unit_id
                                  else counts.get(NoticeStatus.ISSUED, 0))
    unit_name = Unit.objects.filter(pk=unit_id).values_list("name", flat=True).first() if unit_id else None
    return render(request, "supervision/notices.html", {
        "page": page, "status": status, "statuses": NoticeStatus.choices, "status_counts": counts,
        "flags": FLAGS, "flag": "notices", "counts": flag_counts, "today": today, "board": board,
        "unit_id": unit_id, "unit_name": unit_name})


@staff_required
def notices(request):
    """督办单 list at its own address, for every staff member who sees notices (not only the board's users)."""
    return _notices(request, clock.today())


class NoticeForm(forms.Form):
    requirement = forms.CharField(label="督办要求", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    days = forms.IntegerField(label="反馈期限（工作日）", min_value=1, max_value=services.MAX_DAYS,
                              initial=services.ANSWER_DAYS)


@staff_required
@require_POST
def notice_issue(request, number: str):
    demand = get_object_or_404(Demand.objects.visible_to(request.user), number=number)
    form = NoticeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写督办要求，反馈期限为1到20个工作日。")
        return redirect(request.POST.get("next") or reverse("supervision:board"))
    try:
        notice = services.issue_notice(request.user, demand, requirement=form.cleaned_data["requirement"],
                                       days=form.cleaned_data["days"])
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("supervision:board"))
    messages.success(request, f"已向{notice.unit.name}下发{notice.number}，反馈期限{notice.reply_due:%Y-%m-%d}。")
    return redirect("supervision:notice", pk=notice.pk)


def _notice_for(request, pk):
    return get_object_or_404(SupervisionNotice.objects.visible_to(request.user)
                             .select_related("demand__enterprise", "unit", "issued_by", "answered_by",
                                             "demand__jurisdiction"), pk=pk)


@staff_required
def notice_detail(request, pk: int):
    notice = _notice_for(request, pk)
    if request.GET.get("format") == "docx":
        return _download(documents.notice_docx(notice), f"{notice.number}.docx", DOCX)
    user = request.user
    may_answer = notice.status == NoticeStatus.ISSUED and (
        user.is_superuser or (user.unit_id == notice.unit_id and user.has_role("handler", "unit_head")))
    events = notice.events.select_related("actor").order_by("created_at", "id")
    return render(request, "supervision/notice.html", {"n": notice, "events": events, "may_answer": may_answer,
                                                       "today": clock.today()})


@staff_required
def demand_notice_form(request, number: str):
    demand = get_object_or_404(Demand.objects.visible_to(request.user).select_related("lead_unit", "enterprise"),
                               number=number)
    if not services.may_issue(request.user):
        raise Http404("页面不存在")
    default = (f"你单位主办的诉求{demand.number}“{demand.title}”"
               f"{demand.get_current_stage_display()}环节期限为{demand.next_due:%Y年%m月%d日}，"
               "请抓紧办理，并在反馈期限内书面说明进展和完成时间。") if demand.next_due else ""
    form = NoticeForm(initial={"requirement": default})
    return render(request, "supervision/notice_form.html", {"d": demand, "form": form})


@staff_required
@require_POST
def notice_answer(request, pk: int):
    notice = _notice_for(request, pk)
    try:
        services.answer_notice(request.user, notice, answer=request.POST.get("answer", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "反馈已提交。")
    return redirect("supervision:notice", pk=notice.pk)


# ---------------------------------------------------------------- assessment

@statistics_required
def assessment_page(request):
    """单位考核: per lead unit and period, with the ranking and the formulas."""
    today = clock.today()
    initial = {"start": today.replace(day=1), "end": today}
    form = PeriodForm(request.GET if "start" in request.GET else None, initial=initial)
    if form.is_bound and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    else:
        start, end = initial["start"], initial["end"]
    units = units_in_scope(request.user).exclude(kind__in=["supervision"]).order_by("name")
    scores = assessment.assess(units, start, end, today)
    if request.GET.get("format") == "xlsx":
        head = ["排名", "单位", "受理数", "办结数", "交办按时率%", "联系按时率%", "路径按时率%", "办结按时率%",
                "平均办结工作日", "超期数", "退回次数", "重办率%", "答复率%", "满意率%", "综合得分"]
        rows = [[s.rank or "", s.name, s.received, s.closed, s.rates["dispatch"], s.rates["contact"],
                 s.rates["path"], s.rates["reply"], s.avg_close_days, s.overdue, s.returns, s.reopen_rate,
                 s.reply_rate, s.satisfaction_rate, s.score if s.received else ""] for s in scores]
        formulas = [[name, text] for name, text in assessment.FORMULAS]
        content = workbook([("考核排名", f"承办单位考核（{rate_defs.period_text(start, end)}）", head, rows),
                            ("计算口径", "指标计算口径", ["指标", "口径"], formulas)])
        return _download(content, f"单位考核-{start:%Y%m%d}-{end:%Y%m%d}.xlsx", XLSX)
    period = stats.Period(start, end)
    return render(request, "supervision/assessment.html", {
        "form": form, "scores": scores, "formulas": assessment.FORMULAS, "period": period,
        "period_text": rate_defs.period_text(start, end),
        "start": start, "end": end, "weights": assessment.WEIGHTS,
    })
