"""qinqing/demo/textmodel.py on the fixture world: every demand indexed for the duplicate check, every reply
sent checked (the demo's seed calls it once, after every demand's story is told)."""

from qinqing.demands import services
from qinqing.demo import textmodel as textmodel_demo
from qinqing.textmodel.models import ReplyCheck, Signature


def test_the_demo_indexes_every_demand_and_checks_every_reply_sent(world, demand):
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    services.accept_demand(world.handler, demand)
    services.contact_enterprise(world.handler, demand, method="电话")
    services.reply_demand(world.handler, demand, reply="您好，您的留言已收悉。", outcome="explained")
    ReplyCheck.objects.all().delete()  # as if this reply had been loaded without the service's check
    other = services.receive_demand(world.dispatcher, enterprise=world.neighbour, channel="visit",
                                    title="厂区门口路灯损坏", content="厂区门口路灯坏了一个月，希望尽快修复。")
    told = []
    textmodel_demo.build(told.append)
    assert set(Signature.objects.values_list("demand_id", flat=True)) == {demand.pk, other.pk}
    check = ReplyCheck.objects.get()
    assert (check.demand_id, check.unit_id, check.sent, check.flagged) == (demand.pk, world.bureau.pk, True, True)
    assert told == ["文本智能：2件诉求建立查重签名；1件已发答复完成质量检查，其中1件有提示"]


def test_the_demo_does_not_check_again_a_reply_the_service_already_checked(world, demand):
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    services.accept_demand(world.handler, demand)
    services.contact_enterprise(world.handler, demand, method="电话")
    services.reply_demand(world.handler, demand, reply="您好，您的留言已收悉。", outcome="explained")
    told = []
    textmodel_demo.build(told.append)
    assert ReplyCheck.objects.filter(demand=demand, sent=True).count() == 1
    assert "0件已发答复完成质量检查" in told[0]
