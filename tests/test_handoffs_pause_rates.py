"""A paused demand (挂起, qinqing.handoffs) is not counted late while its clock is stopped: every live 按时率 judges
lateness through qinqing.reports.rates.late_conditions, which holds a stage whose deadline the pause began on or
before as not yet due. A deadline missed before the pause began stays missed."""

import datetime as dt

from qinqing.demands import services
from qinqing.demands.models import Channel, Demand
from qinqing.handoffs import services as handoffs
from qinqing.handoffs.models import Pause
from qinqing.reports import rates
from qinqing.supervision.assessment import assess

from .conftest import on_day

D = dt.date.fromisoformat
LATER = D("2026-12-21")  # the contact deadline (2026-12-04) of a demand received on 2026-12-03 has passed


def _handling(world, title) -> Demand:
    d = services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT, title=title,
                                content="新厂房消防验收排期较长，影响投产。", category=world.hiring)
    services.dispatch_demand(world.dispatcher, d, lead_unit=world.bureau)
    return services.accept_demand(world.handler, d)


def _pause(world, demand):
    handoffs.request_pause(world.handler, demand, reason=Pause.Reason.COURT)
    handoffs.approve_pause(world.dispatcher, demand)


def test_the_unit_assessments_contact_rate_does_not_count_a_demand_paused_before_its_deadline(world):
    paused = _handling(world, "等待法院裁判")
    _pause(world, paused)
    _handling(world, "一直没有联系企业")
    services.contact_enterprise(world.handler, _handling(world, "当天联系企业"), method="电话")
    late_then_paused = _handling(world, "超期后才挂起")
    with on_day(D("2026-12-10")):
        _pause(world, late_then_paused)
    assert Demand.objects.get(pk=paused.pk).contact_due == D("2026-12-04")  # the column moves only on resuming

    (score,) = assess([world.bureau], D("2026-12-01"), D("2026-12-31"), today=LATER)
    # 1 contacted on time ÷ (1 contacted + 2 late: the one never contacted, the one paused after its deadline);
    # counting the demand paused in time as late too would make it 25.0 %.
    assert score.shown.stage("contact").text == "33.3%"
    assert (score.shown.stage("contact").part, score.shown.stage("contact").whole) == (1, 3)


def test_a_resumed_demand_is_judged_against_its_deadline_moved_by_the_pause(world):
    demand = _handling(world, "等待上级答复")
    _pause(world, demand)
    with on_day(D("2026-12-17")):
        handoffs.resume_demand(world.handler, demand)
    demand.refresh_from_db()
    assert demand.contact_due > D("2026-12-17")
    qs = Demand.objects.filter(pk=demand.pk)
    before = rates.live(qs, D("2026-12-01"), D("2026-12-31"), today=demand.contact_due)
    after = rates.live(qs, D("2026-12-01"), D("2026-12-31"), today=demand.contact_due + dt.timedelta(days=1))
    assert before.counts["contact_late"] == 0 and after.counts["contact_late"] == 1
