"""协办 tasks, dispatch disputes, escalation queues with 批示, and the review of 区级研究推进 demands."""

import datetime as dt

import pytest

from qinqing.accounts.models import Role
from qinqing.cooperation import services
from qinqing.cooperation.models import CatalogueEntry, CoTask, DisputeStatus, InstructionAnswer, TaskState
from qinqing.demands import services as demand_services
from qinqing.demands.errors import DomainError, IllegalTransition, PermissionDeniedError
from qinqing.demands.models import Channel, State, Tier
from qinqing.notifications.models import Notification
from tests.conftest import at, make_user, on_day


@pytest.fixture
def told(django_capture_on_commit_callbacks):
    """Run a service and then the notifications it queues after commit, as the worker would."""

    def run(service, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return service(*args, **kwargs)

    return run


def dispatched(world, when="2026-11-02 10:00", co_units=None, lead=None):
    """Received and dispatched on the same day; 2026-11-02 is a Monday, its 1231 resolution due 2026-12-02."""
    with demand_services.acting_at(at(when)):
        d = demand_services.receive_demand(
            world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT, title="厂房消防验收迟迟未办",
            content="新建厂房消防验收申请已提交两月，尚无结果，影响投产。", category=world.hiring, received_at=at(when))
        return demand_services.dispatch_demand(world.dispatcher, d, lead_unit=lead or world.bureau,
                                               co_units=[world.finance] if co_units is None else co_units)


def told_about(verb):
    return {n.recipient for n in Notification.objects.filter(event__verb=verb).select_related("recipient")}


# ---------------------------------------------------------------- 协办 tasks

def test_each_co_unit_gets_a_task_due_two_working_days_before_the_lead_must_resolve(world):
    d = dispatched(world)
    assert d.resolve_due == dt.date(2026, 12, 2)
    task = CoTask.objects.get(demand=d)
    assert (task.unit, task.state) == (world.finance, TaskState.PENDING)
    assert task.due == dt.date(2026, 11, 30)  # Wednesday's deadline less two working days: Monday


def test_a_co_unit_brought_in_after_the_lead_is_late_still_gets_three_working_days(world, demand):
    demand_services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau, co_units=[world.finance])
    task = CoTask.objects.get(demand=demand)
    # Dispatched on Thursday 3 December, long after the lead's deadline: Thursday, Friday, Monday.
    assert task.due == dt.date(2026, 12, 7)


def test_the_co_unit_accepts_writes_its_opinion_and_the_lead_no_longer_misses_it(world, told):
    d = dispatched(world)
    assert [t.unit for t in services.missing_opinions(d)] == [world.finance]
    services.accept_co_task(world.co_handler, d)
    assert CoTask.objects.get(demand=d).state == TaskState.ACCEPTED
    told(services.write_opinion, world.co_handler, d, opinion="可对接区内银行提供技改贷款贴息。")
    task = CoTask.objects.get(demand=d)
    assert (task.state, task.opinion, task.answered_by) == (TaskState.ANSWERED, "可对接区内银行提供技改贷款贴息。",
                                                           world.co_handler)
    assert services.missing_opinions(d) == []
    entry = d.events.get(verb="co_opinion")
    assert entry.internal and entry.data["co_unit"] == world.finance.name
    assert told_about("co_opinion") == {world.handler, world.head}  # the lead unit hears of it


def test_only_the_co_units_own_staff_may_write_its_opinion(world):
    d = dispatched(world)
    for outsider in (world.handler, world.dispatcher, world.leader):
        with pytest.raises(DomainError):
            services.write_opinion(outsider, d, opinion="越俎代庖")
    assert CoTask.objects.get(demand=d).opinion == ""


def test_an_empty_opinion_is_refused_and_changes_nothing(world):
    d = dispatched(world)
    with pytest.raises(DomainError, match="请填写协办意见"):
        services.write_opinion(world.co_handler, d, opinion="   ")
    assert CoTask.objects.get(demand=d).state == TaskState.PENDING
    assert not d.events.filter(verb="co_opinion").exists()


def test_a_return_withdraws_the_co_units_task_and_a_new_dispatch_gives_it_back(world):
    d = dispatched(world)
    demand_services.return_demand(world.handler, d, reason="不属于本单位职责")
    assert CoTask.objects.get(demand=d).state == TaskState.WITHDRAWN
    with pytest.raises(DomainError):  # the co-unit no longer even sees the demand
        services.accept_co_task(world.co_handler, d)
    demand_services.dispatch_demand(world.dispatcher, d, lead_unit=world.joint_office, co_units=[world.finance])
    task = CoTask.objects.get(demand=d)
    assert task.state == TaskState.PENDING and task.due == dt.date(2026, 12, 7)


def test_an_overdue_co_unit_is_urged_once_for_its_due_date(world, told):
    d = dispatched(world)
    assert told(services.urge_co_units, dt.date(2026, 11, 30)) == 0  # due today: not yet overdue
    assert told(services.urge_co_units, dt.date(2026, 12, 1)) == 1
    assert told(services.urge_co_units, dt.date(2026, 12, 2)) == 0  # the same due date is urged once
    entry = d.events.get(verb="co_urge")
    assert entry.internal and world.finance.name in entry.note and entry.actor is None
    assert told_about("co_urge") == {world.co_handler}  # the co-unit, not the lead unit


def test_a_co_unit_that_gave_its_opinion_is_not_urged(world):
    d = dispatched(world)
    services.write_opinion(world.co_handler, d, opinion="已出具意见。")
    assert services.urge_co_units(dt.date(2026, 12, 3)) == 0


# ---------------------------------------------------------------- 退单争议

@pytest.fixture
def catalogue(world):
    return CatalogueEntry.objects.create(jurisdiction=world.district, matter="企业融资对接", unit=world.finance,
                                         basis="区金融工作局三定方案")


def test_a_dispute_upheld_redispatches_to_the_unit_the_catalogue_names(world, catalogue, told):
    d = dispatched(world, co_units=[])
    told(services.dispute_dispatch, world.handler, d, entry=catalogue.pk, reason="融资对接属金融工作局职责")
    assert told_about("dispute") == {world.dispatcher}
    with pytest.raises(PermissionDeniedError):
        services.decide_dispute(world.handler, d, upheld=True)
    dispute = told(services.decide_dispute, world.dispatcher, d, upheld=True, note="依目录改派")
    d.refresh_from_db()
    assert dispute.status == DisputeStatus.UPHELD
    assert (d.lead_unit, d.state, d.return_count) == (world.finance, State.DISPATCHED, 1)
    verbs = list(d.events.values_list("verb", flat=True))
    assert verbs[-3:] == ["dispute", "decide_dispute", "dispatch"]
    assert world.co_handler in told_about("dispatch")  # the new lead unit is told to sign for it


def test_a_dispute_rejected_keeps_the_unit_and_records_the_reason(world, catalogue, told):
    d = dispatched(world, co_units=[])
    services.dispute_dispatch(world.handler, d, entry=catalogue, reason="融资对接属金融工作局职责")
    with pytest.raises(DomainError, match="不予支持的理由"):
        services.decide_dispute(world.dispatcher, d, upheld=False)
    dispute = told(services.decide_dispute, world.dispatcher, d, upheld=False, note="诉求核心是招工，属人社职责")
    d.refresh_from_db()
    assert dispute.status == DisputeStatus.REJECTED and dispute.decision_note == "诉求核心是招工，属人社职责"
    assert d.lead_unit == world.bureau and d.state == State.DISPATCHED
    assert "诉求核心是招工" in d.events.get(verb="decide_dispute").note
    assert told_about("decide_dispute") == {world.handler, world.head}


def test_a_dispute_must_cite_a_catalogue_entry_naming_another_unit(world, catalogue):
    d = dispatched(world, co_units=[])
    own = CatalogueEntry.objects.create(jurisdiction=world.district, matter="招工用工", unit=world.bureau)
    elsewhere = CatalogueEntry.objects.create(jurisdiction=world.other_district, matter="企业融资对接",
                                              unit=world.other_unit)
    for entry in (own, elsewhere, None):
        with pytest.raises(DomainError, match="派单目录"):
            services.dispute_dispatch(world.handler, d, entry=entry and entry.pk, reason="不是我们的")
    services.dispute_dispatch(world.handler, d, entry=catalogue.pk, reason="不是我们的")
    with pytest.raises(IllegalTransition, match="待调度员裁定"):
        services.dispute_dispatch(world.handler, d, entry=catalogue.pk, reason="再提一次")


# ---------------------------------------------------------------- escalation

def test_an_escalation_notifies_the_leaders_of_the_demands_district_and_nobody_elses(world, told):
    other_leader = make_user("otherleader", Role.LEADER, jurisdiction=world.other_district)
    city_leader = make_user("cityleader", Role.LEADER, jurisdiction=world.city)
    d = dispatched(world)
    told(demand_services.escalate_demand, world.dispatcher, d, reason="涉及多个部门，提请联席办协调")
    recipients = told_about("escalate")
    assert world.leader in recipients
    assert not recipients & {other_leader, city_leader}


def test_an_escalated_demand_appears_in_its_levels_queue_oldest_first(world):
    older = dispatched(world, when="2026-11-02 10:00")
    newer = dispatched(world, when="2026-11-16 10:00")
    dispatched(world, when="2026-11-09 10:00")  # not escalated
    for d in (newer, older):
        demand_services.escalate_demand(world.dispatcher, d, reason="提请联席办协调")
    assert list(services.escalation_queue(world.leader, Tier.JOINT_OFFICE)) == [older, newer]
    assert list(services.escalation_queue(world.leader, Tier.DISTRICT_LEADER)) == []
    assert list(services.escalation_queue(world.other_dispatcher, Tier.JOINT_OFFICE)) == []


def test_a_leaders_instruction_is_answered_by_the_lead_and_each_co_unit(world, told):
    d = dispatched(world)
    with pytest.raises(IllegalTransition, match="提级"):
        services.write_instruction(world.leader, d, text="请抓紧办理")
    demand_services.escalate_demand(world.dispatcher, d, reason="提请联席办协调")
    with pytest.raises(PermissionDeniedError):
        services.write_instruction(world.dispatcher, d, text="请抓紧办理")
    instruction = told(services.write_instruction, world.leader, d, text="请人社、金融两部门一周内拿出方案。")
    assert told_about("instruct") == {world.handler, world.head, world.co_handler}
    pending = InstructionAnswer.objects.filter(instruction=instruction, answered_at__isnull=True)
    assert {a.unit for a in pending} == {world.bureau, world.finance}
    told(services.answer_instruction, world.co_handler, instruction, text="已对接三家银行，下周上门。")
    assert [a.unit for a in services.unanswered_for_unit(world.finance.pk)] == []
    assert [a.instruction for a in services.unanswered_for_unit(world.bureau.pk)] == [instruction]
    assert told_about("answer_instruction") == {world.leader}
    with pytest.raises(IllegalTransition):
        services.answer_instruction(world.co_handler, instruction, text="再答一次")


# ---------------------------------------------------------------- 区级研究推进

def test_a_long_term_demand_without_progress_is_listed_once_its_review_date_passes(world):
    d = dispatched(world)
    demand_services.mark_long_term(world.dispatcher, d, reason="涉及规划调整，需区里研究")
    review = d.long_term_review
    assert review.review_on == dt.date(2027, 1, 4)  # a month on (3 January is a Sunday)
    assert list(services.stalled_long_term(world.supervisor)) == []
    with on_day(dt.date(2027, 1, 5)):
        assert list(services.stalled_long_term(world.supervisor)) == [d]
        services.record_progress(world.handler, d, text="规划部门已完成初步论证。")
        assert list(services.stalled_long_term(world.supervisor)) == []
    d.long_term_review.refresh_from_db()
    assert d.long_term_review.review_on == dt.date(2027, 2, 5)


def test_only_the_dispatcher_moves_a_review_date_and_never_into_the_past(world):
    d = dispatched(world)
    demand_services.mark_long_term(world.dispatcher, d, reason="需区里研究")
    with pytest.raises(PermissionDeniedError):
        services.set_review(world.handler, d, review_on=dt.date(2027, 3, 1))
    with pytest.raises(DomainError, match="不能早于今天"):
        services.set_review(world.dispatcher, d, review_on=dt.date(2026, 12, 1))
    services.set_review(world.dispatcher, d, review_on=dt.date(2027, 3, 1), interval_months=2)
    d.long_term_review.refresh_from_db()
    assert (d.long_term_review.review_on, d.long_term_review.interval_months) == (dt.date(2027, 3, 1), 2)
