"""Changes to the working-day calendar."""

import csv
import datetime as dt
import io

from django.db import transaction

from qinqing.demands.errors import DomainError

from .calendar import invalidate
from .models import WorkdayOverride

_KINDS = {"holiday": WorkdayOverride.Kind.HOLIDAY, "workday": WorkdayOverride.Kind.WORKDAY,
          "放假": WorkdayOverride.Kind.HOLIDAY, "上班": WorkdayOverride.Kind.WORKDAY,
          "调休上班": WorkdayOverride.Kind.WORKDAY}


def import_workdays(text: str) -> int:
    """Import `date,kind[,note]` rows; every row is checked before any is written."""
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
        rows[day] = (_KINDS[raw_kind], (row.get("note") or "").strip()[:100])
    if errors:
        raise DomainError("日历文件有误，未导入任何日期：" + "；".join(errors[:20]))
    if not rows:
        raise DomainError("日历文件没有任何日期。")
    with transaction.atomic():
        for day, (kind, note) in rows.items():
            WorkdayOverride.objects.update_or_create(date=day, defaults={"kind": kind, "note": note})
    transaction.on_commit(invalidate)
    return len(rows)
