"""Hand-offs and pauses as staff, enterprises and API callers meet them: pages, countdowns, the portal, the API."""

import datetime as dt
import json

import pytest

from qinqing.accounts.models import Role, Unit
from qinqing.demands import services
from qinqing.demands.models import Channel, Demand, State
from qinqing.handoffs import services as handoffs
from qinqing.handoffs.models import HandOff, Pause

from .conftest import bearer, login, make_user

D = dt.date.fromisoformat


@pytest.fixture
def city(world):
    world.city_unit = Unit.objects.create(name="深圳市人力资源和社会保障局", kind="department", jurisdiction=world.city)
    world.city_dispatcher = make_user("citydispatcher", Role.DISPATCHER, full_name="市调度", jurisdiction=world.city)
    world.city_handler = make_user("cityhandler", Role.HANDLER, full_name="市承办", unit=world.city_unit,
                                   jurisdiction=world.city)
    return world


def handling(world, title="厂房消防验收排期") -> Demand:
    d = services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT, title=title,
                                content="新厂房消防验收排期较长，影响投产。", category=world.hiring)
    services.dispatch_demand(world.dispatcher, d, lead_unit=world.bureau)
    return services.accept_demand(world.handler, d)


def test_the_dispatcher_hands_a_demand_to_the_city_from_its_page_and_sees_the_citys_progress(city):
    w = city
    d = handling(w)
    page = login(w.dispatcher).get(f"/demands/{d.number}/")
    assert "移交其他层级" in page.content.decode() and "深圳市（市）" in page.content.decode()
    response = login(w.dispatcher).post(f"/handoffs/demands/{d.number}/handoff/",
                                        {"to_jurisdiction": w.city.pk, "reason": "涉及市级审批权限", "version": d.version})
    assert response.status_code == 302
    copy = HandOff.objects.get().target
    page = login(w.dispatcher).get(f"/demands/{d.number}/").content.decode()
    assert copy.number in page and "对方待交办" in page
    city_page = login(w.city_dispatcher).get(f"/demands/{copy.number}/").content.decode()
    assert d.number in city_page and "涉及市级审批权限" in city_page


def test_a_refused_hand_off_says_why_and_changes_nothing(city):
    d = handling(city)
    response = login(city.dispatcher).post(f"/handoffs/demands/{d.number}/handoff/",
                                           {"to_jurisdiction": city.city.pk, "reason": " ", "version": d.version},
                                           follow=True)
    assert "移交理由" in response.content.decode()
    assert not HandOff.objects.exists()


def test_a_paused_demand_shows_paused_on_its_page_the_ledger_and_the_portal(world):
    d = handling(world)
    client = login(world.handler)
    client.post(f"/handoffs/demands/{d.number}/pause/", {"reason": "documents", "version": d.version})
    d.refresh_from_db()
    assert "批准挂起" in login(world.dispatcher).get(f"/demands/{d.number}/").content.decode()
    login(world.dispatcher).post(f"/handoffs/demands/{d.number}/approve/", {"version": d.version})
    d.refresh_from_db()
    assert d.is_paused
    assert "已挂起" in login(world.dispatcher).get(f"/demands/{d.number}/").content.decode()
    assert "已挂起" in login(world.dispatcher).get("/demands/").content.decode()
    portal = login(world.owner).get("/portal/").content.decode()
    assert "已挂起" in portal
    detail = login(world.owner).get(f"/portal/demands/{d.number}/").content.decode()
    assert "已挂起（等待企业补充材料）" in detail
    login(world.handler).post(f"/handoffs/demands/{d.number}/resume/", {"version": d.version})
    d.refresh_from_db()
    assert not d.is_paused and Pause.objects.get().status == Pause.Status.ENDED


def test_the_enterprise_never_sees_the_other_levels_copy_in_its_portal(city):
    d = handling(city)
    copy = handoffs.hand_off_demand(city.dispatcher, d, to_jurisdiction=city.city, reason="涉及市级审批权限").target
    assert login(city.owner).get(f"/portal/demands/{copy.number}/").status_code == 404
    assert "移交深圳市办理" in login(city.owner).get(f"/portal/demands/{d.number}/").content.decode()


def test_the_hand_off_list_counts_sent_and_received_and_lists_only_what_the_reader_sees(city, django_assert_max_num_queries):
    d = handling(city)
    copy = handoffs.hand_off_demand(city.dispatcher, d, to_jurisdiction=city.city, reason="涉及市级审批权限").target
    client = login(city.dispatcher)
    with django_assert_max_num_queries(40) as one:
        page = client.get("/handoffs/").content.decode()
    assert "移出 <strong>1</strong> 件" in page and d.number in page
    for title in ("第二件", "第三件"):
        handoffs.hand_off_demand(city.dispatcher, handling(city, title), to_jurisdiction=city.city, reason="市级事权")
    with django_assert_max_num_queries(len(one.captured_queries)):  # as many queries for three rows as for one
        assert "移出 <strong>3</strong> 件" in client.get("/handoffs/").content.decode()
    city_page = login(city.city_dispatcher).get("/handoffs/").content.decode()
    assert "移入 <strong>3</strong> 件" in city_page and copy.number in city_page
    other = login(city.other_dispatcher).get("/handoffs/").content.decode()
    assert d.number not in other


def api_post(user, path, body, **headers):
    from django.test import Client

    return Client().post(path, json.dumps(body), content_type="application/json", **bearer(user), **headers)


def test_the_api_hands_over_once_per_idempotency_key(city):
    d = handling(city)
    body = {"to_jurisdiction": city.city.code, "reason": "涉及市级审批权限"}
    first = api_post(city.dispatcher, f"/api/v1/handoffs/demands/{d.number}/handoff", body, HTTP_IDEMPOTENCY_KEY="k1")
    again = api_post(city.dispatcher, f"/api/v1/handoffs/demands/{d.number}/handoff", body, HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and first.json()["direction"] == "up"
    assert HandOff.objects.count() == 1 and Demand.objects.filter(handed_from=d).count() == 1
    refused = api_post(city.other_dispatcher, f"/api/v1/handoffs/demands/{d.number}/handoff", body)
    assert refused.status_code == 404


def test_the_api_pauses_on_approval_and_resumes(world):
    d = handling(world)
    url = f"/api/v1/handoffs/demands/{d.number}"
    asked = api_post(world.handler, f"{url}/pause", {"reason": "other"})
    assert asked.status_code == 400 and "挂起原因说明" in asked.json()["detail"]
    asked = api_post(world.handler, f"{url}/pause", {"reason": "court"}, HTTP_IDEMPOTENCY_KEY="p1")
    assert asked.status_code == 201 and asked.json()["status"] == "pending"
    assert api_post(world.handler, f"{url}/pause/approve", {}).status_code == 403
    approved = api_post(world.dispatcher, f"{url}/pause/approve", {})
    assert approved.status_code == 200 and approved.json()["status_label"] == "挂起中"
    resumed = api_post(world.dispatcher, f"{url}/resume", {})
    assert resumed.status_code == 200 and resumed.json()["workdays"] == 0
    d.refresh_from_db()
    assert d.state == State.ACCEPTED and not d.is_paused
