"""Working-day countdowns of deadlines, as words and as the coloured pill the staff pages show."""

import datetime as dt
from dataclasses import dataclass
from html import escape as esc

from django.utils.safestring import SafeString, mark_safe

from qinqing.lib import clock
from qinqing.workdays import calendar as workcal


@dataclass(frozen=True)
class Countdown:
    """How far a deadline is, in working days, and how urgently it should look."""

    days: int  # working days left (>0), 0 due today, <0 working days overdue
    overdue: bool
    text: str
    level: str  # css modifier: ok, soon, today, late


def countdown(due: dt.date | None, today: dt.date | None = None) -> Countdown | None:
    """"剩余N个工作日" / "今日到期" / "已超期N个工作日" for a deadline, counted on the official calendar."""
    if due is None:
        return None
    today = today or clock.today()
    cal = workcal.get_calendar()
    if due < today:
        # Working days in (due, today]; on a weekend right after the deadline that is still 0.
        late = cal.workdays_between(due, today)
        text = f"已超期{late}个工作日" if late else "已超期"
        return Countdown(-late, True, text, "late")
    if due == today:
        return Countdown(0, False, "今日到期", "today")
    left = cal.workdays_between(today, due)
    if left == 0:  # due on a rest day after today: the next working day is already past it
        return Countdown(0, False, "今日到期", "today")
    return Countdown(left, False, f"剩余{left}个工作日", "soon" if left <= 1 else "ok")


PAUSED_TEXT = "已挂起"


def countdown_pill(due, stage_label="", paused=False) -> SafeString:
    """The countdown as a coloured pill, built as a string: the ledger shows one per row. A paused demand
    (挂起, qinqing.handoffs) has no running clock: its pill says so instead of counting."""
    stage = f'<span class="cd-stage">{esc(str(stage_label))}</span>' if stage_label else ""
    if paused:
        return mark_safe(  # noqa: S308 - the only free text, the stage label, is escaped
            f'<span class="countdown cd-paused" title="计时已暂停，恢复后期限顺延">{stage}{PAUSED_TEXT}</span>')
    cd = countdown(due)
    if cd is None:
        return mark_safe('<span class="muted">—</span>')
    return mark_safe(  # noqa: S308 - the only free text, the stage label, is escaped
        f'<span class="countdown cd-{cd.level}" title="期限 {due:%Y-%m-%d}">{stage}{cd.text}</span>')
