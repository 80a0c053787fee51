"""The demand loop's service functions: who may do what, when, and what is recorded."""

import datetime as dt

import pytest
from django.db import transaction

from qinqing.demands import services
from qinqing.demands.errors import (
    ConflictError,
    DomainError,
    IllegalTransition,
    NotFoundError,
    PermissionDeniedError,
)
from qinqing.demands.models import Channel, Demand, DemandEvent, Evaluation, Extension, Outcome, State, Tier
from qinqing.demands.verbs import allowed_verbs
from qinqing.notifications.models import Notification

from .conftest import at


def replied(world, demand):
    w = world
    d = services.dispatch_demand(w.dispatcher, demand, lead_unit=w.bureau, co_units=[w.finance])
    d = services.contact_enterprise(w.handler, d, method="上门走访")
    d = services.feed_back_path(w.handler, d, path="10月中旬组织专场招聘会")
    return services.reply_demand(w.handler, d, reply="已组织专场招聘会，招到28人。", outcome=Outcome.SOLVED)


def test_receiving_numbers_the_demand_and_writes_the_first_timeline_entry(world, demand):
    assert demand.number == "QQ2026-000001"
    assert demand.state == State.RECEIVED
    assert demand.first_receiver == world.dispatcher
    event = demand.events.get()
    assert (event.verb, event.actor, event.to_state) == ("receive", world.dispatcher, State.RECEIVED)


def test_numbers_run_per_year(world, demand):
    second = services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.HOTLINE,
                                     title="再次反映", content="内容", received_at=at("2026-10-09 09:00"))
    old = services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.HOTLINE,
                                  title="去年的诉求", content="内容", received_at=at("2025-12-30 09:00"))
    assert (second.number, old.number) == ("QQ2026-000002", "QQ2025-000001")


def test_an_enterprise_user_submits_for_its_own_enterprise_only(world):
    d = services.receive_demand(world.owner, enterprise=world.other_enterprise, channel=Channel.VISIT,
                                title="厂房租金上涨", content="希望协调租金")
    assert d.enterprise == world.enterprise
    assert d.channel == Channel.ONLINE


def test_a_dispatcher_cannot_receive_for_an_enterprise_of_another_district(world):
    with pytest.raises(PermissionDeniedError, match="不在您的管辖范围内"):
        services.receive_demand(world.dispatcher, enterprise=world.other_enterprise, channel=Channel.VISIT,
                                title="标题", content="内容")
    assert not Demand.objects.exists()


def test_receiving_without_a_title_changes_nothing(world):
    with pytest.raises(DomainError, match="请填写诉求标题"):
        services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT,
                                title="  ", content="内容")
    assert not Demand.objects.exists() and not DemandEvent.objects.exists()


def test_a_receipt_time_in_the_future_is_refused(world):
    with pytest.raises(DomainError, match="受理时间不能晚于当前时间"):
        services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT,
                                title="标题", content="内容", received_at=at("2099-01-01 09:00"))


def test_the_category_is_suggested_from_the_text_when_not_given(world):
    d = services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.HOTLINE,
                                title="流动资金贷款到期", content="希望银行续贷，降低担保要求")
    assert d.category.name == "融资难"


def test_an_individual_reporter_needs_a_name(world):
    with pytest.raises(DomainError, match="个人反映人姓名"):
        services.receive_demand(world.dispatcher, channel=Channel.HOTLINE, title="标题", content="内容")
    d = services.receive_demand(world.dispatcher, channel=Channel.HOTLINE, title="标题", content="内容",
                                reporter_name="匿名")
    assert d.jurisdiction == world.district and d.enterprise is None


def test_the_whole_loop_with_an_unsatisfied_rating_and_a_redo(world, demand):
    w = world
    d = replied(w, demand)
    d = services.evaluate_demand(w.owner, d, evaluation=Evaluation.UNSATISFIED, comment="只招到一半")
    with pytest.raises(DomainError, match="应先重办"):
        services.close_demand(w.dispatcher, d)
    d = services.reopen_demand(w.owner, d, reason="还缺15人")
    assert (d.state, d.reopen_count, d.outcome) == (State.REOPENED, 1, "")
    d = services.reply_demand(w.handler, d, reply="第二场招聘会补足人员。", outcome=Outcome.SOLVED)
    d = services.evaluate_demand(w.owner, d, evaluation=Evaluation.SATISFIED)
    d = services.close_demand(w.dispatcher, d, note="销号")
    assert d.state == State.CLOSED and d.closed_at is not None
    verbs = list(d.events.values_list("verb", flat=True))
    assert verbs == ["receive", "dispatch", "contact", "plan", "reply", "evaluate", "reopen", "reply",
                     "evaluate", "close"]
    states = list(d.events.values_list("from_state", "to_state"))
    assert states[1] == (State.RECEIVED, State.DISPATCHED) and states[-1] == (State.EVALUATED, State.CLOSED)


def test_a_redo_gets_a_fresh_resolution_clock(world, demand):
    d = replied(world, demand)
    d = services.evaluate_demand(world.owner, d, evaluation=Evaluation.UNSATISFIED, comment="不满意")
    with services.acting_at(at("2026-10-20 09:00")):
        d = services.reopen_demand(world.dispatcher, d, reason="企业不满意")
    assert d.resolve_due == dt.date(2026, 11, 2)  # the 10th working day counting 10-20 as day 1
    assert (d.current_stage, d.next_due) == ("resolve", dt.date(2026, 11, 2))


def test_a_staff_callback_counts_as_an_evaluation(world, demand):
    d = replied(world, demand)
    d = services.evaluate_demand(world.specialist, d, evaluation=Evaluation.BASIC, comment="电话回访")
    assert d.evaluation_by_callback
    assert services.close_demand(world.dispatcher, d).state == State.CLOSED


def test_close_out_needs_a_reply_and_an_evaluation(world, demand):
    d = services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    with pytest.raises(IllegalTransition, match="不能进行“销号”操作"):
        services.close_demand(world.dispatcher, d)


def test_unsatisfied_without_a_reason_is_refused(world, demand):
    d = replied(world, demand)
    with pytest.raises(DomainError, match="请说明原因"):
        services.evaluate_demand(world.owner, d, evaluation=Evaluation.UNSATISFIED)
    assert Demand.objects.get(pk=d.pk).state == State.REPLIED


def test_a_return_needs_a_reason_and_goes_back_to_the_dispatcher(world, demand):
    w = world
    d = services.dispatch_demand(w.dispatcher, demand, lead_unit=w.finance)
    with pytest.raises(DomainError, match="请填写退回理由"):
        services.return_demand(w.co_handler, d, reason="")
    d = services.return_demand(w.co_handler, d, reason="属于人社职能，非金融问题")
    assert (d.state, d.lead_unit, d.return_count) == (State.RETURNED, None, 1)
    d = services.dispatch_demand(w.dispatcher, d, lead_unit=w.bureau)
    assert d.state == State.DISPATCHED and d.events.last().data["redispatch"] is True
    assert d.dispatch_due == dt.date(2026, 9, 30)  # a return does not reset the dispatch clock


def test_only_the_lead_unit_may_work_the_demand(world, demand):
    d = services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau, co_units=[world.finance])
    with pytest.raises(PermissionDeniedError, match="只有主办单位"):
        services.accept_demand(world.co_handler, d)
    with pytest.raises(PermissionDeniedError, match="只有调度员"):
        services.mark_long_term(world.head, d, reason="想自己定")


def test_units_and_enterprises_of_elsewhere_do_not_even_find_the_demand(world, demand):
    for outsider in (world.other_handler, world.other_dispatcher, world.other_owner, world.neighbour_owner):
        with pytest.raises(NotFoundError):
            services.dispatch_demand(outsider, demand, lead_unit=world.bureau)


def test_an_illegal_transition_gives_a_chinese_error(world, demand):
    with pytest.raises(IllegalTransition, match="诉求当前状态为“待交办”，不能进行“正式答复”操作"):
        services.reply_demand(world.dispatcher, demand, reply="x", outcome=Outcome.SOLVED)


def test_a_unit_does_not_see_a_demand_before_it_is_dispatched_to_it(world, demand):
    with pytest.raises(NotFoundError, match="诉求不存在或您无权查看"):
        services.accept_demand(world.handler, demand)


def test_the_second_of_two_stale_actions_is_refused(world, demand):
    seen = demand.version
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau, version=seen)
    with pytest.raises(ConflictError, match="已被他人更新"):
        services.dispatch_demand(world.dispatcher, demand, lead_unit=world.finance, version=seen)
    assert Demand.objects.get(pk=demand.pk).lead_unit == world.bureau


def test_a_concurrent_write_between_read_and_save_is_refused(world, demand):
    Demand.objects.filter(pk=demand.pk).update(version=demand.version + 5)
    stale = Demand.objects.get(pk=demand.pk)
    stale.version = demand.version
    with pytest.raises(ConflictError), transaction.atomic():
        services._save(stale, ["title"], recompute=False)


def test_extensions_are_requested_once_and_decided_by_the_dispatcher(world, demand):
    w = world
    d = services.dispatch_demand(w.dispatcher, demand, lead_unit=w.bureau)
    d = services.accept_demand(w.handler, d)
    services.request_extension(w.handler, d, days=3, reason="需市级部门会签")
    with pytest.raises(DomainError, match="已有一份延期申请待审批"):
        services.request_extension(w.handler, d, days=3, reason="再申请")
    with pytest.raises(PermissionDeniedError):
        services.approve_extension(w.handler, d)
    d = services.reject_extension(w.dispatcher, d, note="时限内可办结")
    assert d.resolve_due == dt.date(2026, 10, 30)
    assert Extension.objects.get().status == Extension.Status.REJECTED


def test_escalation_climbs_the_tiers_and_transfer_goes_to_the_city(world, demand):
    w = world
    d = services.dispatch_demand(w.dispatcher, demand, lead_unit=w.bureau)
    d = services.escalate_demand(w.head, d, reason="涉及多部门")
    d = services.escalate_demand(w.dispatcher, d, reason="联席办会商未解决")
    assert d.tier == Tier.DISTRICT_LEADER
    with pytest.raises(DomainError, match="请移送市级"):
        services.escalate_demand(w.dispatcher, d, reason="再提级")
    d = services.mark_long_term(w.dispatcher, d, reason="需修订区级政策")
    assert (d.state, d.outcome, d.next_due) == (State.LONG_TERM, Outcome.LONG_TERM, None)
    d = services.transfer_to_city(w.dispatcher, d, reason="涉及市级事权")
    assert (d.state, d.outcome, d.tier) == (State.TRANSFERRED, Outcome.TRANSFERRED, Tier.CITY)


def test_a_duplicate_is_merged_into_the_open_demand(world, demand):
    dup = services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.HOTLINE,
                                  title="招工难", content="同一问题12345再次反映", received_at=at("2026-10-08 09:00"))
    dup = services.merge_demand(world.dispatcher, dup, into=demand.number)
    assert (dup.state, dup.duplicate_of, dup.next_due) == (State.MERGED, demand, None)
    with pytest.raises(DomainError, match="不能并入自身"):
        services.merge_demand(world.dispatcher, demand, into=demand)


def test_allowed_verbs_match_what_the_services_accept(world, demand):
    # The fixture's demand was raised on a visit, so it may also be settled on the spot.
    assert allowed_verbs(world.dispatcher, demand) == ["dispatch", "merge", "settle"]
    assert allowed_verbs(world.handler, demand) == []
    d = services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    assert set(allowed_verbs(world.handler, d)) == {"return", "accept", "contact"}
    assert set(allowed_verbs(world.head, d)) == {"return", "accept", "contact", "escalate"}


def test_the_timeline_cannot_be_changed_or_deleted(world, demand):
    event = demand.events.get()
    event.note = "篡改"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        DemandEvent.objects.filter(pk=event.pk).update(note="篡改")
    with pytest.raises(TypeError):
        DemandEvent.objects.all().delete()
    assert DemandEvent.objects.get(pk=event.pk).note == "经走访受理"


def test_steps_notify_the_unit_and_tell_the_enterprise_in_plain_words(world, demand,
                                                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau, co_units=[world.finance],
                                 note="内部备注：请优先办理")
    texts = dict(Notification.objects.values_list("recipient__username", "text"))
    assert "新交办诉求" in texts["handler"] and "新交办诉求" in texts["cohandler"]
    assert texts["owner"] == "您反映的问题已交由南山区人力资源局办理，对方将在2个工作日内与您联系。"
    assert "otherhandler" not in texts
