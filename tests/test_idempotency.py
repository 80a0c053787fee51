"""Idempotency-Key on the creating API calls: a client that retries with its key registers once."""

import datetime as dt
import json
import threading

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from qinqing.accounts.models import IdempotencyKey
from qinqing.api.idempotency import forget_expired
from qinqing.demands.models import Demand, DemandEvent
from qinqing.enterprises.models import Enterprise
from qinqing.lib import clock
from tests.conftest import bearer
from tests.test_intake_fast import statements


def post(client, path, body, headers, key=None):
    extra = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(f"/api/v1{path}", json.dumps(body), content_type="application/json", **headers, **extra)


def demand_body(world, **overrides):
    body = {"credit_code": world.enterprise.credit_code, "channel": "hotline", "title": "厂房租金补贴申请无人受理",
            "content": "去年申请的厂房租金补贴至今没有结果，多次电话无人接听。"}
    body.update(overrides)
    return body


def test_a_demand_sent_twice_with_one_key_is_registered_once_and_answered_the_same(world, client):
    headers = bearer(world.dispatcher)
    first = post(client, "/demands", demand_body(world), headers, key="order-1")
    assert first.status_code == 201, first.content
    second = post(client, "/demands", demand_body(world), headers, key="order-1")
    assert second.status_code == 201
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert Demand.objects.count() == 1 and DemandEvent.objects.count() == 1


def test_a_repeat_writes_nothing_at_all(world, client):
    headers = bearer(world.dispatcher)
    post(client, "/demands", demand_body(world), headers, key="order-1")
    with CaptureQueriesContext(connection) as ctx:
        post(client, "/demands", demand_body(world), headers, key="order-1")
    writes = [s for s in statements(ctx.captured_queries) if s.split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]
    assert writes == []


def test_a_batch_sent_twice_with_one_key_is_registered_once(world, client):
    headers = bearer(world.dispatcher)
    body = {"items": [demand_body(world, title="用电增容审批慢"), demand_body(world, title="消防验收排期长")]}
    first = post(client, "/demands/batch", body, headers, key="batch-7")
    second = post(client, "/demands/batch", body, headers, key="batch-7")
    assert first.status_code == second.status_code == 201, first.content
    assert second.json() == first.json()
    assert [d["number"] for d in first.json()["items"]] == list(
        Demand.objects.order_by("number").values_list("number", flat=True))
    assert Demand.objects.count() == 2


def test_an_enterprise_registered_twice_with_one_key_exists_once_and_is_not_a_conflict(world, client):
    headers = bearer(world.dispatcher)
    body = {"name": "深圳市南头新材料有限公司", "credit_code": "91350100M000100Y43", "industry_code": "2922",
            "jurisdiction": "南头街道"}
    first = post(client, "/enterprises", body, headers, key="ent-1")
    second = post(client, "/enterprises", body, headers, key="ent-1")
    assert first.status_code == second.status_code == 201, second.content
    assert second.json() == first.json()
    assert Enterprise.objects.filter(credit_code="91350100M000100Y43").count() == 1
    # Without the key, the same request is the conflict it always was.
    assert post(client, "/enterprises", body, headers).status_code == 409


def test_the_same_key_for_another_request_is_refused_in_chinese_and_writes_nothing(world, client):
    headers = bearer(world.dispatcher)
    post(client, "/demands", demand_body(world), headers, key="order-1")
    r = post(client, "/demands", demand_body(world, title="另一件事"), headers, key="order-1")
    assert r.status_code == 422
    assert r.json()["detail"].startswith("该幂等键已用于另一请求")
    r = post(client, "/demands/batch", {"items": [demand_body(world)]}, headers, key="order-1")
    assert r.status_code == 422
    assert Demand.objects.count() == 1


def test_keys_belong_to_their_user(world, client):
    post(client, "/demands", demand_body(world), bearer(world.dispatcher), key="k")
    r = post(client, "/demands", demand_body(world), bearer(world.specialist), key="k")
    assert r.status_code == 201 and not r.has_header("Idempotent-Replayed")
    assert Demand.objects.count() == 2


def test_a_refused_request_keeps_no_key_and_may_be_corrected_under_it(world, client):
    headers = bearer(world.dispatcher)
    r = post(client, "/demands", demand_body(world, title="  "), headers, key="order-1")
    assert r.status_code == 400
    assert not IdempotencyKey.objects.exists()
    assert post(client, "/demands", demand_body(world), headers, key="order-1").status_code == 201


def test_an_empty_or_overlong_key_is_refused(world, client):
    headers = bearer(world.dispatcher)
    assert post(client, "/demands", demand_body(world), headers, key=" ").status_code == 400
    r = post(client, "/demands", demand_body(world), headers, key="x" * 101)
    assert r.status_code == 400 and "Idempotency-Key" in r.json()["detail"]
    assert not Demand.objects.exists()


def test_without_the_header_intake_costs_no_query_more(world, client):
    headers = bearer(world.dispatcher)
    post(client, "/demands", demand_body(world), headers)  # the token's first use writes last_used_at
    with CaptureQueriesContext(connection) as ctx:
        assert post(client, "/demands", demand_body(world, title="第二件"), headers).status_code == 201
    assert not any("idempotency" in s.lower() for s in statements(ctx.captured_queries))
    assert len(statements(ctx.captured_queries)) == 5


def test_keys_older_than_a_day_are_forgotten(world, client):
    headers = bearer(world.dispatcher)
    post(client, "/demands", demand_body(world), headers, key="old")
    IdempotencyKey.objects.update(created_at=clock.now() - dt.timedelta(hours=25))
    post(client, "/demands", demand_body(world), headers, key="new")
    assert forget_expired() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def test_the_header_is_documented_on_the_creating_operations(client):
    schema = client.get("/api/v1/openapi.json").json()
    for path in ("/api/v1/demands", "/api/v1/demands/batch", "/api/v1/enterprises"):
        operation = schema["paths"][path]["post"]
        assert "Idempotency-Key" in [p["name"] for p in operation["parameters"]], path
        assert "幂等键" in operation["description"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs one writer at a time")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_requests_with_one_key_at_once_register_one_demand(world):
    from django.test import Client

    headers = bearer(world.dispatcher)
    body = demand_body(world)
    answers, start = [], threading.Barrier(2)

    def send():
        try:
            start.wait()
            answers.append(post(Client(), "/demands", body, headers, key="same"))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json() == answers[1].json()
    assert Demand.objects.count() == 1
