"""移送市级 is a hand-off (qinqing.handoffs): the older verb and its API operation go through hand_off_demand, and a
demand handed to the city is counted once at each level — received at the district, 移出 there and 移入 at the
city — in the circulars, the leader's home cards and the unit assessment, not twice."""

import datetime as dt
import json

import pytest
from django.test import Client

from qinqing.accounts.models import Role, Unit
from qinqing.demands import services
from qinqing.demands.models import Channel, Demand, DemandEvent, Outcome, State, Tier
from qinqing.handoffs.models import HandOff
from qinqing.reports import circulars, stats
from qinqing.reports.models import CircularKind
from qinqing.supervision.assessment import assess

from .conftest import bearer, login, make_user

D = dt.date.fromisoformat
PERIOD = stats.Period(D("2026-12-01"), D("2026-12-31"))


@pytest.fixture
def city(world):
    world.city_unit = Unit.objects.create(name="深圳市人力资源和社会保障局", kind="department", jurisdiction=world.city)
    world.city_dispatcher = make_user("citydispatcher", Role.DISPATCHER, full_name="市调度", jurisdiction=world.city)
    world.city_handler = make_user("cityhandler", Role.HANDLER, full_name="市承办", unit=world.city_unit,
                                   jurisdiction=world.city)
    world.city_leader = make_user("cityleader", Role.LEADER, full_name="市领导", jurisdiction=world.city)
    return world


def _dispatched(world, title="跨区用工调剂") -> Demand:
    d = services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT, title=title,
                                content="涉及跨区用工调剂，区级难以协调。", category=world.hiring)
    return services.dispatch_demand(world.dispatcher, d, lead_unit=world.bureau)


def test_transfer_to_city_hands_the_demand_to_the_level_above(city):
    d = services.transfer_to_city(city.dispatcher, _dispatched(city), reason="涉及市级事权")
    assert (d.state, d.outcome, d.tier) == (State.TRANSFERRED, Outcome.TRANSFERRED, Tier.CITY)
    handoff = HandOff.objects.get(source=d)
    assert (handoff.direction, handoff.to_jurisdiction, handoff.reason) == ("up", city.city, "涉及市级事权")
    assert handoff.target.jurisdiction == city.city and handoff.target.state == State.RECEIVED
    verbs = list(DemandEvent.objects.filter(demand=d).values_list("verb", flat=True))
    assert "handoff_out" in verbs and "transfer" not in verbs


def test_the_apis_transfer_answers_through_the_hand_off(city):
    d = _dispatched(city)
    response = Client().post(f"/api/v1/demands/{d.pk}/transfer", json.dumps({"reason": "涉及市级审批权限"}),
                             content_type="application/json", HTTP_IDEMPOTENCY_KEY="transfer-1", **bearer(city.dispatcher))
    assert response.status_code == 200, response.content.decode()
    assert response.json()["state"] == State.TRANSFERRED
    assert HandOff.objects.filter(source=d, to_jurisdiction=city.city).count() == 1
    refused = Client().post(f"/api/v1/demands/{d.pk}/transfer", json.dumps({"reason": "再移送"}),
                            content_type="application/json", **bearer(city.dispatcher))
    assert refused.status_code in (400, 409) and HandOff.objects.count() == 1


def _circular(jurisdiction) -> dict:
    return circulars.snapshot(CircularKind.WEEKLY, jurisdiction, PERIOD, today=D("2026-12-31"))


def test_circulars_count_a_demand_handed_to_the_city_once_at_each_level(city):
    d = services.transfer_to_city(city.dispatcher, _dispatched(city), reason="涉及市级事权")
    copy = HandOff.objects.get(source=d).target
    copy = services.dispatch_demand(city.city_dispatcher, copy, lead_unit=city.city_unit)
    copy = services.contact_enterprise(city.city_handler, services.accept_demand(city.city_handler, copy),
                                       method="电话")
    services.reply_demand(city.city_handler, copy, reply="市人社局已组织跨区用工调剂专场。", outcome=Outcome.SOLVED)

    district, above = _circular(city.district), _circular(city.city)
    assert (district["received"], district["moved"]) == (1, {"out": 1, "in": 0})
    assert (above["received"], above["moved"]) == (1, {"out": 1, "in": 1})  # not 2: the copy is 移入
    # one reply: the city's own at the city level, the one handed back at the district
    assert district["finished"]["replied"] == above["finished"]["replied"] == 1
    assert above["finished"]["closed"] == 0  # the copy's hand-back is not a 销号
    assert "移出）1件" in circulars._lead(district) and "移入）1件" in circulars._lead(above)


def test_the_city_leaders_home_counts_the_handed_up_demand_once(city):
    services.transfer_to_city(city.dispatcher, _dispatched(city), reason="涉及市级事权")
    html = login(city.city_leader).get("/").content.decode()
    assert Demand.objects.visible_to(city.city_leader).count() == 2  # the district's and the city's copy
    card = html.split("2026年受理")[0].rsplit('class="stat-count">', 1)[-1].split("<", 1)[0]
    assert card.strip() == "1"


def test_the_unit_assessment_counts_it_once_for_each_units_own_work(city):
    d = services.transfer_to_city(city.dispatcher, _dispatched(city), reason="涉及市级事权")
    services.dispatch_demand(city.city_dispatcher, HandOff.objects.get(source=d).target, lead_unit=city.city_unit)
    scores = {s.unit_id: s for s in assess([city.bureau, city.city_unit], PERIOD.start, PERIOD.end,
                                           today=D("2026-12-31"))}
    assert scores[city.bureau.pk].received == 1 and scores[city.city_unit.pk].received == 1
