"""Every change to the registry goes through one of these verb-named functions.

Each checks that the user may act (qinqing.enterprises.permissions), cleans its input with the one
RowCleaner the importer, forms and API share, runs in one transaction and appends EnterpriseEvent rows.
They raise qinqing.demands.errors.DomainError subclasses whose Chinese message is shown unchanged.
`user=None` is the system (manage.py commands).
"""

import datetime as dt
import logging
import tempfile
import uuid
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import F, Q

from qinqing.demands.errors import (
    ConflictError,
    DomainError,
    IllegalTransition,
    NotFoundError,
    PermissionDeniedError,
)
from qinqing.lib import clock, uploads, uscc
from qinqing.lib.text import clean_text

from .classify import Classifier
from .errors import InvalidEnterpriseData, RefusedFile
from .importer import Importer, ImportReport, classify_year, merge_figures
from .models import (
    HELPER_FIELDS,
    CreditCodeOverride,
    Enterprise,
    EnterpriseEvent,
    ImportJob,
    YearlyFigures,
    set_helpers,
)
from .permissions import is_registry_admin, may_manage_place, may_manage_registry
from .rows import LABELS, RowCleaner
from .xlsx import Limits

NOT_VISIBLE = "企业不存在或您无权查看。"
JOB_ERRORS_SHOWN = 500  # errors kept on the job for the page; the error workbook has them all
logger = logging.getLogger(__name__)


def _actor(user):
    return user if user is not None and getattr(user, "pk", None) else None


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "pk"):
        return str(value)
    return value


def _log(enterprise, user, verb, changes=None, note="") -> EnterpriseEvent:
    return EnterpriseEvent.objects.create(enterprise=enterprise, actor=_actor(user), verb=verb,
                                          changes=changes or {}, note=clean_text(note), created_at=clock.now())


def _require_registry_rights(user, action: str) -> None:
    if not may_manage_registry(user):
        raise PermissionDeniedError(f"您没有{action}的权限（需管理员或营商办调度员）。")


def _lock(user, enterprise_or_pk) -> Enterprise:
    """The enterprise, if the user may see it (else 404), locked for the change."""
    pk = enterprise_or_pk.pk if isinstance(enterprise_or_pk, Enterprise) else enterprise_or_pk
    visible = Enterprise.objects.all() if user is None else Enterprise.objects.visible_to(user)
    try:
        return (visible.select_for_update(of=("self",)).select_related("jurisdiction", "helpers").get(pk=pk))
    except (Enterprise.DoesNotExist, ValueError, TypeError):
        raise NotFoundError(NOT_VISIBLE) from None


def _follow(user, moves) -> None:
    """Helpers named here move the 包联 assignments too, so that both pages name the same person."""
    from qinqing.visits.services import follow_registry  # visits builds on the registry, not the reverse

    follow_registry(_actor(user), moves)


def _clean(user, data: Mapping[str, Any], *, existing: bool):
    row = RowCleaner(user).clean(data, existing=existing, blank_clears=True)
    if row.problems:
        raise InvalidEnterpriseData(row.problems, LABELS)
    values = dict(row.values) if existing else {**row.defaults, **row.values}
    if "jurisdiction" in values:
        values["jurisdiction_id"] = values.pop("jurisdiction").pk
    figures = row.figures if row.figures and set(row.figures) - {"year"} else None
    return values, figures


def _record_figures(user, enterprise: Enterprise, figures: dict, explicit: dict | None = None) -> tuple:
    known = {(f.enterprise_id, f.year): f for f in enterprise.figures.filter(year=figures["year"])}
    row = merge_figures(enterprise, figures, known, clock.now(), _actor(user))
    changes = classify_year(enterprise, row, Classifier.load(), explicit=explicit)
    row.enterprise = enterprise
    row.save()
    return row, changes


@transaction.atomic
def register_enterprise(user, data: Mapping[str, Any], *, note: str = "") -> Enterprise:
    """登记企业: a new enterprise, keyed by its credit code; its year's figures if given."""
    _require_registry_rights(user, "登记企业")
    values, figures = _clean(user, data, existing=False)
    code = values["credit_code"]
    if Enterprise.objects.filter(credit_code=code).exists():
        raise ConflictError(f"统一社会信用代码{code}已在企业库中登记，请修改该企业而不是重复登记。")
    helpers = {k: values.pop(k) for k in HELPER_FIELDS if k in values}
    enterprise = Enterprise(**values, updated_at=clock.now())
    try:
        with transaction.atomic():
            enterprise.save()
    except IntegrityError:
        raise ConflictError(f"统一社会信用代码{code}已在企业库中登记。") from None
    set_helpers(enterprise.pk, **helpers)
    _follow(user, [(enterprise.pk, name, pk) for name, pk in helpers.items() if pk])
    values.update(helpers)
    if figures:
        _record_figures(user, enterprise, figures, explicit=values)
        enterprise.save(update_fields=["size", "is_four_above", "figures_year"])
    _log(enterprise, user, EnterpriseEvent.Verb.REGISTER,
         {k: [None, _plain(v)] for k, v in values.items()}, note)
    return enterprise


@transaction.atomic
def update_enterprise(user, enterprise, data: Mapping[str, Any], *, note: str = "") -> Enterprise:
    """修改企业信息: only the fields given change (a field given blank is emptied). The credit code never
    changes. A new industry code or qualification recomputes the latest year's size and 四上 status."""
    enterprise = _lock(user, enterprise)
    if not may_manage_place(user, enterprise.jurisdiction):
        raise PermissionDeniedError("您没有修改该企业信息的权限（需管理员或其所属区域的营商办调度员）。")
    values, figures = _clean(user, data, existing=True)
    if values.get("credit_code", enterprise.credit_code) != enterprise.credit_code:
        raise InvalidEnterpriseData({"credit_code": "统一社会信用代码是企业的唯一标识，不能修改；如登记有误请联系管理员"},
                                    LABELS)
    values.pop("credit_code", None)
    values.pop("credit_code_override_id", None)
    changes, helpers = {}, {}
    for name, value in values.items():
        old = getattr(enterprise, name)
        if old != value:
            changes[name] = [_plain(old), _plain(value)]
            if name in HELPER_FIELDS:
                helpers[name] = value
            else:
                setattr(enterprise, name, value)
    if figures:
        _, figure_changes = _record_figures(user, enterprise, figures, explicit=values)
        changes.update({k: [_plain(a), _plain(b)] for k, (a, b) in figure_changes.items()})
        changes["figures"] = [None, {k: _plain(v) for k, v in figures.items()}]
    elif {"industry_code", "qualification"} & changes.keys() and enterprise.figures_year:
        latest = enterprise.figures.filter(year=enterprise.figures_year).first()
        if latest is not None:
            moved = classify_year(enterprise, latest, Classifier.load())
            latest.save(update_fields=["size", "is_four_above", "four_above_rule"])
            changes.update({k: [_plain(a), _plain(b)] for k, (a, b) in moved.items()})
    if not changes:
        return enterprise
    if helpers:
        set_helpers(enterprise.pk, **helpers)
        _follow(user, [(enterprise.pk, name, pk) for name, pk in helpers.items()])
        relation = Enterprise._meta.get_field("helpers")
        if relation.is_cached(enterprise):  # read anew: the caller shows the enterprise it gets back
            relation.delete_cached_value(enterprise)
    enterprise.updated_at = clock.now()
    enterprise.save(update_fields=[*(k for k in changes if k != "figures" and k not in HELPER_FIELDS), "updated_at"])
    _log(enterprise, user, EnterpriseEvent.Verb.UPDATE, changes, note)
    return enterprise


@transaction.atomic
def record_yearly_figures(user, enterprise, *, year, employees=None, revenue=None, assets=None,
                          tax_paid=None) -> YearlyFigures:
    """录入年度数据: a year's figures; size and 四上 are computed for that year and, if it is the latest
    year, carried onto the enterprise."""
    enterprise = _lock(user, enterprise)
    if not may_manage_place(user, enterprise.jurisdiction):
        raise PermissionDeniedError("您没有录入该企业年度数据的权限。")
    raw = {"year": year, "employees": employees, "revenue": revenue, "assets": assets, "tax_paid": tax_paid}
    row = RowCleaner(user).clean({k: v for k, v in raw.items() if v not in (None, "")}, existing=True)
    if row.problems:
        raise InvalidEnterpriseData(row.problems, LABELS)
    if not row.figures or "year" not in row.figures:
        raise InvalidEnterpriseData({"year": "请填写年份"}, LABELS)
    if set(row.figures) == {"year"}:
        raise InvalidEnterpriseData({"revenue": "请至少填写一项数据（从业人员、营业收入、资产总额或纳税额）"}, LABELS)
    figures_row, changes = _record_figures(user, enterprise, row.figures)
    if changes:
        enterprise.updated_at = clock.now()
        enterprise.save(update_fields=[*changes, "updated_at"])
    _log(enterprise, user, EnterpriseEvent.Verb.FIGURES,
         {**{k: [_plain(a), _plain(b)] for k, (a, b) in changes.items()},
          "figures": [None, {k: _plain(v) for k, v in row.figures.items()}]},
         f"{figures_row.year}年：规模{figures_row.get_size_display() or '无法测算'}，"
         f"{'四上（' + figures_row.four_above_rule + '）' if figures_row.is_four_above else '非四上'}")
    return figures_row


def refresh_classifications(user=None, *, enterprise_ids=None, batch: int = 2000) -> int:
    """重新测算: recompute every year's size and 四上 status after the thresholds were edited.

    Runs in batches of `batch` enterprises, each in its own transaction, so a province-wide refresh does
    not hold one huge transaction. Returns how many enterprises changed.
    """
    if not is_registry_admin(user):
        raise PermissionDeniedError("只有管理员可以重新测算企业规模。")
    classifier = Classifier.load()
    ids = Enterprise.objects.filter(figures__isnull=False).distinct().order_by("pk").values_list("pk", flat=True)
    if enterprise_ids is not None:
        ids = ids.filter(pk__in=enterprise_ids)
    ids = list(ids)
    changed = 0
    for start in range(0, len(ids), batch):
        with transaction.atomic():
            chunk = ids[start:start + batch]
            enterprises = {e.pk: e for e in Enterprise.objects.select_for_update().filter(pk__in=chunk)}
            before = {pk: (e.size, e.is_four_above) for pk, e in enterprises.items()}
            rows = list(YearlyFigures.objects.filter(enterprise_id__in=chunk).order_by("enterprise_id", "year"))
            for row in rows:
                classify_year(enterprises[row.enterprise_id], row, classifier)
            YearlyFigures.objects.bulk_update(rows, ["size", "is_four_above", "four_above_rule"], batch_size=500)
            moved = [e for e in enterprises.values() if (e.size, e.is_four_above) != before[e.pk]]
            Enterprise.objects.bulk_update(moved, ["size", "is_four_above", "figures_year"], batch_size=500)
            EnterpriseEvent.objects.bulk_create([
                EnterpriseEvent(enterprise=e, actor=_actor(user), verb=EnterpriseEvent.Verb.CLASSIFY,
                                changes={"size": [before[e.pk][0], e.size],
                                         "is_four_above": [before[e.pk][1], e.is_four_above]},
                                note="规模/四上标准调整后重新测算", created_at=clock.now())
                for e in moved])
            changed += len(moved)
    return changed


def check_nonconforming_code(code: str, reason: str) -> str:
    """The normalised code if an administrator may accept it: only its check character fails GB 32100,
    and a reason is given. Raises DomainError otherwise (the admin form shows the same message)."""
    code = uscc.normalize(code)
    if len(clean_text(reason or "").strip()) < 4:
        raise DomainError("请写明接受该代码的理由（如核验来源：国家企业信用信息公示系统截图、营业执照等）。")
    if uscc.is_valid(code):
        raise DomainError(f"{code}符合国家标准（GB 32100-2015），无需特批。")
    if len(code) != 18 or any(ch not in uscc.VALUES for ch in code) or not code[2:8].isdigit():
        try:
            uscc.validate(code)
        except uscc.InvalidCreditCode as exc:
            raise DomainError(f"只有校验位不符的代码可以特批：{exc}") from None
    return code


@transaction.atomic
def accept_nonconforming_code(user, code: str, reason: str) -> CreditCodeOverride:
    """特批信用代码: an administrator accepts a real code whose check character fails GB 32100
    (early pilot codes). Only the check character may be off; the reason is recorded with who and when."""
    if user is None or not is_registry_admin(user):
        raise PermissionDeniedError("只有管理员可以特批不符合校验规则的信用代码。")
    code = check_nonconforming_code(code, reason)
    reason = clean_text(reason).strip()
    try:
        with transaction.atomic():
            override = CreditCodeOverride.objects.create(code=code, reason=reason, accepted_by=_actor(user),
                                                         accepted_at=clock.now())
    except IntegrityError:
        raise ConflictError(f"{code}已被特批，无需重复操作。") from None
    enterprise = Enterprise.objects.filter(credit_code=code).first()
    if enterprise is not None:
        enterprise.credit_code_override = override
        enterprise.save(update_fields=["credit_code_override"])
    _log(enterprise, user, EnterpriseEvent.Verb.OVERRIDE, {"credit_code": [None, code]}, reason)
    return override


# ---------------------------------------------------------------- Excel import

def check_import(user, path: Path | str, *, progress: Callable | None = None, source: str = "") -> Importer:
    """校验导入文件: read and clean every row, write nothing. Returns the importer (its `report`)."""
    _require_registry_rights(user, "导入企业")
    importer = Importer(user, path, progress=progress, source=source)
    importer.check()
    return importer


def import_enterprises(user, path: Path | str, *, partial: bool = False, progress: Callable | None = None,
                       source: str = "", importer: Importer | None = None, accept_moves: bool = False,
                       accepted_rows: Iterable[int] = ()) -> ImportReport:
    """导入企业名单: validate every row first; then write all of them in one transaction, or — with
    `partial` — the valid ones only. Re-importing a code updates that enterprise, never duplicates it.

    A row that would rename an existing enterprise or move it to another place is written only when
    accepted — all of them (`accept_moves`) or those of `accepted_rows` (sheet row numbers); the others
    are skipped and counted in the report (未确认的更名/迁址，已跳过), never applied silently.

    Raises RefusedFile for a hostile or malformed file and when rows have errors without `partial`
    (the report, with the errors, is on the exception's `report` attribute).
    """
    _require_registry_rights(user, "导入企业")
    if importer is None:
        importer = Importer(user, path, partial=partial, progress=progress, source=source)
        importer.check()
    importer.partial = partial
    importer.accept_moves = accept_moves
    importer.accepted_rows = frozenset(accepted_rows)
    report = importer.report
    if not report.ok and not partial:
        error = RefusedFile(f"{report.summary()}按“全部成功才导入”的规则，未导入任何数据；请下载错误标注文件修正后重新导入。")
        error.report = report
        raise error
    with transaction.atomic():
        importer.write()
    return report


# ---------------------------------------------------------------- import jobs (the upload page)

def upload_import(user, upload, *, partial: bool = False) -> ImportJob:
    """上传导入文件: store it under MEDIA_ROOT/imports/ and queue its check; nothing is imported yet."""
    _require_registry_rights(user, "导入企业")
    limits = Limits.from_settings()
    if not upload.name.lower().endswith(".xlsx"):
        raise RefusedFile("请上传 Excel 工作簿（.xlsx）。旧版 .xls 或 CSV 请先在 Excel 中另存为 .xlsx。")
    try:  # by content, before anything is stored
        uploads.check_upload(upload, allowed=["xlsx"], max_bytes=limits.max_upload_bytes)
    except uploads.UploadRefused as exc:
        raise RefusedFile(exc.message) from None
    job = ImportJob(original_name=upload.name[:200], uploaded_by=user, partial=partial, created_at=clock.now())
    job.file.save(f"{uuid.uuid4().hex}.xlsx", upload, save=False)
    job.save()
    transaction.on_commit(lambda: _queue("check_import_job", job.pk))
    return job


def _queue(task: str, job_id: int) -> None:
    from . import tasks

    getattr(tasks, task)(job_id)


def _job_progress(job_id: int):
    def progress(stage: str, done: int, total: int) -> None:
        ImportJob.objects.filter(pk=job_id).update(done_rows=done, total_rows=total if stage == "check" else
                                                   F("total_rows"), heartbeat_at=clock.now())
    return progress


def _store_report(job: ImportJob, importer: Importer) -> None:
    report = importer.report
    job.total_rows = report.total_rows
    job.valid_rows = report.valid_rows
    job.error_rows = report.error_rows
    job.columns = report.columns
    job.preview = report.preview
    job.new_rows, job.update_rows = report.new_rows, report.update_rows
    job.unchanged_rows, job.move_rows = report.same_rows, report.move_rows
    job.changes = report.changes
    job.errors = [e.as_dict() for e in report.errors[:JOB_ERRORS_SHOWN]]
    job.message = " ".join([report.summary(), *report.warnings])
    if not report.ok:
        with tempfile.TemporaryFile() as out:
            importer.write_error_workbook(out)
            out.seek(0)
            stem = Path(job.original_name).stem[:80]
            job.error_file.save(f"{stem}_错误标注.xlsx", File(out), save=False)


def check_import_job(job_id: int) -> ImportJob:
    """校验导入文件 (background): the check pass, its preview, errors and error workbook stored on the job."""
    job = ImportJob.objects.select_related("uploaded_by__jurisdiction").get(pk=job_id)
    if job.status != ImportJob.Status.PENDING:
        return job
    # Claimed by a conditional UPDATE: the same check queued twice (a recovery's and a late original) runs once.
    if not ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PENDING).update(
            status=ImportJob.Status.CHECKING, heartbeat_at=clock.now()):
        return job
    try:
        importer = check_import(job.uploaded_by, job.file.path, progress=_job_progress(job.pk),
                                source=job.original_name)
    except DomainError as exc:
        job.status, job.message = ImportJob.Status.REFUSED, exc.message
    except Exception:
        logger.exception("checking import job %s failed", job.pk)
        job.status, job.message = ImportJob.Status.FAILED, "校验时发生系统错误，请联系管理员。"
    else:
        _store_report(job, importer)
        job.status = ImportJob.Status.READY if importer.report.ok else ImportJob.Status.INVALID
    job.done_rows = 0
    job.save()
    return job


@transaction.atomic
def confirm_import(user, job: ImportJob | int, *, partial: bool = False, accept_moves: bool = False,
                   accepted_rows: Iterable[int] = ()) -> ImportJob:
    """确认导入: start writing a checked file. With errors, only `partial` (skip the bad rows) may go on.

    Renames and moves of existing enterprises are written only if accepted here: all of them
    (`accept_moves`, the page's 全部接受) or the sheet rows in `accepted_rows` (确认更名/迁址 per row).
    """
    pk = job.pk if isinstance(job, ImportJob) else job
    job = visible_jobs(user).select_for_update(of=("self",)).filter(pk=pk).first()  # uploader: outer join
    if job is None:
        raise NotFoundError("导入任务不存在或您无权查看。")
    if job.status == ImportJob.Status.INVALID and not partial:
        raise IllegalTransition("文件有错误：按“全部成功才导入”的规则不能导入。请修正后重新上传，或选择“跳过错误行，只导入正确的行”。")
    if job.status not in (ImportJob.Status.READY, ImportJob.Status.INVALID) or not job.valid_rows:
        raise IllegalTransition(f"该导入任务当前为“{job.get_status_display()}”，不能导入。")
    try:
        rows = sorted({int(n) for n in accepted_rows})
    except (TypeError, ValueError):
        raise DomainError("确认更名/迁址的行号有误，请刷新页面后重新选择。") from None
    job.status, job.partial, job.done_rows = ImportJob.Status.RUNNING, partial, 0
    job.accept_all_moves, job.accepted_rows, job.heartbeat_at = accept_moves, rows, clock.now()
    job.save(update_fields=["status", "partial", "done_rows", "accept_all_moves", "accepted_rows", "heartbeat_at"])
    transaction.on_commit(lambda: _queue("run_import_job", job.pk))
    return job


def run_import_job(job_id: int) -> ImportJob:
    """导入 (background): re-check the file against today's registry, then write it (all or nothing).

    Safe to run again after its worker died, and twice at once: the run claims the job by a conditional
    UPDATE of `attempts` (its fence), and writes the rows and the job's outcome in one transaction that
    first checks the claim is still its own — on PostgreSQL that UPDATE also holds the job's row until
    the commit, so a recovery waits for a live import instead of starting a second one. A worker killed
    before that commit leaves no row written and the job running; recover_stuck_imports queues it again
    and the rerun writes every row once (codes already present are updated, never duplicated). A job
    found DONE is never written again.
    """
    job = ImportJob.objects.select_related("uploaded_by__jurisdiction").get(pk=job_id)
    if job.status != ImportJob.Status.RUNNING:
        return job
    attempt = job.attempts + 1
    if not ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING, attempts=job.attempts).update(
            attempts=attempt, heartbeat_at=clock.now()):
        return ImportJob.objects.get(pk=job.pk)  # another run claimed it first
    job.attempts = attempt
    mine = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING, attempts=attempt)
    importer = None
    try:
        importer = Importer(job.uploaded_by, job.file.path, partial=job.partial, progress=_job_progress(job.pk),
                            source=job.original_name)
        importer.check()
        with transaction.atomic():
            if not mine.update(heartbeat_at=clock.now()):
                return ImportJob.objects.get(pk=job.pk)  # a later run took over: write nothing
            report = import_enterprises(job.uploaded_by, job.file.path, partial=job.partial, importer=importer,
                                        accept_moves=job.accept_all_moves, accepted_rows=job.accepted_rows)
            job.status = ImportJob.Status.DONE
            job.created_count, job.updated_count = report.created, report.updated
            job.skipped_count = report.skipped
            job.message = " ".join([report.summary(), *report.warnings])
            job.finished_at = clock.now()
            job.done_rows = report.valid_rows
            job.save()  # with the rows: a kill after this commit leaves the job DONE, never run again
        return job
    except DomainError as exc:
        job.status, job.message = ImportJob.Status.INVALID, exc.message
        if importer is not None and importer.report.total_rows:
            _store_report(job, importer)
            job.message = exc.message
    except Exception:
        logger.exception("import job %s failed", job.pk)
        job.status, job.message = ImportJob.Status.FAILED, "导入时发生系统错误，未导入任何数据，请联系管理员。"
    job.finished_at = clock.now()
    with transaction.atomic():
        if mine.select_for_update().exists():  # still this run's: a later run's outcome is not overwritten
            job.save()
    return job


STALE_IMPORT_AFTER = dt.timedelta(minutes=10)  # a live job beats every batch of 2,000 rows, in seconds
IMPORT_ATTEMPTS = 3  # a file that kills its worker every time is not run for ever


def recover_stuck_imports() -> list[int]:
    """Import jobs a dead worker left behind: waiting, checking or running with no sign of life (heartbeat)
    for STALE_IMPORT_AFTER. Each is taken by a conditional UPDATE of the heartbeat it was found with (two
    recoveries at once queue it once) and queued again: a check from the start (it writes nothing but the
    job), an import as a new claim (run_import_job). An import claimed IMPORT_ATTEMPTS times already is
    marked failed instead. The ids queued again."""
    now = clock.now()
    stale = now - STALE_IMPORT_AFTER
    Status = ImportJob.Status
    ImportJob.objects.filter(status=Status.RUNNING, attempts__gte=IMPORT_ATTEMPTS, heartbeat_at__lt=stale).update(
        status=Status.FAILED, finished_at=now,
        message="导入多次中断，未导入任何数据。请联系管理员，或重新上传后再试。")
    lost = (ImportJob.objects.filter(status__in=[Status.PENDING, Status.CHECKING, Status.RUNNING])
            .filter(Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, created_at__lt=stale))
            .values_list("pk", "status", "heartbeat_at"))
    queued = []
    for pk, status, beat in lost:
        fields = {"heartbeat_at": now}
        if status == Status.CHECKING:
            fields.update(status=Status.PENDING, done_rows=0)
        if not ImportJob.objects.filter(pk=pk, status=status, heartbeat_at=beat).update(**fields):
            continue
        _queue("run_import_job" if status == Status.RUNNING else "check_import_job", pk)
        queued.append(pk)
    return queued


def visible_jobs(user):
    """Import jobs a user may see: their own; administrators see all."""
    jobs = ImportJob.objects.select_related("uploaded_by")
    return jobs if is_registry_admin(user) else jobs.filter(uploaded_by=user)
