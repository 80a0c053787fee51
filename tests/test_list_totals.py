"""Every paginated list says how many rows its filters match: exact on a small table, the planner's
estimate ("约 N 条") on a large PostgreSQL table, where COUNT(*) would read every row."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from qinqing.demands import services
from qinqing.demands.models import Channel
from qinqing.demands.views import common

from .conftest import at, login

PAGER = re.compile(r'<nav class="pager".*?</nav>', re.S)


def receive(world, title, when="2026-11-20 10:00"):
    return services.receive_demand(
        world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT, title=title,
        content=f"{title}，请协调解决。", category=world.finance_kind, received_at=at(when))


def pager(response) -> str:
    assert response.status_code == 200
    return PAGER.search(response.content.decode()).group(0)


@pytest.fixture
def five(world, monkeypatch):
    """Five demands received in the district; lists of two rows a page."""
    monkeypatch.setattr("qinqing.demands.views.common.PAGE_SIZE", 2)
    monkeypatch.setattr("qinqing.demands.views.lists.PAGE_SIZE", 2)
    return [receive(world, f"融资需求{i}") for i in range(5)]


def test_every_page_of_a_small_list_shows_its_exact_total(world, five):
    client = login(world.dispatcher)
    for page in (1, 2, 3):
        assert "共5条" in pager(client.get(reverse("demands:ledger"), {"page": page}))
    # Past the end: no rows, and still the total.
    text = pager(client.get(reverse("demands:ledger"), {"page": 9}))
    assert "第9页" in text and "共5条" in text


def test_the_inbox_and_the_three_lists_show_their_totals(world, five):
    client = login(world.dispatcher)
    assert "共5条" in pager(client.get(reverse("demands:dispatch_inbox")))
    assert "共5条" in pager(client.get(reverse("demands:list", args=["problems"])))


def test_a_filtered_list_counts_what_it_filters(world, five):
    with services.acting_at(at("2026-11-20 11:00")):
        for d in five[:3]:
            services.dispatch_demand(world.dispatcher, d, lead_unit=world.bureau)
    client = login(world.dispatcher)
    assert "共3条" in pager(client.get(reverse("demands:ledger"), {"state": "dispatched"}))
    assert "共2条" in pager(client.get(reverse("demands:ledger"), {"state": "received"}))


def test_the_registry_list_shows_its_total(world, monkeypatch):
    monkeypatch.setattr("qinqing.demands.views.common.PAGE_SIZE", 1)
    text = pager(login(world.dispatcher).get(reverse("enterprises:list")))
    assert "第1页" in text and re.search(r"共\d+条", text)
    shown = int(re.search(r"共(\d+)条", text).group(1))
    last = pager(login(world.dispatcher).get(reverse("enterprises:list"), {"page": shown}))
    assert f"共{shown}条" in last and "下一页 ›</span>" in last  # the last page agrees, and has no next


def test_a_single_page_costs_no_count_query(world, monkeypatch):
    receive(world, "唯一诉求")
    client = login(world.dispatcher)
    with CaptureQueriesContext(connection) as ctx:
        text = pager(client.get(reverse("demands:ledger")))
    assert "共1条" in text
    assert not any("COUNT(" in q["sql"].upper() and "demands_demand" in q["sql"] for q in ctx.captured_queries)


def test_a_small_table_is_counted_exactly_in_one_query(world, five):
    client = login(world.dispatcher)
    with CaptureQueriesContext(connection) as ctx:
        text = pager(client.get(reverse("demands:ledger")))
    assert "共5条" in text
    counting = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper() and "demands_demand" in q["sql"]]
    assert len(counting) == 1 and ("reltuples" in counting[0]) == (connection.vendor == "postgresql")


def test_an_estimate_keeps_three_significant_digits():
    assert common._rounded(1_234_567) == 1_230_000
    assert common._rounded(987) == 987


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the planner's estimate is PostgreSQL's")
def test_a_large_table_shows_the_planners_estimate_without_counting(world, five, monkeypatch):
    monkeypatch.setattr("qinqing.demands.views.common.ESTIMATE_ABOVE", -2)  # every table counts as large
    client = login(world.dispatcher)
    with CaptureQueriesContext(connection) as ctx:
        text = pager(client.get(reverse("demands:ledger")))
    sql = [q["sql"] for q in ctx.captured_queries]
    # The table-size check answered "large" (its COUNT is never run) and the planner was asked instead.
    assert sum(s.startswith("SELECT CASE WHEN COALESCE((SELECT reltuples") for s in sql) == 1
    assert sum(s.startswith("EXPLAIN (FORMAT JSON)") for s in sql) == 1
    estimate = int(re.search(r"约(\d+)条", text).group(1))
    assert estimate >= 3  # never fewer than the rows the first page proves exist (two shown, one more)
    assert "共" not in text


# ---------------------------------------------------------------- the other paged lists, staff and portal

@pytest.fixture
def small_pages(monkeypatch):
    """Every paged list two rows a page, whatever size its view asks for."""
    real = common.paginate

    def two_a_page(qs, request, size=None):
        return real(qs, request, size=2)

    for module in ("qinqing.notifications.views", "qinqing.portal.views", "qinqing.workbench.views",
                   "qinqing.visits.views", "qinqing.visits.portal_views", "qinqing.reports.views"):
        monkeypatch.setattr(f"{module}.paginate", two_a_page)


PORTAL_PAGER = re.compile(r'<nav class="p-pager".*?</nav>', re.S)


def portal_pager(response) -> str:
    assert response.status_code == 200
    return PORTAL_PAGER.search(response.content.decode()).group(0)


def test_the_notification_centres_show_their_totals_on_every_page(world, small_pages):
    from qinqing.notifications.models import Notification

    for user in (world.dispatcher, world.owner):
        Notification.objects.bulk_create(Notification(recipient=user, text=f"通知{i}") for i in range(5))
    staff = login(world.dispatcher)
    assert "共5条" in pager(staff.get(reverse("notifications:centre"), {"page": 2}))
    text = portal_pager(login(world.owner).get(reverse("notifications:centre"), {"page": 2}))
    assert "第2页" in text and "共5条" in text and "show" not in text  # the pager keeps only what was asked


def test_the_portals_demand_history_and_visits_show_their_totals(world, small_pages):
    from qinqing.visits import services as visit_services
    from qinqing.visits.models import Form

    for i in range(3):
        receive(world, f"融资需求{i}")
        visit_services.record_visit(world.dispatcher, enterprise=world.enterprise, visited_on=at(
            f"2026-11-0{i + 2} 10:00").date(), form=Form.PHONE, discussed=f"联系{i}")
    owner = login(world.owner)
    assert "共3条" in portal_pager(owner.get(reverse("portal:history")))
    assert "共3条" in portal_pager(owner.get(reverse("visits_portal:home")))


def test_my_exports_and_the_visit_log_show_their_totals(world, small_pages):
    from qinqing.visits import services as visit_services
    from qinqing.visits.models import Form
    from qinqing.workbench.models import ExportJob

    ExportJob.objects.bulk_create(ExportJob(user=world.dispatcher, query=f"q={i}") for i in range(3))
    client = login(world.dispatcher)
    assert "共3条" in pager(client.get(reverse("workbench:exports")))
    for i in range(3):
        visit_services.record_visit(world.dispatcher, enterprise=world.enterprise,
                                    visited_on=at(f"2026-11-0{i + 2} 10:00").date(), form=Form.PHONE)
    assert "共3条" in pager(client.get(reverse("visits:log")))


def test_the_circulars_and_the_visit_campaigns_are_paged_with_their_totals(world, small_pages):
    import datetime as dt

    from qinqing.reports.models import Circular
    from qinqing.visits.models import Campaign

    week = dt.timedelta(days=7)
    first = dt.date(2026, 9, 7)
    Circular.objects.bulk_create(
        Circular(kind="weekly", jurisdiction=world.district, period_start=first + i * week,
                 period_end=first + i * week + dt.timedelta(days=6), year=2026, serial=i + 1,
                 title=f"第{i + 1}期周通报", issuer="南山区政企服务联席办", snapshot={}, word="w.docx", excel="e.xlsx")
        for i in range(5))
    Campaign.objects.bulk_create(
        Campaign(name=f"第{i + 1}批集中走访", jurisdiction=world.district, starts_on=first + i * week,
                 ends_on=first + i * week + dt.timedelta(days=6)) for i in range(3))
    client = login(world.dispatcher)
    text = pager(client.get(reverse("reports:circulars"), {"page": 3}))
    assert "第3页" in text and "共5条" in text
    assert "共3条" in pager(client.get(reverse("visits:campaigns"), {"page": 2}))
