"""/api/v1/cooperation: the escalation queue, a demand's opinions and instructions, writing them once."""

import json

from django.test import Client

from qinqing.cooperation import services
from qinqing.cooperation.models import CoTask, Instruction, TaskState
from qinqing.demands import services as demand_services
from qinqing.demands.models import Channel
from tests.conftest import at, bearer

BASE = "/api/v1/cooperation"


def dispatched(world, title="厂房消防验收迟迟未办", when="2026-11-02 10:00"):
    with demand_services.acting_at(at(when)):
        d = demand_services.receive_demand(
            world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT, title=title,
            content="新建厂房消防验收申请已提交两月。", category=world.hiring, received_at=at(when))
        return demand_services.dispatch_demand(world.dispatcher, d, lead_unit=world.bureau, co_units=[world.finance])


def post(user, path, body, **headers):
    return Client().post(path, data=json.dumps(body), content_type="application/json", **bearer(user), **headers)


def test_a_co_unit_writes_its_opinion_once_per_idempotency_key_and_the_lead_reads_it(world):
    d = dispatched(world)
    key = {"HTTP_IDEMPOTENCY_KEY": "opinion-1"}
    first = post(world.co_handler, f"{BASE}/demands/{d.number}/opinions", {"text": "建议申请技改贴息"}, **key)
    assert first.status_code == 201, first.content
    again = post(world.co_handler, f"{BASE}/demands/{d.number}/opinions", {"text": "建议申请技改贴息"}, **key)
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert d.events.filter(verb="co_opinion").count() == 1
    body = Client().get(f"{BASE}/demands/{d.number}", **bearer(world.handler)).json()
    assert body["co_tasks"][0]["opinion"] == "建议申请技改贴息" and body["co_tasks"][0]["state"] == "answered"


def test_the_lead_unit_may_not_write_a_co_units_opinion(world):
    d = dispatched(world)
    response = post(world.handler, f"{BASE}/demands/{d.number}/opinions", {"text": "代写"})
    assert response.status_code == 403 and "协办单位" in response.json()["detail"]
    assert CoTask.objects.get(demand=d).state == TaskState.PENDING


def test_the_enterprise_reads_no_opinion_of_its_own_demand(world):
    d = dispatched(world)
    services.write_opinion(world.co_handler, d, opinion="内部意见")
    body = Client().get(f"{BASE}/demands/{d.number}", **bearer(world.owner)).json()
    assert body["co_tasks"] == [] and body["instructions"] == []


def test_a_demand_out_of_reach_is_a_404_by_id_or_number(world):
    d = dispatched(world)
    for ref in (d.number, str(d.pk)):
        assert Client().get(f"{BASE}/demands/{ref}", **bearer(world.other_handler)).status_code == 404


def test_a_leader_instructs_and_the_lead_unit_answers_through_the_api(world):
    d = dispatched(world)
    demand_services.escalate_demand(world.dispatcher, d, reason="提请联席办协调")
    response = post(world.leader, f"{BASE}/demands/{d.number}/instructions", {"text": "一周内拿出方案"})
    assert response.status_code == 201, response.content
    answers = response.json()["instructions"][0]["answers"]
    assert {a["unit"] for a in answers if a["answered_at"] is None} == {world.bureau.name, world.finance.name}
    response = post(world.handler, f"{BASE}/demands/{d.number}/answers", {"text": "已制定方案"})
    assert response.status_code == 201, response.content
    assert Instruction.objects.get(demand=d).answers.get(unit=world.bureau).text == "已制定方案"
    assert post(world.handler, f"{BASE}/demands/{d.number}/answers", {"text": "再答"}).status_code == 404


def test_the_escalation_queue_lists_the_leaders_escalated_demands_in_few_queries(
        world, django_assert_max_num_queries):
    demands = [dispatched(world, title=f"提级件{i}", when=f"2026-11-{i + 2:02d} 10:00") for i in range(3)]
    for d in demands:
        demand_services.escalate_demand(world.dispatcher, d, reason="提请联席办协调")
    client, headers = Client(), bearer(world.leader)
    with django_assert_max_num_queries(6):
        body = client.get(f"{BASE}/escalations", {"tier": 2, "limit": 2}, **headers).json()
    assert [i["number"] for i in body["items"]] == [d.number for d in demands[:2]] and body["next"] == 2
    assert client.get(f"{BASE}/escalations", {"tier": 2}, **bearer(world.handler)).json()["items"] == []
