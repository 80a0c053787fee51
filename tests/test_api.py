"""The JSON API under /api/v1/: intake, the ledger, one demand, transitions, errors."""

import datetime as dt
import json

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from qinqing.accounts.models import ApiToken
from qinqing.demands import services
from qinqing.demands.models import Channel, Demand, State
from qinqing.lib import uscc
from tests.conftest import bearer, real_codes


def post(client, path, body=None, headers=None):
    return client.post(f"/api/v1{path}", json.dumps(body or {}), content_type="application/json",
                       **(headers or {}))


def get(client, path, headers=None, **params):
    return client.get(f"/api/v1{path}", params, **(headers or {}))


def new_demand_body(world, **overrides):
    body = {"credit_code": world.enterprise.credit_code, "channel": "hotline", "title": "厂房租金补贴申请无人受理",
            "content": "去年申请的厂房租金补贴至今没有结果，多次电话无人接听。"}
    body.update(overrides)
    return body


# ---------------------------------------------------------------- intake

def test_receiving_a_demand_returns_201_with_its_four_due_dates(world, client):
    r = post(client, "/demands", new_demand_body(world, received_at="2026-09-30T10:00:00+08:00",
                                                  category="引才用工难"), bearer(world.dispatcher))
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["number"].startswith("QQ2026-")
    assert (body["dispatch_due"], body["contact_due"], body["path_due"], body["resolve_due"]) == (
        "2026-09-30", "2026-10-08", "2026-10-09", "2026-10-30")
    assert body["state"] == "received" and body["state_label"] == "待交办"
    assert body["current_stage"] == "dispatch" and body["next_due"] == "2026-09-30"
    assert body["enterprise"] == {"id": world.enterprise.pk, "name": world.enterprise.name,
                                  "credit_code": world.enterprise.credit_code}
    assert body["category"]["name"] == "引才用工难"
    assert body["channel"] == "hotline" and body["version"] == 1
    assert body["received_at"] == "2026-09-30T10:00:00+08:00"
    assert "dispatch" in body["allowed_verbs"]
    assert [e["verb"] for e in body["events"]] == ["receive"]


def test_a_received_at_without_time_zone_is_read_as_beijing_time(world, client):
    r = post(client, "/demands", new_demand_body(world, received_at="2026-09-30T23:30:00"),
             bearer(world.dispatcher))
    assert r.status_code == 201, r.content
    assert r.json()["received_at"] == "2026-09-30T23:30:00+08:00"
    assert r.json()["dispatch_due"] == "2026-09-30"


def test_an_invalid_credit_code_is_refused_naming_the_check_character(world, client):
    code = world.enterprise.credit_code
    expected = code[17]
    wrong = next(ch for ch in uscc.ALPHABET if ch != expected)
    r = post(client, "/demands", new_demand_body(world, credit_code=code[:17] + wrong), bearer(world.dispatcher))
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_credit_code"
    assert f"第18位应为“{expected}”" in r.json()["detail"]
    assert not Demand.objects.exists()


def test_an_unknown_but_valid_credit_code_says_the_registry_has_no_such_enterprise_within_reach(world, client):
    unknown = real_codes()[5]
    r = post(client, "/demands", new_demand_body(world, credit_code=unknown), bearer(world.dispatcher))
    assert r.status_code == 403
    assert r.json() == {"detail": f"企业库中没有统一社会信用代码为{unknown}的企业，或您无权为其受理诉求。",
                        "code": "unknown_enterprise"}


def test_a_credit_code_typed_in_lower_case_with_spaces_is_normalised(world, client):
    code = world.enterprise.credit_code
    messy = f" {code[:9].lower()} {code[9:].lower()} "
    r = post(client, "/demands", new_demand_body(world, credit_code=messy), bearer(world.dispatcher))
    assert r.status_code == 201, r.content
    assert r.json()["enterprise"]["credit_code"] == code


def test_the_category_may_be_given_by_id_and_an_unknown_or_retired_one_is_refused(world, client):
    r = post(client, "/demands", new_demand_body(world, category=world.finance_kind.pk), bearer(world.dispatcher))
    assert r.json()["category"]["name"] == "融资难"
    r = post(client, "/demands", new_demand_body(world, category="不存在的类别"), bearer(world.dispatcher))
    assert r.status_code == 400 and r.json()["detail"] == "类别“不存在的类别”不存在。"
    world.finance_kind.active = False
    world.finance_kind.save()
    r = post(client, "/demands", new_demand_body(world, category="融资难"), bearer(world.dispatcher))
    assert r.status_code == 400 and r.json()["detail"] == "类别“融资难”已停用。"


def test_a_dispatcher_cannot_receive_for_an_enterprise_outside_their_district_nor_learn_it_exists(world, client):
    code = world.other_enterprise.credit_code
    r = post(client, "/demands", new_demand_body(world, credit_code=code), bearer(world.dispatcher))
    assert r.status_code == 403
    assert r.json() == {"detail": f"企业库中没有统一社会信用代码为{code}的企业，或您无权为其受理诉求。",
                        "code": "unknown_enterprise"}


def test_an_enterprise_submits_for_itself_without_a_credit_code_but_not_for_another(world, client):
    body = new_demand_body(world, credit_code=None, channel="online")
    r = post(client, "/demands", body, bearer(world.owner))
    assert r.status_code == 201, r.content
    assert r.json()["enterprise"]["name"] == world.enterprise.name
    r = post(client, "/demands", new_demand_body(world, credit_code=world.neighbour.credit_code),
             bearer(world.owner))
    assert r.status_code == 403 and r.json()["detail"] == "企业用户只能为本企业提交诉求。"


def test_a_demand_without_enterprise_needs_the_reporters_name(world, client):
    body = new_demand_body(world, credit_code=None)
    r = post(client, "/demands", body, bearer(world.dispatcher))
    assert r.status_code == 400 and "反映人" in r.json()["detail"]
    r = post(client, "/demands", {**body, "reporter_name": "匿名", "reporter_phone": "13900000000"},
             bearer(world.dispatcher))
    assert r.status_code == 201 and r.json()["enterprise"] is None and r.json()["reporter_name"] == "匿名"


# ---------------------------------------------------------------- the loop

def test_the_whole_loop_runs_through_the_api_to_closed(world, client):
    dispatcher, handler, owner = bearer(world.dispatcher), bearer(world.handler), bearer(world.owner)
    d = post(client, "/demands", new_demand_body(world, received_at="2026-09-30T10:00:00+08:00"), dispatcher).json()
    ref = d["number"]
    steps = [
        (dispatcher, "dispatch", {"lead_unit": world.bureau.pk, "co_units": [world.finance.pk],
                                  "category": world.hiring.pk, "note": "请人社局牵头"}, "dispatched"),
        (handler, "accept", {}, "accepted"),
        (handler, "contact", {"method": "电话", "note": "已与林总通话"}, "contacted"),
        (handler, "plan", {"path": "对接职业院校定向培养"}, "planned"),
        (handler, "request_extension", {"days": 5, "reason": "院校排期"}, "planned"),
        (dispatcher, "approve_extension", {"note": "同意"}, "planned"),
        (handler, "reply", {"reply": "已对接两所院校", "outcome": "solved"}, "replied"),
        (owner, "evaluate", {"evaluation": "satisfied", "comment": "很及时"}, "evaluated"),
        (dispatcher, "close", {"note": "销号"}, "closed"),
    ]
    for headers, verb, body, state in steps:
        r = post(client, f"/demands/{ref}/{verb}", {**body, "version": d["version"]}, headers)
        assert r.status_code == 200, (verb, r.content)
        d = r.json()
        assert d["state"] == state, verb
    assert d["state_label"] == "已办结" and d["outcome"] == "solved" and d["evaluation"] == "satisfied"
    assert d["lead_unit"]["name"] == world.bureau.name and [u["name"] for u in d["co_units"]] == [world.finance.name]
    assert d["resolve_due"] == "2026-11-06"  # 2026-10-30 plus five approved working days
    assert [e["verb"] for e in d["events"]] == ["receive", "dispatch", "accept", "contact", "plan",
                                               "request_extension", "approve_extension", "reply", "evaluate",
                                               "close"]
    assert d["events"][1]["actor"] == "赵调度" and d["events"][1]["verb_label"] == "交办"
    assert d["allowed_verbs"] == []


def test_an_unsatisfied_enterprise_gets_the_demand_reopened(world, demand, client):
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    services.contact_enterprise(world.handler, demand.pk, method="电话")
    services.reply_demand(world.handler, demand.pk, reply="已答复", outcome="explained")
    r = post(client, f"/demands/{demand.pk}/evaluate", {"evaluation": "unsatisfied", "comment": "没解决"},
             bearer(world.owner))
    assert r.json()["allowed_verbs"] == ["reopen"]
    r = post(client, f"/demands/{demand.pk}/reopen", {"reason": "企业不满意"}, bearer(world.owner))
    assert r.status_code == 200 and r.json()["state"] == "reopened"


def test_an_illegal_transition_is_409_with_the_chinese_message(world, demand, client):
    r = post(client, f"/demands/{demand.pk}/close", {}, bearer(world.dispatcher))
    assert r.status_code == 409
    assert r.json() == {"detail": "诉求当前状态为“待交办”，不能进行“销号”操作。", "code": "illegal_transition"}


def test_a_stale_version_is_409_and_changes_nothing(world, demand, client):
    body = {"lead_unit": world.bureau.pk, "version": demand.version}
    assert post(client, f"/demands/{demand.pk}/dispatch", body, bearer(world.dispatcher)).status_code == 200
    r = post(client, f"/demands/{demand.pk}/return", {"reason": "不归我们", "version": demand.version},
             bearer(world.handler))
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    assert "已被他人更新" in r.json()["detail"]
    assert Demand.objects.get(pk=demand.pk).state == State.DISPATCHED


def test_someone_who_sees_the_demand_but_may_not_act_gets_403(world, demand, client):
    r = post(client, f"/demands/{demand.pk}/dispatch", {"lead_unit": world.bureau.pk}, bearer(world.owner))
    assert r.status_code == 403
    assert r.json() == {"detail": "只有调度员可以对该诉求进行“交办”操作。", "code": "forbidden"}


def test_a_unit_that_returns_a_demand_gets_it_back_without_actions(world, demand, client):
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    r = post(client, f"/demands/{demand.pk}/return", {"reason": "应由市场监管局办理"}, bearer(world.handler))
    assert r.status_code == 200
    assert r.json()["state"] == "returned" and r.json()["allowed_verbs"] == [] and r.json()["events"] == []
    assert get(client, f"/demands/{demand.pk}", bearer(world.handler)).status_code == 404


def test_a_duplicate_is_merged_by_number_and_the_enterprise_does_not_see_the_internal_note(world, demand, client):
    duplicate = services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.HOTLINE,
                                        title="还是招工难", content="同一件事又打了12345。")
    r = post(client, f"/demands/{duplicate.number}/merge", {"into": demand.number}, bearer(world.dispatcher))
    assert r.status_code == 200 and r.json()["state"] == "merged"
    staff_view = get(client, f"/demands/{demand.number}", bearer(world.dispatcher)).json()
    owner_view = get(client, f"/demands/{demand.number}", bearer(world.owner)).json()
    assert [e["verb"] for e in staff_view["events"]] == ["receive", "merge"]
    assert [e["verb"] for e in owner_view["events"]] == ["receive"]


def test_an_unknown_verb_is_404(world, demand, client):
    r = post(client, f"/demands/{demand.pk}/approve", {}, bearer(world.dispatcher))
    assert r.status_code == 404 and r.json()["code"] == "not_found"


# ---------------------------------------------------------------- outsiders

VERB_BODIES = {
    "dispatch": {"lead_unit": 1}, "return": {"reason": "x"}, "accept": {}, "contact": {"method": "电话"},
    "plan": {"path": "x"}, "request_extension": {"days": 3, "reason": "x"}, "approve_extension": {},
    "reject_extension": {"note": "x"}, "escalate": {"reason": "x"}, "mark_long_term": {"reason": "x"},
    "transfer": {"reason": "x"}, "reply": {"reply": "x", "outcome": "solved"},
    "evaluate": {"evaluation": "satisfied"}, "reopen": {"reason": "x"}, "close": {}, "merge": {"into": 1},
    "settle": {"solution": "x"},
}


def test_every_verb_has_an_endpoint():
    from qinqing.demands.verbs import RULES

    assert set(VERB_BODIES) == set(RULES)


@pytest.mark.parametrize("outsider", ["other_owner", "other_handler", "other_dispatcher", "neighbour_owner"])
def test_an_outsider_gets_404_on_the_demand_and_on_every_verb(world, demand, client, outsider):
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    headers = bearer(getattr(world, outsider))
    for ref in (demand.pk, demand.number):
        r = get(client, f"/demands/{ref}", headers)
        assert r.status_code == 404 and r.json()["detail"] == "诉求不存在或您无权查看。"
        for verb, body in VERB_BODIES.items():
            r = post(client, f"/demands/{ref}/{verb}", body, headers)
            assert r.status_code == 404, (verb, r.content)
            assert r.json()["detail"] == "诉求不存在或您无权查看。"
    assert Demand.objects.get(pk=demand.pk).version == demand.version + 1


def test_outsiders_lists_are_empty(world, demand, client):
    for outsider in (world.other_owner, world.other_handler, world.other_dispatcher, world.neighbour_owner):
        r = get(client, "/demands", bearer(outsider))
        assert r.status_code == 200 and r.json() == {"items": [], "next": None, "count": None}


# ---------------------------------------------------------------- the ledger

def test_the_list_filters_by_state_category_and_overdue(world, demand, client):
    fresh = services.receive_demand(world.dispatcher, enterprise=world.neighbour, channel=Channel.VISIT,
                                    title="贷款续贷困难", content="银行抽贷", category=world.finance_kind)
    services.dispatch_demand(world.dispatcher, fresh, lead_unit=world.finance)
    headers = bearer(world.dispatcher)

    def numbers(**params):
        r = get(client, "/demands", headers, **params)
        assert r.status_code == 200, r.content
        return {item["number"] for item in r.json()["items"]}

    assert numbers() == {demand.number, fresh.number}
    assert numbers(state="dispatched") == {fresh.number}
    assert numbers(state=["dispatched", "received"]) == {demand.number, fresh.number}
    assert numbers(category=world.hiring.pk) == {demand.number}
    assert numbers(overdue="any") == {demand.number}  # received 2026-09-30, never dispatched
    assert numbers(overdue="dispatch", category=world.finance_kind.pk) == set()
    assert numbers(q="贷款") == {fresh.number}


def test_an_invalid_filter_is_400_in_chinese(world, client):
    r = get(client, "/demands", bearer(world.dispatcher), state="bogus")
    assert r.status_code == 400 and r.json()["detail"].startswith("筛选条件有误：状态")


def test_the_list_pages_by_offset_with_nearest_deadline_first(world, client):
    for i in range(5):
        services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT,
                                title=f"诉求{i}", content="内容", received_at=dt.datetime(2026, 10, 12 + i, 9))
    headers = bearer(world.dispatcher)
    first = get(client, "/demands", headers, limit=2).json()
    assert [d["title"] for d in first["items"]] == ["诉求0", "诉求1"] and first["next"] == 2
    last = get(client, "/demands", headers, limit=2, offset=4, count="true").json()
    assert [d["title"] for d in last["items"]] == ["诉求4"] and last["next"] is None and last["count"] == 5
    assert get(client, "/demands", headers, limit=100000).status_code == 200


def _many_demands(world, n):
    for i in range(n):
        d = services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT,
                                    title=f"诉求{i}", content="内容", category=world.hiring)
        services.dispatch_demand(world.dispatcher, d, lead_unit=world.bureau, co_units=[world.finance])


@pytest.mark.parametrize("who", ["dispatcher", "handler", "owner"])
def test_the_list_costs_the_same_queries_for_3_or_30_demands(world, client, django_assert_num_queries,
                                                             django_assert_max_num_queries, who):
    headers = bearer(getattr(world, who))
    get(client, "/demands", headers)  # the first call records the token's use
    _many_demands(world, 3)
    # token, roles, (the dispatcher's jurisdiction,) the page, its co-units
    with django_assert_max_num_queries(5) as few:
        r = get(client, "/demands", headers, limit=200)
    assert len(r.json()["items"]) == 3
    _many_demands(world, 27)
    with django_assert_num_queries(len(few.captured_queries)):
        r = get(client, "/demands", headers, limit=200)
    assert len(r.json()["items"]) == 30


def test_the_detail_costs_the_same_queries_however_long_the_timeline(world, demand, client,
                                                                      django_assert_max_num_queries):
    headers = bearer(world.dispatcher)
    get(client, f"/demands/{demand.pk}", headers)
    with django_assert_max_num_queries(7) as short:
        get(client, f"/demands/{demand.pk}", headers)
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau, co_units=[world.finance])
    services.accept_demand(world.handler, demand.pk)
    services.contact_enterprise(world.handler, demand.pk, method="电话")
    with django_assert_max_num_queries(len(short.captured_queries)):
        r = get(client, f"/demands/{demand.pk}", headers)
    assert len(r.json()["events"]) == 4


# ---------------------------------------------------------------- errors and authentication

def test_a_missing_field_is_422_with_a_chinese_detail(world, client):
    r = post(client, "/demands", {"channel": "visit", "content": "x"}, bearer(world.dispatcher))
    assert r.status_code == 422
    assert r.json()["detail"] == "请求参数有误：title 为必填项"
    assert r.json()["code"] == "validation"


def test_a_body_that_is_not_json_is_400_in_chinese(world, client):
    r = client.post("/api/v1/demands", "{oops", content_type="application/json", **bearer(world.dispatcher))
    assert r.status_code == 400 and r.json()["detail"] == "请求体不是有效的 JSON。"


def test_no_token_or_a_revoked_token_is_401_in_chinese(world, demand, client):
    r = get(client, "/demands")
    assert r.status_code == 401 and r.json()["code"] == "unauthenticated" and "令牌" in r.json()["detail"]
    headers = bearer(world.dispatcher)
    ApiToken.objects.update(revoked=True)
    assert get(client, f"/demands/{demand.pk}", headers).status_code == 401
    assert post(client, "/demands", new_demand_body(world), {"HTTP_AUTHORIZATION": "Bearer nope"}).status_code == 401


def test_a_logged_in_browser_reads_with_its_session_and_writes_only_with_csrf(world, demand):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.dispatcher)
    assert browser.get(f"/api/v1/demands/{demand.pk}").status_code == 200
    r = browser.post(f"/api/v1/demands/{demand.pk}/dispatch", json.dumps({"lead_unit": world.bureau.pk}),
                     content_type="application/json")
    assert r.status_code == 403 and r.json()["code"] == "csrf"
    assert Demand.objects.get(pk=demand.pk).state == State.RECEIVED
    browser.cookies["csrftoken"] = token = "a" * 32
    r = browser.post(f"/api/v1/demands/{demand.pk}/dispatch", json.dumps({"lead_unit": world.bureau.pk}),
                     content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert r.status_code == 200 and r.json()["state"] == "dispatched"


def test_using_a_token_records_when_it_was_last_used(world, client):
    headers = bearer(world.dispatcher)
    assert ApiToken.objects.get().last_used_at is None
    get(client, "/demands", headers)
    assert ApiToken.objects.get().last_used_at is not None


def test_an_unknown_api_address_is_a_json_404(world, client):
    r = get(client, "/nothing-here", bearer(world.dispatcher))
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_the_openapi_document_is_served_and_lists_the_demand_endpoints(db, client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    paths = json.loads(r.content)["paths"]
    assert "/api/v1/demands" in paths
    assert "/api/v1/demands/{ref}/dispatch" in paths
    assert "/api/v1/demands/{ref}/{verb}" not in paths


# ---------------------------------------------------------------- issue_token

def test_issue_token_prints_a_token_that_works(world, demand, client, capsys):
    call_command("issue_token", "dispatcher", "--name", "12345对接")
    raw = capsys.readouterr().out.strip().splitlines()[-1]
    assert raw.startswith("qq_")
    assert ApiToken.objects.get().name == "12345对接"
    r = get(client, f"/demands/{demand.number}", {"HTTP_AUTHORIZATION": f"Bearer {raw}"})
    assert r.status_code == 200 and r.json()["number"] == demand.number


def test_issue_token_for_an_unknown_user_fails_in_chinese(db):
    with pytest.raises(CommandError, match="用户“nobody”不存在"):
        call_command("issue_token", "nobody")
