"""The visit log, a campaign's coverage and the seminars leave as Excel: the rows the pages show, through the
same filters and visibility, each export in the audit log with its filters and row count."""

import datetime as dt
import io

from django.urls import reverse
from openpyxl import load_workbook

from qinqing.audit.models import AuditEntry
from qinqing.visits import services as visits
from qinqing.visits.models import Form, Seminar

from .conftest import NOW, login

TODAY = NOW.date()


def sheets(response) -> dict[str, list[tuple]]:
    assert response.status_code == 200, response.status_code
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


def test_the_visit_log_export_keeps_the_pages_filters_and_is_audited(world):
    visits.record_visit(world.dispatcher, enterprise=world.enterprise, visited_on=TODAY, form=Form.ON_SITE,
                        visitors=[world.specialist], discussed="订单回暖，缺数控工20人", hiring_need=20)
    visits.record_visit(world.dispatcher, enterprise=world.neighbour, visited_on=TODAY - dt.timedelta(days=3),
                        form=Form.PHONE, discussed="电话了解经营情况")
    visits.record_visit(world.admin, enterprise=world.other_enterprise, visited_on=TODAY, form=Form.ON_SITE,
                        discussed="宝安的走访")
    client = login(world.dispatcher)

    rows = sheets(client.get(reverse("visits:log_export")))["走访记录"]
    assert rows[0][:5] == ("走访日期", "企业", "统一社会信用代码", "方式", "走访人")
    assert [r[1] for r in rows[1:]] == [world.enterprise.name, world.neighbour.name]  # 宝安's is not visible
    assert rows[1][3] == "实地走访" and rows[1][4] == "赵调度、冯专员" and rows[1][6] == "订单回暖，缺数控工20人"
    assert rows[1][11] == 20

    phoned = sheets(client.get(reverse("visits:log_export"), {"form": "phone"}))["走访记录"]
    assert [r[1] for r in phoned[1:]] == [world.neighbour.name]
    entry = AuditEntry.objects.filter(action="export").latest("id")
    assert entry.target == "走访记录" and entry.detail["rows"] == 1 and entry.actor == world.dispatcher
    assert "phone" in str(entry.detail["filters"])


def test_a_campaign_export_has_its_coverage_the_enterprises_not_visited_and_its_seminars(world):
    campaign = visits.create_campaign(world.dispatcher, name="南山冬季走访", jurisdiction=world.district,
                                      starts_on=TODAY - dt.timedelta(days=10), ends_on=TODAY)
    visits.target_enterprises(world.dispatcher, campaign, [world.enterprise.pk, world.neighbour.pk])
    visits.record_visit(world.dispatcher, enterprise=world.enterprise, visited_on=TODAY, form=Form.ON_SITE,
                        campaign=campaign, discussed="活动走访")
    visits.record_seminar(world.dispatcher, kind=Seminar.Kind.SEMINAR, title="民营企业座谈会", held_on=TODAY,
                          jurisdiction=world.district, campaign=campaign, enterprises=[world.enterprise])
    book = sheets(login(world.dispatcher).get(reverse("visits:campaign_export", args=[campaign.pk])))

    assert book["覆盖情况"][1] == ("合计", "南山冬季走访", 2, 1, 50)
    assert [r[0] for r in book["未走访企业"][1:]] == [world.neighbour.name]
    assert book["座谈宣讲"][1][1:3] == ("座谈会", "民营企业座谈会") and book["座谈宣讲"][1][6] == 1
    entry = AuditEntry.objects.filter(action="export").latest("id")
    assert entry.target == "集中走访活动覆盖情况" and entry.detail["rows"] == 2

    other = login(world.other_dispatcher).get(reverse("visits:campaign_export", args=[campaign.pk]))
    assert other.status_code == 404


def test_the_seminar_export_lists_only_the_seminars_in_reach_and_between_the_dates(world):
    visits.record_seminar(world.dispatcher, kind=Seminar.Kind.BRIEFING, title="惠企政策宣讲会", held_on=TODAY,
                          jurisdiction=world.district)
    visits.record_seminar(world.dispatcher, kind=Seminar.Kind.SEMINAR, title="十月座谈会",
                          held_on=dt.date(2026, 10, 10), jurisdiction=world.district)
    visits.record_seminar(world.other_dispatcher, kind=Seminar.Kind.SEMINAR, title="宝安座谈会", held_on=TODAY,
                          jurisdiction=world.other_district)
    client = login(world.dispatcher)
    rows = sheets(client.get(reverse("visits:seminars_export")))["座谈宣讲"]
    assert [r[2] for r in rows[1:]] == ["惠企政策宣讲会", "十月座谈会"]
    rows = sheets(client.get(reverse("visits:seminars_export"), {"from": "2026-11-01"}))["座谈宣讲"]
    assert [r[2] for r in rows[1:]] == ["惠企政策宣讲会"]
    assert login(world.owner).get(reverse("visits:seminars_export")).status_code == 404
