"""Issuing circulars: the one state change of this app, with its audit record.

`issue_circular` checks that the user may read the jurisdiction's statistics (or is the system, for
the scheduled job), freezes the figures into a snapshot, renders Word and Excel from it and stores all
three with a serial number, in one transaction. `rebuild_files` renders a stored circular again from
its snapshot: the same snapshot gives the same documents, whatever happened to the demands since.
"""

import datetime as dt

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max

from qinqing.accounts.models import Jurisdiction
from qinqing.audit.services import record
from qinqing.demands.errors import DomainError, NotFoundError, PermissionDeniedError

from . import circulars, rollup, stats
from .models import Circular, CircularKind, ReportEvent

MAX_PERIOD_DAYS = 366


def _actor(user):
    return user if user is not None and getattr(user, "pk", None) else None


def _check_scope(user, jurisdiction: Jurisdiction) -> None:
    if user is None:  # the scheduled job
        return
    if not stats.may_see_statistics(user):
        raise PermissionDeniedError("您没有查看统计和通报的权限。")
    if not stats.jurisdictions_for(user).filter(pk=jurisdiction.pk).exists():
        raise NotFoundError("该区划不存在或不在您的管辖范围内。")


def issue_circular(user, *, kind: str, jurisdiction: Jurisdiction, start: dt.date, end: dt.date,
                   today: dt.date | None = None) -> Circular:
    """Generate a circular for a period; a period already issued returns the stored one unchanged."""
    if kind not in CircularKind.values:
        raise DomainError("请选择通报类型：周报、半月通报或月度超期通报。")
    if start > end:
        raise DomainError("统计开始日期不能晚于结束日期。")
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise DomainError("一份通报的统计期不能超过一年。")
    _check_scope(user, jurisdiction)
    existing = Circular.objects.filter(kind=kind, jurisdiction=jurisdiction, period_start=start,
                                       period_end=end).first()
    if existing is not None:
        return existing
    period = stats.Period(start, end)
    rollup.refresh(wait=False)  # the overdue figures are read from it; never queue behind the worker
    data = circulars.snapshot(kind, jurisdiction, period, today)
    for _attempt in range(3):
        try:
            with transaction.atomic():
                serial = (Circular.objects.filter(kind=kind, jurisdiction=jurisdiction, year=end.year)
                          .aggregate(m=Max("serial"))["m"] or 0) + 1
                circular = Circular(kind=kind, jurisdiction=jurisdiction, period_start=start, period_end=end,
                                    year=end.year, serial=serial, title=data["title"], issuer=data["issuer"],
                                    snapshot=data, created_by=_actor(user))
                _attach_files(circular)
                circular.save()
                ReportEvent.objects.create(actor=_actor(user), verb="issue_circular", circular=circular,
                                           data={"kind": kind, "number": circular.number,
                                                 "period": data["period"]})
            return circular
        except IntegrityError:
            existing = Circular.objects.filter(kind=kind, jurisdiction=jurisdiction, period_start=start,
                                               period_end=end).first()
            if existing is not None:
                return existing
    raise DomainError("通报编号冲突，请稍后重试。")


def _attach_files(circular: Circular) -> None:
    stem = f"{circular.kind}-{circular.jurisdiction.code}-{circular.period_start:%Y%m%d}-{circular.period_end:%Y%m%d}"
    circular.word.save(f"{stem}.docx", ContentFile(circulars.render_word(circular.snapshot, circular.number)),
                       save=False)
    circular.excel.save(f"{stem}.xlsx", ContentFile(circulars.render_excel(circular.snapshot)), save=False)


def issue_scheduled(kind: str, day: dt.date) -> list[int]:
    """The background worker's run: the last complete period of `kind` for every district."""
    period = circulars.period_for(kind, day)
    ids = []
    for district in Jurisdiction.objects.filter(level=Jurisdiction.Level.DISTRICT).order_by("path"):
        ids.append(issue_circular(None, kind=kind, jurisdiction=district, start=period.start,
                                  end=period.end).pk)
    return ids


EXPORT_LABELS = {"export_dashboard": "统计概览（Excel）", "export_briefing": "简报（Word）",
                 "export_briefing_xlsx": "简报数据（Excel）", "download_circular_word": "通报（Word）",
                 "download_circular_excel": "通报（Excel）"}


def log_export(user, verb: str, data: dict) -> None:
    """Downloads of statistics leave a trace, like every other action, and an entry in the audit log."""
    with transaction.atomic():
        ReportEvent.objects.create(actor=_actor(user), verb=verb, data=data)
        record("export", actor=_actor(user), target=EXPORT_LABELS.get(verb, verb), detail={"filters": data})
