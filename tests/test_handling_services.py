"""People on a demand (issue 15): the named handler, watchers, internal notes with @mentions, hand urging, canned
replies and bulk actions, through qinqing.handling.services."""

import pytest

from qinqing.accounts.models import Role
from qinqing.audit.models import AuditEntry
from qinqing.demands import services as demand_services
from qinqing.demands.errors import DomainError, PermissionDeniedError
from qinqing.demands.models import Channel, Demand, DemandEvent, State
from qinqing.handling import services
from qinqing.handling.models import Assignment, CannedReply
from qinqing.notifications.models import Notification
from tests.conftest import at, make_user


@pytest.fixture
def told(django_capture_on_commit_callbacks):
    """Run a service and then the notifications it queues after commit, as the worker would."""

    def run(service, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return service(*args, **kwargs)

    return run


@pytest.fixture
def dispatched(world, demand):
    return demand_services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)


@pytest.fixture
def second_handler(world):
    return make_user("handler2", Role.HANDLER, full_name="吴承办", unit=world.bureau, jurisdiction=world.district)


def texts(user):
    return list(Notification.objects.filter(recipient=user).values_list("text", flat=True))


# ---------------------------------------------------------------- named handler

def test_the_lead_units_head_assigns_a_handler_who_is_told_and_sees_it_on_the_timeline(world, dispatched, told):
    told(services.assign_demand, world.head, dispatched, assignee=world.handler)
    assignment = Assignment.objects.get(demand=dispatched)
    assert assignment.assignee == world.handler and assignment.unit == world.bureau
    event = DemandEvent.objects.get(demand=dispatched, verb="assign")
    assert event.internal and event.actor == world.head and event.data["assignee"] == "钱承办"
    assert texts(world.handler) == [f"诉求已指派给您承办：{dispatched.number} 技术工人招聘困难"]
    assert not Notification.objects.filter(recipient=world.owner, event=event).exists()


def test_a_reassignment_needs_a_reason_and_tells_both_handlers(world, dispatched, second_handler, told):
    services.assign_demand(world.head, dispatched, assignee=world.handler)
    with pytest.raises(DomainError, match="改派承办人须说明理由"):
        services.assign_demand(world.head, dispatched, assignee=second_handler)
    assert Assignment.objects.get(demand=dispatched).assignee == world.handler
    told(services.assign_demand, world.head, dispatched, assignee=second_handler, reason="钱承办休假")
    assert Assignment.objects.get(demand=dispatched).assignee == second_handler
    event = DemandEvent.objects.get(demand=dispatched, verb="reassign")
    assert event.note == "钱承办休假"
    assert event.data["previous_assignee"] == "钱承办" and event.data["assignee"] == "吴承办"
    assert any("改派理由：钱承办休假" in t for t in texts(world.handler))
    assert any("改派理由：钱承办休假" in t for t in texts(second_handler))


def test_only_the_lead_units_head_may_assign(world, dispatched):
    other_head = make_user("financehead", Role.UNIT_HEAD, unit=world.finance, jurisdiction=world.district)
    for user in (world.handler, world.dispatcher, other_head):
        with pytest.raises(DomainError):
            services.assign_demand(user, dispatched, assignee=world.handler)
    with pytest.raises(PermissionDeniedError, match="只有主办单位负责人"):
        services.assign_demand(world.handler, dispatched, assignee=world.handler)
    assert not Assignment.objects.exists()
    assert not DemandEvent.objects.filter(verb="assign").exists()


def test_only_a_handler_of_the_lead_unit_may_be_assigned(world, dispatched):
    for person in (world.co_handler, world.head, world.dispatcher, world.other_handler):
        with pytest.raises(DomainError, match="不是本诉求主办单位的在岗承办人"):
            services.assign_demand(world.head, dispatched, assignee=person)
    assert not Assignment.objects.exists()


def test_a_demand_not_yet_dispatched_cannot_be_assigned(world, demand):
    with pytest.raises(DomainError):
        services.assign_demand(world.head, demand, assignee=world.handler)


def test_my_demands_lists_the_open_ones_assigned_to_me_nearest_deadline_first(world, dispatched, second_handler):
    later = demand_services.receive_demand(
        world.dispatcher, enterprise=world.neighbour, channel=Channel.VISIT, title="用工补贴咨询", content="补贴",
        category=world.hiring, received_at=at("2026-11-30 10:00"))
    demand_services.dispatch_demand(world.dispatcher, later, lead_unit=world.bureau)
    services.assign_demand(world.head, later, assignee=world.handler)
    services.assign_demand(world.head, dispatched, assignee=world.handler)
    assert [d.number for d in services.my_demands(world.handler)] == [dispatched.number, later.number]
    assert list(services.my_demands(second_handler)) == []
    # Returned to the dispatcher: no longer the handler's work.
    demand_services.return_demand(world.handler, later, reason="非本单位职责")
    assert [d.number for d in services.my_demands(world.handler)] == [dispatched.number]


# ---------------------------------------------------------------- watchers

def test_a_watcher_is_told_of_the_demands_steps_and_no_longer_after_unwatching(world, dispatched, told):
    services.watch_demand(world.supervisor, dispatched)
    services.watch_demand(world.supervisor, dispatched)  # twice is once
    told(demand_services.accept_demand, world.handler, dispatched)
    assert texts(world.supervisor) == [f"【关注】您关注的诉求{dispatched.number}有新进展：签收"]
    assert services.unwatch_demand(world.supervisor, dispatched)
    told(demand_services.contact_enterprise, world.handler, dispatched, method="电话")
    assert len(texts(world.supervisor)) == 1


def test_staff_who_cannot_see_a_demand_cannot_watch_it(world, dispatched):
    for user in (world.other_handler, world.co_handler, world.owner):
        with pytest.raises(DomainError, match="无权查看"):
            services.watch_demand(user, dispatched)


# ---------------------------------------------------------------- internal notes

def test_an_internal_note_notifies_the_people_it_mentions_by_name_or_login(world, dispatched, told):
    event = told(services.add_note, world.dispatcher, dispatched, text="@钱承办请今天联系企业，@head 请关注进度")
    assert event.internal and event.verb == "note"
    assert event.data["mentioned"] == ["钱承办", "孙局长"]
    assert texts(world.handler) == [f"【内部备注】诉求{dispatched.number}中有人提到了您：@钱承办请今天联系企业，@head 请关注进度"]
    assert len(texts(world.head)) == 1
    assert not Notification.objects.filter(event=event, recipient=world.owner).exists()


def test_mentioning_someone_who_cannot_see_the_demand_is_refused_and_writes_nothing(world, dispatched):
    for name in ("周外区", "otherhandler", "林总", "李协办"):
        with pytest.raises(PermissionDeniedError, match="无权查看该诉求"):
            services.add_note(world.dispatcher, dispatched, text=f"请@{name} 协助")
    with pytest.raises(DomainError, match="没有找到被提及的用户"):
        services.add_note(world.dispatcher, dispatched, text="请@查无此人 协助")
    assert not DemandEvent.objects.filter(verb="note").exists()


def test_an_email_address_in_a_note_is_not_a_mention(world, dispatched):
    event = services.add_note(world.handler, dispatched, text="材料已发至 hr@example.com")
    assert "mentioned" not in event.data


# ---------------------------------------------------------------- urging by hand

def test_a_dispatcher_urges_a_demand_and_the_lead_unit_is_told(world, dispatched, told):
    told(services.urge_demand, world.dispatcher, dispatched, note="企业再次来电")
    assert texts(world.handler) == [f"【催办】{dispatched.number} 技术工人招聘困难：企业再次来电"]
    with pytest.raises(PermissionDeniedError):
        services.urge_demand(world.handler, dispatched)


# ---------------------------------------------------------------- canned replies

def test_a_canned_reply_fills_its_placeholders_from_the_demand(world, dispatched):
    reply = services.create_canned_reply(
        world.head, scope="unit", title="已协调招聘会",
        text="{企业名称}：您于{受理日期}反映的问题（{诉求编号}）已协调，将于{办结期限}前办结。{今天}")
    filled = services.fill_placeholders(reply.text, dispatched)
    assert filled == (f"深圳市南头精密制造有限公司：您于2026年9月30日反映的问题（{dispatched.number}）已协调，"
                      f"将于{dispatched.resolve_due.year}年{dispatched.resolve_due.month}月{dispatched.resolve_due.day}日"
                      "前办结。2026年12月3日")
    assert AuditEntry.objects.filter(action="config_changed", target="常用语：已协调招聘会").exists()


def test_an_unknown_placeholder_is_refused(world):
    with pytest.raises(DomainError, match=r"不认识的占位符：\{企业名\}"):
        services.create_canned_reply(world.head, scope="unit", title="错", text="{企业名}您好")
    assert not CannedReply.objects.exists()


def test_the_reply_form_offers_the_units_the_jurisdictions_and_the_global_canned_replies(world, dispatched):
    services.create_canned_reply(world.head, scope="unit", title="人社局用语", text="甲")
    services.create_canned_reply(world.dispatcher, scope="jurisdiction", title="南山区用语", text="乙")
    services.create_canned_reply(world.admin, scope="global", title="全局用语", text="丙")
    services.create_canned_reply(world.other_dispatcher, scope="jurisdiction", title="宝安区用语", text="丁")
    finance_head = make_user("financehead", Role.UNIT_HEAD, unit=world.finance, jurisdiction=world.district)
    services.create_canned_reply(finance_head, scope="unit", title="金融局用语", text="戊")
    assert [r.title for r in services.replies_for(dispatched)] == ["人社局用语", "全局用语", "南山区用语"]


def test_who_keeps_which_canned_replies(world):
    with pytest.raises(PermissionDeniedError):
        services.create_canned_reply(world.handler, scope="unit", title="甲", text="甲")
    with pytest.raises(PermissionDeniedError):
        services.create_canned_reply(world.dispatcher, scope="global", title="甲", text="甲")
    reply = services.create_canned_reply(world.head, scope="unit", title="甲", text="甲")
    with pytest.raises(DomainError, match="无权维护"):
        services.update_canned_reply(world.dispatcher, reply.pk, title="乙", text="乙")
    services.update_canned_reply(world.head, reply.pk, title="乙", text="乙")
    services.delete_canned_reply(world.admin, reply.pk)
    assert not CannedReply.objects.exists()


# ---------------------------------------------------------------- bulk actions

def _received(world, n):
    return [demand_services.receive_demand(
        world.dispatcher, enterprise=world.enterprise, channel=Channel.HOTLINE, title=f"批量诉求{i}", content="内容",
        category=world.hiring, received_at=at("2026-12-01 09:00")) for i in range(n)]


def test_bulk_dispatch_reports_each_row_and_writes_nothing_for_the_failed_ones(world, dispatched):
    fresh = _received(world, 2)
    numbers = [fresh[0].number, dispatched.number, fresh[1].number, "QQ2099-999999"]
    before = DemandEvent.objects.filter(demand=dispatched).count()
    results = services.bulk_act(world.dispatcher, "dispatch", numbers, unit=world.finance.pk, note="批量交办")
    assert [(r.number, r.ok) for r in results] == [
        (fresh[0].number, True), (dispatched.number, False), (fresh[1].number, True), ("QQ2099-999999", False)]
    assert results[1].label == "失败：诉求当前状态为“待签收”，不能进行“交办”操作。"
    assert results[3].label == "失败：诉求不存在或您无权查看。"
    assert set(Demand.objects.filter(pk__in=[d.pk for d in fresh]).values_list("lead_unit", flat=True)) == {
        world.finance.pk}
    dispatched.refresh_from_db()
    assert dispatched.lead_unit == world.bureau and dispatched.state == State.DISPATCHED
    assert DemandEvent.objects.filter(demand=dispatched).count() == before


def test_bulk_dispatch_to_a_unit_outside_the_district_fails_every_row(world):
    fresh = _received(world, 2)
    results = services.bulk_act(world.dispatcher, "dispatch", [d.number for d in fresh], unit=world.other_unit.pk)
    assert not any(r.ok for r in results)
    assert "不在本诉求可交办的范围内" in results[0].message
    assert set(Demand.objects.filter(pk__in=[d.pk for d in fresh]).values_list("state", flat=True)) == {"received"}


def test_bulk_assign_and_urge(world, dispatched):
    fresh = _received(world, 1)[0]
    demand_services.dispatch_demand(world.dispatcher, fresh, lead_unit=world.bureau)
    results = services.bulk_act(world.head, "assign", [dispatched.number, fresh.number], assignee=world.handler.pk)
    assert all(r.ok for r in results)
    assert {d.number for d in services.my_demands(world.handler)} == {dispatched.number, fresh.number}
    results = services.bulk_act(world.dispatcher, "urge", [dispatched.number, fresh.number], note="月底前办结")
    assert all(r.ok for r in results)
    assert DemandEvent.objects.filter(verb="urge", note="月底前办结").count() == 2


def test_bulk_actions_refuse_more_than_two_hundred_rows(world):
    with pytest.raises(DomainError, match="一次最多批量处理200件"):
        services.bulk_act(world.dispatcher, "urge", [f"QQ2026-{i:06d}" for i in range(201)])
