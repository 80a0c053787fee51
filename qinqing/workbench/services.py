"""A staff member's own ledger tools: saved filters, chosen columns, exports to Excel.

Exports run as the person who asked, through the same visibility rule and filter form as the ledger
page, so a file never holds a row its author could not open. Up to QINQING_EXPORT_SYNC_ROWS rows are
written at once; a larger view becomes a background job with progress and a stored file. Every export,
small or large, leaves an ExportJob row: who exported which view, when, how many rows.
"""

import datetime as dt
import tempfile
from io import BytesIO
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import QueryDict
from django.utils import timezone

from qinqing.audit.services import record_export
from qinqing.demands.errors import DomainError
from qinqing.demands.export import clean_columns, write_xlsx
from qinqing.demands.filters import LEDGER_ORDER, filter_demands
from qinqing.lib import clock
from qinqing.lib.text import clean_text

from .models import ExportJob, LedgerColumns, SavedFilter

MAX_SAVED_FILTERS = 30
IGNORED_PARAMS = ("page", "cols")


def _staff(user) -> None:
    if not user.is_authenticated or not user.is_staff_user:
        raise DomainError("只有工作人员可以使用诉求台账。")


def clean_query(query: str) -> str:
    """The ledger's filter parameters, without paging, empty values, control characters or anything unknown to
    the form."""
    from qinqing.demands.filters import DemandFilterForm

    fields = set(DemandFilterForm.base_fields)
    params = QueryDict(query or "", mutable=True)
    out = QueryDict(mutable=True)
    for key in params:
        if key in fields and key not in IGNORED_PARAMS:
            values = [v for v in map(clean_text, params.getlist(key)) if v.strip()]
            if values:
                out.setlist(key, values)
    return out.urlencode()


# ---------------------------------------------------------------- columns


def _table_keys(keys) -> list[str]:
    """Keys the ledger table can show (qinqing.demands.columns), without repeats; the default set if none."""
    from qinqing.demands.columns import LEDGER_TABLE

    return LEDGER_TABLE.clean(keys)


def ledger_columns(user) -> list[str]:
    row = LedgerColumns.objects.filter(user=user).first()
    return _table_keys(row.columns if row else None)


def choose_columns(user, keys) -> list[str]:
    _staff(user)
    keys = _table_keys(keys)
    LedgerColumns.objects.update_or_create(user=user, defaults={"columns": keys, "updated_at": clock.now()})
    return keys


# ---------------------------------------------------------------- saved filters


def save_filter(user, *, name: str, query: str) -> SavedFilter:
    """Keep the current ledger view under a name; the same name again replaces it."""
    _staff(user)
    name = clean_text(name or "").strip()
    if not name:
        raise DomainError("请给这个筛选起个名字，例如“本周超期”。")
    if len(name) > 40:
        raise DomainError("筛选名称不能超过40个字。")
    query = clean_query(query)
    if not query:
        raise DomainError("当前没有任何筛选条件，无需保存。")
    with transaction.atomic():
        existing = SavedFilter.objects.select_for_update().filter(user=user, name=name).first()
        if existing is not None:
            existing.query = query
            existing.save(update_fields=["query"])
            return existing
        if SavedFilter.objects.filter(user=user).count() >= MAX_SAVED_FILTERS:
            raise DomainError(f"常用筛选最多保存{MAX_SAVED_FILTERS}个，请先删除不用的。")
        return SavedFilter.objects.create(user=user, name=name, query=query)


def delete_filter(user, pk) -> None:
    deleted, _ = SavedFilter.objects.filter(user=user, pk=pk).delete()
    if not deleted:
        raise DomainError("该常用筛选不存在。")


# ---------------------------------------------------------------- exports


def sync_limit() -> int:
    return int(getattr(settings, "QINQING_EXPORT_SYNC_ROWS", 3000))


def _rows(user, query: str):
    """The ledger view of `query` as `user` sees it, in ledger order; a bad filter is an error, not 'all'."""
    from qinqing.demands.views.common import visible_demands

    qs, form = filter_demands(visible_demands(user), QueryDict(query) if query else None)
    if form.is_bound and not form.is_valid():
        raise DomainError("筛选条件有误，请在台账页修正后再导出。")
    return qs.order_by(*LEDGER_ORDER)


def export_ledger(user, *, query: str, columns) -> tuple[ExportJob, bytes | None]:
    """Export a ledger view. Returns (job, xlsx bytes) when written at once, (job, None) when queued."""
    _staff(user)
    query, keys = clean_query(query), clean_columns(columns)
    qs = _rows(user, query)
    limit = sync_limit()
    small = len(qs.values_list("pk", flat=True)[:limit + 1]) <= limit
    if small:
        out = BytesIO()
        count = write_xlsx(qs, keys, out)
        now = clock.now()
        # The file is stored too, as a background job's is: 我的导出 offers it again later.
        job = ExportJob(user=user, query=query, columns=keys, status=ExportJob.Status.DONE,
                        total_rows=count, done_rows=count, created_at=now, finished_at=now)
        job.file.save(export_filename(job), ContentFile(out.getvalue()), save=False)
        with transaction.atomic():
            job.save()
            record_export("诉求台账", actor=user, rows=count, query=query, columns=keys, job=job.pk)
        return job, out.getvalue()
    with transaction.atomic():
        job = ExportJob.objects.create(user=user, query=query, columns=keys, total_rows=qs.count())
        transaction.on_commit(lambda: _queue(job.pk))
    return job, None


def _queue(job_id: int) -> None:
    from .tasks import run_export_job as task

    task(job_id)


def run_export_job(job_id: int) -> ExportJob:
    """Write a queued export; claimed with a conditional UPDATE so two workers never both run it."""
    claimed = ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.PENDING).update(
        status=ExportJob.Status.RUNNING)
    job = ExportJob.objects.select_related("user").get(pk=job_id)
    if not claimed:
        return job

    def progress(done: int) -> None:
        ExportJob.objects.filter(pk=job_id).update(done_rows=done)

    try:
        qs = _rows(job.user, job.query)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "export.xlsx"
            count = write_xlsx(qs, job.columns, path, progress=progress)
            with path.open("rb") as fh:
                job.file.save(export_filename(job), File(fh), save=False)
    except Exception as exc:  # noqa: BLE001 - the person sees that it failed and why; the worker goes on
        job.status, job.message = ExportJob.Status.FAILED, f"导出失败：{exc}"[:300]
        job.finished_at = clock.now()
        job.save(update_fields=["status", "message", "finished_at"])
        return job
    job.status, job.done_rows, job.total_rows = ExportJob.Status.DONE, count, count
    job.finished_at = clock.now()
    with transaction.atomic():  # the audit log counts the rows actually written, once the file exists
        job.save(update_fields=["status", "done_rows", "total_rows", "file", "finished_at"])
        record_export("诉求台账", actor=job.user, rows=count, query=job.query, columns=job.columns, job=job.pk)
    return job


STUCK_AFTER = dt.timedelta(hours=1)  # longer than any export takes: the worker that ran it has died
GIVE_UP_AFTER = dt.timedelta(hours=24)  # a job that keeps killing its worker is not run for ever


def recover_stuck_exports() -> list[int]:
    """Exports a crash left behind: queued or running for more than STUCK_AFTER. Each is put back to
    pending by a conditional UPDATE (a second recovery finds nothing to take) and queued again; the run
    claims it as usual and writes its file once. One older than GIVE_UP_AFTER is marked failed instead,
    so the person is told to export again. The ids queued again."""
    now = clock.now()
    active = (ExportJob.Status.PENDING, ExportJob.Status.RUNNING)
    ExportJob.objects.filter(status__in=active, created_at__lt=now - GIVE_UP_AFTER).update(
        status=ExportJob.Status.FAILED, message="导出中断，请重新导出。", finished_at=now)
    stuck = list(ExportJob.objects.filter(status__in=active, created_at__lt=now - STUCK_AFTER)
                 .values_list("pk", "status"))
    queued = []
    for pk, status in stuck:
        if status == ExportJob.Status.RUNNING and not ExportJob.objects.filter(
                pk=pk, status=ExportJob.Status.RUNNING).update(status=ExportJob.Status.PENDING, done_rows=0):
            continue
        _queue(pk)
        queued.append(pk)
    return queued


def export_filename(job: ExportJob) -> str:
    return f"诉求台账-{timezone.localtime(job.created_at):%Y%m%d-%H%M}.xlsx"


def visible_jobs(user):
    """A person's own exports only."""
    return ExportJob.objects.filter(user=user)
