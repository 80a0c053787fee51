"""The overdue sweep: one urging per overdue stage, whatever the number of runs or the downtime."""

import datetime as dt

from qinqing.demands import services
from qinqing.demands.models import Channel, Demand, DemandEvent, Urging
from qinqing.notifications.models import Notification

from .conftest import at


def test_a_demand_not_dispatched_on_day_one_is_urged_once(world, demand):
    assert services.urge_overdue(dt.date(2026, 9, 30)) == 0
    assert services.urge_overdue(dt.date(2026, 10, 8)) == 1
    assert services.urge_overdue(dt.date(2026, 10, 9)) == 0
    urging = Urging.objects.get()
    assert (urging.stage, urging.due) == ("dispatch", dt.date(2026, 9, 30))
    assert DemandEvent.objects.filter(verb="urge").get().note == "交办环节已超期，请抓紧办理"


def test_each_overdue_stage_is_urged_once_as_the_demand_moves_on(world, demand):
    services.urge_overdue(dt.date(2026, 10, 8))
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    assert services.urge_overdue(dt.date(2026, 10, 9)) == 1  # contact was due 10-08
    assert services.urge_overdue(dt.date(2026, 10, 9)) == 0
    assert list(Urging.objects.order_by("id").values_list("stage", "unit__name")) == [
        ("dispatch", None), ("contact", "南山区人力资源局")]


def test_after_days_of_downtime_the_sweep_catches_up_without_duplicates(world, demand):
    others = [
        services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.HOTLINE,
                                title=f"诉求{i}", content="内容", received_at=at(f"2026-10-{8 + i:02d} 09:00"))
        for i in range(3)
    ]
    assert services.urge_overdue(dt.date(2026, 10, 20)) == 4
    assert services.urge_overdue(dt.date(2026, 10, 21)) == 0
    assert Urging.objects.count() == 4
    assert set(Urging.objects.values_list("demand_id", flat=True)) == {demand.pk, *[d.pk for d in others]}


def test_closed_long_term_and_merged_demands_are_never_urged(world, demand):
    d = services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    services.mark_long_term(world.dispatcher, d, reason="研究推进")
    assert services.urge_overdue(dt.date(2026, 12, 31)) == 0


def test_the_lead_unit_is_told_of_an_urging(world, demand, django_capture_on_commit_callbacks):
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    with django_capture_on_commit_callbacks(execute=True):
        services.urge_overdue(dt.date(2026, 10, 9))
    texts = list(Notification.objects.filter(recipient=world.handler).values_list("text", flat=True))
    assert any(t.startswith("【催办】QQ2026-000001") for t in texts)


def test_overdue_is_an_indexed_comparison_on_the_stored_deadline(world, demand):
    assert list(Demand.objects.overdue(dt.date(2026, 10, 8))) == [demand]
    assert not Demand.objects.overdue(dt.date(2026, 9, 30)).exists()


def test_each_urging_reaches_the_lead_units_handler_and_head_once_even_if_delivered_twice(
        world, django_capture_on_commit_callbacks):
    from qinqing.demands.tasks import deliver_sweep

    for i in range(3):
        d = services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.HOTLINE,
                                    title=f"诉求{i}", content="内容", received_at=at("2026-09-30 10:00"))
        services.dispatch_demand(world.dispatcher, d, lead_unit=world.bureau)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.urge_overdue(dt.date(2026, 10, 9)) == 3
    sweep = Urging.objects.values_list("sweep", flat=True).first()
    assert deliver_sweep.call_local(sweep) == 0  # already delivered
    for person in (world.handler, world.head):
        texts = sorted(Notification.objects.filter(recipient=person).values_list("text", flat=True))
        assert [t.split("：")[0] for t in texts if t.startswith("【催办】")] == [
            "【催办】QQ2026-000001 诉求0", "【催办】QQ2026-000002 诉求1", "【催办】QQ2026-000003 诉求2"]
        assert texts[0].endswith("联系企业环节已超期，请抓紧办理")
    assert not Notification.objects.filter(recipient__in=[world.co_handler, world.other_handler]).exists()


def test_someone_who_asked_for_sms_gets_one_digest_per_sweep_not_one_text_per_demand(
        world, django_capture_on_commit_callbacks):
    from qinqing.notifications.models import SmsMessage
    from qinqing.notifications.services import set_preferences

    world.head.phone = "13900000001"
    world.head.save()
    set_preferences(world.head, by_email=False, by_sms=True)
    for i in range(4):
        d = services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.HOTLINE,
                                    title=f"诉求{i}", content="内容", received_at=at("2026-09-30 10:00"))
        services.dispatch_demand(world.dispatcher, d, lead_unit=world.bureau)
    SmsMessage.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        services.urge_overdue(dt.date(2026, 10, 9))
    assert list(SmsMessage.objects.values_list("phone", "text")) == [
        ("13900000001", "【亲清】【催办】本单位有4件诉求超期，请登录亲清平台尽快办理。")]
