"""一公开: anyone can read, without login, how many demands a district and each unit received and answered, with
the same 答复率, 满意率 and 办结按时率 the leaders see inside, and the published directory of service specialists
— never an enterprise, a demand's content or a person's mobile number."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from qinqing.demands import services
from qinqing.demands.models import Channel, Demand, Evaluation, Outcome
from qinqing.reports import rates
from qinqing.transparency import services as public
from qinqing.transparency.models import PublicFigure, ServiceSpecialist

from .conftest import NOW, at, login

TODAY = NOW.date()


def receive(world, title, when, enterprise=None):
    with services.acting_at(at(when)):
        return services.receive_demand(world.dispatcher, enterprise=enterprise or world.enterprise,
                                       channel=Channel.HOTLINE, title=title, content=f"{title}，机密内容甲乙丙。",
                                       category=world.hiring, received_at=at(when))


def finish(world, demand, when, unit, handler, evaluation=Evaluation.SATISFIED):
    with services.acting_at(at(when)):
        demand = services.dispatch_demand(world.dispatcher, demand, lead_unit=unit)
        demand = services.contact_enterprise(handler, demand, method="电话")
        demand = services.feed_back_path(handler, demand, path="协调对接")
        demand = services.reply_demand(handler, demand, reply="已办理", outcome=Outcome.SOLVED)
        return services.evaluate_demand(world.owner, demand, evaluation=evaluation,
                                        comment="未解决" if evaluation == Evaluation.UNSATISFIED else "")


@pytest.fixture
def figures(world):
    finish(world, receive(world, "招工难", "2026-07-06 10:00"), "2026-07-07 10:00", world.bureau, world.handler)
    finish(world, receive(world, "社保补贴", "2026-09-01 10:00"), "2026-09-03 10:00", world.bureau, world.handler,
           Evaluation.UNSATISFIED)
    finish(world, receive(world, "贷款续贷", "2026-10-12 10:00"), "2026-12-01 10:00", world.finance, world.co_handler,
           Evaluation.BASIC)  # replied after its month: late
    late = receive(world, "厂房消防验收", "2026-10-20 10:00")
    with services.acting_at(at("2026-10-20 11:00")):
        services.dispatch_demand(world.dispatcher, late, lead_unit=world.bureau)  # open, past its 办结 deadline
    receive(world, "用电增容", "2026-12-02 10:00")  # not dispatched yet
    receive(world, "三年前的诉求", "2026-05-29 10:00")  # received before the period
    with services.acting_at(at("2026-11-03 10:00")):
        services.receive_demand(world.other_dispatcher, enterprise=world.other_enterprise, channel=Channel.HOTLINE,
                                title="外区诉求", content="外区内容", category=world.hiring)
    public.rebuild_public_figures()
    return world


def internal(qs):
    start, end = public.period(TODAY)
    return rates.live(qs.filter(received_at__gte=at(f"{start} 00:00")).exclude(state="merged"), start, end, TODAY)


def test_the_public_rates_are_the_internal_rates_for_the_district_and_for_each_unit(figures):
    world = figures
    report = public.public_report(world.district)
    assert report.period == "统计期间：2026-07-01至2026-12-03"
    district = internal(Demand.objects.filter(jurisdiction__path__startswith=world.district.path))
    assert report.total.received == district.counts["n"] == 5
    for definition in public.SHOWN:
        assert report.total.rate(definition).text == district.rate(definition).text
    bureau = next(line for line in report.units if line.label == world.bureau.name)
    led = internal(Demand.objects.filter(lead_unit=world.bureau))
    assert bureau.received == 3
    assert [r.text for r in bureau.shown] == [led.rate(d).text for d in public.SHOWN] == ["66.7%", "50.0%", "66.7%"]
    assert [line.label for line in report.units][-1] == "尚未交办"
    assert [m.label for m in report.months] == ["2026年07月", "2026年09月", "2026年10月", "2026年12月"]


def test_anyone_reads_the_public_page_without_login_and_sees_no_enterprise_content_or_person(
        figures, django_assert_max_num_queries):
    world = figures
    ServiceSpecialist.objects.create(unit=world.bureau, user=world.handler, post="chief", title="副局长",
                                     office_phone="0755-26661234")
    world.handler.phone = "13912345678"
    world.handler.save()
    anonymous = Client()
    with django_assert_max_num_queries(8):
        page = anonymous.get(reverse("transparency:jurisdiction", args=[world.district.code]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "南山区人力资源局" in html and "66.7%" in html and "0755-26661234" in html and "首席专员" in html
    for secret in (world.enterprise.name, "机密内容", "招工难", world.handler.full_name, "13912345678",
                   world.enterprise.contact_phone, "外区诉求"):
        assert secret not in html
    assert "宝安区" not in html.split("各承办单位办理情况")[1]

    top = anonymous.get(reverse("transparency:home"))
    assert top.status_code == 200 and "广东省企业诉求办理情况公开" in top.content.decode()
    assert anonymous.get(reverse("transparency:jurisdiction", args=["999999"])).status_code == 404


def test_the_directory_refuses_a_mobile_number_as_office_phone(world):
    entry = ServiceSpecialist(unit=world.bureau, post="doer", title="科员", office_phone="138 0013 8000")
    with pytest.raises(ValidationError, match="不得填写手机号"):
        entry.full_clean()
    entry.office_phone = "+86 13800138000"
    with pytest.raises(ValidationError):
        entry.full_clean()
    entry.office_phone = "0519-86601234"
    entry.full_clean()


def test_an_administrator_refreshes_the_public_figures_now_and_nobody_else_can(figures):
    world = figures
    receive(world, "新的诉求", "2026-12-03 09:00")
    assert login(world.dispatcher).post(reverse("transparency:rebuild")).status_code == 404
    assert sum(PublicFigure.objects.values_list("n", flat=True)) == 6
    response = login(world.admin).post(reverse("transparency:rebuild"), {"next": "/public/"})
    assert response.status_code == 302
    assert sum(PublicFigure.objects.values_list("n", flat=True)) == 7
    assert Client().post(reverse("transparency:rebuild")).status_code == 302  # to the login page
