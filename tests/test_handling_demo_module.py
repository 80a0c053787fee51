"""The demo's handling part (qinqing.demo.handling) on the fixture world: what seed_demo adds, without the demo."""

import random
from types import SimpleNamespace

from qinqing.demands import services as demand_services
from qinqing.demands.models import Channel, DemandEvent
from qinqing.demo import handling as demo_handling
from qinqing.handling import services
from qinqing.handling.models import Assignment, CannedReply, Watch
from tests.conftest import at


def test_the_demo_assigns_open_demands_to_the_units_handler_and_keeps_canned_replies(world):
    demands = [demand_services.receive_demand(
        world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT, title=f"演示诉求{i}", content="内容",
        category=world.hiring, received_at=at("2026-11-02 10:00")) for i in range(6)]
    for d in demands:
        demand_services.dispatch_demand(world.dispatcher, d, lead_unit=world.bureau)
    org = SimpleNamespace(departments={"rsj": world.bureau, "jrb": world.finance}, town_units={},
                          handlers={world.bureau.pk: world.handler}, heads={world.bureau.pk: world.head},
                          district=world.district, supervisor=world.supervisor, leaders=[world.leader],
                          dispatchers=[world.dispatcher], admin=world.admin)
    demo_handling.build(random.Random(1), org, step=lambda message: None)
    assigned = Assignment.objects.filter(assignee=world.handler).count()
    assert 1 <= assigned <= 6
    assert len(list(services.my_demands(world.handler))) == assigned
    assert DemandEvent.objects.filter(verb="assign", internal=True).count() == assigned
    assert Watch.objects.filter(user=world.supervisor).exists()  # the demands are overdue by 2026-12-03
    notes = DemandEvent.objects.filter(verb="note")
    assert notes.exists() and all(n.internal and "@钱承办" in n.note for n in notes)
    demands[0].refresh_from_db()
    assert [r.title for r in services.replies_for(demands[0])].count("已上门对接") == 1
    assert CannedReply.objects.filter(unit=None, jurisdiction=None).count() == len(demo_handling.GLOBAL_REPLIES)
