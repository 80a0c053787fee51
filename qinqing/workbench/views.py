"""Ledger tools: export the current view, keep it as a saved filter, choose the columns; the dispatch slip."""

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from qinqing.demands.errors import DomainError
from qinqing.demands.views.common import is_htmx, paginate, staff_required
from qinqing.demands.views.slip import slip as demand_slip

from . import services
from .models import ExportJob

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
slip = demand_slip


def _back_to_ledger(request, query: str = ""):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    url = reverse("demands:ledger")
    return redirect(f"{url}?{query}" if query else url)


@staff_required
def export(request):
    """Export the ledger view named by the query string: a file now, or a job page for a big one."""
    params = request.GET.copy()
    columns = params.getlist("cols") or services.ledger_columns(request.user)
    if params.get("all_columns"):
        from qinqing.demands.export import COLUMNS

        columns = [c.key for c in COLUMNS]
    try:
        job, data = services.export_ledger(request.user, query=params.urlencode(), columns=columns)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(f"{reverse('demands:ledger')}?{services.clean_query(params.urlencode())}")
    if data is None:
        messages.info(request, f"共{job.total_rows}条，数据较多，正在后台导出。完成后可在此页下载。")
        return redirect("workbench:export_job", pk=job.pk)
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, services.export_filename(job))
    return response


def _job(request, pk) -> ExportJob:
    job = services.visible_jobs(request.user).filter(pk=pk).first()
    if job is None:
        raise Http404("导出任务不存在或您无权查看。")
    return job


@staff_required
def export_job(request, pk):
    job = _job(request, pk)
    template = "workbench/_export_status.html" if is_htmx(request) else "workbench/export_job.html"
    return render(request, template, {"job": job})


@staff_required
def exports(request):
    page = paginate(services.visible_jobs(request.user).order_by("-created_at", "-id"), request)
    return render(request, "workbench/exports.html", {"page": page, "jobs": page.rows})


@staff_required
def download(request, pk):
    job = _job(request, pk)
    if job.status != ExportJob.Status.DONE or not job.file:
        raise Http404("文件尚未生成。")
    try:
        handle = job.file.open("rb")
    except FileNotFoundError:
        raise Http404("文件已不存在，请重新导出。") from None
    return FileResponse(handle, as_attachment=True, filename=services.export_filename(job), content_type=XLSX)


@staff_required
@require_POST
def save_filter(request):
    query = request.POST.get("query", "")
    try:
        saved = services.save_filter(request.user, name=request.POST.get("name", ""), query=query)
    except DomainError as exc:
        messages.error(request, exc.message)
        return _back_to_ledger(request, services.clean_query(query))
    messages.success(request, f"已保存常用筛选“{saved.name}”。")
    return _back_to_ledger(request, saved.query)


@staff_required
@require_POST
def delete_filter(request, pk):
    try:
        services.delete_filter(request.user, pk)
    except DomainError:
        raise Http404("该常用筛选不存在。") from None
    messages.success(request, "已删除常用筛选。")
    return _back_to_ledger(request)


@staff_required
@require_POST
def columns(request):
    keys = services.choose_columns(request.user, request.POST.getlist("cols"))
    messages.success(request, f"已设置台账显示{len(keys)}列。")
    return _back_to_ledger(request, services.clean_query(request.POST.get("query", "")))
