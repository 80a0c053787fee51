import datetime as dt

from qinqing.demands import services
from qinqing.demands.models import Evaluation, Outcome, State


def test_the_whole_loop_reaches_closed(world, demand):
    w = world
    assert demand.dispatch_due == dt.date(2026, 9, 30)
    assert demand.contact_due == dt.date(2026, 10, 8)
    assert demand.path_due == dt.date(2026, 10, 9)
    assert demand.resolve_due == dt.date(2026, 10, 30)
    d = services.dispatch_demand(w.dispatcher, demand, lead_unit=w.bureau, co_units=[w.finance])
    d = services.accept_demand(w.handler, d)
    d = services.contact_enterprise(w.handler, d, method="电话")
    d = services.feed_back_path(w.handler, d, path="对接职业院校")
    d = services.reply_demand(w.handler, d, reply="已对接", outcome=Outcome.SOLVED)
    d = services.evaluate_demand(w.owner, d, evaluation=Evaluation.SATISFIED)
    d = services.close_demand(w.dispatcher, d)
    assert d.state == State.CLOSED
    assert d.events.count() == 8
