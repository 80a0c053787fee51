"""The demand import page's jobs: upload → checked in the worker → preview and errors → confirm → written in
the worker, all or nothing (the registry import's pattern, qinqing.enterprises.services).

Jobs receive ids and are queued after commit. A run claims its job by a conditional UPDATE of `attempts` and
writes the rows and the job's outcome in one transaction that first checks the claim is still its own, so a
run queued twice (a recovery's and a late original) writes once; a worker killed mid-write leaves nothing
written, and the rerun writes every row once (source numbers already imported are skipped anyway).
"""

import datetime as dt
import logging
import tempfile
import uuid
from pathlib import Path

from django.core.files import File
from django.db import transaction
from django.db.models import Q

from qinqing.demands.errors import DomainError, IllegalTransition, NotFoundError
from qinqing.demands.importer import DemandImporter, check_importer, import_demands
from qinqing.demands.models import Channel
from qinqing.demands.verbs import is_admin
from qinqing.enterprises.xlsx import Limits
from qinqing.lib import clock, uploads

from .models import DemandImportJob

logger = logging.getLogger(__name__)
Status = DemandImportJob.Status
ERRORS_SHOWN = 200
STALE_AFTER = dt.timedelta(minutes=10)
ATTEMPTS = 3


def visible_jobs(user):
    """A user's own import jobs; administrators see all."""
    jobs = DemandImportJob.objects.select_related("uploaded_by")
    return jobs if is_admin(user) else jobs.filter(uploaded_by=user)


def _queue(task: str, job_id: int) -> None:
    from . import tasks

    getattr(tasks, task)(job_id)


def upload_demand_import(user, upload, *, channel: str = Channel.HOTLINE) -> DemandImportJob:
    """上传诉求导入文件: stored under MEDIA_ROOT/demand-imports/, its check queued; nothing imported yet."""
    check_importer(user)
    if channel not in Channel.values:
        raise DomainError("请选择表中没有“来源渠道”列时使用的来源渠道。")
    if not upload.name.lower().endswith(".xlsx"):
        raise DomainError("请上传 Excel 工作簿（.xlsx）。旧版 .xls 或 CSV 请先在 Excel 中另存为 .xlsx。")
    try:
        uploads.check_upload(upload, allowed=["xlsx"], max_bytes=Limits.from_settings().max_upload_bytes)
    except uploads.UploadRefused as exc:
        raise DomainError(exc.message) from None
    job = DemandImportJob(original_name=upload.name[:200], uploaded_by=user, channel=channel,
                          created_at=clock.now(), heartbeat_at=clock.now())
    job.file.save(f"{uuid.uuid4().hex}.xlsx", upload, save=False)
    job.save()
    transaction.on_commit(lambda: _queue("check_demand_import_job", job.pk))
    return job


def _progress(job_id: int):
    def progress(stage: str, done: int, total: int) -> None:
        DemandImportJob.objects.filter(pk=job_id).update(heartbeat_at=clock.now())
    return progress


def _store_report(job: DemandImportJob, importer: DemandImporter) -> None:
    report = importer.report
    job.total_rows, job.valid_rows = report.total_rows, report.valid_rows
    job.error_rows, job.known_rows = report.error_rows, report.known_rows
    job.columns, job.preview = report.columns, report.preview
    job.errors = [e.as_dict() for e in report.errors[:ERRORS_SHOWN]]
    job.message = report.summary()
    if not report.ok:
        with tempfile.TemporaryFile() as out:
            importer.write_error_workbook(out)
            out.seek(0)
            job.error_file.save(f"{Path(job.original_name).stem[:80]}_错误清单.xlsx", File(out), save=False)


def check_demand_import_job(job_id: int) -> DemandImportJob:
    """校验 (background): every row checked, the preview, errors and error workbook stored on the job."""
    job = DemandImportJob.objects.select_related("uploaded_by__jurisdiction").get(pk=job_id)
    if not DemandImportJob.objects.filter(pk=job.pk, status=Status.PENDING).update(
            status=Status.CHECKING, heartbeat_at=clock.now()):
        return job  # checked already, or by another run
    try:
        importer = DemandImporter(job.uploaded_by, job.file.path, channel=job.channel, progress=_progress(job.pk))
        importer.check()
    except DomainError as exc:
        job.status, job.message = Status.REFUSED, exc.message
    except Exception:
        logger.exception("checking demand import job %s failed", job.pk)
        job.status, job.message = Status.FAILED, "校验时发生系统错误，请联系管理员。"
    else:
        _store_report(job, importer)
        job.status = Status.READY if importer.report.ok else Status.INVALID
    job.heartbeat_at = clock.now()
    job.save()
    return job


@transaction.atomic
def confirm_demand_import(user, job: DemandImportJob | int) -> DemandImportJob:
    """确认导入: only a checked file without errors; the write is queued for the worker."""
    pk = job.pk if isinstance(job, DemandImportJob) else job
    job = visible_jobs(user).select_for_update(of=("self",)).filter(pk=pk).first()
    if job is None:
        raise NotFoundError("导入任务不存在或您无权查看。")
    if job.status == Status.INVALID:
        raise IllegalTransition("文件有错误：按“全部成功才导入”的规则不能导入。请下载错误清单，修正后重新上传。")
    if job.status != Status.READY:
        raise IllegalTransition(f"该导入任务当前为“{job.get_status_display()}”，不能导入。")
    if not job.valid_rows:
        raise IllegalTransition("没有需要导入的新诉求（来源编号均已导入过）。")
    job.status, job.heartbeat_at = Status.RUNNING, clock.now()
    job.save(update_fields=["status", "heartbeat_at"])
    transaction.on_commit(lambda: _queue("run_demand_import_job", job.pk))
    return job


def run_demand_import_job(job_id: int) -> DemandImportJob:
    """导入 (background): check the file again against today's data, then write it, all or nothing."""
    job = DemandImportJob.objects.select_related("uploaded_by__jurisdiction").get(pk=job_id)
    if job.status != Status.RUNNING:
        return job
    attempt = job.attempts + 1
    if not DemandImportJob.objects.filter(pk=job.pk, status=Status.RUNNING, attempts=job.attempts).update(
            attempts=attempt, heartbeat_at=clock.now()):
        return DemandImportJob.objects.get(pk=job.pk)  # another run claimed it first
    mine = DemandImportJob.objects.filter(pk=job.pk, status=Status.RUNNING, attempts=attempt)
    try:
        importer = DemandImporter(job.uploaded_by, job.file.path, channel=job.channel, progress=_progress(job.pk))
        importer.check()
        with transaction.atomic():
            if not mine.update(heartbeat_at=clock.now()):
                return DemandImportJob.objects.get(pk=job.pk)  # a later run took over: write nothing
            report = import_demands(job.uploaded_by, job.file.path, importer=importer, job_id=job.pk)
            mine.update(status=Status.DONE, created_count=report.created, known_rows=report.known_rows,
                        finished_at=clock.now(), message=report.summary(), heartbeat_at=clock.now())
    except DomainError as exc:
        report = getattr(exc, "report", None)
        mine.update(status=Status.INVALID if report is not None else Status.FAILED, message=exc.message,
                    finished_at=clock.now())
    except Exception:
        logger.exception("demand import job %s failed", job.pk)
        mine.update(status=Status.FAILED, message="导入时发生系统错误，未导入任何数据。请联系管理员。",
                    finished_at=clock.now())
    return DemandImportJob.objects.get(pk=job.pk)


def recover_stuck_demand_imports() -> list[int]:
    """Jobs a dead worker left waiting, checking or running: queued again (a run claimed ATTEMPTS times is
    marked failed). Each is taken by a conditional UPDATE of the heartbeat it was found with."""
    now = clock.now()
    stale = now - STALE_AFTER
    DemandImportJob.objects.filter(status=Status.RUNNING, attempts__gte=ATTEMPTS, heartbeat_at__lt=stale).update(
        status=Status.FAILED, finished_at=now, message="导入多次中断，未导入任何数据。请重新上传后再试。")
    lost = (DemandImportJob.objects.filter(status__in=[Status.PENDING, Status.CHECKING, Status.RUNNING])
            .filter(Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, created_at__lt=stale))
            .values_list("pk", "status", "heartbeat_at"))
    queued = []
    for pk, status, beat in lost:
        fields = {"heartbeat_at": now, **({"status": Status.PENDING} if status == Status.CHECKING else {})}
        if DemandImportJob.objects.filter(pk=pk, status=status, heartbeat_at=beat).update(**fields):
            _queue("run_demand_import_job" if status == Status.RUNNING else "check_demand_import_job", pk)
            queued.append(pk)
    return queued
