"""The pages and API of qinqing.handling: 我的诉求, the demand page's people card, 常用语 on the reply form,
internal notes hidden from the enterprise (portal and API), bulk actions, and the API's assign / notes / mine."""

import json

import pytest
from django.urls import reverse

from qinqing.demands import services as demand_services
from qinqing.demands.models import Channel, Demand, DemandEvent
from qinqing.handling import services
from qinqing.handling.models import Assignment, Watch
from qinqing.notifications.models import Notification
from tests.conftest import at, bearer, login


@pytest.fixture
def dispatched(world, demand):
    return demand_services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)


def _received(world, n, title="批量诉求"):
    return [demand_services.receive_demand(
        world.dispatcher, enterprise=world.enterprise, channel=Channel.HOTLINE, title=f"{title}{i}", content="内容",
        category=world.hiring, received_at=at("2026-12-01 09:00")) for i in range(n)]


def _assigned(world, n):
    out = []
    for d in _received(world, n, "指派诉求"):
        demand_services.dispatch_demand(world.dispatcher, d, lead_unit=world.bureau)
        services.assign_demand(world.head, d, assignee=world.handler)
        out.append(d)
    return out


# ---------------------------------------------------------------- my demands

def test_a_handler_finds_my_demands_in_the_navigation_with_their_total(world):
    rows = _assigned(world, 3)
    client = login(world.handler)
    home = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("handling:mine")}"' in home and "我的诉求" in home
    page = client.get(reverse("handling:mine")).content.decode()
    assert "共 <strong>3</strong> 件" in page
    assert all(d.number in page for d in rows)
    assert "我的诉求" not in login(world.dispatcher).get(reverse("home")).content.decode()


def test_my_demands_costs_the_same_queries_for_3_or_30_demands(world, django_assert_max_num_queries):
    _assigned(world, 3)
    client = login(world.handler)
    client.get(reverse("handling:mine"))  # warm the per-process caches (taxonomy, calendar)
    with django_assert_max_num_queries(14) as few:
        assert client.get(reverse("handling:mine")).status_code == 200
    _assigned(world, 27)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("handling:mine")).content.decode()
    assert "共 <strong>30</strong> 件" in page


def test_my_demands_pages_by_fifty_nearest_deadline_first(world):
    rows = _assigned(world, 51)
    client = login(world.handler)
    first = client.get(reverse("handling:mine")).content.decode()
    second = client.get(reverse("handling:mine") + "?page=2").content.decode()
    assert "共51条" in first and "第51–51条" in second
    expected = list(services.my_demands(world.handler).values_list("number", flat=True))
    assert expected[0] in first and expected[-1] in second and expected[-1] not in first
    assert len(expected) == len(rows)


# ---------------------------------------------------------------- the demand page

def test_the_head_assigns_from_the_demand_page_and_the_handler_is_named_there(world, dispatched):
    client = login(world.head)
    page = client.get(reverse("demands:detail", args=[dispatched.number])).content.decode()
    assert "指派承办人" in page and "钱承办" in page
    response = client.post(reverse("handling:assign", args=[dispatched.number]), {"assignee": world.handler.pk})
    assert response.status_code == 302
    assert Assignment.objects.get(demand=dispatched).assignee == world.handler
    page = client.get(reverse("demands:detail", args=[dispatched.number])).content.decode()
    assert "改派承办人" in page and "改派理由" in page
    # A handler sees who handles it, but no assign form.
    page = login(world.handler).get(reverse("demands:detail", args=[dispatched.number])).content.decode()
    assert "钱承办" in page and "改派承办人" not in page


def test_a_reassignment_without_a_reason_is_refused_on_the_page(world, dispatched):
    services.assign_demand(world.head, dispatched, assignee=world.handler)
    client = login(world.head)
    response = client.post(reverse("handling:assign", args=[dispatched.number]),
                           {"assignee": world.head.pk, "reason": ""}, follow=True)
    assert "不是本诉求主办单位的在岗承办人" in response.content.decode()
    assert Assignment.objects.get(demand=dispatched).assignee == world.handler


def test_watching_from_the_demand_page(world, dispatched):
    client = login(world.leader)
    client.post(reverse("handling:watch", args=[dispatched.number]), {"follow": "1"})
    assert Watch.objects.filter(demand=dispatched, user=world.leader).exists()
    page = client.get(reverse("demands:detail", args=[dispatched.number])).content.decode()
    assert "取消关注" in page
    client.post(reverse("handling:watch", args=[dispatched.number]), {"follow": "0"})
    assert not Watch.objects.exists()


def test_an_internal_note_shows_on_the_staff_timeline_and_never_in_the_portal_or_the_api(
        world, dispatched, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = login(world.dispatcher).post(reverse("handling:note", args=[dispatched.number]),
                                                {"text": "@钱承办 企业老板脾气急，内部备注KLM"})
    assert response.status_code == 302
    staff_page = login(world.head).get(reverse("demands:detail", args=[dispatched.number])).content.decode()
    assert "内部备注KLM" in staff_page and "内部备注" in staff_page
    assert Notification.objects.filter(recipient=world.handler, text__contains="内部备注KLM").exists()
    owner = login(world.owner)
    portal = (owner.get(reverse("portal:detail", args=[dispatched.number])).content.decode()
              + owner.get(reverse("portal:home")).content.decode()
              + owner.get(reverse("notifications:centre")).content.decode())
    api = owner.get(f"/api/v1/demands/{dispatched.number}", **bearer(world.owner)).content.decode()
    for text in (portal, api):
        assert "内部备注KLM" not in text and "钱承办" not in text


def test_a_note_mentioning_an_outsider_is_refused_on_the_page(world, dispatched):
    response = login(world.dispatcher).post(reverse("handling:note", args=[dispatched.number]),
                                            {"text": "@周外区 请协助"}, follow=True)
    assert "无权查看该诉求，不能提及" in response.content.decode()
    assert not DemandEvent.objects.filter(verb="note").exists()


def test_the_reply_form_offers_canned_replies_with_placeholders_filled(world, dispatched):
    services.create_canned_reply(world.head, scope="unit", title="招聘会答复",
                                 text="{企业名称}：您的诉求{诉求编号}已协调专场招聘会。")
    demand_services.accept_demand(world.handler, dispatched)
    demand_services.contact_enterprise(world.handler, dispatched, method="电话")
    page = login(world.handler).get(reverse("demands:detail", args=[dispatched.number])).content.decode()
    assert 'data-canned-target="reply"' in page
    assert f"深圳市南头精密制造有限公司：您的诉求{dispatched.number}已协调专场招聘会。" in page
    assert "/static/handling/canned.js" in page


def test_a_unit_head_keeps_the_units_canned_replies_on_their_page(world):
    client = login(world.head)
    response = client.post(reverse("handling:canned"), {"title": "补贴答复", "text": "{企业名称}您好", "scope": "unit"})
    assert response.status_code == 302
    page = client.get(reverse("handling:canned")).content.decode()
    assert "补贴答复" in page and "本单位" in page
    response = client.post(reverse("handling:canned"), {"title": "错", "text": "{企业}您好", "scope": "unit"})
    assert response.status_code == 400 and "不认识的占位符" in response.content.decode()
    assert login(world.handler).get(reverse("handling:canned")).status_code == 404


# ---------------------------------------------------------------- bulk actions

def test_bulk_dispatch_from_the_dispatch_inbox_reports_each_row(world, dispatched):
    fresh = _received(world, 3)
    client = login(world.dispatcher)
    inbox = client.get(reverse("demands:dispatch_inbox")).content.decode()
    assert f'{reverse("handling:bulk")}?source=dispatch' in inbox
    page = client.get(reverse("handling:bulk") + "?source=dispatch").content.decode()
    assert all(f'value="{d.number}"' in page for d in fresh) and f'value="{dispatched.number}"' not in page
    picked = [fresh[0].number, dispatched.number, fresh[2].number]
    response = client.post(reverse("handling:bulk") + "?source=dispatch",
                           {"action": "dispatch", "pick": picked, "unit": world.finance.pk})
    body = response.content.decode()
    assert response.status_code == 200
    assert "成功2件，失败1件" in body
    assert "失败：诉求当前状态为“待签收”，不能进行“交办”操作。" in body
    states = dict(Demand.objects.filter(number__in=picked).values_list("number", "lead_unit"))
    assert states == {fresh[0].number: world.finance.pk, dispatched.number: world.bureau.pk,
                      fresh[2].number: world.finance.pk}


def test_export_selected_downloads_only_the_ticked_demands(world):
    fresh = _received(world, 3)
    client = login(world.dispatcher)
    response = client.post(reverse("handling:bulk"), {"action": "export", "pick": [fresh[0].number, fresh[2].number]})
    assert response.status_code == 302 and response["Location"].startswith(reverse("workbench:export"))
    export = client.get(response["Location"])
    assert export.status_code == 200
    import io

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(export.content)).active
    numbers = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert numbers == {fresh[0].number, fresh[2].number}


def test_the_ledger_links_to_bulk_actions_with_its_filters(world):
    _received(world, 1)
    page = login(world.dispatcher).get(reverse("demands:ledger") + "?state=received").content.decode()
    assert f'{reverse("handling:bulk")}?source=ledger&amp;state=received' in page


# ---------------------------------------------------------------- API

def test_the_api_assigns_a_handler_once_per_idempotency_key(world, dispatched, client):
    headers = {**bearer(world.head), "HTTP_IDEMPOTENCY_KEY": "assign-1"}
    body = json.dumps({"assignee": "handler"})
    first = client.post(f"/api/v1/demands/{dispatched.number}/assign", body, content_type="application/json",
                        **headers)
    assert first.status_code == 200, first.content
    again = client.post(f"/api/v1/demands/{dispatched.number}/assign", body, content_type="application/json",
                        **headers)
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert DemandEvent.objects.filter(verb="assign").count() == 1
    refused = client.post(f"/api/v1/demands/{dispatched.number}/assign", json.dumps({"assignee": "handler"}),
                          content_type="application/json", **bearer(world.handler))
    assert refused.status_code == 403 and "只有主办单位负责人" in refused.json()["detail"]


def test_the_api_lists_my_demands_in_few_queries(world, client, django_assert_max_num_queries):
    rows = _assigned(world, 3)
    headers = bearer(world.handler)
    with django_assert_max_num_queries(8) as few:
        answer = client.get("/api/v1/handling/mine", **headers).json()
    assert [item["number"] for item in answer["items"]] == [d.number for d in services.my_demands(world.handler)]
    assert answer["count"] == 3 and {d.number for d in rows} == {i["number"] for i in answer["items"]}
    _assigned(world, 20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/api/v1/handling/mine", **headers).json()["count"] == 23


def test_the_api_note_mentions_and_is_hidden_from_the_enterprise(world, dispatched, client):
    response = client.post(f"/api/v1/demands/{dispatched.number}/notes",
                           json.dumps({"text": "@head 请安排专人，内部备注QAZ"}), content_type="application/json",
                           **bearer(world.dispatcher))
    assert response.status_code == 201, response.content
    assert response.json()["mentioned"] == ["孙局长"]
    staff = client.get(f"/api/v1/demands/{dispatched.number}", **bearer(world.head)).content.decode()
    assert "内部备注QAZ" in staff
    owner = client.get(f"/api/v1/demands/{dispatched.number}", **bearer(world.owner)).content.decode()
    assert "内部备注QAZ" not in owner
    refused = client.post(f"/api/v1/demands/{dispatched.number}/notes", json.dumps({"text": "@林总 请补材料"}),
                          content_type="application/json", **bearer(world.dispatcher))
    assert refused.status_code == 403 and "不能提及" in refused.json()["detail"]


def test_a_ledger_filter_reaching_the_ends_of_the_calendar_answers_instead_of_failing(world, demand, client):
    """The filter module (touched here for 导出所选): 0001-01-01 in Shanghai lies before the first UTC datetime."""
    answer = client.get("/api/v1/demands?received_from=0001-01-01&received_to=9999-12-31", **bearer(world.dispatcher))
    assert answer.status_code == 200
    assert [item["number"] for item in answer.json()["items"]] == [demand.number]
