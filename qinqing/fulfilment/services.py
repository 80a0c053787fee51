"""Every change to applications, batches and the ledger goes through one of these verbs.

Applications: apply_for_policy (the enterprise on its portal, or staff recording a paper application),
approve_application (with the amount granted, which writes the ledger row), reject_application (with the
reason), record_payment (the 兑现 date). Batches (免申即享): build_batch and refresh_batch (the eligible
enterprises and their amounts, one INSERT … SELECT), submit_batch, approve_batch (by someone other than the
preparer: the ledger rows and the enterprises' notifications, each one INSERT … SELECT), return_batch,
pay_batch (one UPDATE). Each checks who may act, validates before writing, runs in one transaction, appends a
FulfilmentEvent and raises DomainError with a Chinese message naming the field.
"""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from qinqing.accounts.models import Role, RoleGrant, User
from qinqing.audit.services import record
from qinqing.demands.errors import DomainError, IllegalTransition, PermissionDeniedError
from qinqing.enterprises.models import Enterprise
from qinqing.lib import clock
from qinqing.lib.text import clean_text
from qinqing.notifications.models import Notification
from qinqing.notifications.services import TEXT_LIMIT
from qinqing.policies import matching
from qinqing.policies.models import AmountKind, Policy, Status
from qinqing.policies.services import may_edit
from qinqing.workdays.calendar import get_calendar

from .models import (
    Application,
    ApplicationStatus,
    Batch,
    BatchLine,
    BatchStatus,
    Channel,
    FulfilmentEvent,
    FulfilmentRecord,
)

MAX_AMOUNT = Decimal("1e10")
REASON_LIMIT = 500


def _actor(user):
    return user if user is not None and getattr(user, "pk", None) else None


def _log(policy, user, verb, *, application=None, batch=None, note="", changes=None) -> FulfilmentEvent:
    return FulfilmentEvent.objects.create(policy=policy, application=application, batch=batch, actor=_actor(user),
                                          verb=verb, note=clean_text(note)[:2000], changes=changes or {},
                                          created_at=clock.now())


def _amount(value, label: str, *, required: bool) -> Decimal | None:
    if value in (None, ""):
        if required:
            raise DomainError(f"请填写“{label}”。")
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise DomainError(f"“{label}”的数值“{value}”不是数字。") from None
    if not number.is_finite() or number <= 0 or number >= MAX_AMOUNT:
        raise DomainError(f"“{label}”应大于0且小于100亿（单位：万元）。")
    return number.quantize(Decimal("0.01"))


def _day(value, label: str) -> dt.date:
    if value in (None, ""):
        raise DomainError(f"请填写“{label}”。")
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise DomainError(f"“{label}”的日期“{value}”无效，请写成 2026-12-03。") from None


def _reason(text, label: str) -> str:
    text = clean_text(str(text or "")).strip()
    if not text:
        raise DomainError(f"请填写“{label}”。")
    if len(text) > REASON_LIMIT:
        raise DomainError(f"“{label}”不能超过{REASON_LIMIT}个字。")
    return text


def may_review(user, policy: Policy) -> bool:
    """Who reviews applications and prepares or approves batches: the policy's editors (营商办 of its
    jurisdiction, administrators)."""
    return may_edit(user, policy.jurisdiction)


def _require_reviewer(user, policy):
    if not may_review(user, policy):
        raise PermissionDeniedError("只有政策所属辖区的营商办或管理员可以办理政策兑现。")


def _enterprise_users(enterprise_ids):
    return User.objects.filter(enterprise_id__in=enterprise_ids, is_active=True,
                               role_grants__role=Role.ENTERPRISE)


def _notify_enterprise(enterprise_id: int, text: str) -> None:
    Notification.objects.bulk_create([Notification(recipient=u, text=text[:TEXT_LIMIT], created_at=clock.now())
                                      for u in _enterprise_users([enterprise_id])])


def _notify_batch(batch: Batch, before: str, after: str) -> None:
    """One notification per active enterprise account of the batch's enterprises, naming its amount: one
    INSERT … SELECT, whatever the batch's size."""
    lines, users, grants = BatchLine._meta.db_table, User._meta.db_table, RoleGrant._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Notification._meta.db_table} (recipient_id, text, created_at) "  # noqa: S608
            f"SELECT u.id, substr(%s || CAST(l.amount AS VARCHAR(20)) || %s, 1, {TEXT_LIMIT}), %s "
            f"FROM {lines} l JOIN {users} u ON u.enterprise_id = l.enterprise_id "
            f"WHERE l.batch_id = %s AND u.is_active "
            f"AND EXISTS (SELECT 1 FROM {grants} g WHERE g.user_id = u.id AND g.role = %s)",
            [before, after, clock.now(), batch.pk, Role.ENTERPRISE])


def _days(start: dt.date, paid: dt.date) -> tuple[int, int]:
    """Calendar days and working days (on the official calendar) from `start` to `paid`."""
    return (paid - start).days, get_calendar().workdays_between(start, paid)


# ---------------------------------------------------------------- applications


def window_error(policy: Policy, day: dt.date) -> str | None:
    """Why `policy` cannot be applied for on `day`, or None."""
    if policy.no_application:
        return "该政策为免申即享，符合条件的企业无需申报，由部门直接兑现。"
    if policy.status != Status.PUBLISHED or policy.shown_status(day) != Status.PUBLISHED:
        return "该政策不在有效期内，不能申报。"
    if policy.apply_opens and day < policy.apply_opens:
        return f"“申报日期”{day:%Y-%m-%d}早于申报开始日{policy.apply_opens:%Y-%m-%d}，申报窗口尚未开放。"
    if policy.apply_closes and day > policy.apply_closes:
        return f"“申报日期”{day:%Y-%m-%d}晚于申报截止日{policy.apply_closes:%Y-%m-%d}，申报窗口已关闭。"
    return None


def apply_for_policy(user, policy: Policy, *, enterprise: Enterprise | None = None, amount_requested=None,
                     statement: str = "", submitted_on=None) -> Application:
    """An application: by an enterprise account for its own enterprise (today), or by a policy's reviewer
    recording a paper application for an enterprise of the area (on the day it was received)."""
    policy = Policy.objects.select_related("jurisdiction").get(pk=policy.pk)  # its status now, not the caller's copy
    offline = not (user.has_role(Role.ENTERPRISE) and not user.is_staff_user)
    if offline:
        _require_reviewer(user, policy)
        if enterprise is None:
            raise DomainError("请选择“申报企业”。")
        day = _day(submitted_on or clock.today(), "申报日期")
        if day > clock.today():
            raise DomainError("“申报日期”不能晚于今天。")
    else:
        if not user.enterprise_id:
            raise PermissionDeniedError("账号未绑定企业，不能申报。")
        enterprise = user.enterprise
        day = clock.today()
    if not Policy.objects.filter(pk=policy.pk).applying_in(enterprise.jurisdiction).exists():
        raise DomainError("该政策不适用于企业所在区域。")
    if error := window_error(policy, day):
        raise DomainError(error)
    amount = _amount(amount_requested, "申请金额（万元）", required=False)
    statement = clean_text(str(statement or "")).strip()
    if len(statement) > 2000:
        raise DomainError("“申报说明”不能超过2000个字。")
    earlier = Application.objects.filter(policy=policy, enterprise=enterprise).first()
    if earlier is not None:
        raise DomainError(f"“申报企业”{enterprise.name}已于{earlier.submitted_on:%Y-%m-%d}申报过此政策，不能重复申报。")
    try:
        with transaction.atomic():
            app = Application.objects.create(
                policy=policy, enterprise=enterprise, channel=Channel.OFFLINE if offline else Channel.PORTAL,
                amount_requested=amount, statement=statement, submitted_on=day, submitted_by=_actor(user),
                created_at=clock.now())
            _log(policy, user, FulfilmentEvent.Verb.RECORD if offline else FulfilmentEvent.Verb.APPLY,
                 application=app, note=statement[:200], changes={"amount_requested": str(amount or "")})
    except IntegrityError:  # a simultaneous second application lost the race to the constraint
        raise DomainError(f"“申报企业”{enterprise.name}已申报过此政策，不能重复申报。") from None
    return app


def _locked_application(application: Application, expected: str) -> Application:
    app = Application.objects.select_for_update().select_related("policy", "enterprise").get(pk=application.pk)
    if app.status != expected:
        raise IllegalTransition(f"该申报当前为“{app.get_status_display()}”，不能执行此操作。")
    return app


def approve_application(user, application: Application, amount_granted) -> Application:
    """Approve with the amount granted: writes the ledger row (not yet paid) and tells the enterprise."""
    _require_reviewer(user, application.policy)
    amount = _amount(amount_granted, "核定金额（万元）", required=True)
    with transaction.atomic():
        app = _locked_application(application, ApplicationStatus.SUBMITTED)
        now = clock.now()
        app.status, app.amount_granted, app.reviewed_by, app.reviewed_at = (
            ApplicationStatus.APPROVED, amount, _actor(user), now)
        app.save(update_fields=["status", "amount_granted", "reviewed_by", "reviewed_at"])
        FulfilmentRecord.objects.create(
            policy=app.policy, enterprise=app.enterprise, jurisdiction_id=app.enterprise.jurisdiction_id,
            benefit_type=app.policy.benefit_type, source=FulfilmentRecord.Source.APPLICATION, application=app,
            amount=amount, started_on=app.submitted_on, granted_on=clock.today())
        _log(app.policy, user, FulfilmentEvent.Verb.APPROVE, application=app, changes={"amount_granted": str(amount)})
        _notify_enterprise(app.enterprise_id, f"您申报的《{app.policy.title}》已审核通过，核定金额{amount}万元，"
                                              "资金拨付后将再次通知。")
    return app


def reject_application(user, application: Application, reason) -> Application:
    _require_reviewer(user, application.policy)
    reason = _reason(reason, "不予通过原因")
    with transaction.atomic():
        app = _locked_application(application, ApplicationStatus.SUBMITTED)
        app.status, app.reject_reason, app.reviewed_by, app.reviewed_at = (
            ApplicationStatus.REJECTED, reason, _actor(user), clock.now())
        app.save(update_fields=["status", "reject_reason", "reviewed_by", "reviewed_at"])
        _log(app.policy, user, FulfilmentEvent.Verb.REJECT, application=app, note=reason)
        _notify_enterprise(app.enterprise_id, f"您申报的《{app.policy.title}》未通过审核：{reason}")
    return app


def record_payment(user, application: Application, paid_on) -> Application:
    """The approved amount was paid on `paid_on` (兑现): the ledger row gets its date and the days it took."""
    _require_reviewer(user, application.policy)
    day = _day(paid_on, "兑现日期")
    if day > clock.today():
        raise DomainError("“兑现日期”不能晚于今天。")
    with transaction.atomic():
        app = _locked_application(application, ApplicationStatus.APPROVED)
        if day < app.submitted_on:
            raise DomainError(f"“兑现日期”不能早于申报日期{app.submitted_on:%Y-%m-%d}。")
        days, workdays = _days(app.submitted_on, day)
        FulfilmentRecord.objects.filter(application=app).update(paid_on=day, days_to_pay=days,
                                                                workdays_to_pay=workdays)
        app.status = ApplicationStatus.PAID
        app.save(update_fields=["status"])
        _log(app.policy, user, FulfilmentEvent.Verb.PAY, application=app, changes={"paid_on": day.isoformat()})
        _notify_enterprise(app.enterprise_id, f"《{app.policy.title}》扶持资金{app.amount_granted}万元已于"
                                              f"{day:%Y-%m-%d}拨付，请查收。")
    return app


# ---------------------------------------------------------------- 免申即享 batches


def _fill_lines(batch: Batch) -> None:
    """The batch's lines, in one INSERT … SELECT: every enterprise eligible for the policy on `as_of`, except
    those the policy already granted (a policy is cashed once per enterprise), with the rule's amount. Those
    whose amount cannot be computed (the figure not reported) are counted as unpriced and left out, from the
    lines just written rather than by a second pass over the registry."""
    policy = batch.policy
    BatchLine.objects.filter(batch=batch).delete()
    candidates = matching.eligible(policy, today=batch.as_of).exclude(
        pk__in=FulfilmentRecord.objects.filter(policy=policy).values("enterprise_id"))
    chosen = candidates.order_by().values(line_enterprise=F("pk"), line_amount=F("estimate"))
    sql, params = chosen.query.sql_with_params()
    table = BatchLine._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} (batch_id, enterprise_id, amount) "  # noqa: S608 - names from models
                       f"SELECT %s, sub.line_enterprise, ROUND(sub.line_amount, 2) FROM ({sql}) sub", [batch.pk, *params])
    unpriced = BatchLine.objects.filter(Q(amount__isnull=True) | Q(amount__lte=0), batch=batch)
    batch.unpriced_count = unpriced.count()
    if batch.unpriced_count:
        unpriced.delete()
    totals = BatchLine.objects.filter(batch=batch).aggregate(n=Count("pk"), total=Sum("amount"))
    batch.enterprise_count = totals["n"]
    batch.total_amount = Decimal(totals["total"] or 0).quantize(Decimal("0.01"))


def build_batch(user, policy: Policy, *, title: str = "", as_of=None) -> Batch:
    """A new batch for a 免申即享 policy: the eligible enterprises on `as_of` (today by default) and the amount
    each gets by the policy's amount rule, all computed in the database."""
    _require_reviewer(user, policy)
    if not policy.no_application:
        raise DomainError("只有标注为“免申即享”的政策可以编制兑现批次；其他政策请走申报审核。")
    if policy.shown_status() != Status.PUBLISHED:
        raise DomainError("政策未发布或已失效，不能编制兑现批次。")
    if policy.amount_kind == AmountKind.ACTUAL:
        raise DomainError("该政策的“金额规则”为“按实际”，无法按规则测算每户金额，请先设置固定金额或比例。")
    day = _day(as_of or clock.today(), "资格认定日")
    title = clean_text(str(title or "")).strip() or f"{policy.title[:60]} {day:%Y-%m-%d}批次"
    if len(title) > 100:
        raise DomainError("“批次名称”不能超过100个字。")
    with transaction.atomic():
        batch = Batch.objects.create(policy=policy, title=title, as_of=day, prepared_by=user, prepared_at=clock.now())
        _fill_lines(batch)
        batch.save(update_fields=["enterprise_count", "total_amount", "unpriced_count"])
        _log(policy, user, FulfilmentEvent.Verb.BUILD, batch=batch,
             changes={"enterprises": batch.enterprise_count, "total": str(batch.total_amount),
                      "unpriced": batch.unpriced_count, "as_of": day.isoformat()})
    return batch


def _locked_batch(batch: Batch, *expected: str) -> Batch:
    locked = Batch.objects.select_for_update().select_related("policy").get(pk=batch.pk)
    if locked.status not in expected:
        raise IllegalTransition(f"该批次当前为“{locked.get_status_display()}”，不能执行此操作。")
    return locked


def refresh_batch(user, batch: Batch) -> Batch:
    """Recompute a draft or returned batch's lines (the registry or the rule may have changed); preparer only."""
    _require_reviewer(user, batch.policy)
    with transaction.atomic():
        batch = _locked_batch(batch, BatchStatus.DRAFT, BatchStatus.REJECTED)
        if batch.prepared_by_id != user.pk:
            raise PermissionDeniedError("只有编制人可以重新测算本批次。")
        _fill_lines(batch)
        batch.status = BatchStatus.DRAFT
        batch.save(update_fields=["enterprise_count", "total_amount", "unpriced_count", "status"])
        _log(batch.policy, user, FulfilmentEvent.Verb.BUILD, batch=batch, note="重新测算",
             changes={"enterprises": batch.enterprise_count, "total": str(batch.total_amount)})
    return batch


def submit_batch(user, batch: Batch) -> Batch:
    """The preparer submits the batch for approval by someone else."""
    _require_reviewer(user, batch.policy)
    with transaction.atomic():
        batch = _locked_batch(batch, BatchStatus.DRAFT, BatchStatus.REJECTED)
        if batch.prepared_by_id != user.pk:
            raise PermissionDeniedError("只有编制人可以提交本批次。")
        if batch.enterprise_count == 0:
            raise DomainError("批次中没有企业，不能提交审批。")
        batch.status, batch.submitted_at = BatchStatus.SUBMITTED, clock.now()
        batch.save(update_fields=["status", "submitted_at"])
        _log(batch.policy, user, FulfilmentEvent.Verb.SUBMIT, batch=batch,
             changes={"enterprises": batch.enterprise_count, "total": str(batch.total_amount)})
    return batch


def _two_person(user, batch: Batch) -> None:
    if batch.prepared_by_id == user.pk:
        raise PermissionDeniedError("“审批人”不能是本批次的编制人：免申即享批次须由另一人审批（两人复核）。")


def approve_batch(user, batch: Batch) -> Batch:
    """A second person approves: the ledger rows (granted today, to be paid) and one notification per enterprise
    account, each written by one INSERT … SELECT from the batch's lines."""
    _require_reviewer(user, batch.policy)
    _two_person(user, batch)
    with transaction.atomic():
        batch = _locked_batch(batch, BatchStatus.SUBMITTED)
        _two_person(user, batch)
        today, now = clock.today(), clock.now()
        policy = batch.policy
        # One approval at a time per policy, and nobody paid twice: lines granted since the batch was built
        # (another batch, an application) send it back to its preparer to recompute.
        Policy.objects.select_for_update().filter(pk=policy.pk).values_list("pk", flat=True).first()
        granted = FulfilmentRecord.objects.filter(policy=policy).values("enterprise_id")
        twice = BatchLine.objects.filter(batch=batch, enterprise_id__in=granted).count()
        if twice:
            raise DomainError(f"批次中有{twice}户企业已兑现过本政策（另一批次或申报），请编制人重新测算后再提交审批。")
        lines, records, enterprises = BatchLine._meta.db_table, FulfilmentRecord._meta.db_table, \
            Enterprise._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {records} (policy_id, enterprise_id, jurisdiction_id, benefit_type, source, "  # noqa: S608
                "batch_id, amount, started_on, granted_on) "
                f"SELECT %s, l.enterprise_id, e.jurisdiction_id, %s, %s, l.batch_id, l.amount, %s, %s "
                f"FROM {lines} l JOIN {enterprises} e ON e.id = l.enterprise_id WHERE l.batch_id = %s",
                [policy.pk, policy.benefit_type, FulfilmentRecord.Source.BATCH, today, today, batch.pk])
        _notify_batch(batch, f"您企业符合《{policy.title[:80]}》免申即享条件，无需申报，核定金额",
                      "万元，资金拨付后将再次通知。")
        batch.status, batch.decided_by, batch.decided_at = BatchStatus.APPROVED, user, now
        batch.save(update_fields=["status", "decided_by", "decided_at"])
        _log(policy, user, FulfilmentEvent.Verb.APPROVE_BATCH, batch=batch,
             changes={"enterprises": batch.enterprise_count, "total": str(batch.total_amount),
                      "prepared_by": batch.prepared_by_id})
        record("fulfilment_approved", actor=user, target=f"免申即享批次 {batch.pk}",
               detail={"policy": policy.pk, "enterprises": batch.enterprise_count, "total": str(batch.total_amount)})
    return batch


def return_batch(user, batch: Batch, reason) -> Batch:
    """The approver sends the batch back to its preparer with the reason."""
    _require_reviewer(user, batch.policy)
    _two_person(user, batch)
    reason = _reason(reason, "退回原因")
    with transaction.atomic():
        batch = _locked_batch(batch, BatchStatus.SUBMITTED)
        batch.status, batch.decided_by, batch.decided_at, batch.reject_reason = (
            BatchStatus.REJECTED, user, clock.now(), reason)
        batch.save(update_fields=["status", "decided_by", "decided_at", "reject_reason"])
        _log(batch.policy, user, FulfilmentEvent.Verb.RETURN, batch=batch, note=reason)
    return batch


def pay_batch(user, batch: Batch, paid_on) -> Batch:
    """The batch's money was paid on `paid_on`: every ledger row of the batch gets its date (one UPDATE)."""
    _require_reviewer(user, batch.policy)
    day = _day(paid_on, "兑现日期")
    if day > clock.today():
        raise DomainError("“兑现日期”不能晚于今天。")
    with transaction.atomic():
        batch = _locked_batch(batch, BatchStatus.APPROVED)
        if batch.paid_on is not None:
            raise IllegalTransition(f"该批次已于{batch.paid_on:%Y-%m-%d}登记兑现。")
        start = timezone.localdate(batch.decided_at)
        if day < start:
            raise DomainError(f"“兑现日期”不能早于批次审批日期{start:%Y-%m-%d}。")
        days, workdays = _days(start, day)
        FulfilmentRecord.objects.filter(batch=batch).update(paid_on=day, days_to_pay=days, workdays_to_pay=workdays)
        batch.paid_on = day
        batch.save(update_fields=["paid_on"])
        _log(batch.policy, user, FulfilmentEvent.Verb.PAY, batch=batch, changes={"paid_on": day.isoformat()})
        _notify_batch(batch, f"《{batch.policy.title[:80]}》免申即享资金", f"万元已于{day:%Y-%m-%d}拨付，请查收。")
    return batch
