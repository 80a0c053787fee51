"""What a dispatch costs (issue 15: a bulk dispatch of 200 demands under 5 s at 1,000,000 demands): a fixed number of
statements a demand, and the units a dispatch accepts found in one statement by the same rule as before."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from qinqing.accounts.models import Role, Unit
from qinqing.demands import services as demand_services
from qinqing.demands.models import Channel, Demand, State
from qinqing.handling import services
from tests.conftest import at, make_user


def _received(world, n, by=None, **where):
    return [demand_services.receive_demand(
        by or world.dispatcher, channel=Channel.HOTLINE, title=f"批量诉求{i}", content="内容", category=world.hiring,
        received_at=at("2026-12-01 09:00"), **({"enterprise": world.enterprise} | where)) for i in range(n)]


def _statements_of_a_bulk_dispatch(world, n) -> int:
    numbers = [d.number for d in _received(world, n)]
    with CaptureQueriesContext(connection) as queries:
        results = services.bulk_act(world.dispatcher, "dispatch", numbers, unit=world.finance.pk, note="批量交办")
    assert all(r.ok for r in results)
    return len(queries)


def test_each_demand_of_a_bulk_dispatch_costs_at_most_eight_statements(world):
    two, eight = _statements_of_a_bulk_dispatch(world, 2), _statements_of_a_bulk_dispatch(world, 8)
    # Lock, units, UPDATE, co-units, timeline, co-unit tasks, and the savepoint pair of its own transaction.
    assert (eight - two) / 6 <= 8
    assert Demand.objects.filter(state=State.DISPATCHED, lead_unit=world.finance).count() == 10


def test_the_units_a_dispatch_accepts_are_those_of_the_demands_district_without_the_supervision_office(world):
    supervision = Unit.objects.create(name="南山区督查室", kind=Unit.Kind.SUPERVISION, jurisdiction=world.district)
    town_unit = Unit.objects.create(name="南头街道办事处", kind="department", jurisdiction=world.town)
    in_town = _received(world, 1)[0]
    in_district = _received(world, 1, enterprise=None, reporter_name="来电人", jurisdiction=world.district)[0]
    for demand in (in_town, in_district):
        units = set(demand_services.dispatchable_units(demand))
        assert demand_services.dispatch_scope(demand) == world.district
        assert units == {world.joint_office, world.bureau, world.finance, town_unit}
        assert supervision not in units and world.other_unit not in units


def test_a_demand_above_any_district_is_dispatched_within_the_city(world):
    city_unit = Unit.objects.create(name="深圳市工业和信息化局", kind="department", jurisdiction=world.city)
    dispatcher = make_user("citydispatcher", Role.DISPATCHER, full_name="市调度", jurisdiction=world.city)
    demand = _received(world, 1, by=dispatcher, enterprise=None, reporter_name="来电人", jurisdiction=world.city)[0]
    assert demand_services.dispatch_scope(demand) == world.city
    assert city_unit in set(demand_services.dispatchable_units(demand))
    assert world.other_unit in set(demand_services.dispatchable_units(demand))
    demand_services.dispatch_demand(dispatcher, demand, lead_unit=city_unit)
    assert Demand.objects.get(pk=demand.pk).lead_unit == city_unit
