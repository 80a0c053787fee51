"""/api/v1/enterprises: list, read, create, update, figures — the importer's validation, the API's errors."""

import json

from django.db import connection
from django.test.utils import CaptureQueriesContext

from qinqing.enterprises.models import Enterprise, EnterpriseEvent, Helpers, Sector
from qinqing.lib.uscc import make_code
from tests.conftest import bearer


def send(client, method, path, body=None, headers=None):
    if method == "get":
        return client.get(f"/api/v1{path}", **(headers or {}))
    return getattr(client, method)(f"/api/v1{path}", json.dumps(body or {}), content_type="application/json",
                                   **(headers or {}))


def test_creating_an_enterprise_validates_like_the_importer(world, client):
    body = {"name": "深圳市南头新材料有限公司", "credit_code": "91350100m000100y43", "industry_code": "2922",
            "jurisdiction": "南头街道", "tags": ["专精特新"], "year": 2025, "employees": 120, "revenue": "2600.5"}
    r = send(client, "post", "/enterprises", body, bearer(world.dispatcher))
    assert r.status_code == 201, r.content
    data = r.json()
    assert (data["credit_code"], data["industry_code"], data["industry_name"], data["sector"]) == (
        "91350100M000100Y43", "C2922", "塑料板、管、型材制造", "industry")
    assert (data["size"], data["is_four_above"], data["figures_year"]) == ("small", True, 2025)  # 120人 < 300
    assert data["jurisdiction"] == {"code": "440305001", "name": "南头街道"}
    assert data["figures"][0]["four_above_rule"] == "规模以上工业"
    assert EnterpriseEvent.objects.get(enterprise_id=data["id"]).verb == "register"


def test_a_bad_code_comes_back_as_the_same_chinese_message(world, client):
    r = send(client, "post", "/enterprises", {"name": "某公司", "credit_code": "91350100M000100Y4Z",
                                              "industry_code": "C3311", "jurisdiction": "南头街道"},
             bearer(world.dispatcher))
    assert r.status_code == 400
    assert r.json() == {"detail": "统一社会信用代码：统一社会信用代码校验位错误：第18位应为“3”，实为“Z”，请核对。",
                        "code": "invalid"}


def test_registering_a_code_twice_is_a_conflict(world, client):
    r = send(client, "post", "/enterprises", {"name": "重复", "credit_code": world.enterprise.credit_code,
                                              "industry_code": "C3311", "jurisdiction": "南头街道"}, bearer(world.admin))
    assert r.status_code == 409 and r.json()["code"] == "conflict"


def test_a_handler_may_not_register_enterprises(world, client):
    r = send(client, "post", "/enterprises", {"name": "某公司", "credit_code": make_code("91440305MA5F00001"),
                                              "industry_code": "C3311", "jurisdiction": "南头街道"}, bearer(world.handler))
    assert r.status_code == 403 and r.json()["code"] == "forbidden"


def test_updating_changes_only_the_fields_sent_and_null_empties_one(world, client):
    r = send(client, "patch", f"/enterprises/{world.enterprise.credit_code}",
             {"contact_phone": None, "industry_code": "C3484", "qualification": "无"}, bearer(world.dispatcher))
    assert r.status_code == 200, r.content
    world.enterprise.refresh_from_db()
    assert (world.enterprise.contact_phone, world.enterprise.industry_code, world.enterprise.contact_name) == (
        "", "C3484", "林总")
    event = world.enterprise.events.get(verb="update")
    assert event.changes["industry_code"] == ["", "C3484"] and event.actor == world.dispatcher


def test_the_credit_code_cannot_be_changed(world, client):
    r = send(client, "patch", f"/enterprises/{world.enterprise.pk}",
             {"credit_code": world.other_enterprise.credit_code}, bearer(world.admin))
    assert r.status_code == 400 and "不能修改" in r.json()["detail"]


def test_an_outsider_gets_404_on_read_and_update(world, client):
    for method in ("get", "patch"):
        r = send(client, method, f"/enterprises/{world.enterprise.credit_code}", {"name": "x"},
                 bearer(world.other_dispatcher))
        assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = send(client, "get", f"/enterprises/{world.enterprise.pk}", None, bearer(world.neighbour_owner))
    assert r.status_code == 404


def test_a_user_who_sees_but_does_not_manage_gets_403_on_update(world, client):
    r = send(client, "patch", f"/enterprises/{world.enterprise.credit_code}", {"name": "x"}, bearer(world.specialist))
    assert r.status_code == 403


def test_recording_figures_recomputes_the_classification(world, client):
    send(client, "patch", f"/enterprises/{world.enterprise.pk}", {"industry_code": "F5212"}, bearer(world.admin))
    r = send(client, "post", f"/enterprises/{world.enterprise.pk}/figures",
             {"year": 2024, "employees": 60, "revenue": 520}, bearer(world.dispatcher))
    assert r.status_code == 200, r.content
    assert (r.json()["size"], r.json()["is_four_above"]) == ("medium", True)  # 零售: ≥50人 and ≥500万
    r = send(client, "post", f"/enterprises/{world.enterprise.pk}/figures", {"year": 2023, "revenue": 50},
             bearer(world.dispatcher))
    assert r.json()["figures_year"] == 2024  # an older year does not override the latest


def test_the_list_filters_and_pages(world, client):
    r = client.get("/api/v1/enterprises", {"q": "深圳市", "limit": 1, "count": "true"}, **bearer(world.dispatcher))
    body = r.json()
    assert [e["name"] for e in body["items"]] == [world.enterprise.name]
    assert body["next"] == 1 and body["count"] == 2  # the other district's 新安物流 is not counted
    r = client.get("/api/v1/enterprises", {"jurisdiction": "nowhere"}, **bearer(world.admin))
    assert r.status_code == 400 and r.json()["code"] == "invalid_filter"


def test_the_list_query_count_does_not_grow_with_the_rows(world, client, django_assert_num_queries):
    Enterprise.objects.filter(pk=world.enterprise.pk).update(industry_code="C3311")
    headers = bearer(world.dispatcher)
    client.get("/api/v1/enterprises", **headers)
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/enterprises", **headers)
    for i in range(30):
        e = Enterprise.objects.create(name=f"深圳市南头{i}号公司", credit_code=make_code(f"914403057{i:08d}"),
                                      sector=Sector.INDUSTRY, industry_code=f"C33{i % 5 + 1}1", jurisdiction=world.town)
        Helpers.objects.create(enterprise=e, service_specialist=world.specialist, contact_leader=world.leader)
    # token with roles and jurisdiction, filter choices (industry, tags), rows, industry names
    with django_assert_num_queries(len(few)):
        r = client.get("/api/v1/enterprises", **headers)
    assert len(r.json()["items"]) == 32 and len(few) == 5
