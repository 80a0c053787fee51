"""/api/v1/fulfilment: the ledger's rows and totals through the page's filter, each caller seeing only its reach."""

from decimal import Decimal

from django.test import Client

from qinqing.accounts.models import Role
from qinqing.enterprises.models import YearlyFigures
from qinqing.fulfilment import services
from qinqing.policies import services as policy_services
from tests.conftest import bearer, make_user


def _paid_batch(world):
    for e, revenue in ((world.enterprise, "5000"), (world.neighbour, "800")):
        YearlyFigures.objects.create(enterprise=e, year=2025, revenue=Decimal(revenue))
    policy = policy_services.register_policy(world.dispatcher, {
        "title": "规上企业税费返还", "issuer": "南山区税务局", "level": "district", "jurisdiction": world.district,
        "benefit_type": "tax", "no_application": "1", "amount_kind": "percent", "amount_percent": "1",
        "amount_metric": "revenue", "amount_year": "2025", "amount_cap": "30", "valid_until": "2027-12-31"})
    policy = policy_services.publish_policy(world.dispatcher, policy)
    second = make_user("dispatcher2", Role.DISPATCHER, full_name="钱复核", jurisdiction=world.district)
    batch = services.submit_batch(world.dispatcher, services.build_batch(world.dispatcher, policy))
    services.approve_batch(second, batch)
    services.pay_batch(world.dispatcher, batch, "2026-12-03")


def test_the_ledger_api_lists_the_records_in_reach_in_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    _paid_batch(world)
    client, auth = Client(), bearer(world.dispatcher)
    with django_assert_max_num_queries(4):
        body = client.get("/api/v1/fulfilment/records", {"jurisdiction": "440305", "limit": 1}, **auth).json()
    assert len(body["items"]) == 1 and body["next"] == 1
    assert Decimal(str(body["items"][0]["amount"])) in (Decimal("30"), Decimal("8"))  # the newest of the two
    owner = Client().get("/api/v1/fulfilment/records", **bearer(world.owner)).json()
    assert [r["enterprise"] for r in owner["items"]] == [world.enterprise.name]
    assert Client().get("/api/v1/fulfilment/records", **bearer(world.other_dispatcher)).json()["items"] == []


def test_the_summary_api_writes_the_sentence_for_the_period(world):
    _paid_batch(world)
    body = Client().get("/api/v1/fulfilment/summary", {"date_from": "2026-12-01", "date_to": "2026-12-31"},
                        **bearer(world.dispatcher)).json()
    assert body["sentence"] == "已落实1项惠企政策，涉及减税降费金额共38万元，惠及企业2户。"
    assert body["records"] == 2 and body["median_days"] == 0


def test_a_period_that_ends_before_it_starts_is_a_clear_error(world):
    response = Client().get("/api/v1/fulfilment/summary", {"date_from": "2026-12-31", "date_to": "2026-12-01"},
                            **bearer(world.dispatcher))
    assert response.status_code == 400 and "截止日期" in response.json()["detail"]
