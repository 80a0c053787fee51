"""政策兑现 pages: the enterprise applies from its policy page and sees the outcome; staff review, build and
approve batches (two people), read the ledger with its totals and sentence, and export it (audit-logged)."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from qinqing.accounts.models import Role
from qinqing.audit.models import AuditEntry
from qinqing.enterprises.models import YearlyFigures
from qinqing.fulfilment import services
from qinqing.fulfilment.models import Application, BatchStatus, FulfilmentRecord
from qinqing.policies import services as policy_services
from tests.conftest import login, make_user


def _policy(world, **extra):
    data = {"title": "工业企业增产奖励", "issuer": "南山区工业和信息化局", "level": "district",
            "jurisdiction": world.district, "benefit_type": "grant", "valid_until": "2027-12-31",
            "apply_opens": "2026-11-01", "apply_closes": "2026-12-31", "amount_kind": "fixed", "amount_fixed": "20",
            **extra}
    return policy_services.publish_policy(world.dispatcher, policy_services.register_policy(world.dispatcher, data))


def _no_application(world):
    for e, revenue in ((world.enterprise, "5000"), (world.neighbour, "800")):
        YearlyFigures.objects.create(enterprise=e, year=2025, revenue=Decimal(revenue))
    return _policy(world, title="规上企业税费返还", benefit_type="tax", no_application="1", amount_kind="percent",
                   amount_percent="1", amount_metric="revenue", amount_year="2025", amount_cap="30",
                   apply_opens="", apply_closes="")


def test_the_enterprise_applies_from_its_policy_page_and_sees_it_on_its_own_page(world):
    policy = _policy(world)
    client = login(world.owner)
    page = client.get(reverse("policies_portal:detail", args=[policy.pk])).content.decode()
    assert "提交申报" in page
    response = client.post(reverse("fulfilment:apply", args=[policy.pk]),
                           {"amount_requested": "25", "statement": "产值增长20%"})
    assert response.status_code == 302 and response["Location"] == reverse("fulfilment:mine")
    page = client.get(reverse("policies_portal:detail", args=[policy.pk])).content.decode()
    assert "贵企业已于 2026-12-03 申报" in page and "提交申报" not in page
    services.approve_application(world.dispatcher, Application.objects.get(), "20")
    mine = client.get(reverse("fulfilment:mine")).content.decode()
    assert "工业企业增产奖励" in mine and "核定 20.00 万元" in mine


def test_applying_twice_from_the_portal_shows_the_error_and_keeps_one_application(world):
    policy = _policy(world)
    client = login(world.owner)
    client.post(reverse("fulfilment:apply", args=[policy.pk]), {})
    response = client.post(reverse("fulfilment:apply", args=[policy.pk]), {}, follow=True)
    assert "不能重复申报" in response.content.decode()
    assert Application.objects.count() == 1


def test_staff_approve_an_application_and_a_missing_amount_is_named(world):
    app = services.apply_for_policy(world.owner, _policy(world))
    client = login(world.dispatcher)
    url = reverse("fulfilment:application_act", args=[app.pk])
    response = client.post(url, {"action": "approve", "amount_granted": ""}, follow=True)
    assert "请填写“核定金额（万元）”" in response.content.decode()
    assert not FulfilmentRecord.objects.exists()
    client.post(url, {"action": "approve", "amount_granted": "15"})
    client.post(url, {"action": "pay", "paid_on": "2026-12-03"})
    assert FulfilmentRecord.objects.get().paid_on == dt.date(2026, 12, 3)
    assert "已兑现" in client.get(reverse("fulfilment:application", args=[app.pk])).content.decode()


def test_a_batch_is_built_on_the_policy_page_and_approved_only_by_another_person(world):
    policy = _no_application(world)
    second = make_user("dispatcher2", Role.DISPATCHER, full_name="钱复核", jurisdiction=world.district)
    preparer = login(world.dispatcher)
    response = preparer.post(reverse("fulfilment:build", args=[policy.pk]), {"as_of": "2026-12-03"})
    batch = policy.fulfilment_batches.get()
    assert response["Location"] == reverse("fulfilment:batch", args=[batch.pk])
    act = reverse("fulfilment:batch_act", args=[batch.pk])
    preparer.post(act, {"action": "submit"})
    page = preparer.post(act, {"action": "approve"}, follow=True).content.decode()
    assert "不能是本批次的编制人" in page
    batch.refresh_from_db()
    assert batch.status == BatchStatus.SUBMITTED
    login(second).post(act, {"action": "approve"})
    batch.refresh_from_db()
    assert batch.status == BatchStatus.APPROVED and FulfilmentRecord.objects.filter(batch=batch).count() == 2
    page = preparer.get(reverse("fulfilment:batch", args=[batch.pk])).content.decode()
    assert "编制批次" in page and "审批通过" in page and "钱复核" in page


def test_the_ledger_shows_the_sentence_totals_and_pages_in_few_queries(world, django_assert_max_num_queries):
    policy = _no_application(world)
    second = make_user("dispatcher2", Role.DISPATCHER, full_name="钱复核", jurisdiction=world.district)
    batch = services.submit_batch(world.dispatcher, services.build_batch(world.dispatcher, policy))
    services.approve_batch(second, batch)
    services.pay_batch(world.dispatcher, batch, "2026-12-03")
    client = login(world.dispatcher)
    client.get(reverse("fulfilment:ledger"))  # warm the session and the calendar cache
    with django_assert_max_num_queries(15):
        page = client.get(reverse("fulfilment:ledger"), {"date_from": "2026-12-01", "date_to": "2026-12-31"})
    text = page.content.decode()
    assert "已落实1项惠企政策，涉及减税降费金额共38万元，惠及企业2户。" in text
    assert "深圳市南头精密制造有限公司" in text
    other = login(world.other_dispatcher).get(reverse("fulfilment:ledger")).content.decode()
    assert "深圳市南头精密制造有限公司" not in other and "本期未登记惠企政策兑现" in other


def test_the_ledger_export_is_the_filtered_rows_and_is_audit_logged(world):
    policy = _no_application(world)
    second = make_user("dispatcher2", Role.DISPATCHER, full_name="钱复核", jurisdiction=world.district)
    services.approve_batch(second, services.submit_batch(world.dispatcher, services.build_batch(world.dispatcher,
                                                                                               policy)))
    response = login(world.dispatcher).get(reverse("fulfilment:ledger"), {"state": "granted", "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content))["兑现台账"]
    names = [row[2] for row in sheet.iter_rows(min_row=3, values_only=True)]
    assert sorted(names) == sorted([world.enterprise.name, world.neighbour.name])
    entry = AuditEntry.objects.get(action="export")
    assert entry.target == "政策兑现台账" and entry.detail["rows"] == 2


@pytest.mark.parametrize("name", ["ledger", "applications", "batches"])
def test_enterprise_accounts_cannot_open_the_staff_pages(world, name):
    assert login(world.owner).get(reverse(f"fulfilment:{name}")).status_code == 404


def test_the_applications_and_batches_lists_page_in_few_queries(world, django_assert_max_num_queries):
    policy = _policy(world)
    for owner in (world.owner, world.neighbour_owner):
        services.apply_for_policy(owner, policy)
    client = login(world.dispatcher)
    client.get(reverse("fulfilment:applications"))
    with django_assert_max_num_queries(8):
        page = client.get(reverse("fulfilment:applications"), {"status": "submitted"}).content.decode()
    assert world.enterprise.name in page and world.neighbour.name in page
    with django_assert_max_num_queries(8):
        assert client.get(reverse("fulfilment:batches")).status_code == 200
