"""Two people (or a person and the worker) acting on the same demand at the same moment, on PostgreSQL.

Each side runs in its own thread with its own database connection, and a barrier releases them together,
so both transactions are open at once: the demand's row lock (`select_for_update` in services._lock) makes
one wait for the other, and the state or version it then reads decides. Exactly one wins, the other gets
the service's Chinese refusal, and the timeline and the notifications tell the story once.

SQLite runs one writer at a time (a second writer waits for the whole database), so these interleavings
cannot happen there: the module is skipped on SQLite.
"""

import datetime as dt
import threading
import time

import pytest
from django.db import connection, connections

from qinqing.accounts.models import Role
from qinqing.demands import services
from qinqing.demands.errors import DomainError
from qinqing.demands.models import Channel, DemandEvent, State, Urging
from qinqing.notifications.models import Notification

from .conftest import at, make_user

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="SQLite serializes writers (one transaction writes at a time), so these races "
                              "cannot happen there; run with DATABASE_URL=postgresql://…"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ROUNDS = 3  # each race is run several times: a lucky schedule must not make it pass


def at_once(*actions):
    """Run each action in its own thread and connection, released together; [(result, error), …]."""
    barrier = threading.Barrier(len(actions))
    outcomes: list = [None] * len(actions)

    def run(i, action):
        try:
            barrier.wait(timeout=30)
            outcomes[i] = (action(), None)
        except DomainError as exc:
            outcomes[i] = (None, exc)
        except Exception as exc:  # noqa: BLE001 - a crash is reported by the test, not lost in the thread
            outcomes[i] = (None, exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread is still waiting: deadlock?"
    return outcomes


def one_winner(outcomes):
    """The winning result and the loser's refusal; fails on anything but one success and one DomainError."""
    won = [r for r, e in outcomes if e is None]
    lost = [e for _, e in outcomes if e is not None]
    assert len(won) == 1 and len(lost) == 1, outcomes
    assert isinstance(lost[0], DomainError), repr(lost[0])
    return won[0], lost[0]


def received(world, title, when="2026-11-02 10:00"):
    return services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.HOTLINE,
                                   title=title, content="企业反映的问题，需要承办单位联系企业了解情况。",
                                   category=world.hiring, received_at=at(when))


def contacted(world, title):
    """A demand the bureau has accepted and contacted the enterprise about: its next step is a reply."""
    d = received(world, title)
    d = services.dispatch_demand(world.dispatcher, d, lead_unit=world.bureau)
    d = services.accept_demand(world.handler, d)
    return services.contact_enterprise(world.handler, d, method="电话")


def verbs(demand) -> list[str]:
    return list(DemandEvent.objects.filter(demand=demand).order_by("created_at", "pk").values_list("verb", flat=True))


def notified(demand, verb) -> list[int]:
    """Recipients told of `verb` on `demand`, one entry per notification row."""
    return sorted(Notification.objects.filter(demand=demand, event__verb=verb).values_list("recipient", flat=True))


STALE = ("已被他人更新", "当前状态为")  # the two ways the loser is told: a newer version, or a changed state


@pytest.mark.parametrize("with_version", [True, False], ids=["version-seen", "no-version"])
def test_two_handlers_replying_at_once_one_reply_stands_and_the_other_is_told_it_was_handled(world, with_version):
    for n in range(ROUNDS):
        demand = contacted(world, f"答复竞争{n}")
        seen = demand.version if with_version else None

        def reply(user, text, pk=demand.pk, seen=seen):
            return lambda: services.reply_demand(user, pk, reply=text, outcome="solved", version=seen)

        won, refusal = one_winner(at_once(reply(world.handler, "甲的答复"), reply(world.head, "乙的答复")))
        assert any(s in refusal.message for s in STALE), refusal.message
        demand.refresh_from_db()
        assert demand.state == State.REPLIED and demand.reply == won.reply
        assert verbs(demand) == ["receive", "dispatch", "accept", "contact", "reply"]
        told = notified(demand, "reply")
        assert told == sorted({world.dispatcher.pk, world.owner.pk}), "each person told of the reply once"


def test_two_handlers_accepting_at_once_one_acceptance_and_one_notice(world):
    for n in range(ROUNDS):
        demand = services.dispatch_demand(world.dispatcher, received(world, f"签收竞争{n}"), lead_unit=world.bureau)

        def accept(user, pk=demand.pk, seen=demand.version):
            return lambda: services.accept_demand(user, pk, version=seen)

        outcomes = at_once(accept(world.handler), accept(world.head))
        _, refusal = one_winner(outcomes)
        assert "已被他人更新" in refusal.message
        assert verbs(demand) == ["receive", "dispatch", "accept"]
        winner = world.handler if outcomes[0][1] is None else world.head
        assert DemandEvent.objects.get(demand=demand, verb="accept").actor_id == winner.pk
        assert notified(demand, "accept") == [world.owner.pk]


def test_two_dispatchers_dispatching_one_inbox_demand_to_different_units_one_dispatch_stands(world):
    second = make_user("dispatcher2", Role.DISPATCHER, full_name="钱调度", jurisdiction=world.district,
                       unit=world.joint_office)
    for n in range(ROUNDS):
        demand = received(world, f"交办竞争{n}")

        def dispatch(user, unit, pk=demand.pk):
            return lambda: services.dispatch_demand(user, pk, lead_unit=unit, note=f"交{unit.name}")

        won, refusal = one_winner(at_once(dispatch(world.dispatcher, world.bureau),
                                          dispatch(second, world.finance)))
        assert "当前状态为“待签收”" in refusal.message, refusal.message
        demand.refresh_from_db()
        assert demand.state == State.DISPATCHED and demand.lead_unit_id == won.lead_unit_id
        assert verbs(demand) == ["receive", "dispatch"]
        winner_unit = won.lead_unit
        told = set(notified(demand, "dispatch"))
        members = {u.pk for u in (world.handler, world.head, world.co_handler) if u.unit_id == winner_unit.pk}
        assert told == members | {world.owner.pk}, "only the winning unit is told, once each"


def test_merging_two_demands_into_each_other_at_once_merges_one_and_leaves_the_other_open(world):
    for n in range(ROUNDS):
        a, b = received(world, f"并单甲{n}"), received(world, f"并单乙{n}")

        def merge(demand, into):
            return lambda: services.merge_demand(world.dispatcher, demand.pk, into=into.pk, note="重复")

        won, refusal = one_winner(at_once(merge(a, b), merge(b, a)))
        a.refresh_from_db()
        b.refresh_from_db()
        merged, kept = (a, b) if a.state == State.MERGED else (b, a)
        assert merged.duplicate_of_id == kept.pk and kept.state == State.RECEIVED and kept.duplicate_of_id is None
        assert any(s in refusal.message for s in ("当前状态为“已并单”", "已并单，只能并入未办结")), refusal.message
        assert verbs(merged) == ["receive", "merge"] and verbs(kept) == ["receive", "merge"]


def test_a_merge_racing_the_dispatch_of_the_same_demand_happens_as_if_one_came_after_the_other(world):
    target = received(world, "并单目标")
    for n in range(ROUNDS):
        demand = received(world, f"并单或交办{n}")
        (merged, merge_error), (dispatched, dispatch_error) = at_once(
            lambda d=demand: services.merge_demand(world.dispatcher, d.pk, into=target.pk),
            lambda d=demand: services.dispatch_demand(world.dispatcher, d.pk, lead_unit=world.bureau))
        assert merge_error is None, repr(merge_error)  # a dispatched duplicate may still be merged
        demand.refresh_from_db()
        assert demand.state == State.MERGED and demand.duplicate_of_id == target.pk
        if dispatch_error is None:  # the dispatch went first, then the merge
            assert verbs(demand) == ["receive", "dispatch", "merge"]
        else:  # the merge went first: a merged demand is not dispatched
            assert "当前状态为“已并单”" in dispatch_error.message, repr(dispatch_error)
            assert verbs(demand) == ["receive", "merge"]


def test_a_merge_into_a_demand_being_closed_on_the_spot_is_refused_or_lands_before_it_closes(world):
    for n in range(ROUNDS):
        target = services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT,
                                         title=f"现场解决{n}", content="走访时当场解决的问题。",
                                         category=world.hiring)
        demand = received(world, f"重复反映{n}")
        outcomes = at_once(
            lambda d=demand, t=target: services.merge_demand(world.dispatcher, d.pk, into=t.pk),
            lambda t=target: services.close_on_the_spot(world.dispatcher, t.pk, solution="已当场协调解决"))
        demand.refresh_from_db()
        target.refresh_from_db()
        assert target.state == State.CLOSED and outcomes[1][1] is None
        if demand.state == State.MERGED:  # the merge locked the target first; the close came after it
            merge_at = DemandEvent.objects.get(demand=target, verb="merge").created_at
            assert merge_at < DemandEvent.objects.get(demand=target, verb="settle").created_at
        else:
            assert "只能并入未办结的诉求" in outcomes[0][1].message
            assert verbs(demand) == ["receive"]


def test_the_overdue_sweep_racing_replies_urges_a_replied_demand_at_most_once_and_loses_no_entry(world):
    demands = [contacted(world, f"催办竞争{n}") for n in range(8)]
    assert all(d.next_due < dt.date(2026, 12, 3) for d in demands), "each is overdue at its path stage"

    def reply_all():
        for d in demands:
            services.reply_demand(world.handler, d.pk, reply="已协调解决", outcome="solved")

    for (_, error) in at_once(reply_all, services.urge_overdue):
        assert error is None, repr(error)
    assert services.urge_overdue() == 0, "a second sweep finds nothing: replied demands are not due"
    unit_members = sorted([world.handler.pk, world.head.pk])
    for d in demands:
        d.refresh_from_db()
        assert d.state == State.REPLIED
        events = verbs(d)
        urgings = Urging.objects.filter(demand=d).count()
        assert urgings <= 1 and events.count("urge") == urgings
        assert [v for v in events if v != "urge"] == ["receive", "dispatch", "accept", "contact", "reply"]
        if urgings:  # the sweep read the demand before the reply committed: urged once, at the stage it saw
            urge = DemandEvent.objects.get(demand=d, verb="urge")
            assert urge.from_state == State.CONTACTED and Urging.objects.get(demand=d).stage == "path"
            assert notified(d, "urge") == unit_members
        else:
            assert notified(d, "urge") == []
        assert notified(d, "reply") == sorted({world.dispatcher.pk, world.owner.pk})


def test_a_sweep_reading_a_demand_before_its_reply_commits_urges_it_once_and_never_again(world):
    """The interleaving the free race above may or may not produce, forced: the reply is written but not
    committed when the sweep reads the ledger. The sweep urges the stage it saw, once; the reply stands;
    nothing is lost and the next sweep leaves the replied demand alone."""
    from django.db import transaction

    demand = contacted(world, "答复未提交时催办")
    replied, go, swept = threading.Event(), threading.Event(), threading.Event()

    def reply_held_open():
        with transaction.atomic():
            services.reply_demand(world.handler, demand.pk, reply="已协调解决", outcome="solved")
            replied.set()
            assert go.wait(20), "the sweep never ran"

    def sweep():
        assert replied.wait(20)
        try:
            return services.urge_overdue()
        finally:
            swept.set()

    def release():  # once the sweep has read the ledger: finished, or waiting for the reply's row lock
        assert replied.wait(20)
        deadline = time.monotonic() + 20
        while not swept.is_set() and time.monotonic() < deadline:
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                               "AND datname = current_database()")
                if cursor.fetchone()[0]:
                    break
            time.sleep(0.01)
        go.set()

    outcomes = at_once(reply_held_open, sweep, release)
    assert [e for _, e in outcomes] == [None, None, None], outcomes
    assert outcomes[1][0] == 1, "the sweep saw the demand as it was before the reply: overdue"
    demand.refresh_from_db()
    assert demand.state == State.REPLIED
    assert verbs(demand) == ["receive", "dispatch", "accept", "contact", "reply", "urge"]
    urge = DemandEvent.objects.get(demand=demand, verb="urge")
    assert urge.from_state == State.CONTACTED and Urging.objects.get(demand=demand).stage == "path"
    assert notified(demand, "urge") == sorted([world.handler.pk, world.head.pk])  # once each
    assert notified(demand, "reply") == sorted({world.dispatcher.pk, world.owner.pk})
    assert services.urge_overdue() == 0


def test_two_sweeps_at_once_urge_each_overdue_demand_once(world):
    demands = [contacted(world, f"两次催办{n}") for n in range(6)]
    counts = at_once(services.urge_overdue, services.urge_overdue)
    assert sorted(r for r, _ in counts) == [0, len(demands)]
    for d in demands:
        assert Urging.objects.filter(demand=d).count() == 1
        assert verbs(d).count("urge") == 1
        assert notified(d, "urge") == sorted([world.handler.pk, world.head.pk])
