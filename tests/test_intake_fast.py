"""Single-demand intake (POST /api/v1/demands) does little per request, and still does everything it must:
validation, permissions, the timeline, notifications, and a revoked token is refused at once."""

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from huey.contrib.djhuey import HUEY

from qinqing.accounts.models import ApiToken, Role
from qinqing.api.auth import user_for_token
from qinqing.demands import tasks
from qinqing.demands.models import Demand, DemandEvent
from qinqing.notifications.models import Notification
from tests.conftest import bearer, make_user


def post(client, body, headers):
    return client.post("/api/v1/demands", json.dumps(body), content_type="application/json", **headers)


def body_for(world, **overrides):
    body = {"credit_code": world.enterprise.credit_code, "channel": "hotline", "title": "厂房租金补贴申请无人受理",
            "content": "去年申请的厂房租金补贴至今没有结果，多次电话无人接听。"}
    body.update(overrides)
    return body


def statements(captured) -> list[str]:
    """The SQL of a request, without the savepoints the test's own transaction adds."""
    return [q["sql"] for q in captured if "SAVEPOINT" not in q["sql"].upper()]


def test_a_single_intake_reads_the_token_user_and_roles_in_one_query_and_writes_three_rows(world, client):
    headers = bearer(world.dispatcher)
    post(client, body_for(world), headers)  # the token's first use writes last_used_at; not measured
    with CaptureQueriesContext(connection) as ctx:
        r = post(client, body_for(world, title="第二件诉求"), headers)
    assert r.status_code == 201, r.content
    sql = statements(ctx.captured_queries)
    assert len(sql) <= 5, "\n".join(sql)
    # The token with its user, jurisdiction, unit and role codes; the enterprise; then the year's counter,
    # the demand and its timeline entry. No query of the role grants of its own, no demand read back.
    assert [first_table(s) for s in sql] == [
        "accounts_apitoken", "enterprises_enterprise", "demands_demandsequence", "demands_demand",
        "demands_demandevent"], "\n".join(sql)


def first_table(sql: str) -> str:
    """The table a statement reads or writes (its outermost FROM, UPDATE or INSERT INTO)."""
    words = sql.replace('"', " ").split()
    if words[0].upper() == "SELECT":
        depth, i = 0, 1
        while i < len(words):  # skip subqueries in the column list
            depth += words[i].count("(") - words[i].count(")")
            if words[i].upper() == "FROM" and depth == 0:
                return words[i + 1]
            i += 1
    if words[0].upper() == "UPDATE":
        return words[1]
    if words[0].upper() == "INSERT":
        return words[2]
    return words[0]


@pytest.mark.parametrize("who", ["dispatcher", "owner"])
def test_the_201_body_is_what_reading_the_demand_back_returns(world, client, who):
    headers = bearer(getattr(world, who))
    created = post(client, body_for(world), headers)
    assert created.status_code == 201, created.content
    read = client.get(f"/api/v1/demands/{created.json()['id']}", **headers)
    assert read.status_code == 200
    # All but the text model's suggestion, which intake leaves to the reading (tests/test_textmodel_suggest.py).
    assert created.json()["suggestion"] is None
    assert created.json() == {**read.json(), "suggestion": None}
    assert created.json()["events"][0]["verb"] == "receive"


def test_the_201_body_of_a_personal_demand_with_a_named_category_and_time_is_the_read_back_too(world, client):
    headers = bearer(world.dispatcher)
    created = post(client, {"channel": "visit", "title": "路灯坏了", "content": "园区门口路灯坏了一个月。",
                            "reporter_name": "匿名", "reporter_phone": "13800000000", "nature": "opinion",
                            "category": world.hiring.pk, "received_at": "2026-12-02T09:30:15.123456+08:00"},
                   headers)
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["enterprise"], body["reporter_name"], body["nature_label"]) == (None, "匿名", "意见建议")
    assert body["received_at"] == "2026-12-02T09:30:15.123+08:00"
    assert body["allowed_verbs"] == ["dispatch", "merge", "settle"]
    assert body == {**client.get(f"/api/v1/demands/{body['id']}", **headers).json(), "suggestion": None}


def test_the_receipt_is_on_the_timeline_with_who_received_it(world, client):
    r = post(client, body_for(world), bearer(world.specialist))
    assert r.status_code == 201, r.content
    event = DemandEvent.objects.get(demand_id=r.json()["id"])
    assert (event.verb, event.actor, event.to_state) == ("receive", world.specialist, "received")
    assert r.json()["events"][0]["actor"] == world.specialist.display_name


def test_the_district_dispatcher_is_told_of_a_demand_a_specialist_received(world, client,
                                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        r = post(client, body_for(world), bearer(world.specialist))
    assert r.status_code == 201, r.content
    note = Notification.objects.get(recipient=world.dispatcher)
    assert note.demand_id == r.json()["id"]
    assert r.json()["number"] in note.text


def test_outside_the_request_notifications_are_queued_together_and_delivered_by_the_worker(world, client,
                                                                                           django_capture_on_commit_callbacks):
    HUEY.immediate = False  # as in production: the request only hands the event over
    HUEY.flush()
    try:
        with django_capture_on_commit_callbacks(execute=True):
            first = post(client, body_for(world), bearer(world.specialist))
            second = post(client, body_for(world, title="第二件"), bearer(world.specialist))
        assert first.status_code == second.status_code == 201
        assert not Notification.objects.exists()  # nothing was delivered inside the requests
        tasks._handover.flush()  # what the background thread does (waits for a batch in flight)
        queued = HUEY.pending()
        assert [t.name for t in queued] in (["deliver_events"], ["deliver_events", "deliver_events"])
    finally:
        HUEY.flush()
        HUEY.immediate = True  # the consumer's part, run here inside the test's transaction
    for task in queued:
        HUEY.execute(task)
    told = Notification.objects.filter(recipient=world.dispatcher).values_list("demand_id", flat=True)
    assert sorted(told) == sorted([first.json()["id"], second.json()["id"]])


def test_a_token_revoked_a_moment_ago_is_refused_on_the_next_call(world, client):
    raw = ApiToken.issue(world.dispatcher)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert post(client, body_for(world), headers).status_code == 201
    ApiToken.objects.filter(digest=ApiToken.hash(raw)).update(revoked=True)
    r = post(client, body_for(world, title="吊销后"), headers)
    assert r.status_code == 401
    assert Demand.objects.count() == 1


def test_a_deactivated_user_s_token_is_refused(world, client):
    headers = bearer(world.dispatcher)
    world.dispatcher.is_active = False
    world.dispatcher.save(update_fields=["is_active"])
    assert post(client, body_for(world), headers).status_code == 401


@pytest.mark.parametrize("who", ["supervisor", "leader", "other_dispatcher"])
def test_those_who_may_not_receive_this_demand_are_still_refused(world, client, who):
    r = post(client, body_for(world), bearer(getattr(world, who)))
    assert r.status_code == 403, r.content
    assert not Demand.objects.exists()


def test_an_enterprise_account_still_may_not_file_for_another_enterprise(world, client):
    r = post(client, body_for(world, credit_code=world.neighbour.credit_code), bearer(world.owner))
    assert r.status_code == 403
    assert "本企业" in r.json()["detail"]


def test_validation_still_names_the_missing_field(world, client):
    r = post(client, body_for(world, title="  "), bearer(world.dispatcher))
    assert r.status_code == 400
    assert "诉求标题" in r.json()["detail"]
    assert not Demand.objects.exists()


def test_the_token_query_brings_every_role_and_a_superuser_is_an_administrator(world):
    both = make_user("both", Role.DISPATCHER, Role.SPECIALIST, jurisdiction=world.district)
    user = user_for_token(ApiToken.issue(both))
    assert user.roles == {Role.DISPATCHER, Role.SPECIALIST}
    boss = make_user("boss", is_superuser=True)
    assert user_for_token(ApiToken.issue(boss)).roles == {Role.ADMIN}
    nobody = make_user("nobody")
    assert user_for_token(ApiToken.issue(nobody)).roles == frozenset()
    assert user_for_token("qq_not-a-token") is None


def fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_the_token_user_is_the_user_the_orm_would_load_with_jurisdiction_and_unit(world):
    user = user_for_token(ApiToken.issue(world.handler))
    orm = type(world.handler).objects.select_related("jurisdiction", "unit").get(pk=world.handler.pk)
    assert fields(user) == fields(orm)
    assert fields(user.jurisdiction) == fields(orm.jurisdiction)
    assert fields(user.unit) == fields(orm.unit) and user.unit.active is True
    assert user_for_token(ApiToken.issue(world.admin)).unit is None  # no unit: no object, no query


def test_the_enterprise_named_by_a_credit_code_is_the_one_the_orm_would_load(world):
    from qinqing.api.demands import _enterprise
    from qinqing.enterprises.models import Enterprise

    world.enterprise.tags = ["专精特新"]
    world.enterprise.save()
    found = _enterprise(world.dispatcher, world.enterprise.credit_code)
    orm = Enterprise.objects.select_related("jurisdiction").get(pk=world.enterprise.pk)
    assert fields(found) == fields(orm)
    assert fields(found.jurisdiction) == fields(orm.jurisdiction)


def test_the_intake_inserts_send_exactly_the_values_the_orm_would(world):
    from qinqing.demands import services

    demand = services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel="hotline",
                                     title="厂房租金补贴", content="补贴至今没有结果。", reporter_name="林总",
                                     nature="opinion")
    read_back = Demand.objects.get(pk=demand.pk)
    for insert, row in ((services._insert_demand, demand), (services._insert_event, demand.receipt_event),
                        (services._insert_demand, read_back), (services._insert_event, read_back.events.get())):
        orm = [f.get_db_prep_save(f.pre_save(row, True), connection) for f, *_ in insert.columns]
        ours = insert.values(row, connection)
        assert [sent(v) for v in ours] == [sent(v) for v in orm]


def sent(value):
    """A prepared value as it goes to the driver: its type, and what it holds (psycopg's Jsonb has no ==)."""
    return type(value), getattr(value, "obj", value)


API_POLICY = "default-src 'none'; frame-ancestors 'none'"


@pytest.mark.parametrize("token", ["good", "revoked"])
def test_a_bearer_call_keeps_the_security_headers_gets_the_api_policy_and_no_cookie(world, client, token):
    raw = ApiToken.issue(world.dispatcher)
    if token == "revoked":
        ApiToken.objects.filter(digest=ApiToken.hash(raw)).update(revoked=True)
    r = post(client, body_for(world), {"HTTP_AUTHORIZATION": f"Bearer {raw}"})
    assert r.status_code == (201 if token == "good" else 401), r.content
    assert (r["X-Content-Type-Options"], r["X-Frame-Options"], r["Referrer-Policy"]) == ("nosniff", "DENY",
                                                                                          "same-origin")
    assert r["Content-Security-Policy"] == API_POLICY
    assert not r.cookies and "Cookie" not in r.get("Vary", "")


def test_a_call_with_the_session_cookie_goes_through_the_session_middleware(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.dispatcher)
    r = client.get("/api/v1/demands")
    assert r.status_code == 200
    assert "script-src 'self'" in r["Content-Security-Policy"]  # the pages' policy: the whole chain ran
    r = client.post("/api/v1/demands", json.dumps(body_for(world)), content_type="application/json")
    assert r.status_code == 403 and r.json()["code"] == "csrf"  # a session write still needs the CSRF token


@pytest.mark.parametrize(("title", "content", "name"), [
    ("厂房租金补贴申请无人受理", "去年申请的厂房租金补贴至今没有结果，多次电话无人接听。", "深圳市南山区智造科技有限公司"),
    ("ERP系统对接", "希望税务局开放API接口，2026年底前完成对接。", "Shenzhen ABC 电子有限公司"),
    ("路灯坏了", "园区门口路灯坏了一个月，员工夜间下班不安全。", ""),
    ("融资难", "科技公司贷款难，担保公司要求反担保。", "科技公司"),
])
def test_the_stored_search_words_are_what_lib_text_makes_of_title_content_and_enterprise(title, content, name):
    from qinqing.demands.services import search_words
    from qinqing.lib.text import search_text

    assert search_words(title, content, name) == search_text(title, content, name)
    assert search_words(title, content, name) == search_text(title, content, name)  # the name's words cached
