"""The cooperation card on the demand page, the escalation queue, the dispute queue, the unit's to-do and the
supervision board's list of 区级研究推进 demands without progress."""

import datetime as dt

import pytest
from django.urls import reverse

from qinqing.cooperation import services
from qinqing.cooperation.models import CatalogueEntry, CoTask, DisputeStatus, TaskState
from qinqing.demands import services as demand_services
from qinqing.demands.models import Channel, Tier
from tests.conftest import at, login, on_day


def dispatched(world, title="厂房消防验收迟迟未办", when="2026-11-02 10:00", co_units=None):
    with demand_services.acting_at(at(when)):
        d = demand_services.receive_demand(
            world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT, title=title,
            content="新建厂房消防验收申请已提交两月，尚无结果，影响投产。", category=world.hiring, received_at=at(when))
        d = demand_services.dispatch_demand(world.dispatcher, d, lead_unit=world.bureau,
                                            co_units=[world.finance] if co_units is None else co_units)
        demand_services.contact_enterprise(world.handler, d, method="电话")
        return demand_services.feed_back_path(world.handler, d, path="协调消防部门上门验收")


def page(user, demand):
    return login(user).get(reverse("demands:detail", args=[demand.number])).content.decode()


def test_a_co_unit_accepts_and_writes_its_opinion_from_the_demand_page_and_the_lead_reads_it(world):
    d = dispatched(world)
    lead_page = page(world.handler, d)
    assert "尚未收到协办意见" in lead_page and world.finance.name in lead_page  # on the reply form
    co = login(world.co_handler)
    assert "接收协办任务" in page(world.co_handler, d)
    assert co.post(reverse("cooperation:accept", args=[d.number])).status_code == 302
    response = co.post(reverse("cooperation:opinion", args=[d.number]), {"opinion": "建议同步申请技改贴息。"},
                       follow=True)
    assert "已提交协办意见" in response.content.decode()
    lead_page = page(world.handler, d)
    assert "建议同步申请技改贴息。" in lead_page and "尚未收到协办意见" not in lead_page


def test_an_empty_opinion_is_explained_and_nothing_is_written(world):
    d = dispatched(world)
    response = login(world.co_handler).post(reverse("cooperation:opinion", args=[d.number]), {"opinion": ""},
                                            follow=True)
    assert "请填写协办意见" in response.content.decode()
    assert CoTask.objects.get(demand=d).state == TaskState.PENDING


def test_the_enterprise_never_reads_a_co_units_opinion(world):
    d = dispatched(world)
    services.write_opinion(world.co_handler, d, opinion="内部协办意见勿外传")
    portal = login(world.owner).get(reverse("portal:detail", args=[d.number])).content.decode()
    assert "内部协办意见勿外传" not in portal


def test_the_unit_page_lists_its_open_co_tasks_and_the_instructions_it_owes(world):
    d = dispatched(world)
    demand_services.escalate_demand(world.dispatcher, d, reason="提请联席办协调")
    services.write_instruction(world.leader, d, text="请一周内拿出联合方案")
    body = login(world.co_handler).get(reverse("demands:unit_inbox")).content.decode()
    assert "协办任务" in body and d.number in body
    assert "待反馈的领导批示" in body and "请一周内拿出联合方案" in body


def test_the_leaders_queue_lists_escalated_demands_oldest_first_with_unanswered_instructions(
        world, django_assert_max_num_queries):
    older = dispatched(world, title="甲件消防验收", when="2026-11-02 10:00")
    newer = dispatched(world, title="乙件排污许可", when="2026-11-16 10:00")
    for d in (newer, older):
        demand_services.escalate_demand(world.dispatcher, d, reason="提请联席办协调")
    services.write_instruction(world.leader, older, text="限期解决")
    client = login(world.leader)
    with django_assert_max_num_queries(12):
        body = client.get(reverse("cooperation:queue"), {"tier": Tier.JOINT_OFFICE}).content.decode()
    assert body.index(older.number) < body.index(newer.number)
    assert '<span class="late">2</span>' in body  # lead and co-unit both still owe an answer
    assert older.number not in client.get(reverse("cooperation:queue"), {"tier": Tier.DISTRICT_LEADER}).content.decode()
    assert login(world.handler).get(reverse("cooperation:queue")).status_code == 404


def test_the_dispatcher_decides_a_dispute_from_the_demand_page(world):
    entry = CatalogueEntry.objects.create(jurisdiction=world.district, matter="企业融资对接", unit=world.finance)
    with demand_services.acting_at(at("2026-11-30 10:00")):
        d = demand_services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT,
                                           title="技改贷款贴息", content="申请技改贷款贴息无人受理。",
                                           category=world.finance_kind)
        d = demand_services.dispatch_demand(world.dispatcher, d, lead_unit=world.bureau)
    handler = login(world.handler)
    assert "提出退单争议" in page(world.handler, d)
    handler.post(reverse("cooperation:dispute", args=[d.number]), {"entry": entry.pk, "reason": "属金融工作局"})
    listing = login(world.dispatcher).get(reverse("cooperation:disputes")).content.decode()
    assert d.number in listing and "企业融资对接" in listing
    response = login(world.dispatcher).post(reverse("cooperation:decide", args=[d.number]),
                                            {"decision": "upheld"}, follow=True)
    assert "退单成立" in response.content.decode()
    d.refresh_from_db()
    assert d.lead_unit == world.finance and d.disputes.get().status == DisputeStatus.UPHELD


def test_the_supervision_board_lists_long_term_demands_past_their_review_without_progress(world):
    d = dispatched(world)
    demand_services.mark_long_term(world.dispatcher, d, reason="涉及规划调整")
    assert d.number not in login(world.supervisor).get(reverse("supervision:board")).content.decode()
    with on_day(dt.date(2027, 1, 6)):
        body = login(world.supervisor).get(reverse("supervision:board")).content.decode()
        assert "区级研究推进无进展" in body and d.number in body and "从未报送" in body


@pytest.mark.parametrize("value", ["", "2026-13-01", "2026-11-30"])
def test_a_bad_review_date_is_refused_with_a_message(world, value):
    d = dispatched(world)
    demand_services.mark_long_term(world.dispatcher, d, reason="涉及规划调整")
    before = d.long_term_review.review_on
    response = login(world.dispatcher).post(reverse("cooperation:review", args=[d.number]),
                                            {"review_on": value, "interval_months": "1"}, follow=True)
    assert "评估日期" in response.content.decode()
    d.long_term_review.refresh_from_db()
    assert d.long_term_review.review_on == before
