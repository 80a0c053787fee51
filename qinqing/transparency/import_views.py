"""The demand import page: upload → checked in the worker → preview and errors → confirm → imported."""

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from qinqing.accounts.models import Role
from qinqing.demands.errors import DomainError
from qinqing.demands.importer import COLUMNS
from qinqing.demands.models import Channel
from qinqing.demands.verbs import is_admin
from qinqing.demands.views.common import is_htmx, staff_required

from . import imports
from .models import DemandImportJob

IN_PROGRESS = (DemandImportJob.Status.PENDING, DemandImportJob.Status.CHECKING, DemandImportJob.Status.RUNNING)


class UploadForm(forms.Form):
    file = forms.FileField(label="Excel 文件（.xlsx）")
    channel = forms.ChoiceField(label="表中没有“来源渠道”列时按", choices=Channel.choices, initial=Channel.HOTLINE)


def _may_import(user) -> bool:
    return is_admin(user) or (user.has_role(Role.DISPATCHER) and bool(user.jurisdiction_id))


def _job(request, pk: int) -> DemandImportJob:
    job = imports.visible_jobs(request.user).filter(pk=pk).first()
    if job is None:
        raise Http404("导入任务不存在或您无权查看。")
    return job


@staff_required
def upload(request):
    if not _may_import(request.user):
        raise Http404("页面不存在")
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = imports.upload_demand_import(request.user, form.cleaned_data["file"],
                                               channel=form.cleaned_data["channel"])
        except DomainError as exc:
            form.add_error("file", exc.message)
        else:
            return redirect("demands:import_job", pk=job.pk)
    jobs = imports.visible_jobs(request.user).order_by("-created_at")[:10]
    columns = [(label, "、".join(aliases)) for label, aliases in COLUMNS.values()]
    return render(request, "transparency/import_upload.html", {"form": form, "jobs": jobs, "columns": columns},
                  status=400 if form.errors else 200)


@staff_required
def job_page(request, pk: int):
    job = _job(request, pk)
    context = {"job": job, "in_progress": job.status in IN_PROGRESS}
    template = "transparency/_import_status.html" if is_htmx(request) else "transparency/import_job.html"
    return render(request, template, context)


@staff_required
@require_POST
def confirm(request, pk: int):
    job = _job(request, pk)
    try:
        imports.confirm_demand_import(request.user, job)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("demands:import_job", pk=job.pk)


@staff_required
def error_file(request, pk: int):
    job = _job(request, pk)
    if not job.error_file:
        raise Http404("没有错误清单。")
    return FileResponse(job.error_file.open("rb"), as_attachment=True, filename=job.error_file.name.rsplit("/", 1)[-1])
