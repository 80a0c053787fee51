"""政策兑现 services: applications within the window, review and payment; 免申即享 batches built in SQL and
approved by a second person; the ledger's totals, days to payment and seed 002's sentence; the bad inputs the
issue lists, each refused with a Chinese message naming the field and nothing written."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from qinqing.accounts.models import Role
from qinqing.audit.models import AuditEntry
from qinqing.demands.errors import DomainError, IllegalTransition, PermissionDeniedError
from qinqing.enterprises.models import Enterprise, YearlyFigures
from qinqing.fulfilment import ledger, services
from qinqing.fulfilment.models import (
    Application,
    ApplicationStatus,
    BatchLine,
    BatchStatus,
    FulfilmentEvent,
    FulfilmentRecord,
)
from qinqing.notifications.models import Notification
from qinqing.policies import services as policy_services
from tests.conftest import make_user, on_day, real_codes


def _policy(world, **extra):
    data = {"title": "工业企业增产奖励", "issuer": "南山区工业和信息化局", "level": "district",
            "jurisdiction": world.district, "benefit_type": "grant", "valid_from": "2026-01-01",
            "valid_until": "2027-12-31", "apply_opens": "2026-11-01", "apply_closes": "2026-12-31",
            "amount_kind": "fixed", "amount_fixed": "20", **extra}
    policy = policy_services.register_policy(world.dispatcher, data)
    return policy_services.publish_policy(world.dispatcher, policy)


@pytest.fixture
def second(world):
    """Another 营商办 dispatcher of the district: the second person of the two-person rule."""
    return make_user("dispatcher2", Role.DISPATCHER, full_name="钱复核", jurisdiction=world.district)


def test_an_enterprise_applies_on_its_portal_and_sees_the_amount_it_received(world):
    policy = _policy(world)
    app = services.apply_for_policy(world.owner, policy, amount_requested="30", statement="2025年产值增长20%")
    assert app.enterprise == world.enterprise and app.status == ApplicationStatus.SUBMITTED
    services.approve_application(world.dispatcher, app, "18.5")
    with on_day(dt.date(2026, 12, 10)):
        services.record_payment(world.dispatcher, app, "2026-12-10")
    row = FulfilmentRecord.objects.visible_to(world.owner).get()
    assert row.amount == Decimal("18.50") and row.paid_on == dt.date(2026, 12, 10)
    assert row.days_to_pay == 7 and row.workdays_to_pay == 5  # 12-03 → 12-10: one weekend in between
    assert [e.verb for e in FulfilmentEvent.objects.filter(application=app)] == ["apply", "approve", "pay"]
    texts = list(Notification.objects.filter(recipient=world.owner).values_list("text", flat=True))
    assert any("18.50万元" in t and "审核通过" in t for t in texts)
    assert any("已于2026-12-10拨付" in t for t in texts)
    assert not FulfilmentRecord.objects.visible_to(world.other_owner).exists()


def test_applying_outside_the_window_is_refused_naming_the_dates(world):
    policy = _policy(world, apply_opens="2026-12-10")
    with pytest.raises(DomainError, match="申报日期.*早于申报开始日2026-12-10"):
        services.apply_for_policy(world.owner, policy)
    with on_day(dt.date(2027, 1, 5)), pytest.raises(DomainError, match="晚于申报截止日2026-12-31"):
        services.apply_for_policy(world.owner, policy)
    assert not Application.objects.exists() and not FulfilmentEvent.objects.exists()


def test_applying_twice_is_refused_and_writes_nothing(world):
    policy = _policy(world)
    services.apply_for_policy(world.owner, policy)
    with pytest.raises(DomainError, match="申报企业.*已于2026-12-03申报过此政策"):
        services.apply_for_policy(world.owner, policy)
    with pytest.raises(DomainError, match="不能重复申报"):
        services.apply_for_policy(world.dispatcher, policy, enterprise=world.enterprise)
    assert Application.objects.count() == 1 and FulfilmentEvent.objects.count() == 1


def test_staff_record_a_paper_application_on_the_day_it_was_received(world):
    policy = _policy(world)
    app = services.apply_for_policy(world.dispatcher, policy, enterprise=world.neighbour, submitted_on="2026-11-20")
    assert app.channel == "offline" and app.submitted_on == dt.date(2026, 11, 20)
    assert FulfilmentEvent.objects.get(application=app).verb == "record"
    with pytest.raises(PermissionDeniedError):
        services.apply_for_policy(world.other_dispatcher, policy, enterprise=world.enterprise)


def test_approval_without_an_amount_names_the_field_and_changes_nothing(world):
    app = services.apply_for_policy(world.owner, _policy(world))
    for bad in ("", "-3", "abc"):
        with pytest.raises(DomainError, match="核定金额（万元）"):
            services.approve_application(world.dispatcher, app, bad)
    app.refresh_from_db()
    assert app.status == ApplicationStatus.SUBMITTED and not FulfilmentRecord.objects.exists()


def test_a_rejection_needs_its_reason_and_tells_the_enterprise(world):
    app = services.apply_for_policy(world.owner, _policy(world))
    with pytest.raises(DomainError, match="不予通过原因"):
        services.reject_application(world.dispatcher, app, " ")
    services.reject_application(world.dispatcher, app, "2025年产值未达到增长10%的条件")
    assert Notification.objects.filter(recipient=world.owner, text__contains="未达到增长10%").exists()
    with pytest.raises(IllegalTransition):
        services.record_payment(world.dispatcher, app, "2026-12-03")


def test_a_no_application_policy_cannot_be_applied_for(world):
    policy = _policy(world, no_application="1")
    with pytest.raises(DomainError, match="免申即享"):
        services.apply_for_policy(world.owner, policy)


def _batch_world(world):
    """A 免申即享 policy of 1% of 2025 revenue capped at 30万元; two 南山 enterprises reported revenue, the one in
    宝安 (outside the area) too."""
    for e, revenue in ((world.enterprise, "5000"), (world.neighbour, "800")):
        YearlyFigures.objects.create(enterprise=e, year=2025, revenue=Decimal(revenue))
    YearlyFigures.objects.create(enterprise=world.other_enterprise, year=2025, revenue=Decimal("9000"))
    return _policy(world, no_application="1", amount_kind="percent", amount_percent="1", amount_metric="revenue",
                   amount_year="2025", amount_cap="30", apply_opens="", apply_closes="")


def test_a_batch_lists_the_eligible_enterprises_with_the_rule_amount_in_one_insert(world, second):
    policy = _batch_world(world)
    Enterprise.objects.create(name="深圳市南头新开业贸易有限公司", credit_code=real_codes()[3], sector="wholesale_retail",
                              jurisdiction=world.town)  # eligible, but without 2025 figures: no amount to give
    with CaptureQueriesContext(connection) as ctx:
        batch = services.build_batch(world.dispatcher, policy)
    inserts = [q["sql"] for q in ctx.captured_queries if "INSERT INTO" in q["sql"] and "batchline" in q["sql"]]
    assert len(inserts) == 1 and "SELECT" in inserts[0]
    amounts = dict(BatchLine.objects.filter(batch=batch).values_list("enterprise_id", "amount"))
    # 1% of 2025 revenue capped at 30: 5000 → 30 (cap), 800 → 8; 宝安's enterprise is outside the area.
    assert amounts == {world.enterprise.pk: Decimal("30.00"), world.neighbour.pk: Decimal("8.00")}
    assert batch.enterprise_count == 2 and batch.total_amount == Decimal("38.00") and batch.unpriced_count == 1


def test_the_preparer_cannot_approve_their_own_batch(world, second):
    policy = _batch_world(world)
    batch = services.submit_batch(world.dispatcher, services.build_batch(world.dispatcher, policy))
    with pytest.raises(PermissionDeniedError, match="审批人.*编制人"):
        services.approve_batch(world.dispatcher, batch)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.SUBMITTED and not FulfilmentRecord.objects.exists()
    assert not Notification.objects.filter(recipient=world.owner).exists()


def test_a_second_person_approves_and_every_enterprise_is_told_what_it_gets(world, second):
    policy = _batch_world(world)
    batch = services.submit_batch(world.dispatcher, services.build_batch(world.dispatcher, policy))
    services.approve_batch(second, batch)
    rows = FulfilmentRecord.objects.filter(batch=batch)
    assert rows.count() == 2 and {r.source for r in rows} == {"batch"}
    assert {r.jurisdiction_id for r in rows} == {world.town.pk}
    assert Notification.objects.filter(recipient=world.owner, text__contains="免申即享").get().text.count("30") == 1
    assert Notification.objects.filter(recipient=world.neighbour_owner).exists()
    verbs = list(FulfilmentEvent.objects.filter(batch=batch).values_list("verb", "actor"))
    assert verbs == [("build", world.dispatcher.pk), ("submit", world.dispatcher.pk), ("approve_batch", second.pk)]
    assert AuditEntry.objects.filter(action="fulfilment_approved", actor=second).exists()
    with on_day(dt.date(2026, 12, 15)):
        services.pay_batch(world.dispatcher, batch, "2026-12-15")
    assert set(rows.values_list("days_to_pay", "workdays_to_pay")) == {(12, 8)}
    # A second batch leaves out the enterprises the policy already granted.
    assert services.build_batch(world.dispatcher, policy).enterprise_count == 0


def test_a_returned_batch_goes_back_to_its_preparer_with_the_reason(world, second):
    policy = _batch_world(world)
    batch = services.submit_batch(world.dispatcher, services.build_batch(world.dispatcher, policy))
    with pytest.raises(DomainError, match="退回原因"):
        services.return_batch(second, batch, "")
    services.return_batch(second, batch, "请核对南头街道企业的营业收入")
    batch.refresh_from_db()
    assert batch.status == BatchStatus.REJECTED and not FulfilmentRecord.objects.exists()
    batch = services.refresh_batch(world.dispatcher, batch)
    assert services.submit_batch(world.dispatcher, batch).status == BatchStatus.SUBMITTED


def test_a_batch_is_only_for_no_application_policies_with_a_computable_amount(world):
    with pytest.raises(DomainError, match="免申即享"):
        services.build_batch(world.dispatcher, _policy(world))
    actual = _policy(world, title="按实际补贴", no_application="1", amount_kind="actual")
    with pytest.raises(DomainError, match="金额规则"):
        services.build_batch(world.dispatcher, actual)


def test_the_ledger_sentence_adds_up_from_the_records(world, second):
    grant = _policy(world)
    app = services.apply_for_policy(world.owner, grant)
    services.approve_application(world.dispatcher, app, "12.5")
    services.record_payment(world.dispatcher, app, "2026-12-03")
    tax = _batch_world(world)
    tax.benefit_type = "tax"
    tax.save(update_fields=["benefit_type"])
    batch = services.submit_batch(world.dispatcher, services.build_batch(world.dispatcher, tax))
    services.approve_batch(second, batch)
    services.pay_batch(world.dispatcher, batch, "2026-12-03")
    records = FulfilmentRecord.objects.all()
    assert ledger.sentence(records, dt.date(2026, 12, 1), dt.date(2026, 12, 31)) == \
        "已落实2项惠企政策，涉及减税降费和资金奖补金额共50.5万元，惠及企业2户。"
    assert ledger.sentence(records, dt.date(2026, 11, 1), dt.date(2026, 11, 30)) == "本期未登记惠企政策兑现。"
    totals = ledger.summary(ledger.filter_records(records, {"jurisdiction": "440305"})[0])
    assert totals["overall"]["amount"] == Decimal("50.50") and totals["overall"]["records"] == 3
    assert sum(r["amount"] for r in totals["by_type"]) == Decimal("50.50")
    assert ledger.filter_records(records, {"jurisdiction": "440306"})[0].count() == 0


def test_a_second_batch_cannot_pay_the_same_enterprises_again(world, second):
    policy = _batch_world(world)
    first = services.submit_batch(world.dispatcher, services.build_batch(world.dispatcher, policy))
    later = services.submit_batch(world.dispatcher, services.build_batch(world.dispatcher, policy))
    services.approve_batch(second, first)
    with pytest.raises(DomainError, match="2户企业已兑现过本政策"):
        services.approve_batch(second, later)
    assert FulfilmentRecord.objects.count() == 2
