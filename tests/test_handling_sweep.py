"""关注 and the overdue sweep (qinqing.handling.notify): the watchers of the demands a sweep urges are told in
bulk, as they are of a single step: once, only while they may still see the demand, never twice."""

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext

from qinqing.accounts.models import Role
from qinqing.demands import services as demand_services
from qinqing.demands.models import Channel, Urging
from qinqing.handling import services
from qinqing.handling.models import Watch
from qinqing.notifications.models import Notification
from qinqing.notifications.services import notify_sweep
from tests.conftest import at, make_user

LATER = dt.date(2027, 3, 1)  # every deadline of a demand dispatched on 2026-12-03 has passed


def _dispatched(world, n, title="超期关注"):
    out = []
    for i in range(n):
        d = demand_services.receive_demand(
            world.dispatcher, enterprise=world.enterprise, channel=Channel.HOTLINE, title=f"{title}{i}",
            content="内容", category=world.hiring, received_at=at("2026-12-01 09:00"))
        out.append(demand_services.dispatch_demand(world.dispatcher, d, lead_unit=world.bureau))
    return out


def _texts(user):
    return sorted(Notification.objects.filter(recipient=user).values_list("text", flat=True))


def test_the_sweeps_urging_reaches_the_watchers_of_the_overdue_demands(world, django_capture_on_commit_callbacks):
    watched, unwatched = _dispatched(world, 2)
    services.watch_demand(world.supervisor, watched)
    services.watch_demand(world.dispatcher, watched)
    services.watch_demand(world.handler, watched)  # in the lead unit: told by the sweep as a handler already
    with django_capture_on_commit_callbacks(execute=True):
        assert demand_services.urge_overdue(LATER) == 2
    stage = Urging.objects.get(demand=watched).get_stage_display()
    for watcher in (world.supervisor, world.dispatcher):
        assert _texts(watcher) == [f"【关注】您关注的诉求{watched.number}有新进展：催办（{stage}环节已超期，请抓紧办理）"]
    mine = Notification.objects.filter(recipient=world.handler)
    assert mine.count() == 2 and not mine.filter(text__startswith="【关注】").exists()  # once, as a handler
    assert not Notification.objects.filter(demand=unwatched, text__startswith="【关注】").exists()


def test_a_watcher_who_can_no_longer_see_the_demand_is_not_told_of_its_urging(world,
                                                                             django_capture_on_commit_callbacks):
    (demand,) = _dispatched(world, 1)
    Watch.objects.create(demand=demand, user=world.other_dispatcher)  # followed it once; another district now
    services.watch_demand(world.leader, demand)
    with django_capture_on_commit_callbacks(execute=True):
        demand_services.urge_overdue(LATER)
    assert _texts(world.other_dispatcher) == []
    assert len(_texts(world.leader)) == 1


def test_delivering_a_sweep_again_tells_no_watcher_twice(world):
    (demand,) = _dispatched(world, 1)
    services.watch_demand(world.supervisor, demand)
    demand_services.urge_overdue(LATER)  # committed; its delivery not run yet
    sweep = Urging.objects.get().sweep
    assert notify_sweep(sweep) == 3  # the bureau's handler and head, and the watcher
    assert notify_sweep(sweep) == 0
    assert len(_texts(world.supervisor)) == 1


def test_the_watchers_of_many_urged_demands_cost_queries_per_watcher_not_per_demand(world):
    def watched_sweep(n, watchers):
        rows = _dispatched(world, n, title=f"批{n}")
        for user in watchers:
            Watch.objects.bulk_create(Watch(demand=d, user=user) for d in rows)
        Urging.objects.all().delete()
        demand_services.urge_overdue(LATER)
        sweep = Urging.objects.filter(demand=rows[0]).get().sweep
        with CaptureQueriesContext(connection) as ctx:
            notify_sweep(sweep)
        return len(ctx.captured_queries), Notification.objects.filter(demand__in=rows,
                                                                      text__startswith="【关注】").count()

    second = make_user("supervisor2", Role.SUPERVISOR, full_name="卫督查", jurisdiction=world.district)
    few, told_few = watched_sweep(2, [world.supervisor, second])
    many, told_many = watched_sweep(12, [world.supervisor, second])
    assert (told_few, told_many) == (4, 24)
    assert many == few
