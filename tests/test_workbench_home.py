"""The workbench per role: every count is a link, and the ledger behind the link shows that many demands."""

import re
from html import unescape

import pytest
from django.urls import reverse

from qinqing.demands import services
from qinqing.demands.models import Channel
from tests.conftest import at, login


def cards(html: str) -> dict[str, tuple[int, str]]:
    """label → (count, link) of the workbench's stat cards."""
    found = re.findall(r'<a class="stat[^"]*" href="([^"]+)">\s*<span class="stat-count">(\d+)</span>\s*'
                       r'<span class="stat-label">([^<]+)</span>', html)
    return {label: (int(count), unescape(url)) for url, count, label in found}


def ledger_rows(client, url: str) -> int:
    html = client.get(url).content.decode()
    return html.count('<td class="c-number">')


def receive(world, title, enterprise=None, **kwargs):
    return services.receive_demand(world.dispatcher, enterprise=enterprise or world.enterprise,
                                   channel=Channel.VISIT, title=title, content=f"{title}的具体情况。",
                                   category=world.hiring, **kwargs)


@pytest.fixture
def busy(world, demand):
    """One demand of each kind a workbench counts: waiting, dispatched, returned, replied."""
    receive(world, "新收到的诉求")
    returned = receive(world, "被退回的诉求")
    services.dispatch_demand(world.dispatcher, returned, lead_unit=world.bureau)
    services.return_demand(world.handler, returned, reason="不属于本单位")
    replied = receive(world, "已答复的诉求")
    services.dispatch_demand(world.dispatcher, replied, lead_unit=world.bureau)
    services.contact_enterprise(world.handler, replied, method="电话")
    services.reply_demand(world.handler, replied, reply="已解决。", outcome="solved")
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    return world


@pytest.mark.parametrize("role", ["dispatcher", "handler", "specialist", "supervisor", "leader"])
def test_every_count_on_a_workbench_leads_to_a_ledger_with_that_many_demands(busy, role):
    user = getattr(busy, role)
    client = login(user)
    found = cards(client.get(reverse("home")).content.decode())
    assert found, f"{role} has no cards"
    checked = 0
    for label, (count, url) in found.items():
        if not url.startswith(reverse("demands:ledger") + "?"):
            continue  # inboxes and boards have their own pages
        assert ledger_rows(client, url) == count, f"{role}: “{label}” says {count}"
        checked += 1
    assert checked >= 2


def test_the_specialist_sees_the_enterprises_they_serve_and_what_awaits_a_callback(busy):
    html = login(busy.specialist).get(reverse("home")).content.decode()
    found = cards(html)
    assert "我服务的企业" in html and "服务企业1家" in html
    assert found["已答复待回访"][0] == 1
    assert "已答复待回访 · 答复最早" in html and "已答复的诉求" in html


def test_the_dispatcher_queue_shows_the_deadline_and_a_button_to_dispatch(busy):
    html = login(busy.dispatcher).get(reverse("home")).content.decode()
    queue = html.split("待交办 · 期限最近")[1]
    assert "新收到的诉求" in queue and "被退回的诉求" in queue and "退回1次" in queue
    assert "去交办" in queue
    assert re.search(r"(剩余\d+个工作日|今日到期|已超期)", queue)


def test_an_overdue_demand_reads_as_working_days_overdue(world):
    late = receive(world, "早就该交办的诉求", received_at=at("2026-09-01 09:00"))
    html = login(world.dispatcher).get(reverse("home")).content.decode()
    assert late.number in html
    assert re.search(r"已超期\d+个工作日", html)


def test_outsiders_see_none_of_it(busy):
    html = login(busy.other_dispatcher).get(reverse("home")).content.decode()
    assert all(count == 0 for count, _ in cards(html).values())
    assert "新收到的诉求" not in html
    assert login(busy.owner).get(reverse("home")).status_code == 302  # to the portal


@pytest.mark.parametrize("role", ["dispatcher", "handler", "specialist", "supervisor", "leader"])
def test_a_workbench_costs_the_same_queries_with_more_demands(world, role, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(getattr(world, role))
    receive(world, "第一件")
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("home"))
    for i in range(12):
        d = receive(world, f"诉求{i}")
        services.dispatch_demand(world.dispatcher, d, lead_unit=world.bureau)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("home"))
    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(many.captured_queries) <= 20
