"""Hand-offs between levels, pauses (挂起) and 默认满意, through the services (qinqing.handoffs)."""

import datetime as dt

import pytest
from django.test import override_settings

from qinqing.accounts.models import Role, Unit
from qinqing.demands import services
from qinqing.demands.errors import DomainError, IllegalTransition, PermissionDeniedError
from qinqing.demands.models import Channel, Demand, Evaluation, Outcome, State, Urging
from qinqing.handoffs import services as handoffs
from qinqing.handoffs.models import HandOff, Pause
from qinqing.notifications.models import Notification
from qinqing.reports import rates, rollup, stats
from qinqing.workdays import services as calendar_services
from qinqing.workdays.models import WorkdayOverride

from .conftest import at, make_user, on_day

D = dt.date.fromisoformat


@pytest.fixture
def city(world):
    """The city level: its dispatcher, a city bureau and its handler."""
    world.city_unit = Unit.objects.create(name="深圳市人力资源和社会保障局", kind="department", jurisdiction=world.city)
    world.city_dispatcher = make_user("citydispatcher", Role.DISPATCHER, full_name="市调度", jurisdiction=world.city)
    world.city_handler = make_user("cityhandler", Role.HANDLER, full_name="市承办", unit=world.city_unit,
                                   jurisdiction=world.city)
    return world


def fresh(world, title="厂房消防验收排期") -> Demand:
    return services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT, title=title,
                                   content="新厂房消防验收排期较长，影响投产。", category=world.hiring)


def handling(world, title="厂房消防验收排期") -> Demand:
    d = fresh(world, title)
    services.dispatch_demand(world.dispatcher, d, lead_unit=world.bureau)
    return services.accept_demand(world.handler, d)


# ---------------------------------------------------------------- hand-offs

def test_a_demand_handed_to_the_city_lands_in_the_city_dispatchers_inbox_with_its_own_clock(city, demand):
    w = city
    services.dispatch_demand(w.dispatcher, demand, lead_unit=w.bureau)
    handoff = handoffs.hand_off_demand(w.dispatcher, demand, to_jurisdiction=w.city, reason="涉及市级审批权限")

    copy = handoff.target
    assert handoff.direction == HandOff.Direction.UP
    assert copy.jurisdiction == w.city and copy.handed_from_id == demand.pk
    assert (copy.enterprise, copy.title, copy.content) == (demand.enterprise, demand.title, demand.content)
    assert copy.number != demand.number
    inbox = Demand.objects.visible_to(w.city_dispatcher).filter(state=State.RECEIVED)
    assert list(inbox) == [copy]
    # The city's clock starts on the day it received it; the district's demand was received in September.
    assert copy.received_at >= at("2026-12-03 10:00") and copy.dispatch_due == D("2026-12-03")
    assert demand.dispatch_due == D("2026-09-30")
    demand.refresh_from_db()
    assert demand.state == State.TRANSFERRED and demand.next_due is None
    entry = copy.events.get(verb="handoff_in")
    assert entry.data["source"] == demand.number and entry.data["history"][0]["verb"] == "受理"
    # The enterprise follows its own demand, not the city's copy.
    assert list(Demand.objects.visible_to(w.owner)) == [demand]
    # Only the city's units are offered to the city's dispatcher.
    assert w.city_unit in services.dispatchable_units(copy)


def test_the_citys_reply_comes_back_and_the_enterprise_rates_it_on_its_own_demand(
        city, demand, django_capture_on_commit_callbacks):
    w = city
    with django_capture_on_commit_callbacks(execute=True):
        services.dispatch_demand(w.dispatcher, demand, lead_unit=w.bureau)
        copy = handoffs.hand_off_demand(w.dispatcher, demand, to_jurisdiction=w.city, reason="涉及市级审批权限").target
        services.dispatch_demand(w.city_dispatcher, copy, lead_unit=w.city_unit)
        services.contact_enterprise(w.city_handler, copy, method="电话")
        services.reply_demand(w.city_handler, copy, reply="市人社局已将该企业纳入重点用工保障名单。",
                              outcome=Outcome.SOLVED)
    assert Notification.objects.filter(recipient=w.city_dispatcher, text__startswith="移交诉求待交办").count() == 1

    demand.refresh_from_db()
    copy.refresh_from_db()
    assert demand.state == State.REPLIED and demand.reply == "市人社局已将该企业纳入重点用工保障名单。"
    assert demand.outcome == Outcome.SOLVED
    assert copy.state == State.CLOSED
    assert HandOff.objects.get().status == HandOff.Status.ANSWERED
    assert demand.events.filter(verb="handoff_reply").count() == 1
    # The enterprise was told of its own demand's steps only: the city's dispatch and reply reached it once,
    # as the reply handed back.
    texts = list(Notification.objects.filter(recipient=w.owner).values_list("text", flat=True))
    assert sum("正式答复" in t for t in texts) == 1 and not any(copy.number in t for t in texts)
    services.evaluate_demand(w.owner, demand, evaluation=Evaluation.SATISFIED)
    demand.refresh_from_db()
    assert demand.state == State.EVALUATED and not demand.evaluation_by_callback


def test_a_city_hands_a_demand_down_to_a_district_whose_dispatcher_receives_it(city):
    w = city
    d = services.receive_demand(w.city_dispatcher, reporter_name="匿名", jurisdiction=w.city, channel=Channel.HOTLINE,
                                title="园区道路破损", content="园区主干道破损，货车通行困难。", category=w.hiring)
    assert [j.pk for j in handoffs.handoff_targets(w.city_dispatcher, d)] == [w.province.pk, w.district.pk,
                                                                        w.other_district.pk]
    handoff = handoffs.hand_off_demand(w.city_dispatcher, d, to_jurisdiction=w.district.code, reason="属区级事权")
    assert handoff.direction == HandOff.Direction.DOWN
    assert list(Demand.objects.visible_to(w.dispatcher).filter(state=State.RECEIVED)) == [handoff.target]
    assert not Demand.objects.visible_to(w.other_dispatcher).filter(pk=handoff.target.pk).exists()


def test_only_a_dispatcher_hands_over_and_only_to_a_level_above_or_below(city, demand):
    w = city
    with pytest.raises(PermissionDeniedError):
        handoffs.hand_off_demand(w.specialist, demand, to_jurisdiction=w.city, reason="x")
    with pytest.raises(DomainError, match="请选择可以接收"):
        handoffs.hand_off_demand(w.dispatcher, demand, to_jurisdiction=w.town, reason="x")
    with pytest.raises(DomainError, match="移交理由"):
        handoffs.hand_off_demand(w.dispatcher, demand, to_jurisdiction=w.city, reason=" ")
    assert not HandOff.objects.exists() and Demand.objects.count() == 1


def test_both_ledgers_count_a_hand_off_once_each_in_its_own_column(city, demand):
    w = city
    handoffs.hand_off_demand(w.dispatcher, demand, to_jurisdiction=w.city, reason="涉及市级审批权限")
    period = stats.Period(D("2026-09-01"), D("2026-12-31"))
    start, end = stats.local_bounds(period)
    # The city received one problem, not two: its copy is counted under 移入, not as a new receipt.
    assert stats.received(w.city, period).count() == 1
    assert stats.received(w.district, period).count() == 1
    assert handoffs.handoff_counts(w.district, start, end) == {"out": 1, "in": 0}
    assert handoffs.handoff_counts(w.other_district, start, end) == {"out": 0, "in": 0}
    assert handoffs.handoff_counts(w.city, start, end)["in"] == 1
    # The dashboards, read from the rollup: the city received one, under 移入; the district sent one.
    rollup.rebuild()
    city_cards = {c.label: c.value for c in stats.dashboard(w.city, period, D("2026-12-03")).cards}
    district_cards = {c.label: c.value for c in stats.dashboard(w.district, period, D("2026-12-03")).cards}
    assert (city_cards["受理诉求"], city_cards["移入"]) == (1, 1)
    assert (district_cards["受理诉求"], district_cards["移出"], district_cards["移入"]) == (1, 1, 0)


# ---------------------------------------------------------------- pauses

def test_a_pause_needs_the_dispatchers_approval_before_the_clock_stops(world):
    d = handling(world)
    with pytest.raises(DomainError, match="挂起原因说明"):
        handoffs.request_pause(world.handler, d, reason=Pause.Reason.OTHER)
    with pytest.raises(PermissionDeniedError):
        handoffs.request_pause(world.dispatcher, d, reason=Pause.Reason.COURT)
    handoffs.request_pause(world.handler, d, reason=Pause.Reason.COURT)
    d.refresh_from_db()
    assert d.paused_since is None and d.next_due == D("2026-12-04")
    with pytest.raises(PermissionDeniedError):
        handoffs.approve_pause(world.handler, d)
    handoffs.approve_pause(world.dispatcher, d)
    d.refresh_from_db()
    assert d.is_paused and d.next_due is None
    with pytest.raises(IllegalTransition):
        handoffs.request_pause(world.handler, d, reason=Pause.Reason.DOCUMENTS)


def test_a_refused_pause_leaves_the_clock_running(world):
    d = handling(world)
    handoffs.request_pause(world.handler, d, reason=Pause.Reason.DOCUMENTS)
    with pytest.raises(DomainError, match="驳回理由"):
        handoffs.refuse_pause(world.dispatcher, d, note="")
    handoffs.refuse_pause(world.dispatcher, d, note="材料可先行办理")
    d.refresh_from_db()
    assert not d.is_paused and d.next_due == D("2026-12-04")
    assert Pause.objects.get().status == Pause.Status.REFUSED


def test_resuming_moves_every_remaining_deadline_by_the_paused_working_days_not_counting_a_holiday(world):
    calendar_services.save_override(world.admin, WorkdayOverride(date=D("2026-12-09"), kind="holiday"))
    d = handling(world)
    assert (d.contact_due, d.path_due, d.resolve_due) == (D("2026-12-04"), D("2026-12-07"), D("2027-01-04"))
    handoffs.request_pause(world.handler, d, reason=Pause.Reason.HIGHER)
    handoffs.approve_pause(world.dispatcher, d)
    with on_day(D("2026-12-10")):  # Fri 4, Mon 7, Tue 8, (Wed 9 a holiday), Thu 10: four working days
        pause = handoffs.resume_demand(world.handler, d)
    d.refresh_from_db()
    assert pause.workdays == 4
    assert d.contact_due == D("2026-12-11") and d.path_due == D("2026-12-14") and d.resolve_due == D("2027-01-08")
    assert d.next_due == D("2026-12-11") and not d.is_paused
    assert d.dispatch_due == D("2026-12-03")  # met before the pause: unchanged
    # A later transition recomputes the deadlines and keeps the pause's shift.
    with on_day(D("2026-12-10")):
        services.contact_enterprise(world.handler, d, method="电话")
    d.refresh_from_db()
    assert d.path_due == D("2026-12-14") and d.next_due == D("2026-12-14")


def test_the_overdue_sweep_does_not_urge_a_paused_demand(world):
    paused, running = handling(world, "暂停的诉求"), handling(world, "照常计时的诉求")
    handoffs.request_pause(world.handler, paused, reason=Pause.Reason.COURT)
    handoffs.approve_pause(world.dispatcher, paused)
    with on_day(D("2026-12-08")):
        services.urge_overdue()
    assert list(Urging.objects.values_list("demand_id", flat=True)) == [running.pk]


# ---------------------------------------------------------------- 默认满意

def replied(world, day: str) -> Demand:
    with on_day(D(day)):
        d = handling(world, f"{day}答复的诉求")
        services.contact_enterprise(world.handler, d, method="电话")
        return services.reply_demand(world.handler, d, reply="已协调解决。", outcome=Outcome.SOLVED)


@override_settings(QINQING_DEFAULT_SATISFIED_WORKDAYS=7)
def test_a_reply_left_unrated_for_seven_working_days_is_closed_as_default_satisfied(world):
    old, recent = replied(world, "2026-11-23"), replied(world, "2026-11-25")
    # Replied Mon 23 Nov: seven working days later is Wed 2 Dec; Wed 25 Nov's run out on Fri 4 Dec.
    assert handoffs.close_unrated_replies(D("2026-12-03")) == 1
    assert handoffs.close_unrated_replies(D("2026-12-03")) == 0
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.state, old.evaluation) == (State.CLOSED, Evaluation.DEFAULT)
    assert old.events.filter(verb="default_satisfied").count() == 1
    assert recent.state == State.REPLIED


@override_settings(QINQING_DEFAULT_SATISFIED_WORKDAYS=7)
def test_default_satisfied_is_counted_apart_from_the_satisfaction_rate(world):
    unrated, rated = replied(world, "2026-11-23"), replied(world, "2026-11-24")
    services.evaluate_demand(world.owner, rated, evaluation=Evaluation.UNSATISFIED, comment="未解决")
    handoffs.close_unrated_replies(D("2026-12-03"))
    period = stats.Period(D("2026-11-01"), D("2026-12-31"))
    live = rates.live(stats.received(world.district, period), period.start, period.end, D("2026-12-03"))
    # One real rating, unsatisfied: 0 %, not 50 % with the default one counted as satisfied.
    assert (live.satisfaction.part, live.satisfaction.whole) == (0, 1)
    assert stats.evaluations(world.district, period)["default"] == 1
    unrated.refresh_from_db()
    assert unrated.evaluation == Evaluation.DEFAULT
