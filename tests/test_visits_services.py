"""Contact duties and visits: assignments with history, rule-based bulk assignment, cadence, visits, sweep."""

import datetime as dt

import pytest

from qinqing.accounts.models import Jurisdiction, Role
from qinqing.demands.errors import DomainError, NotFoundError, PermissionDeniedError
from qinqing.demands.models import Channel, Outcome, State
from qinqing.enterprises.models import Enterprise, Sector
from qinqing.lib import clock
from qinqing.notifications.models import Notification
from qinqing.visits import queries, services, stats
from qinqing.visits.models import (
    Assignment,
    Cadre,
    Confirmation,
    ContactUrging,
    Duty,
    DutyEvent,
    Form,
    Level,
    Seminar,
    Visit,
)
from tests.conftest import make_user, real_codes


@pytest.fixture
def cadre(world):
    return services.register_cadre(world.dispatcher, world.specialist, level=Level.SPECIALIST,
                                   jurisdiction=world.district)


@pytest.fixture
def leader_cadre(world):
    return services.register_cadre(world.dispatcher, world.leader, level=Level.DISTRICT_LEADER,
                                   jurisdiction=world.district)


def test_assigning_a_contact_leader_sets_the_pointer_and_keeps_the_history(world, leader_cadre):
    deputy = make_user("deputy", Role.LEADER, full_name="副区长", jurisdiction=world.district)
    deputy_cadre = services.register_cadre(world.dispatcher, deputy, level=Level.DISTRICT_LEADER)
    first = services.assign_contact(world.dispatcher, world.enterprise, leader_cadre, duty=Duty.CONTACT_LEADER,
                                    on=dt.date(2026, 1, 5))
    services.assign_contact(world.dispatcher, world.enterprise, deputy_cadre, duty=Duty.CONTACT_LEADER,
                            on=dt.date(2026, 6, 1))
    world.enterprise.refresh_from_db()
    first.refresh_from_db()
    assert world.enterprise.contact_leader == deputy
    assert first.ended_on == dt.date(2026, 6, 1)
    assert Assignment.objects.filter(enterprise=world.enterprise, duty=Duty.CONTACT_LEADER).count() == 2
    assert Assignment.objects.current().get(enterprise=world.enterprise).cadre == deputy_cadre
    assert DutyEvent.objects.filter(verb=DutyEvent.Verb.ASSIGN, enterprise=world.enterprise).count() == 2
    deputy.__dict__.pop("_role_cache", None)
    assert deputy.has_role(Role.SPECIALIST)


def test_a_new_assignment_is_due_within_the_cadence(world, cadre):
    a = services.assign_contact(world.dispatcher, world.neighbour, cadre, duty=Duty.SPECIALIST,
                                on=dt.date(2026, 3, 1))
    assert a.next_contact_due == dt.date(2026, 3, 31)
    assert a.next_visit_due == dt.date(2026, 5, 30)


def test_an_outsider_dispatcher_cannot_assign_in_another_district(world, cadre):
    with pytest.raises(PermissionDeniedError):
        services.assign_contact(world.other_dispatcher, world.enterprise, cadre, duty=Duty.SPECIALIST)
    assert not Assignment.objects.exists()


def test_assigning_the_same_cadre_twice_is_refused_in_chinese(world, cadre):
    services.assign_contact(world.dispatcher, world.enterprise, cadre, duty=Duty.SPECIALIST)
    with pytest.raises(DomainError, match="已是该企业的为企服务专员"):
        services.assign_contact(world.dispatcher, world.enterprise, cadre, duty=Duty.SPECIALIST)


def test_a_phone_call_moves_the_contact_deadline_and_a_visit_both(world, cadre):
    today = clock.today()
    a = services.assign_contact(world.dispatcher, world.enterprise, cadre, duty=Duty.SPECIALIST,
                                on=today - dt.timedelta(days=100))
    services.record_visit(world.specialist, enterprise=world.enterprise, visited_on=today - dt.timedelta(days=3),
                          form=Form.PHONE, discussed="电话了解订单情况")
    a.refresh_from_db()
    assert a.next_contact_due == today + dt.timedelta(days=27)
    assert a.next_visit_due == today - dt.timedelta(days=10)
    services.record_visit(world.specialist, enterprise=world.enterprise, visited_on=today, form=Form.ON_SITE,
                          discussed="实地查看生产线")
    a.refresh_from_db()
    assert a.last_visit_on == today
    assert a.next_visit_due == today + dt.timedelta(days=90)


def test_a_problem_raised_on_a_visit_becomes_a_linked_demand_through_the_visit_channel(world, cadre):
    visit = services.record_visit(
        world.specialist, enterprise=world.enterprise, visited_on=clock.today(), form=Form.ON_SITE,
        visitors=[world.handler], production="normal", orders="down", employees=120, hiring_need=30,
        problems=[services.Problem("数控操作工招聘难", "缺少数控机床操作工约30人"),
                  services.Problem("不清楚技改补贴申报时间", "询问技改补贴", solution="现场讲解了申报流程并送达政策汇编")])
    demands = list(visit.demands.order_by("pk"))
    assert len(demands) == 2
    assert {d.channel for d in demands} == {Channel.VISIT}
    assert demands[0].enterprise == world.enterprise
    assert demands[0].next_due is not None  # the 1231 clock runs
    assert list(visit.solved_demands.all()) == [demands[1]]
    assert set(visit.visitors.all()) == {world.specialist, world.handler}


def test_a_problem_solved_on_the_spot_is_a_demand_closed_with_the_solution_as_its_reply(world, cadre):
    visit = services.record_visit(
        world.specialist, enterprise=world.enterprise, visited_on=clock.today(), form=Form.ON_SITE,
        problems=[services.Problem("数控操作工招聘难", "缺少数控机床操作工约30人"),
                  services.Problem("不清楚技改补贴申报时间", "询问技改补贴", solution="现场讲解了申报流程并送达政策汇编")])
    open_one, solved = visit.demands.order_by("pk")
    assert open_one.state == State.RECEIVED
    assert solved.state == State.CLOSED
    assert solved.outcome == Outcome.SOLVED
    assert solved.reply == "现场讲解了申报流程并送达政策汇编"
    assert solved.content == "询问技改补贴"
    assert list(solved.events.values_list("verb", flat=True).order_by("pk"))[-1] == "settle"
    assert DutyEvent.objects.filter(verb=DutyEvent.Verb.SOLVE_ON_SPOT, visit=visit).count() == 1


def test_the_campaign_counts_problems_solved_on_the_spot_among_those_collected(world, cadre):
    today = clock.today()
    campaign = services.create_campaign(world.dispatcher, name="春季走访", jurisdiction=world.district,
                                        starts_on=today - dt.timedelta(days=3), ends_on=today)
    services.record_visit(
        world.specialist, enterprise=world.enterprise, visited_on=today, form=Form.ON_SITE, campaign=campaign,
        problems=[services.Problem("数控操作工招聘难", "缺少数控机床操作工约30人"),
                  services.Problem("不清楚技改补贴申报时间", "询问技改补贴", solution="现场讲解了申报流程")])
    cov = queries.coverage(campaign)
    assert cov.problems == 2
    assert cov.solved_on_spot == 1
    assert dict(cov.problems_by_state) == {State.RECEIVED.label: 1, State.CLOSED.label: 1}


def test_bad_visit_input_changes_nothing(world, cadre):
    with pytest.raises(DomainError, match="不能晚于今天"):
        services.record_visit(world.specialist, enterprise=world.enterprise,
                              visited_on=clock.today() + dt.timedelta(days=1), form=Form.PHONE)
    with pytest.raises(DomainError, match="缺少标题"):
        services.record_visit(world.specialist, enterprise=world.enterprise, visited_on=clock.today(),
                              form=Form.PHONE, problems=[services.Problem("", "只有内容")])
    assert not Visit.objects.exists()


def test_a_cadre_cannot_log_a_visit_to_an_enterprise_they_do_not_serve(world, cadre):
    with pytest.raises(NotFoundError):
        services.record_visit(world.specialist, enterprise=world.other_enterprise, visited_on=clock.today(),
                              form=Form.PHONE)


def test_the_enterprise_confirms_or_disputes_a_visit_once(world, cadre):
    visit = services.record_visit(world.specialist, enterprise=world.enterprise, visited_on=clock.today(),
                                  form=Form.ON_SITE, discussed="座谈")
    with pytest.raises(NotFoundError):
        services.respond_to_visit(world.neighbour_owner, visit, confirmed=True, rating=5)
    with pytest.raises(DomainError, match="说明异议"):
        services.respond_to_visit(world.owner, visit, confirmed=False)
    services.respond_to_visit(world.owner, visit, confirmed=False, comment="当天没有人来过")
    visit.refresh_from_db()
    assert visit.confirmation == Confirmation.DISPUTED
    with pytest.raises(DomainError, match="已经确认过"):
        services.respond_to_visit(world.owner, visit, confirmed=True, rating=5)


def test_the_sweep_urges_each_overdue_deadline_once_and_notifies_the_cadre(world, cadre,
                                                                         django_capture_on_commit_callbacks):
    today = clock.today()
    services.assign_contact(world.dispatcher, world.enterprise, cadre, duty=Duty.SPECIALIST,
                            on=today - dt.timedelta(days=40))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.urge_overdue_contacts(today) == 1
    assert services.urge_overdue_contacts(today) == 0
    assert ContactUrging.objects.get().kind == ContactUrging.Kind.CONTACT
    assert Notification.objects.filter(recipient=world.specialist, text__contains="超过联系周期").count() == 1


def test_changing_the_cadence_moves_current_deadlines(world, cadre):
    a = services.assign_contact(world.dispatcher, world.enterprise, cadre, duty=Duty.SPECIALIST,
                                on=dt.date(2026, 1, 1))
    with pytest.raises(PermissionDeniedError):
        services.set_cadence(world.dispatcher, Level.SPECIALIST, contact_days=14, visit_days=60)
    services.set_cadence(world.admin, Level.SPECIALIST, contact_days=14, visit_days=60)
    a.refresh_from_db()
    assert a.next_contact_due == dt.date(2026, 1, 15)
    assert a.next_visit_due == dt.date(2026, 3, 2)


def _enterprises(world, n, **fields):
    codes = real_codes()[3:]
    return [Enterprise.objects.create(name=f"企业{i}", credit_code=codes[i], jurisdiction=world.town, **fields)
            for i in range(n)]


def test_bulk_assignment_previews_then_balances_by_level(world):
    industrial = _enterprises(world, 5, sector=Sector.INDUSTRY, is_four_above=True)
    leaders = []
    for i in range(2):
        person = make_user(f"quld{i}", Role.LEADER, full_name=f"区领导{i}", jurisdiction=world.district)
        leaders.append(services.register_cadre(world.dispatcher, person, level=Level.DISTRICT_LEADER, capacity=2))
    plan = services.plan_bulk_assignment(world.dispatcher, world.district, tiers=["industrial"])
    # the fixture's own factory is 规上工业 too: six enterprises, two leaders with room for two each.
    assert plan.tiers[0][1] == 6
    assert plan.placed == 4 and plan.unplaced == 2
    assert not Assignment.objects.exists()  # a preview writes nothing
    services.apply_bulk_assignment(world.dispatcher, world.district, tiers=["industrial"])
    loads = sorted(Assignment.objects.current().values_list("cadre_id", flat=True))
    assert loads.count(leaders[0].pk) == 2 and loads.count(leaders[1].pk) == 2
    held = Enterprise.objects.filter(pk__in=[e.pk for e in industrial], helpers__contact_leader__isnull=False).count()
    held += Enterprise.objects.filter(pk=world.enterprise.pk, helpers__contact_leader__isnull=False).count()
    assert held == 4
    event = DutyEvent.objects.get(verb=DutyEvent.Verb.BULK_ASSIGN)
    assert event.actor == world.dispatcher and event.data["tiers"]["industrial"] == [6, 4]
    assert set(Assignment.objects.values_list("batch", flat=True)) == {event.data["batch"]}
    assert set(Assignment.objects.values_list("assigned_by", flat=True)) == {world.dispatcher.pk}
    # Applied again, only the two left over are considered, and nobody has room.
    again = services.plan_bulk_assignment(world.dispatcher, world.district, tiers=["industrial"])
    assert again.tiers[0][1] == 2 and again.placed == 0


def test_bulk_assignment_shares_by_town_for_section_chiefs(world):
    second_town = Jurisdiction.objects.create(code="440305002", name="粤海街道", level="town", parent=world.district)
    _enterprises(world, 3, sector=Sector.SERVICES)
    chief1 = services.register_cadre(world.dispatcher, make_user("chief1", Role.HANDLER, jurisdiction=world.town),
                                     level=Level.SECTION_CHIEF)
    chief2 = services.register_cadre(world.dispatcher, make_user("chief2", Role.HANDLER, jurisdiction=second_town),
                                     level=Level.SECTION_CHIEF)
    services.apply_bulk_assignment(world.dispatcher, world.district, tiers=["four_below"])
    # every 四下 enterprise lies in 南头街道: all go to its chief, none to the other town's.
    assert Assignment.objects.filter(cadre=chief1).count() == 3 + 1  # 3 new + the fixture's restaurant
    assert not Assignment.objects.filter(cadre=chief2).exists()


def test_stats_count_distinct_visited_enterprises_and_seminars_in_a_subtree(world, cadre):
    day = clock.today()
    for form in (Form.ON_SITE, Form.ON_SITE, Form.PHONE):
        services.record_visit(world.specialist, enterprise=world.enterprise, visited_on=day, form=form)
    services.record_visit(world.admin, enterprise=world.other_enterprise, visited_on=day, form=Form.ON_SITE)
    services.record_visit(world.admin, enterprise=world.neighbour, visited_on=day, form=Form.PHONE)
    assert stats.visited_enterprises(day, day).count() == 2
    assert list(stats.visited_enterprises(day, day, world.district)) == [world.enterprise]
    # A phone call is a contact, not a 走访: the neighbour is counted among those only contacted.
    assert list(stats.contacted_only(day, day, world.district)) == [world.neighbour]
    services.record_seminar(world.dispatcher, kind=Seminar.Kind.BRIEFING, title="政策宣讲", held_on=day,
                            jurisdiction=world.town, enterprises=[world.enterprise])
    assert stats.seminars_held(day, day, world.district) == 1
    assert stats.seminars_held(day, day, world.other_district) == 0
    assert Cadre.objects.count() == 1


def test_stats_list_overdue_contacts_within_a_subtree(world, cadre):
    today = clock.today()
    services.assign_contact(world.dispatcher, world.enterprise, cadre, duty=Duty.SPECIALIST,
                            on=today - dt.timedelta(days=31))
    assert [a.enterprise for a in stats.overdue_contacts(world.district, today)] == [world.enterprise]
    assert not stats.overdue_contacts(world.other_district, today).exists()
    assert not stats.overdue_contacts(world.district, today - dt.timedelta(days=2)).exists()
