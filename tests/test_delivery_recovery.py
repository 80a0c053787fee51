"""Notifications survive a crash: an entry whose delivery was lost is delivered a minute later, once."""

import datetime as dt

import pytest
import time_machine
from huey.contrib.djhuey import HUEY

from qinqing.demands import services
from qinqing.demands.models import Channel, DemandEvent
from qinqing.notifications.models import Notification, Preference, SmsMessage
from qinqing.notifications.services import deliver_overdue_events, notify_for_event
from tests.conftest import NOW


def later(minutes: float):
    return time_machine.travel(NOW + dt.timedelta(minutes=minutes), tick=True)


@pytest.fixture
def worker_down():
    """As in production, the request only hands entries over; here the hand-over never happens (a crash)."""
    HUEY.immediate = False
    yield
    HUEY.immediate = True


def receive(world, title="厂房租金补贴申请无人受理"):
    return services.receive_demand(world.specialist, enterprise=world.enterprise, channel=Channel.HOTLINE,
                                   title=title, content="去年申请的厂房租金补贴至今没有结果。")


def test_an_entry_lost_on_its_way_is_delivered_by_the_catch_up_a_minute_later(world, worker_down):
    demand = receive(world)
    assert not Notification.objects.exists()
    assert deliver_overdue_events() == 0  # not yet a minute old: its own delivery may still be on its way
    with later(2):
        assert deliver_overdue_events() == 1
    note = Notification.objects.get(recipient=world.dispatcher)
    assert note.demand == demand
    assert Notification.objects.filter(recipient=world.owner, demand=demand).exists()  # the enterprise too
    assert not DemandEvent.objects.get(demand=demand).awaiting_delivery


def test_running_the_catch_up_twice_or_after_the_late_task_notifies_once(world, worker_down):
    world.dispatcher.phone = "13800138000"
    world.dispatcher.save(update_fields=["phone"])
    Preference.objects.create(user=world.dispatcher, by_sms=True)
    demand = receive(world)
    event = DemandEvent.objects.get(demand=demand)
    with later(2):
        assert deliver_overdue_events() == 1
        told = Notification.objects.filter(event=event).count()
        assert deliver_overdue_events() == 0
    assert notify_for_event(event.pk) == 0  # the original task, arriving late
    assert Notification.objects.filter(event=event).count() == told
    assert SmsMessage.objects.filter(recipient=world.dispatcher).count() == 1


def test_a_delivered_entry_is_not_picked_up_again(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # Huey immediate: delivered after commit
        demand = receive(world)
    told = Notification.objects.filter(demand=demand).count()
    assert told and not DemandEvent.objects.get(demand=demand).awaiting_delivery
    with later(2):
        assert deliver_overdue_events() == 0
    assert Notification.objects.filter(demand=demand).count() == told


def test_history_loaded_quietly_is_never_delivered(world, worker_down):
    with services.notifications_suppressed():
        demand = receive(world)
        services.dispatch_demand(world.dispatcher, demand.pk, lead_unit=world.bureau)
    assert not DemandEvent.objects.filter(awaiting_delivery=True).exists()
    with later(10):
        assert deliver_overdue_events() == 0
    assert not Notification.objects.exists()


def test_the_catch_up_takes_a_bounded_batch_oldest_first(world, worker_down):
    first, second, third = (receive(world, title=f"第{n}件") for n in "一二三")
    with later(2):
        assert deliver_overdue_events(limit=2) == 2
        told = set(Notification.objects.values_list("demand_id", flat=True))
        assert told == {first.pk, second.pk}
        assert deliver_overdue_events(limit=2) == 1
    assert Notification.objects.filter(demand=third, recipient=world.dispatcher).count() == 1


def test_an_export_left_running_by_a_dead_worker_is_run_again_and_written_once(world, demand):
    from qinqing.workbench.models import ExportJob
    from qinqing.workbench.services import recover_stuck_exports

    job = ExportJob.objects.create(user=world.dispatcher, total_rows=1, done_rows=0, created_at=NOW,
                                   status=ExportJob.Status.RUNNING, columns=["number", "title"])
    fresh = ExportJob.objects.create(user=world.dispatcher, total_rows=1, created_at=NOW,
                                     status=ExportJob.Status.RUNNING, columns=["number"])
    with later(30):
        assert recover_stuck_exports() == []  # half an hour may still be a large export at work
    ExportJob.objects.filter(pk=fresh.pk).update(created_at=NOW + dt.timedelta(minutes=50))
    with later(70):
        assert recover_stuck_exports() == [job.pk]  # Huey immediate: run again at once
        assert recover_stuck_exports() == []
    job.refresh_from_db()
    assert (job.status, job.done_rows) == (ExportJob.Status.DONE, 1) and job.file.name.endswith(".xlsx")
    assert ExportJob.objects.get(pk=fresh.pk).status == ExportJob.Status.RUNNING


def test_an_export_stuck_for_a_day_is_marked_failed_not_run_for_ever(world, demand):
    from qinqing.workbench.models import ExportJob
    from qinqing.workbench.services import recover_stuck_exports

    job = ExportJob.objects.create(user=world.dispatcher, created_at=NOW, status=ExportJob.Status.PENDING)
    with later(25 * 60):
        assert recover_stuck_exports() == []
    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED and "重新导出" in job.message
