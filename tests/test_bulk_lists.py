"""Bulk actions on the lists themselves (qinqing.handling): the ledger and the unit inbox carry a tick box per
row and an action bar that posts the ticked rows to the bulk page, keeping the list's filters and page; the
result names every row and leads back to the same list."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from qinqing.demands import services as demand_services
from qinqing.demands.models import Channel, Demand, State
from qinqing.handling import services
from tests.conftest import at, login

LEDGER = reverse("demands:ledger")
BULK = reverse("handling:bulk")


def _received(world, n, title="台账批量"):
    return [demand_services.receive_demand(
        world.dispatcher, enterprise=world.enterprise, channel=Channel.HOTLINE, title=f"{title}{i}", content="内容",
        category=world.hiring, received_at=at("2026-12-01 09:00")) for i in range(n)]


def _bar_action(html: str) -> str:
    found = re.search(r'<form id="bulk-form" method="post" action="([^"]+)"', html)
    assert found, "the list has no bulk action bar"
    return found.group(1).replace("&amp;", "&")


def test_the_ledger_has_a_tick_box_per_row_and_a_bar_that_keeps_its_filters_and_page(world):
    rows = _received(world, 3)
    html = login(world.dispatcher).get(LEDGER, {"state": "received", "page": "1"}).content.decode()
    for d in rows:
        assert f'name="pick" value="{d.number}" form="bulk-form"' in html
    assert 'data-pick-all' in html and "handling/bulk.js" in html
    action = _bar_action(html)
    assert action.startswith(BULK + "?") and "state=received" in action and "page=1" in action
    assert "source=ledger" in action
    assert '<option value="dispatch">交办到单位</option>' in html and world.finance.name in html
    assert '<option value="export">导出所选（Excel）</option>' in html


def test_a_dispatcher_dispatches_ticked_ledger_rows_and_comes_back_to_the_same_page(world, demand):
    fresh = _received(world, 3)
    demand_services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    client = login(world.dispatcher)
    action = _bar_action(client.get(LEDGER, {"q": "台账批量", "page": "1"}).content.decode())
    picked = [fresh[0].number, demand.number, fresh[2].number]
    response = client.post(action, {"origin": "list", "action": "dispatch", "pick": picked,
                                    "unit": world.finance.pk, "note": "请金融局牵头"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "批量交办到单位：成功2件，失败1件" in body
    assert body.count('class="row-ok"') == 2 and body.count('class="row-failed"') == 1
    assert "不能进行“交办”操作" in body
    # 返回继续操作 leads to the ledger with its keyword and page, not to the bulk page
    back = re.search(r'<a class="btn btn-small" href="([^"]+)">返回继续操作</a>', body).group(1).replace("&amp;", "&")
    assert back.startswith(LEDGER + "?") and "page=1" in back and "source" not in back
    assert "q=%E5%8F%B0" in back
    leads = dict(Demand.objects.filter(number__in=picked).values_list("number", "lead_unit"))
    assert leads == {fresh[0].number: world.finance.pk, demand.number: world.bureau.pk,
                     fresh[2].number: world.finance.pk}
    assert Demand.objects.get(number=fresh[1].number).state == State.RECEIVED  # not ticked, not touched


def test_a_bar_posted_with_nothing_ticked_returns_to_the_ledger_with_the_reason(world):
    _received(world, 2)
    client = login(world.dispatcher)
    action = _bar_action(client.get(LEDGER, {"state": "received"}).content.decode())
    response = client.post(action, {"origin": "list", "action": "urge"})
    assert response.status_code == 302 and response["Location"] == f"{LEDGER}?state=received"
    assert "请至少勾选一件诉求。" in client.get(response["Location"]).content.decode()


def test_export_selected_from_the_ledger_bar_downloads_the_ticked_rows(world):
    import io

    from openpyxl import load_workbook

    fresh = _received(world, 3)
    client = login(world.dispatcher)
    action = _bar_action(client.get(LEDGER).content.decode())
    response = client.post(action, {"origin": "list", "action": "export", "pick": [fresh[1].number]})
    assert response.status_code == 302
    sheet = load_workbook(io.BytesIO(client.get(response["Location"]).content)).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [fresh[1].number]


def test_a_unit_head_assigns_ticked_rows_from_the_unit_inbox(world):
    rows = _received(world, 2, "本单位批量")
    for d in rows:
        demand_services.dispatch_demand(world.dispatcher, d, lead_unit=world.bureau)
    client = login(world.head)
    html = client.get(reverse("demands:unit_inbox")).content.decode()
    assert '<option value="assign">指派承办人</option>' in html and world.handler.display_name in html
    assert '<option value="dispatch">' not in html  # a unit head does not dispatch
    action = _bar_action(html)
    response = client.post(action, {"origin": "list", "action": "assign", "pick": [d.number for d in rows],
                                    "assignee": world.handler.pk})
    body = response.content.decode()
    assert "批量指派承办人：成功2件" in body and "失败" not in body.split("</h1>")[0]
    assert f'href="{reverse("demands:unit_inbox")}"' in body
    assert set(services.my_demands(world.handler).values_list("number", flat=True)) == {d.number for d in rows}


def _ledger_queries(client) -> int:
    client.get(LEDGER)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(LEDGER).status_code == 200
    return len(ctx.captured_queries)


def test_the_ledger_with_its_tick_boxes_costs_the_same_queries_for_2_or_12_rows(world):
    client = login(world.dispatcher)
    _received(world, 2)
    few = _ledger_queries(client)
    _received(world, 10, "更多")
    assert _ledger_queries(client) == few


def test_a_dispatcher_dispatches_ticked_rows_from_the_dispatch_inbox_and_comes_back_to_it(world):
    fresh = _received(world, 2, "交办箱批量")
    client = login(world.dispatcher)
    html = client.get(reverse("demands:dispatch_inbox")).content.decode()
    assert all(f'name="pick" value="{d.number}" form="bulk-form"' in html for d in fresh)
    response = client.post(_bar_action(html), {"origin": "list", "action": "dispatch", "unit": world.bureau.pk,
                                                "pick": [d.number for d in fresh]})
    body = response.content.decode()
    assert "批量交办到单位：成功2件" in body and f'href="{reverse("demands:dispatch_inbox")}"' in body
    assert set(Demand.objects.filter(pk__in=[d.pk for d in fresh]).values_list("lead_unit", flat=True)) == {
        world.bureau.pk}
