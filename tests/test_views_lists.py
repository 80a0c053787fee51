"""The ledger, the inboxes and the overdue board: filters, HTMX partials, cheap pagination, constant queries."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from qinqing.demands import services
from qinqing.demands.models import Channel, Demand, State
from qinqing.workdays import calendar as workcal

from .conftest import at, login, on_day

LEDGER = reverse("demands:ledger")


@pytest.fixture(autouse=True)
def _fresh_calendar():
    """The calendar is cached per process; rows another test rolled back must not linger in it."""
    workcal.invalidate()
    yield
    workcal.invalidate()


def receive(world, title, category=None, enterprise=None, when="2026-11-20 10:00", channel=Channel.VISIT):
    return services.receive_demand(
        world.dispatcher, enterprise=enterprise or world.enterprise, channel=channel, title=title,
        content=f"{title}，请协调解决。", category=category or world.finance_kind, received_at=at(when))


def numbers(response) -> set[str]:
    html = response.content.decode()
    return {n for n in Demand.objects.values_list("number", flat=True) if n in html}


def test_the_ledger_lists_visible_demands_with_their_countdown(world, demand):
    html = login(world.dispatcher).get(LEDGER).content.decode()
    assert demand.number in html and "技术工人招聘困难" in html and world.enterprise.name in html
    assert 'class="badge badge-orange"' in html and "待交办" in html
    assert "已超期" in html  # received 2026-09-30, never dispatched


def test_the_ledger_counts_down_in_working_days(world, demand):
    with on_day(dt.date(2026, 9, 30)):
        assert "今日到期" in login(world.dispatcher).get(LEDGER).content.decode()
    with on_day(dt.date(2026, 9, 29)):
        assert "剩余1个工作日" in login(world.dispatcher).get(LEDGER).content.decode()
    # 1–7 October is the National Day holiday: on 9 October only the 8th and the 9th have been lost.
    with on_day(dt.date(2026, 10, 9)):
        html = login(world.dispatcher).get(LEDGER).content.decode()
    assert "已超期2个工作日" in html


def test_a_chinese_keyword_finds_the_demand(world, demand):
    other = receive(world, "贷款审批周期太长")
    client = login(world.dispatcher)
    assert numbers(client.get(LEDGER, {"q": "招聘"})) == {demand.number}
    assert numbers(client.get(LEDGER, {"q": "贷款"})) == {other.number}


def test_the_ledger_filters_by_state_category_and_channel(world, demand):
    other = receive(world, "贷款审批周期太长", channel=Channel.HOTLINE)
    services.dispatch_demand(world.dispatcher, other, lead_unit=world.finance)
    client = login(world.dispatcher)
    assert numbers(client.get(LEDGER, {"state": "received"})) == {demand.number}
    assert numbers(client.get(LEDGER, {"state": "dispatched"})) == {other.number}
    assert numbers(client.get(LEDGER, {"category": world.hiring.pk})) == {demand.number}
    assert numbers(client.get(LEDGER, {"channel": "hotline"})) == {other.number}
    assert numbers(client.get(LEDGER, {"unit": world.finance.pk})) == {other.number}
    # An empty single-select (状态：全部) must not filter everything away.
    assert numbers(client.get(LEDGER, {"state": "", "q": ""})) == {demand.number, other.number}


def test_the_ledger_filters_by_overdue_stage(world, demand):
    fresh = receive(world, "厂房租金补贴申请", when="2026-11-23 09:00")
    with on_day(dt.date(2026, 11, 23)):
        client = login(world.dispatcher)
        assert numbers(client.get(LEDGER, {"overdue": "dispatch"})) == {demand.number}
        assert numbers(client.get(LEDGER, {"overdue": "any"})) == {demand.number}
        assert numbers(client.get(LEDGER, {"overdue": "contact"})) == set()
    assert fresh.number in login(world.dispatcher).get(LEDGER).content.decode()


def test_the_ledger_filters_by_received_date(world, demand):
    later = receive(world, "用电增容", when="2026-11-20 10:00")
    client = login(world.dispatcher)
    assert numbers(client.get(LEDGER, {"received_from": "2026-11-01"})) == {later.number}
    assert numbers(client.get(LEDGER, {"received_to": "2026-10-01"})) == {demand.number}
    bad = client.get(LEDGER, {"received_from": "2026-11-02", "received_to": "2026-11-01"})
    assert "开始日期不能晚于结束日期" in bad.content.decode()


def test_an_htmx_request_gets_only_the_results(world, demand):
    client = login(world.dispatcher)
    partial = client.get(LEDGER, {"q": "招聘"}, HTTP_HX_REQUEST="true")
    html = partial.content.decode()
    assert demand.number in html and "<table" in html
    assert "<html" not in html and 'class="filters"' not in html
    assert "HX-Request" in partial["Vary"]
    full = client.get(LEDGER, {"q": "招聘"}).content.decode()
    assert "<html" in full and 'hx-get="/demands/"' in full and 'hx-push-url="true"' in full


def test_the_ledger_pages_and_shows_the_total_counting_only_when_the_page_does_not(world, demand, monkeypatch):
    monkeypatch.setattr("qinqing.demands.views.common.PAGE_SIZE", 2)
    for i in range(4):
        receive(world, f"融资需求{i}")
    client = login(world.dispatcher)
    with CaptureQueriesContext(connection) as ctx:
        first = client.get(LEDGER)
    # One COUNT for the total (a small table: exact); the rows themselves are one page plus one.
    assert sum("COUNT(" in q["sql"].upper() for q in ctx.captured_queries) == 1
    html = first.content.decode()
    assert "第1页" in html and "?page=2" in html and "共5条" in html.split("第1页")[1].split("</nav>")[0]
    with CaptureQueriesContext(connection) as ctx:
        last = client.get(LEDGER, {"page": 3}).content.decode()
    assert "第3页" in last and "共5条" in last
    assert not any("COUNT(" in q["sql"].upper() for q in ctx.captured_queries)  # the last page knows it
    assert "第1页" in client.get(LEDGER, {"page": "abc"}).content.decode()
    seen = set()
    for page in (1, 2, 3):
        seen |= numbers(client.get(LEDGER, {"page": page}))
    assert len(seen) == 5


def test_next_page_follows_the_link_a_user_clicks_and_keeps_the_search(world, demand, monkeypatch):
    monkeypatch.setattr("qinqing.demands.views.common.PAGE_SIZE", 2)
    for i in range(4):
        receive(world, f"贷款需求{i}")
    receive(world, "用地指标")
    client = login(world.dispatcher)
    html = client.get(LEDGER, {"q": "贷款"}).content.decode()
    link = re.search(r'href="([^"]*)"[^>]*>下一页', html).group(1).replace("&amp;", "&")
    assert link.startswith("?") and not link.startswith("??")
    second = client.get(LEDGER + link)
    assert "第2页" in second.content.decode()
    assert numbers(second) and all("贷款" in Demand.objects.get(number=n).title for n in numbers(second))


def test_the_ledger_shows_nearest_deadline_first(world):
    late = receive(world, "最早受理", when="2026-11-02 10:00")
    soon = receive(world, "较晚受理", when="2026-11-20 10:00")
    done = receive(world, "已并单", when="2026-11-01 10:00")
    services.merge_demand(world.dispatcher, done, into=late.number)
    html = login(world.dispatcher).get(LEDGER).content.decode()
    assert html.index(late.number) < html.index(soon.number) < html.index(done.number)


# ---------------------------------------------------------------- inboxes and the overdue board

def test_the_dispatch_inbox_lists_received_and_returned_demands_and_pending_extensions(world, demand):
    returned = receive(world, "退回件")
    services.dispatch_demand(world.dispatcher, returned, lead_unit=world.finance)
    services.return_demand(world.co_handler, returned, reason="不属于本单位职责")
    asked = receive(world, "延期件")
    services.dispatch_demand(world.dispatcher, asked, lead_unit=world.bureau)
    services.accept_demand(world.handler, asked)
    services.request_extension(world.handler, asked, days=5, reason="需要协调多个部门")
    html = login(world.dispatcher).get(reverse("demands:dispatch_inbox")).content.decode()
    assert demand.number in html and returned.number in html
    assert "已退回" in html and "延期申请待审批" in html and "需要协调多个部门" in html
    outsider = login(world.other_dispatcher).get(reverse("demands:dispatch_inbox")).content.decode()
    assert demand.number not in outsider and asked.number not in outsider


def test_the_unit_inbox_lists_lead_and_co_demands_open_first(world, demand):
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.finance, co_units=[world.bureau])
    mine = receive(world, "本局主办")
    services.dispatch_demand(world.dispatcher, mine, lead_unit=world.bureau)
    not_mine = receive(world, "他局主办")
    services.dispatch_demand(world.dispatcher, not_mine, lead_unit=world.finance)
    response = login(world.handler).get(reverse("demands:unit_inbox"))
    assert numbers(response) == {demand.number, mine.number}
    assert response.content.decode().count("本单位协办") == 1
    # Demand numbers, not the bare letters: the page's random CSRF token may contain "QQ".
    other_page = login(world.other_handler).get(reverse("demands:unit_inbox")).content.decode()
    assert re.findall(r"QQ\d{4}-\d{6}", other_page) == []


def test_the_overdue_board_groups_by_stage_and_unit_and_shows_urgings(world, demand):
    dispatched = receive(world, "已交办未联系", when="2026-11-02 10:00")
    services.dispatch_demand(world.dispatcher, dispatched, lead_unit=world.bureau)
    services.urge_overdue(dt.date(2026, 11, 23))
    fresh = receive(world, "今天受理", when="2026-11-23 09:00")
    with on_day(dt.date(2026, 11, 23)):
        client = login(world.supervisor)
        response = client.get(reverse("demands:overdue"))
        html = response.content.decode()
        assert numbers(response) == {demand.number, dispatched.number}
        assert fresh.number not in html
        assert "已催办" in html and "已超期" in html and world.bureau.name in html
        assert numbers(client.get(reverse("demands:overdue"), {"stage": "contact"})) == {dispatched.number}
        assert numbers(client.get(reverse("demands:overdue"), {"unit": world.bureau.pk})) == {dispatched.number}
        assert numbers(client.get(reverse("demands:overdue"), {"stage": "resolve"})) == set()


# ---------------------------------------------------------------- query counts do not grow with rows

def populate(world, count):
    """`count` demands dispatched to the bureau with a co-unit, each with a pending extension and urging."""
    for i in range(count):
        d = receive(world, f"批量诉求{i}", enterprise=[world.enterprise, world.neighbour][i % 2],
                    when="2026-11-02 10:00")
        if i % 3:
            d = services.dispatch_demand(world.dispatcher, d, lead_unit=world.bureau, co_units=[world.finance])
            if i % 3 == 2:
                services.accept_demand(world.handler, d)
                services.request_extension(world.handler, d, days=3, reason="协调中")
    services.urge_overdue(dt.date(2026, 11, 23))


PAGES = [("dispatcher", "demands:ledger"), ("dispatcher", "demands:dispatch_inbox"),
         ("handler", "demands:unit_inbox"), ("supervisor", "demands:overdue"), ("dispatcher", "home"),
         ("handler", "home"), ("admin", "home")]


def query_counts(world, client_for):
    out = {}
    for who, name in PAGES:
        client = client_for[who]
        client.get(reverse(name))  # warm the per-process calendar cache
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse(name)).status_code == 200
        out[(who, name)] = len(ctx.captured_queries)
    return out


@pytest.mark.parametrize("small, large", [(3, 20)])
def test_list_pages_issue_the_same_number_of_queries_for_3_and_20_demands(world, small, large):
    clients = {who: login(getattr(world, who)) for who in {w for w, _ in PAGES}}
    populate(world, small)
    few = query_counts(world, clients)
    populate(world, large - small)
    assert Demand.objects.count() == large
    many = query_counts(world, clients)
    assert few == many
    assert max(many.values()) <= 16


def test_the_ledger_query_count_is_pinned(world, django_assert_num_queries):
    populate(world, 5)
    client = login(world.dispatcher)
    client.get(LEDGER)
    # session, user, roles, jurisdiction, rows, the user's unit in the header, three filter dropdowns
    # (category, unit, jurisdiction), the header's unread notification count, the user's chosen columns and
    # saved filters, the units the bulk action bar dispatches to; on SQLite also the FTS5 keyword probe
    with django_assert_num_queries(14 if connection.vendor == "sqlite" else 13):
        client.get(LEDGER, {"q": "批量"})
    assert Demand.objects.filter(state=State.RECEIVED).exists()
