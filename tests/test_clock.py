"""The 1231 clock as stored on demands."""

import datetime as dt

import pytest

from qinqing.demands import services
from qinqing.demands.models import Channel, SlaRule, Stage

from .conftest import at

D = dt.date


def receive(world, when, category=None):
    return services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.HOTLINE,
                                   title="用电成本高", content="希望了解峰谷电价政策", category=category,
                                   received_at=at(when))


def test_a_demand_received_before_the_national_day_holiday(world):
    d = receive(world, "2026-09-30 10:00")
    assert (d.dispatch_due, d.contact_due, d.path_due, d.resolve_due) == (
        D(2026, 9, 30), D(2026, 10, 8), D(2026, 10, 9), D(2026, 10, 30))
    assert (d.current_stage, d.next_due) == (Stage.DISPATCH, D(2026, 9, 30))


def test_a_demand_received_on_a_holiday_starts_counting_on_the_next_working_day(world):
    d = receive(world, "2026-10-01 09:00")
    assert d.dispatch_due == D(2026, 10, 8)
    assert d.contact_due == D(2026, 10, 9)
    assert d.path_due == D(2026, 10, 10)  # the make-up working Saturday
    assert d.resolve_due == D(2026, 11, 2)  # 11-01 is a Sunday


def test_late_evening_receipt_counts_on_the_shanghai_date(world):
    d = receive(world, "2026-09-30 23:30")
    assert d.dispatch_due == D(2026, 9, 30)


def test_a_category_with_its_own_rule_uses_it(world):
    world.finance_kind.sla_rule = SlaRule.objects.create(name="1-3-15", dispatch_days=1, contact_days=3,
                                                         path_days=3, resolve_months=0, resolve_workdays=15)
    world.finance_kind.save()
    d = receive(world, "2026-09-30 10:00", category=world.finance_kind)
    assert d.contact_due == D(2026, 10, 9)
    assert d.resolve_due == D(2026, 10, 26)  # 15th working day, counting the 10-10 make-up Saturday


def test_deadlines_past_the_known_calendar_fall_back_to_weekdays(world):
    with services.acting_at(at("2026-12-30 11:00")):
        d = receive(world, "2026-12-30 10:00")
    assert d.contact_due == D(2026, 12, 31)
    assert d.path_due == D(2027, 1, 1)  # no 2027 arrangement loaded: Friday counts
    assert d.resolve_due == D(2027, 2, 1)  # 01-30 is a Saturday


def test_an_approved_extension_moves_the_resolution_deadline_by_working_days(world, demand):
    w = world
    d = services.dispatch_demand(w.dispatcher, demand, lead_unit=w.bureau)
    d = services.accept_demand(w.handler, d)
    services.request_extension(w.handler, d, days=5, reason="需协调职业院校排课")
    d = services.approve_extension(w.dispatcher, d)
    assert d.resolve_due == D(2026, 11, 6)
    assert d.events.last().data["old_resolve_due"] == "2026-10-30"


def test_the_current_stage_follows_the_loop(world, demand):
    w = world
    d = services.dispatch_demand(w.dispatcher, demand, lead_unit=w.bureau)
    assert (d.current_stage, d.next_due) == (Stage.CONTACT, D(2026, 10, 8))
    d = services.contact_enterprise(w.handler, d, method="电话")
    assert (d.current_stage, d.next_due) == (Stage.PATH, D(2026, 10, 9))
    d = services.feed_back_path(w.handler, d, path="对接职业院校")
    assert (d.current_stage, d.next_due) == (Stage.RESOLVE, D(2026, 10, 30))
    d = services.reply_demand(w.handler, d, reply="已对接", outcome="solved")
    assert (d.current_stage, d.next_due, d.due_order) == ("", None, D.max)


@pytest.mark.parametrize("when", ["2024-02-04 10:00", "2025-01-26 10:00", "2026-02-14 10:00"])
def test_a_demand_received_on_a_make_up_sunday_or_saturday_is_due_for_dispatch_that_day(world, when):
    d = receive(world, when)
    assert d.dispatch_due == D.fromisoformat(when[:10])
