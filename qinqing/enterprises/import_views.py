"""The upload page: upload → checked in the background → preview and errors → confirm → imported.

The file is stored under MEDIA_ROOT/imports/ and confirmed by its job id, so nothing is written before
the user has seen the preview: each row as 新增, 更新 (old → new, field by field), 无变化 or 错误. Renames
and moves of existing enterprises are ticked one by one (确认更名/迁址) or all at once (全部接受) on the
confirm form; those left unticked are skipped. The job page refreshes itself while a background step runs.
"""

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from qinqing.demands.errors import DomainError
from qinqing.demands.views.common import is_htmx, staff_required

from . import services
from .forms import ImportUploadForm
from .models import ImportJob
from .permissions import may_manage_registry

IN_PROGRESS = (ImportJob.Status.PENDING, ImportJob.Status.CHECKING, ImportJob.Status.RUNNING)


def _job(request, pk: int) -> ImportJob:
    job = services.visible_jobs(request.user).filter(pk=pk).first()
    if job is None:
        raise Http404("导入任务不存在或您无权查看。")
    return job


@staff_required
def upload(request):
    user = request.user
    if not may_manage_registry(user):
        raise Http404("页面不存在")
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.upload_import(user, form.cleaned_data["file"])
        except DomainError as exc:
            form.add_error("file", exc.message)
        else:
            return redirect("enterprises:import_job", pk=job.pk)
    jobs = services.visible_jobs(user).order_by("-created_at")[:10]
    return render(request, "enterprises/import_upload.html", {"form": form, "jobs": jobs})


@staff_required
def job_page(request, pk: int):
    job = _job(request, pk)
    context = {"job": job, "in_progress": job.status in IN_PROGRESS,
               "headers": [c["header"] for c in job.columns],
               "unknown_columns": [c["header"] for c in job.columns if not c["field"]],
               "moves": [c for c in job.changes if c["moves"]],
               "other_changes": [c for c in job.changes if not c["moves"]],
               "other_count": job.update_rows - job.move_rows}
    template = "enterprises/_import_status.html" if is_htmx(request) else "enterprises/import_job.html"
    return render(request, template, context)


@staff_required
@require_POST
def confirm(request, pk: int):
    job = _job(request, pk)
    try:
        services.confirm_import(request.user, job, partial=request.POST.get("partial") == "1",
                                accept_moves=request.POST.get("accept_all") == "1",
                                accepted_rows=request.POST.getlist("accept"))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("enterprises:import_job", pk=job.pk)


@staff_required
def error_file(request, pk: int):
    job = _job(request, pk)
    if not job.error_file:
        raise Http404("没有错误标注文件。")
    return FileResponse(job.error_file.open("rb"), as_attachment=True, filename=job.error_file.name.rsplit("/", 1)[-1])
