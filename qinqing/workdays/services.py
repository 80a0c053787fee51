"""Changes to the working-day calendar, and the stored deadlines they move.

Every way of changing the calendar (the admin's add, edit and delete, the CSV import in the admin and
`manage.py workdays import`) goes through a function here. Each one compares the calendar before and
after its writes; the days whose answer changed (working or not) move the open demands' deadlines
(`recompute.move_deadlines`) in the same transaction, or, when more demands may be touched than
`QINQING_CALENDAR_SYNC_DEMANDS`, in the worker after commit; the answer deadlines of the 督办单 awaiting
an answer move with them (`supervision.services.move_reply_dues`). Duty assignments (包联) are not touched:
their cadence is counted in calendar days (every 30 and 90 days by default), which no holiday moves.
"""

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from qinqing.audit.services import record
from qinqing.demands.errors import DomainError, PermissionDeniedError
from qinqing.lib.text import clean_text
from qinqing.lib.workdays import WorkCalendar

from .calendar import invalidate, load_calendar
from .models import WorkdayOverride
from .recompute import candidates, move_deadlines

_KINDS = {"holiday": WorkdayOverride.Kind.HOLIDAY, "workday": WorkdayOverride.Kind.WORKDAY,
          "放假": WorkdayOverride.Kind.HOLIDAY, "上班": WorkdayOverride.Kind.WORKDAY,
          "调休上班": WorkdayOverride.Kind.WORKDAY}

# Above this many candidate demands the deadlines move in the worker (settings.QINQING_CALENDAR_SYNC_DEMANDS).
# Measured on 100,000 demands: 4,682 candidates (708 moved) took 2.0 s on PostgreSQL and 1.0 s on SQLite,
# so 2,000 cost an administrator's save about a second.
# The worker moves the deadlines once more after this delay: web processes keep the calendar cached for a
# minute (calendar._TTL_SECONDS), and a transition in one of them recomputes with the old days meanwhile.
CATCH_UP_SECONDS = 150


@dataclass
class CalendarChange:
    """What one save, delete or import did: rows written, days that changed, demands moved or queued."""

    saved: int = 0
    days: list[dt.date] = field(default_factory=list)  # days that became working or rest days
    moved: int = 0  # demands whose deadlines moved in this transaction
    notices: int = 0  # 督办单 whose answer deadline moved
    queued: int = 0  # candidate demands left to the worker

    @property
    def message(self) -> str:
        """The administrator's summary of the deadlines, or "" when none could move."""
        if self.queued:
            return f"期限可能受影响的 {self.queued} 件诉求正在后台重新计算期限，完成后各诉求的办理记录中可见。"
        said = []
        if self.moved:
            said.append(f"{self.moved} 件诉求的期限随之调整，已记入各诉求的办理记录。")
        if self.notices:
            said.append(f"{self.notices} 份督办单的反馈期限随之调整，已记入督办记录。")
        return "".join(said)


def _check(user, action: str) -> None:
    """None is the command line (the server's operator); a web user needs the model permission."""
    if user is not None and not user.has_perm(f"workdays.{action}_workdayoverride"):
        raise PermissionDeniedError("只有管理员可以修改工作日历。")


def _sync_limit() -> int:
    return settings.QINQING_CALENDAR_SYNC_DEMANDS


def _move_deadlines(before: WorkCalendar, touched: Iterable[dt.date | None]) -> CalendarChange:
    """Inside the caller's transaction, after its writes: move what the changed days move.

    The 督办单 answer deadlines always move here, in this transaction: only the calendar before the
    change tells how many working days a notice was given, and the open notices are few.
    """
    from qinqing.demands.tasks import move_deadlines_for_calendar
    from qinqing.supervision.services import move_reply_dues

    after = load_calendar()
    days = sorted({d for d in touched if d is not None and before.is_workday(d) != after.is_workday(d)})
    if not days:
        return CalendarChange()
    iso = [d.isoformat() for d in days]
    notices = move_reply_dues(before, after, days[0])
    pending = candidates(days[0]).count()
    if pending > _sync_limit():
        transaction.on_commit(lambda: move_deadlines_for_calendar(iso))
        change = CalendarChange(days=days, queued=pending, notices=notices)
    else:
        change = CalendarChange(days=days, moved=move_deadlines(days, after), notices=notices)
    transaction.on_commit(lambda: move_deadlines_for_calendar.schedule((iso,), delay=CATCH_UP_SECONDS))
    return change


def _audit(user, change: CalendarChange, detail: dict) -> None:
    """The audit log's entry for a calendar change (等保 安全审计: a configuration change), with its effect."""
    record("config_changed", actor=user, target="工作日历", detail={
        **detail, "changed_days": change.days, "moved": change.moved, "queued": change.queued})


def save_override(user, override: WorkdayOverride, *, old_date: dt.date | None = None) -> CalendarChange:
    """Save one holiday or make-up working day (the admin's form); `old_date` when its date was edited."""
    _check(user, "change" if override.pk else "add")
    operation = "修改" if override.pk else "新增"
    override.note = clean_text(override.note or "").strip()
    with transaction.atomic():
        before = load_calendar()
        override.save()
        change = _move_deadlines(before, [override.date, old_date])
        _audit(user, change, {"operation": operation, "date": override.date, "kind": override.kind,
                              "note": override.note, "old_date": old_date})
    transaction.on_commit(invalidate)
    change.saved = 1
    return change


def delete_overrides(user, overrides) -> CalendarChange:
    """Delete calendar days (one, or the admin's selection): they follow the official calendar again."""
    _check(user, "delete")
    with transaction.atomic():
        before = load_calendar()
        days = list(overrides.values_list("date", flat=True))
        deleted, _ = WorkdayOverride.objects.filter(date__in=days).delete()
        change = _move_deadlines(before, days)
        _audit(user, change, {"operation": "删除", "dates": sorted(days)})
    transaction.on_commit(invalidate)
    change.saved = deleted
    return change


def import_workdays(text: str, *, user=None) -> CalendarChange:
    """Import `date,kind[,note]` rows; every row is checked before any is written."""
    if user is not None:
        _check(user, "add")
        _check(user, "change")
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames or not {"date", "kind"} <= {f.strip() for f in reader.fieldnames}:
        raise DomainError("日历文件须包含表头 date,kind（kind 为 holiday 或 workday）。")
    rows, errors = {}, []
    for line, row in enumerate(reader, start=2):
        raw_date, raw_kind = (row.get("date") or "").strip(), (row.get("kind") or "").strip().lower()
        try:
            day = dt.date.fromisoformat(raw_date)
        except ValueError:
            errors.append(f"第{line}行：日期“{raw_date}”应为 YYYY-MM-DD 格式。")
            continue
        if raw_kind not in _KINDS:
            errors.append(f"第{line}行：类型“{raw_kind}”应为 holiday 或 workday。")
            continue
        if day in rows and rows[day][0] != _KINDS[raw_kind]:
            errors.append(f"第{line}行：{day} 重复且类型矛盾。")
            continue
        rows[day] = (_KINDS[raw_kind], clean_text(row.get("note") or "").strip()[:100])
    if errors:
        raise DomainError("日历文件有误，未导入任何日期：" + "；".join(errors[:20]))
    if not rows:
        raise DomainError("日历文件没有任何日期。")
    with transaction.atomic():
        before = load_calendar()
        for day, (kind, note) in rows.items():
            WorkdayOverride.objects.update_or_create(date=day, defaults={"kind": kind, "note": note})
        change = _move_deadlines(before, rows)
        _audit(user, change, {"operation": "导入", "rows": len(rows), "first": min(rows), "last": max(rows)})
    transaction.on_commit(invalidate)
    change.saved = len(rows)
    return change
