"""POST /api/v1/demands/batch: an integration hands over many demands at once, all or none."""

import json

from qinqing.demands.models import Demand, DemandEvent
from tests.conftest import bearer


def post_batch(client, items, user):
    return client.post("/api/v1/demands/batch", json.dumps({"items": items}), content_type="application/json",
                       **bearer(user))


def item(world, **overrides):
    body = {"credit_code": world.enterprise.credit_code, "channel": "hotline", "title": "用电增容审批慢",
            "content": "厂区用电增容申请提交两个月仍未批复，影响新生产线投产。",
            "received_at": "2026-09-30T10:00:00+08:00"}
    body.update(overrides)
    return body


def test_a_batch_is_received_in_order_with_consecutive_numbers_and_due_dates(world, client):
    r = post_batch(client, [item(world), item(world, title="招工难"), item(world, title="贷款到期续贷难")],
                   world.dispatcher)
    assert r.status_code == 201, r.content
    items = r.json()["items"]
    assert [i["title"] for i in items] == ["用电增容审批慢", "招工难", "贷款到期续贷难"]
    numbers = [int(i["number"].split("-")[1]) for i in items]
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]
    assert {(i["dispatch_due"], i["contact_due"], i["path_due"], i["resolve_due"]) for i in items} == {
        ("2026-09-30", "2026-10-08", "2026-10-09", "2026-10-30")}
    assert DemandEvent.objects.filter(verb="receive", demand__number__in=[i["number"] for i in items]).count() == 3


def test_one_bad_credit_code_refuses_the_whole_batch_and_names_the_item(world, client):
    bad = world.enterprise.credit_code[:-1] + ("0" if world.enterprise.credit_code[-1] != "0" else "1")
    r = post_batch(client, [item(world), item(world, credit_code=bad)], world.dispatcher)
    assert r.status_code == 400
    assert r.json()["detail"].startswith("第2件：")
    assert Demand.objects.count() == 0


def test_one_refused_item_changes_nothing(world, client):
    r = post_batch(client, [item(world), item(world, title="   ")], world.dispatcher)
    assert r.status_code == 400
    assert r.json()["detail"].startswith("第2件：") and "标题" in r.json()["detail"]
    assert Demand.objects.count() == 0 and DemandEvent.objects.count() == 0


def test_an_empty_or_oversized_batch_is_refused_in_chinese(world, client):
    assert post_batch(client, [], world.dispatcher).status_code == 422
    r = post_batch(client, [item(world)] * 201, world.dispatcher)
    assert r.status_code == 422 and "条目过多" in r.json()["detail"]
    assert Demand.objects.count() == 0


def test_a_dispatcher_of_another_district_cannot_push_this_districts_demands(world, client):
    r = post_batch(client, [item(world), item(world)], world.other_dispatcher)
    assert r.status_code == 403
    assert Demand.objects.count() == 0


def test_a_batch_costs_the_same_queries_for_2_or_20_demands(world, client, django_assert_max_num_queries):
    post_batch(client, [item(world)], world.dispatcher)  # warm the taxonomy and calendar caches
    with django_assert_max_num_queries(14):
        assert post_batch(client, [item(world)] * 2, world.dispatcher).status_code == 201
    with django_assert_max_num_queries(14):
        assert post_batch(client, [item(world)] * 20, world.dispatcher).status_code == 201
