"""企业画像: the enterprise's page gathers its demands, visits and helpers, each through visible_to, at a fixed
number of queries, and says plainly when size and 四上 are not determined yet."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from qinqing.demands import services as demand_services
from qinqing.demands.models import Channel, State
from qinqing.enterprises import services as registry_services
from qinqing.lib import clock
from qinqing.visits import services as visit_services
from qinqing.visits.models import Duty, Form, Level
from qinqing.visits.services import Problem
from tests.conftest import at, login


def _page(user, enterprise):
    response = login(user).get(f"/enterprises/{enterprise.credit_code}/")
    assert response.status_code == 200
    return response


def _section(response, key):
    for section in response.context["main_sections"] + response.context["side_sections"]:
        if section["key"] == key:
            return section["data"]
    raise AssertionError(f"no section {key}")


def _receive(world, title, enterprise=None, when="2026-11-02 09:00"):
    return demand_services.receive_demand(
        world.dispatcher, enterprise=enterprise or world.enterprise, channel=Channel.HOTLINE, title=title,
        content=f"{title}，请协调解决。", category=world.hiring, received_at=at(when))


@pytest.fixture
def cadre(world):
    cadre = visit_services.register_cadre(world.dispatcher, world.specialist, level=Level.SPECIALIST,
                                          jurisdiction=world.district)
    visit_services.assign_contact(world.dispatcher, world.enterprise, cadre, duty=Duty.SPECIALIST,
                                  on=clock.today() - dt.timedelta(days=40))
    return cadre


def test_without_yearly_figures_the_page_says_size_is_not_determined_and_shows_no_size_badge(world):
    html = _page(world.dispatcher, world.enterprise).content.decode()
    # The fixture enterprise is registered as 四上 but has no figures: no badge claims it.
    assert "四上企业</span>" not in html
    assert "尚未测定" in html and "尚无年度数据" in html
    assert "登记时填报：四上（未经年度数据核实）" in html


def test_with_yearly_figures_the_header_shows_the_measured_size_and_year(world):
    registry_services.update_enterprise(world.admin, world.enterprise, {"industry_code": "C3311"})
    registry_services.record_yearly_figures(world.admin, world.enterprise, year=2025, employees=350,
                                            revenue=25000, assets=18000, tax_paid=120)
    html = _page(world.dispatcher, world.enterprise).content.decode()
    assert "中型（2025年）" in html and "四上企业</span>" in html
    assert "尚未测定" not in html
    assert "C3311</span> 金属结构制造" in html  # the GB/T 4754 class named in the header


def test_the_demands_section_counts_by_state_and_links_to_the_ledger_filtered_to_the_enterprise(world):
    first = _receive(world, "厂区道路破损")
    _receive(world, "招工难")
    demand_services.dispatch_demand(world.dispatcher, first, lead_unit=world.bureau)
    response = _page(world.dispatcher, world.enterprise)
    data = _section(response, "demands")
    assert data["total"] == 2
    assert {(s["value"], s["count"]) for s in data["states"]} == {(State.RECEIVED, 1), (State.DISPATCHED, 1)}
    html = response.content.decode()
    pk = world.enterprise.pk
    assert f'href="/demands/?enterprise={pk}&amp;state=dispatched"' in html
    assert f'href="/demands/?enterprise={pk}"' in html
    # The ledger opened from that link shows exactly the enterprise's demands in that state.
    ledger = login(world.dispatcher).get("/demands/", {"enterprise": pk, "state": "dispatched"})
    assert [d.number for d in ledger.context["page"].rows] == [first.number]
    # ...and says whose demands they are, with the way back to every enterprise's.
    note = ledger.content.decode()
    assert f"只显示 <a href=\"/enterprises/{world.enterprise.credit_code}/\">{world.enterprise.name}</a> 的诉求" in note
    assert 'href="?state=dispatched">看全部企业的诉求' in note


def test_a_handler_sees_only_the_demands_of_the_enterprise_their_unit_works_on(world):
    mine = _receive(world, "技术工人招聘困难")
    _receive(world, "融资贷款到期续贷", when="2026-11-03 09:00")
    demand_services.dispatch_demand(world.dispatcher, mine, lead_unit=world.bureau)
    response = _page(world.handler, world.enterprise)
    data = _section(response, "demands")
    assert [d.number for d in data["latest"]] == [mine.number] and data["total"] == 1
    assert "融资贷款到期续贷" not in response.content.decode()


def test_a_visit_shows_its_cadre_mode_and_only_the_problems_the_user_may_see(world, cadre):
    visit = visit_services.record_visit(
        world.specialist, enterprise=world.enterprise, visited_on=clock.today() - dt.timedelta(days=3),
        form=Form.VIDEO, discussed="了解订单和用工",
        problems=[Problem("缺少数控操作工", "扩产后缺操作工约30人"), Problem("续贷审批慢", "一笔贷款到期需续贷")])
    hiring, loan = visit.demands.order_by("pk")
    demand_services.dispatch_demand(world.dispatcher, hiring, lead_unit=world.bureau)
    demand_services.dispatch_demand(world.dispatcher, loan, lead_unit=world.finance)

    html = _page(world.dispatcher, world.enterprise).content.decode()
    assert "视频" in html and "冯专员" in html and "缺少数控操作工" in html and "续贷审批慢" in html
    assert f'href="/visits/log/?enterprise={world.enterprise.pk}"' in html

    # The bureau's handler took part in the visit, so sees it, but not the finance bureau's demand.
    visit.visitors.add(world.handler)
    response = _page(world.handler, world.enterprise)
    [shown] = _section(response, "visits")["latest"]
    assert [d.title for d in shown.raised_shown] == ["缺少数控操作工"]
    assert "续贷审批慢" not in response.content.decode()


def test_the_helpers_section_names_the_cadre_their_unit_and_next_contact(world, cadre):
    world.specialist.unit = world.joint_office
    world.specialist.save(update_fields=["unit"])
    response = _page(world.dispatcher, world.enterprise)
    rows = {row["duty"]: row for row in _section(response, "helpers")["rows"]}
    specialist = rows["为企服务专员"]
    assert specialist["person"] == world.specialist and specialist["unit"] == world.joint_office
    assert specialist["assignment"].level == Level.SPECIALIST
    assert rows["包联领导"]["person"] is None
    html = response.content.decode()
    assert "南山区营商环境办公室" in html and "未安排" in html


def test_the_timeline_merges_demands_visits_helpers_and_registry_changes_newest_first(world, cadre):
    _receive(world, "厂区道路破损", when="2026-11-20 09:00")
    visit_services.record_visit(world.specialist, enterprise=world.enterprise,
                                visited_on=dt.date(2026, 11, 25), form=Form.ON_SITE, discussed="走访")
    registry_services.update_enterprise(world.admin, world.enterprise, {"contact_phone": "13800000009"})
    timeline = _page(world.dispatcher, world.enterprise).context["timeline"]
    kinds = [m.kind for m in timeline]
    assert {"诉求", "走访", "包联", "企业库"} <= set(kinds)
    days = [m.day for m in timeline]
    assert days == sorted(days, reverse=True)


def test_the_page_costs_the_same_queries_with_one_demand_and_visit_as_with_many(world, cadre):
    def count():
        client = login(world.dispatcher)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/enterprises/{world.enterprise.credit_code}/").status_code == 200
        return len(queries)

    def add(n):
        for i in range(n):
            visit_services.record_visit(
                world.specialist, enterprise=world.enterprise, visited_on=clock.today() - dt.timedelta(days=i),
                form=Form.PHONE, discussed=f"第{i}次", problems=[Problem(f"问题{i}", "内容")])
            _receive(world, f"诉求{i}", when=f"2026-11-{i + 2:02d} 09:00")

    add(1)
    few = count()
    add(9)
    assert count() == few
    assert few <= 24


def test_an_outsider_gets_404_and_an_enterprise_account_is_sent_to_the_portal(world):
    assert login(world.other_dispatcher).get(f"/enterprises/{world.enterprise.credit_code}/").status_code == 404
    assert login(world.owner).get(f"/enterprises/{world.enterprise.credit_code}/").status_code in (302, 403, 404)


def test_the_visit_log_filtered_to_an_enterprise_shows_only_its_visits_and_names_it(world, cadre):
    visit_services.assign_contact(world.dispatcher, world.neighbour, cadre, duty=Duty.SPECIALIST,
                                  on=clock.today() - dt.timedelta(days=40))
    for enterprise in (world.enterprise, world.neighbour):
        visit_services.record_visit(world.specialist, enterprise=enterprise, visited_on=clock.today(),
                                    form=Form.PHONE, discussed=f"联系{enterprise.name}")
    response = login(world.dispatcher).get("/visits/log/", {"enterprise": world.enterprise.pk})
    assert [v.enterprise_id for v in response.context["page"].rows] == [world.enterprise.pk]
    html = response.content.decode()
    assert f'class="chip active" href="?enterprise={world.enterprise.pk}"' in html
    assert f"企业：{world.enterprise.name}" in html and "全部企业" in html
    # Another filter keeps the enterprise.
    assert f'href="?enterprise={world.enterprise.pk}&amp;form=on_site"' in html
    # An enterprise the user may not see filters to nothing, never to everything.
    other = login(world.other_dispatcher).get("/visits/log/", {"enterprise": world.enterprise.pk})
    assert list(other.context["page"].rows) == []
