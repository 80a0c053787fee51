"""An intake leaves its search words to the worker, and the ledger finds the demand meanwhile.

With a worker delivering notifications (Huey not in immediate mode), `POST /api/v1/demands` stores the
demand without its jieba words; the worker writes them when it delivers the intake's notifications. Until
then the keyword search matches the demand by its title and content.
"""

import json

import pytest
from django.db import connection
from django.test import Client
from huey.contrib.djhuey import HUEY

from qinqing.demands import services
from qinqing.demands.models import Channel, Demand, DemandEvent
from qinqing.demands.search import PENDING
from qinqing.notifications.services import notify_for_event

from .conftest import bearer, login


@pytest.fixture
def worker_delivers():
    """Notifications go to a worker, as under `make run` (the tests' Huey runs tasks at once)."""
    HUEY.immediate = False
    yield
    HUEY.immediate = True


def post(world, title="厂房消防验收排期太慢", content="新建厂房等待消防验收，影响投产。") -> Demand:
    response = Client().post("/api/v1/demands", json.dumps({
        "credit_code": world.enterprise.credit_code, "channel": "hotline", "title": title, "content": content,
    }), content_type="application/json", **bearer(world.dispatcher))
    assert response.status_code == 201, response.content
    return Demand.objects.get(number=response.json()["number"])


def found(world, q: str) -> bool:
    return len(login(world.dispatcher).get("/api/v1/demands", {"q": q}).json()["items"]) >= 1


def test_an_api_intake_leaves_its_words_to_the_worker_and_is_found_by_its_title_meanwhile(world, worker_delivers):
    demand = post(world)

    assert demand.search_text == PENDING
    assert found(world, "消防验收") and found(world, "投产")
    assert not found(world, "贷款")


def test_delivering_the_intake_writes_the_words_the_intake_would_have_written_and_nothing_else(
        world, worker_delivers):
    demand = post(world)
    version, updated_at = demand.version, demand.updated_at
    receipt = DemandEvent.objects.get(demand=demand, verb="receive")

    notify_for_event(receipt.pk)

    demand.refresh_from_db()
    assert demand.search_text == services.search_words(demand.title, demand.content, world.enterprise.name)
    assert (demand.version, demand.updated_at) == (version, updated_at)  # not an edit of the demand
    assert found(world, "南头精密")  # the enterprise's name is searchable once the words are written
    written = demand.search_text
    notify_for_event(receipt.pk)  # a second delivery (the catch-up after a slow task) changes nothing
    demand.refresh_from_db()
    assert demand.search_text == written


def test_a_history_load_and_the_tests_immediate_worker_write_the_words_at_intake(world, worker_delivers):
    with services.notifications_suppressed():
        quiet = services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT,
                                        title="用电增容", content="新增产线需要增容。")
    HUEY.immediate = True
    now = services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT,
                                  title="用工招聘", content="招不到技工。")
    assert quiet.search_text.strip() and now.search_text.strip()


def test_the_pending_demands_are_read_through_their_own_small_index(world):
    from qinqing.demands.search import _pending_ids

    sql, params = _pending_ids(["消防", "验收"])
    explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")  # a test table is small enough to scan
        cursor.execute(explain + sql, params)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert "demand_search_pending" in plan
