"""The visit pages: what a cadre, a dispatcher and an enterprise see, and what outsiders do not."""

import datetime as dt
import io

import pytest
from openpyxl import Workbook, load_workbook

from qinqing.accounts.models import Role
from qinqing.demands.models import Channel, Demand
from qinqing.lib import clock
from qinqing.visits import services
from qinqing.visits.models import Assignment, Confirmation, Duty, Form, Level, Visit
from tests.conftest import login, make_user


@pytest.fixture
def duty(world):
    cadre = services.register_cadre(world.dispatcher, world.specialist, level=Level.SPECIALIST,
                                    jurisdiction=world.district)
    services.assign_contact(world.dispatcher, world.enterprise, cadre, duty=Duty.SPECIALIST,
                            on=clock.today() - dt.timedelta(days=29))
    return cadre


@pytest.fixture
def visit(world, duty):
    return services.record_visit(world.specialist, enterprise=world.enterprise, visited_on=clock.today(),
                                 form=Form.ON_SITE, discussed="了解订单")


def test_a_cadre_sees_the_enterprise_due_this_week_with_a_link_to_record_the_visit(world, duty):
    response = login(world.specialist).get("/visits/")
    assert response.status_code == 200
    body = response.content.decode()
    assert world.enterprise.name in body
    assert f"/visits/new/?enterprise={world.enterprise.pk}" in body


def test_the_week_page_of_a_cadre_costs_the_same_queries_with_more_enterprises(world, duty,
                                                                               django_assert_max_num_queries):
    from qinqing.enterprises.models import Enterprise
    from tests.conftest import real_codes

    codes = real_codes()[3:23]
    for i, code in enumerate(codes):
        e = Enterprise.objects.create(name=f"企业{i}", credit_code=code, sector="services", jurisdiction=world.town)
        services.assign_contact(world.dispatcher, e, duty, duty=Duty.SPECIALIST,
                                on=clock.today() - dt.timedelta(days=29))
    client = login(world.specialist)
    with django_assert_max_num_queries(12):
        response = client.get("/visits/")
    assert response.content.decode().count("记录走访</a>") >= 21


def test_recording_a_visit_on_the_phone_form_turns_a_problem_into_a_demand(world, duty):
    response = login(world.specialist).post("/visits/new/", {
        "enterprise": world.enterprise.pk, "visited_on": clock.today().isoformat(), "form": Form.ON_SITE,
        "discussed": "了解扩产计划", "production": "normal", "orders": "up", "employees": "150",
        "problem_1_title": "厂房消防验收慢", "problem_1_content": "新厂房消防验收排队两个月",
    })
    assert response.status_code == 302
    visit = Visit.objects.get()
    assert response["Location"].startswith(f"/visits/{visit.pk}/")
    demand = visit.demands.get()
    assert demand.channel == Channel.VISIT and demand.title == "厂房消防验收慢"
    page = login(world.specialist).get(response["Location"]).content.decode()
    assert demand.number in page and "data-clear-draft" in page


def test_a_bad_visit_form_says_why_in_chinese_and_saves_nothing(world, duty):
    response = login(world.specialist).post("/visits/new/", {
        "enterprise": world.enterprise.pk, "visited_on": "2099-01-01", "form": Form.PHONE})
    assert response.status_code == 400
    assert "走访日期不能晚于今天" in response.content.decode()
    assert not Visit.objects.exists() and not Demand.objects.exists()


def test_the_visit_form_keeps_a_local_draft(world, duty):
    body = login(world.specialist).get(f"/visits/new/?enterprise={world.enterprise.pk}").content.decode()
    assert f'data-draft-key="visit-draft-{world.specialist.pk}-{world.enterprise.pk}"' in body
    assert "visits/draft.js" in body


def test_an_outsider_gets_404_on_the_visit_page(world, visit):
    assert login(world.other_dispatcher).get(f"/visits/{visit.pk}/").status_code == 404
    assert login(world.other_handler).get(f"/visits/{visit.pk}/").status_code == 404
    assert login(world.owner).get(f"/visits/{visit.pk}/").status_code == 404  # staff page, even for the owner
    assert login(world.dispatcher).get(f"/visits/{visit.pk}/").status_code == 200


def test_an_outsider_gets_404_on_the_enterprise_duties_page_and_cannot_assign(world, duty):
    url = f"/visits/enterprises/{world.enterprise.pk}/"
    assert login(world.other_dispatcher).get(url).status_code == 404
    response = login(world.other_dispatcher).post(url + "assign/", {"duty": Duty.CONTACT_LEADER,
                                                                    "username": "specialist"})
    assert response.status_code == 404
    assert login(world.dispatcher).get(url).status_code == 200


def test_a_dispatcher_reassigns_the_specialist_from_the_enterprise_page(world, duty):
    other = make_user("zy2", Role.SPECIALIST, full_name="卫专员", jurisdiction=world.district)
    services.register_cadre(world.dispatcher, other, level=Level.SPECIALIST)
    response = login(world.dispatcher).post(f"/visits/enterprises/{world.enterprise.pk}/assign/",
                                            {"duty": Duty.SPECIALIST, "username": "zy2"})
    assert response.status_code == 302
    world.enterprise.refresh_from_db()
    assert world.enterprise.service_specialist == other
    page = login(world.dispatcher).get(f"/visits/enterprises/{world.enterprise.pk}/").content.decode()
    assert "冯专员" in page and "卫专员" in page  # history shows both


def test_the_visit_log_shows_only_visible_visits_with_bounded_queries(world, visit, django_assert_max_num_queries):
    services.record_visit(world.admin, enterprise=world.other_enterprise, visited_on=clock.today(),
                          form=Form.PHONE, discussed="外区企业")
    client = login(world.dispatcher)
    with django_assert_max_num_queries(10):
        body = client.get("/visits/log/").content.decode()
    assert world.enterprise.name in body and world.other_enterprise.name not in body


def test_assignments_export_and_import_round_trip(world, duty):
    client = login(world.dispatcher)
    response = client.get("/visits/assignments/?format=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.values)
    assert rows[0][:4] == ("统一社会信用代码", "企业名称", "职责", "干部用户名")
    assert rows[1][0] == world.enterprise.credit_code

    leader = services.register_cadre(world.dispatcher, world.leader, level=Level.DISTRICT_LEADER)
    book = Workbook()
    book.active.append(["统一社会信用代码", "职责", "干部用户名"])
    book.active.append([world.enterprise.credit_code, "包联领导", "leader"])
    stream = io.BytesIO()
    book.save(stream)
    stream.seek(0)
    stream.name = "assign.xlsx"
    response = client.post("/visits/assignments/import/", {"file": stream})
    assert response.status_code == 302
    assert Assignment.objects.current().get(duty=Duty.CONTACT_LEADER).cadre == leader


def test_an_import_with_one_bad_row_changes_nothing(world, duty):
    services.register_cadre(world.dispatcher, world.leader, level=Level.DISTRICT_LEADER)
    book = Workbook()
    book.active.append(["统一社会信用代码", "职责", "干部用户名"])
    book.active.append([world.enterprise.credit_code, "包联领导", "leader"])
    book.active.append([world.other_enterprise.credit_code, "包联领导", "leader"])  # another district
    stream = io.BytesIO()
    book.save(stream)
    stream.seek(0)
    stream.name = "assign.xlsx"
    client = login(world.dispatcher)
    response = client.post("/visits/assignments/import/", {"file": stream}, follow=True)
    assert "第3行" in response.content.decode()
    assert not Assignment.objects.filter(duty=Duty.CONTACT_LEADER).exists()


def test_the_rule_page_previews_without_writing_then_applies(world):
    services.register_cadre(world.dispatcher, world.leader, level=Level.DISTRICT_LEADER, capacity=5)
    client = login(world.dispatcher)
    preview = client.get("/visits/assignments/rule/?tiers=industrial")
    assert preview.status_code == 200 and "确认执行" in preview.content.decode()
    assert not Assignment.objects.exists()
    response = client.post("/visits/assignments/rule/", {"tiers": ["industrial"]})
    assert response.status_code == 302
    assert Assignment.objects.current().get().enterprise == world.enterprise


def test_the_rule_page_is_404_for_a_specialist(world, duty):
    assert login(world.specialist).get("/visits/assignments/rule/").status_code == 404


def test_campaign_coverage_counts_visited_targets_and_lists_the_rest(world, visit, django_assert_max_num_queries):
    today = clock.today()
    campaign = services.create_campaign(world.dispatcher, name="秋季大走访", jurisdiction=world.district,
                                        starts_on=today - dt.timedelta(days=10), ends_on=today)
    assert services.target_by_rule(world.dispatcher, campaign, {}) == 2
    client = login(world.dispatcher)
    with django_assert_max_num_queries(16):
        response = client.get(f"/visits/campaigns/{campaign.pk}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "50%" in body  # one of the two targets visited
    assert world.neighbour.name in body  # not yet visited
    assert login(world.other_dispatcher).get(f"/visits/campaigns/{campaign.pk}/").status_code == 404
    # A visit recorded now ticks the restaurant off the list.
    services.record_visit(world.dispatcher, enterprise=world.neighbour, visited_on=today, form=Form.PHONE)
    body = client.get(f"/visits/campaigns/{campaign.pk}/").content.decode()
    assert "100%" in body and "目标企业均已走访" in body


def test_neglect_lists_overdue_contacts_and_disputed_visits(world, duty, visit):
    services.assign_contact(world.dispatcher, world.neighbour, duty, duty=Duty.SPECIALIST,
                            on=clock.today() - dt.timedelta(days=45))
    services.respond_to_visit(world.owner, visit, confirmed=False, comment="没人来过")
    client = login(world.supervisor)
    assert world.neighbour.name in client.get("/visits/neglect/?tab=overdue").content.decode()
    assert world.enterprise.name in client.get("/visits/neglect/?tab=disputed").content.decode()
    assert "冯专员" in client.get("/visits/neglect/?tab=cadres").content.decode()
    assert login(world.other_dispatcher).get("/visits/neglect/?tab=disputed").content.decode().count(
        world.enterprise.name) == 0
    assert login(world.specialist).get("/visits/neglect/").status_code == 404


def test_the_enterprise_sees_its_helpers_and_confirms_a_visit_with_a_rating(world, visit):
    client = login(world.owner)
    body = client.get("/portal/visits/").content.decode()
    assert "冯专员" in body and "了解订单" in body
    response = client.post(f"/portal/visits/{visit.pk}/respond/", {"confirmed": "yes", "rating": "4"})
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.confirmation == Confirmation.CONFIRMED and visit.rating == 4


def test_another_enterprise_gets_404_when_responding_to_a_visit(world, visit):
    response = login(world.neighbour_owner).post(f"/portal/visits/{visit.pk}/respond/", {"confirmed": "no",
                                                                                          "comment": "x"})
    assert response.status_code == 404
    assert login(world.dispatcher).get("/portal/visits/").status_code == 404
    visit.refresh_from_db()
    assert visit.confirmation == Confirmation.PENDING


def _xlsx(rows) -> io.BytesIO:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    stream = io.BytesIO()
    book.save(stream)
    stream.seek(0)
    stream.name = "list.xlsx"
    return stream


def test_a_dispatcher_creates_a_campaign_by_rule_then_imports_more_targets(world):
    client = login(world.dispatcher)
    today = clock.today()
    response = client.post("/visits/campaigns/new/", {
        "name": "四上企业走访", "starts_on": today.isoformat(), "ends_on": (today + dt.timedelta(30)).isoformat(),
        "four_above": "yes"})
    assert response.status_code == 302
    from qinqing.visits.models import Campaign

    campaign = Campaign.objects.get()
    assert list(campaign.targets.all()) == [world.enterprise]
    bad = client.post(f"/visits/campaigns/{campaign.pk}/targets/",
                      {"file": _xlsx([["统一社会信用代码"], [world.neighbour.credit_code],
                                      [world.other_enterprise.credit_code]])}, follow=True)
    assert "不在活动区划内" in bad.content.decode()
    assert campaign.targets.count() == 1
    client.post(f"/visits/campaigns/{campaign.pk}/targets/",
                {"file": _xlsx([["统一社会信用代码"], [world.neighbour.credit_code]])})
    assert campaign.targets.count() == 2
    assert login(world.other_dispatcher).post(f"/visits/campaigns/{campaign.pk}/targets/").status_code == 404


def test_a_campaign_with_an_end_before_its_start_is_refused_in_chinese(world):
    today = clock.today()
    response = login(world.dispatcher).post("/visits/campaigns/new/", {
        "name": "x", "starts_on": today.isoformat(), "ends_on": (today - dt.timedelta(1)).isoformat()})
    assert response.status_code == 400 and "结束日期不能早于开始日期" in response.content.decode()


def test_a_seminar_is_recorded_from_the_campaign_page_and_counted(world):
    from qinqing.visits import stats

    today = clock.today()
    campaign = services.create_campaign(world.dispatcher, name="政策宣讲月", jurisdiction=world.district,
                                        starts_on=today, ends_on=today)
    response = login(world.head).post(f"/visits/campaigns/{campaign.pk}/seminars/",
                                      {"kind": "briefing", "title": "稳岗政策宣讲会", "held_on": today.isoformat()})
    assert response.status_code == 404  # a unit head outside the campaign's groups cannot see it
    login(world.dispatcher).post(f"/visits/campaigns/{campaign.pk}/seminars/",
                                 {"kind": "briefing", "title": "稳岗政策宣讲会", "held_on": today.isoformat()})
    assert stats.seminars_held(today, today, world.district) == 1


def test_the_admin_lists_every_visits_model_in_chinese(world, visit):
    client = login(world.admin)
    for name in ("cadre", "cadencerule", "assignment", "visit", "campaign", "seminar", "contacturging",
                 "dutyevent"):
        response = client.get(f"/admin/visits/{name}/")
        assert response.status_code == 200, name
    assert "包联走访" in client.get("/admin/").content.decode()


def test_a_group_of_visitors_is_formed_and_coverage_shows_it(world, visit):
    today = clock.today()
    campaign = services.create_campaign(world.dispatcher, name="走访月", jurisdiction=world.district,
                                        starts_on=today, ends_on=today)
    services.target_by_rule(world.dispatcher, campaign, {})
    client = login(world.dispatcher)
    response = client.post(f"/visits/campaigns/{campaign.pk}/groups/",
                           {"name": "南头组", "leader": "leader", "members": "specialist, handler"})
    assert response.status_code == 302
    group = campaign.groups.get()
    assert group.leader == world.leader and set(group.members.all()) == {world.specialist, world.handler}
    services.form_group(world.dispatcher, campaign, name="南头组", leader=world.leader,
                        members=[world.specialist], enterprise_ids=[world.enterprise.pk])
    body = client.get(f"/visits/campaigns/{campaign.pk}/").content.decode()
    assert "按走访组" in body and "南头组" in body
    bad = client.post(f"/visits/campaigns/{campaign.pk}/groups/", {"name": "x", "members": "nobody"}, follow=True)
    assert "未找到用户：nobody" in bad.content.decode()


def test_the_visit_form_says_so_when_the_enterprise_is_not_the_cadres(world, duty):
    body = login(world.specialist).get(f"/visits/new/?enterprise={world.other_enterprise.pk}").content.decode()
    assert "未找到该企业，或您无权为其记录走访" in body
    assert world.other_enterprise.name not in body
    assert world.enterprise.name in body  # offered from the cadre's own list


def test_the_workbench_shows_a_cadre_what_is_due_this_week_with_a_link_to_the_full_list(world, duty):
    body = login(world.specialist).get("/").content.decode()
    assert "包联走访 · 本周到期" in body
    assert world.enterprise.name in body
    assert 'href="/visits/"' in body
    assert f"/visits/new/?enterprise={world.enterprise.pk}" in body


def test_the_workbench_tells_a_cadre_with_a_clear_week_so(world):
    services.register_cadre(world.dispatcher, world.specialist, level=Level.SPECIALIST, jurisdiction=world.district)
    body = login(world.specialist).get("/").content.decode()
    assert "本周没有到期的联系和走访" in body


def test_staff_who_hold_no_duty_see_no_visits_panel_on_the_workbench(world, duty):
    body = login(world.dispatcher).get("/").content.decode()
    assert "包联走访 · 本周到期" not in body


def test_the_workbench_panel_costs_one_query_whatever_the_number_of_enterprises_due(world, duty):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from qinqing.enterprises.models import Enterprise
    from tests.conftest import real_codes

    client = login(world.specialist)
    client.get("/")
    with CaptureQueriesContext(connection) as one:
        client.get("/")
    for i, code in enumerate(real_codes()[3:23]):
        e = Enterprise.objects.create(name=f"企业{i:02d}", credit_code=code, sector="services", jurisdiction=world.town)
        services.assign_contact(world.dispatcher, e, duty, duty=Duty.SPECIALIST,
                                on=clock.today() - dt.timedelta(days=29))
    with CaptureQueriesContext(connection) as many:
        body = client.get("/").content.decode()
    assert len(many.captured_queries) == len(one.captured_queries)
    assert "需联系或走访 <strong>21</strong> 家" in body
    assert "另有 16 家，查看全部" in body
    assert len([q for q in many.captured_queries if "visits_assignment" in q["sql"]]) == 1


def test_a_cadre_sees_no_tabs_to_pages_only_managers_may_open(world, duty):
    body = login(world.specialist).get("/visits/").content.decode()
    assert 'href="/visits/assignments/"' not in body
    assert 'href="/visits/neglect/"' not in body
    assert login(world.specialist).get("/visits/neglect/").status_code == 404


def test_a_dispatcher_who_holds_no_duty_lands_on_the_district_pages_not_a_dead_end(world):
    body = login(world.dispatcher).get("/visits/").content.decode()
    assert "请联系营商办" not in body
    for url in ("/visits/assignments/", "/visits/assignments/rule/", "/visits/neglect/", "/visits/campaigns/"):
        assert f'href="{url}"' in body
        assert login(world.dispatcher).get(url).status_code == 200
