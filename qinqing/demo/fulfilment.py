"""The demo's fulfilment (政策兑现): seed 002's pattern on the demo district.

Seed 002 reports, for ten months of a district, "90余项惠企政策，涉及减税降费和资金奖补金额共5000多万元，惠及企业和
群众3743户（人）": many small tax reliefs granted without an application (免申即享), fewer and larger grants on
application. The demo has 32 policies and one district's registry, so the figures come out of the demo's own
rules rather than being copied: every enterprise the registry says is eligible for a published 免申即享 policy
is in that policy's approved batch (prepared by diaodu, approved by diaodu2), and between a third and a half of
those eligible for an ordinary policy whose window has opened applied, most approved and paid, some rejected
with a reason, the latest still waiting for review.

Amounts: a fixed amount rule gives its amount. A 按实际 relief (tax, fees) is what the tax bureau computed for
each enterprise, which the demo does not have: it is drawn per enterprise (deterministically) between 0.2 and 4
万元, the order of magnitude seed 002's average implies (5000万 over 3743 beneficiaries ≈ 1.3万). Everything is
written with bulk_create in a few statements per policy.
"""

import datetime as dt
import random
from decimal import Decimal

from django.utils import timezone

from qinqing.accounts.models import Jurisdiction, User
from qinqing.enterprises.models import Enterprise
from qinqing.fulfilment import ledger
from qinqing.fulfilment.models import (
    Application,
    ApplicationStatus,
    Batch,
    BatchLine,
    BatchStatus,
    Channel,
    FulfilmentEvent,
    FulfilmentRecord,
)
from qinqing.lib import clock
from qinqing.policies import matching
from qinqing.policies.models import AmountKind, Policy, Status
from qinqing.workdays.calendar import get_calendar

from .figures import DISTRICT_CODE

HISTORY_DAYS = 300  # the demo's ledger covers the ten months before today, like seed 002's 1－10月
REJECT_REASONS = ["申报材料中的发票金额与设备清单不符，请补正后重新申报", "经核查企业当年度存在失信记录，不符合申报条件",
                  "申报项目已享受同类区级扶持，不重复支持"]


def _actual_amount(rng: random.Random) -> Decimal:
    """A 按实际 relief for one enterprise: mostly a few thousand yuan, now and then a few 万."""
    return Decimal(str(round(min(4.0, 0.2 + rng.expovariate(1 / 1.1)), 2)))


def _amount(policy: Policy, rng: random.Random) -> Decimal:
    if policy.amount_kind == AmountKind.FIXED and policy.amount_fixed:
        return policy.amount_fixed
    return _actual_amount(rng)


def _local(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=timezone.get_default_timezone())


def build(rng: random.Random, the_org, step) -> None:
    today = clock.today()
    cal = get_calendar()
    district = Jurisdiction.objects.get(code=DISTRICT_CODE)
    registry = Enterprise.objects.filter(jurisdiction__path__startswith=district.path)
    preparer, approver = the_org.dispatchers[0], the_org.dispatchers[1]
    start = today - dt.timedelta(days=HISTORY_DAYS)
    policies = list(Policy.objects.applying_in(district).filter(status__in=[Status.PUBLISHED, Status.EXPIRED])
                    .filter(valid_from__lt=today - dt.timedelta(days=30)).order_by("pk"))
    batches = applications = 0
    accounts = set(User.objects.filter(enterprise_id__isnull=False).values_list("enterprise_id", flat=True))
    for policy in policies:
        opened = max(policy.valid_from, start)
        closed = min(policy.valid_until or today, today - dt.timedelta(days=1))
        if closed <= opened:
            continue
        eligible = list(matching.eligible(policy, registry, today=closed).order_by("pk")
                        .values_list("pk", "jurisdiction_id"))
        if not eligible:
            continue
        if policy.no_application:
            _batch(rng, cal, policy, eligible, opened, closed, preparer, approver)
            batches += 1
        elif policy.apply_opens and policy.apply_opens < today:
            applications += _applications(rng, cal, policy, eligible, today, preparer, accounts)
    figures = ledger.sentence_figures(FulfilmentRecord.objects.all())
    step(f"政策兑现已登记：免申即享批次{batches}个，申报{applications}件；"
         f"{ledger.sentence_text(figures)}")


def _batch(rng, cal, policy, eligible, opened, closed, preparer, approver) -> None:
    """One approved and paid batch: every eligible enterprise, approved on a working day of the policy's
    period and paid 3 to 15 working days later."""
    span = (closed - opened).days
    approved_on = cal.next_workday(opened + dt.timedelta(days=rng.randint(span // 4, max(span // 4, span - 25))))
    paid_on = min(cal.add_workdays(approved_on, rng.randint(3, 15)), closed)
    amounts = [(pk, place, _amount(policy, rng)) for pk, place in eligible]
    total = sum(a for _, _, a in amounts)
    batch = Batch.objects.create(
        policy=policy, title=f"{policy.title[:60]} {approved_on:%Y年%m月}批次", status=BatchStatus.APPROVED,
        as_of=approved_on, enterprise_count=len(amounts), total_amount=total, prepared_by=preparer,
        prepared_at=_local(approved_on - dt.timedelta(days=2), 9), submitted_at=_local(approved_on - dt.timedelta(days=2), 11),
        decided_by=approver, decided_at=_local(approved_on, 15), paid_on=paid_on)
    BatchLine.objects.bulk_create([BatchLine(batch=batch, enterprise_id=pk, amount=a) for pk, _, a in amounts])
    days, workdays = (paid_on - approved_on).days, cal.workdays_between(approved_on, paid_on)
    FulfilmentRecord.objects.bulk_create([FulfilmentRecord(
        policy=policy, enterprise_id=pk, jurisdiction_id=place, benefit_type=policy.benefit_type,
        source=FulfilmentRecord.Source.BATCH, batch=batch, amount=a, started_on=approved_on, granted_on=approved_on,
        paid_on=paid_on, days_to_pay=days, workdays_to_pay=workdays) for pk, place, a in amounts])
    trail = {"enterprises": len(amounts), "total": str(total)}
    FulfilmentEvent.objects.bulk_create([
        FulfilmentEvent(policy=policy, batch=batch, actor=preparer, verb=FulfilmentEvent.Verb.BUILD, changes=trail,
                        created_at=batch.prepared_at),
        FulfilmentEvent(policy=policy, batch=batch, actor=preparer, verb=FulfilmentEvent.Verb.SUBMIT, changes=trail,
                        created_at=batch.submitted_at),
        FulfilmentEvent(policy=policy, batch=batch, actor=approver, verb=FulfilmentEvent.Verb.APPROVE_BATCH,
                        changes=trail, created_at=batch.decided_at),
        FulfilmentEvent(policy=policy, batch=batch, actor=preparer, verb=FulfilmentEvent.Verb.PAY,
                        changes={"paid_on": paid_on.isoformat()}, created_at=_local(paid_on, 16))])


def _applications(rng, cal, policy, eligible, today, reviewer, accounts) -> int:
    """A third to a half of the eligible enterprises applied within the window; those reviewed were approved
    (nine in ten) or rejected; the approved were paid 5 to 20 working days later, if that day has come."""
    last = min(policy.apply_closes or today, today)
    window = max((last - policy.apply_opens).days, 0)
    chosen = rng.sample(eligible, max(1, round(len(eligible) * rng.uniform(0.33, 0.5))))
    # The demo's enterprise accounts applied for what they qualify for, so their portal shows an outcome.
    picked = {pk for pk, _ in chosen}
    chosen += [(pk, place) for pk, place in eligible if pk in accounts and pk not in picked]
    apps, outcomes = [], []
    for pk, place in chosen:
        submitted = policy.apply_opens + dt.timedelta(days=rng.randint(0, window))
        app = Application(policy=policy, enterprise_id=pk, channel=rng.choice([Channel.PORTAL] * 3 + [Channel.OFFLINE]),
                          submitted_on=submitted, created_at=_local(submitted, 10))
        review_day = cal.add_workdays(submitted, rng.randint(3, 12))
        paid_day = cal.add_workdays(review_day, rng.randint(5, 20))
        if review_day >= today:
            outcome = None
        elif rng.random() < 0.1:
            app.status, app.reject_reason = ApplicationStatus.REJECTED, rng.choice(REJECT_REASONS)
            outcome = "reject"
        else:
            app.amount_granted = _amount(policy, rng)
            app.status = ApplicationStatus.PAID if paid_day < today else ApplicationStatus.APPROVED
            outcome = "approve"
        if outcome:
            app.reviewed_by, app.reviewed_at = reviewer, _local(review_day, 15)
        apps.append(app)
        outcomes.append((place, outcome, review_day, paid_day))
    Application.objects.bulk_create(apps)
    records, events = [], []
    for app, (place, outcome, review_day, paid_day) in zip(apps, outcomes, strict=True):
        events.append(FulfilmentEvent(policy=policy, application=app, verb=FulfilmentEvent.Verb.APPLY
                                      if app.channel == Channel.PORTAL else FulfilmentEvent.Verb.RECORD,
                                      actor=None if app.channel == Channel.PORTAL else reviewer,
                                      created_at=app.created_at))
        if outcome == "reject":
            events.append(FulfilmentEvent(policy=policy, application=app, actor=reviewer, note=app.reject_reason,
                                          verb=FulfilmentEvent.Verb.REJECT, created_at=app.reviewed_at))
        if outcome != "approve":
            continue
        paid = app.status == ApplicationStatus.PAID
        records.append(FulfilmentRecord(
            policy=policy, enterprise_id=app.enterprise_id, jurisdiction_id=place, benefit_type=policy.benefit_type,
            source=FulfilmentRecord.Source.APPLICATION, application=app, amount=app.amount_granted,
            started_on=app.submitted_on, granted_on=review_day, paid_on=paid_day if paid else None,
            days_to_pay=(paid_day - app.submitted_on).days if paid else None,
            workdays_to_pay=cal.workdays_between(app.submitted_on, paid_day) if paid else None))
        events.append(FulfilmentEvent(policy=policy, application=app, actor=reviewer, verb=FulfilmentEvent.Verb.APPROVE,
                                      changes={"amount_granted": str(app.amount_granted)}, created_at=app.reviewed_at))
        if paid:
            events.append(FulfilmentEvent(policy=policy, application=app, actor=reviewer, verb=FulfilmentEvent.Verb.PAY,
                                          changes={"paid_on": paid_day.isoformat()}, created_at=_local(paid_day, 16)))
    FulfilmentRecord.objects.bulk_create(records)
    FulfilmentEvent.objects.bulk_create(events)
    return len(apps)
