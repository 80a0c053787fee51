"""热点问题: similar demands from several enterprises become one hot issue with a heat score and a generated
title; leaders see them by month and jurisdiction, export them, and turn one into a policy study whose demands
show the link."""

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from qinqing.audit.models import AuditEntry
from qinqing.demands import services as demand_services
from qinqing.demands.models import Channel, DemandEvent
from qinqing.enterprises.models import Enterprise, Sector
from qinqing.hotissues import cluster, services
from qinqing.hotissues.models import HotIssue, PolicyStudy
from tests.conftest import at, bearer, login, real_codes

NOVEMBER = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))

HIRING = [  # the same problem told by different factories, in different words
    ("数控操作工招聘困难", "扩产后缺少数控机床操作工，招聘困难，希望协助对接职业院校招工。"),
    ("招不到数控机床操作工", "订单增加，数控机床操作工招聘不到人，请人社部门帮助招工。"),
    ("数控机床操作工招工难", "企业招工难，数控机床操作工缺口大，希望对接职业院校招聘。"),
    ("急需数控操作工", "新生产线缺少数控机床操作工，招聘多月无果，希望帮助招工。"),
    ("数控机床操作工短缺", "数控机床操作工短缺影响交货，希望人社部门组织招聘会招工。"),
]
OTHERS = [
    ("厂区门口道路积水", "雨天厂区门口道路积水严重，货车进出困难，请求修缮排水管道。"),
    ("出口退税进度咨询", "咨询今年出口退税的办理进度和所需材料。"),
    ("食堂油烟排放检测", "请环保部门指导食堂油烟排放检测和净化设备安装。"),
]


def _enterprises(world, n: int) -> list[Enterprise]:
    codes = real_codes()[10:]
    return [Enterprise.objects.create(name=f"深圳市南山测试{i}号制造有限公司", credit_code=codes[i],
                                      sector=Sector.INDUSTRY, jurisdiction=world.town) for i in range(n)]


def _receive(world, enterprise, title, content, when="2026-11-20 10:00", user=None):
    return demand_services.receive_demand(user or world.dispatcher, enterprise=enterprise, channel=Channel.VISIT,
                                          title=title, content=content, category=world.hiring,
                                          received_at=at(when))


def _hiring_world(world, days=("2026-11-10", "2026-11-18", "2026-11-26", "2026-11-27", "2026-11-28")):
    firms = _enterprises(world, 4)
    hiring = [_receive(world, firms[i % 4], t, c, f"{day} 10:00") for i, ((t, c), day) in
              enumerate(zip(HIRING, days, strict=True))]
    others = [_receive(world, firms[i], t, c) for i, (t, c) in enumerate(OTHERS)]
    return firms, hiring, others


def _compute(world):
    return services.compute_hot_issues(world.district, *NOVEMBER, today=dt.date(2026, 12, 3))


def test_similar_demands_from_several_enterprises_form_one_hot_issue_and_dissimilar_ones_do_not(world):
    _firms, hiring, others = _hiring_world(world)

    issues = _compute(world)

    assert len(issues) == 1
    issue = issues[0]
    members = set(issue.demands.values_list("pk", flat=True))
    assert members == {d.pk for d in hiring}
    assert not members & {d.pk for d in others}
    assert (issue.demand_count, issue.enterprise_count, issue.rank) == (5, 4, 1)
    assert issue.members.filter(representative=True).count() == cluster.REPRESENTATIVES
    assert sum(n for _, n in issue.trend) == 5 and len(issue.trend) == 30  # a point for every day of November
    assert issue.units == [["未交办", 5]]


def test_one_enterprise_repeating_itself_is_not_a_hot_issue(world):
    firm = _enterprises(world, 1)[0]
    for title, content in HIRING:
        _receive(world, firm, title, content)

    assert _compute(world) == []


def test_the_title_names_the_place_the_group_and_the_key_terms(world):
    _hiring_world(world)

    issue = _compute(world)[0]

    assert issue.place == "南头街道" and issue.group == "工业企业"
    assert issue.title.startswith("南头街道工业企业反映“")
    assert "数控" in "".join(issue.terms) or "操作工" in "".join(issue.terms)
    assert cluster.label(["油烟", "噪音"], "魅力之城小区", "业主") == "魅力之城小区业主反映“油烟、噪音”问题"
    assert cluster.label([], "", "", anyone="市民") == "市民反映“同类”问题"


def test_heat_rises_with_enterprises_then_with_recency_and_growth(world):
    assert cluster.heat(senders=5, count=5, recent_share=0, growth=0) > cluster.heat(
        senders=2, count=6, recent_share=0.5, growth=0)
    assert cluster.heat(senders=3, count=3, recent_share=1, growth=0) > cluster.heat(
        senders=3, count=3, recent_share=0, growth=0)
    assert cluster.heat(senders=3, count=3, recent_share=0, growth=1) > cluster.heat(
        senders=3, count=3, recent_share=0, growth=-1)
    assert cluster.growth(6, 2) == 0.5 and cluster.growth(0, 0) == 0.0
    # Stored issues are ranked by it: the issue of four factories above the one of two restaurants.
    _hiring_world(world)
    eateries = [Enterprise.objects.create(name=f"南山餐饮{i}店", credit_code=real_codes()[30 + i],
                                          sector=Sector.HOSPITALITY, jurisdiction=world.town) for i in range(2)]
    for i, (title, content) in enumerate([("餐饮门店油烟净化设备补贴", "餐饮门店安装油烟净化设备，询问补贴申请。"),
                                          ("油烟净化设备补贴申请", "门店油烟净化设备补贴如何申请，需要什么材料。"),
                                          ("申请油烟净化设备补贴", "请问餐饮门店油烟净化设备补贴的申请条件。")]):
        _receive(world, eateries[i % 2], title, content)

    issues = _compute(world)

    assert [(i.rank, i.enterprise_count) for i in issues] == [(1, 4), (2, 2)]
    assert issues[0].heat > issues[1].heat
    assert issues[1].group == "餐饮住宿业企业"


def test_growth_counts_the_previous_months_similar_demands(world):
    _hiring_world(world)
    firm = Enterprise.objects.create(name="深圳市南山后来制造有限公司", credit_code=real_codes()[40],
                                     sector=Sector.INDUSTRY, jurisdiction=world.town)
    _receive(world, firm, "数控操作工招聘难", "缺少数控机床操作工，希望帮助招工。", "2026-10-15 10:00")

    issue = _compute(world)[0]

    assert issue.previous_count == 1
    assert issue.growth == round((5 - 1) / (5 + 1), 3)


def test_leaders_see_the_month_and_jurisdiction_they_choose_with_the_formula(world, django_assert_max_num_queries):
    _hiring_world(world)
    _compute(world)
    client = login(world.leader)

    with django_assert_max_num_queries(12):
        page = client.get(reverse("hotissues:list"))
    body = page.content.decode()
    assert page.status_code == 200
    assert "南头街道工业企业反映" in body and "热度 = 40×log₂(1+企业数)" in body

    october = client.get(reverse("hotissues:list"), {"month": "2026-10"}).content.decode()
    assert "南头街道工业企业反映" not in october
    elsewhere = client.get(reverse("hotissues:list"),
                           {"month": "2026-11", "jurisdiction": world.district.code}).content.decode()
    assert "南头街道工业企业反映" in elsewhere
    wrong = client.get(reverse("hotissues:list"), {"month": "2026-13"}).content.decode()
    assert "月份应写成 2026-12。" in wrong


def test_the_export_has_the_pages_rows_and_is_written_to_the_audit_log(world):
    _hiring_world(world)
    _compute(world)

    response = login(world.dispatcher).get(reverse("hotissues:list"), {"month": "2026-11", "format": "xlsx"})

    assert response.status_code == 200
    rows = [[c.value for c in row] for row in load_workbook(io.BytesIO(response.content)).active.iter_rows()]
    assert rows[1][:5] == ["区域", "期间", "排名", "热度", "热点问题"]
    assert rows[2][0] == "南山区" and rows[2][2] == 1 and rows[2][4].startswith("南头街道工业企业反映")
    entry = AuditEntry.objects.get(action="export")
    assert entry.target == "热点问题" and entry.detail["rows"] == 1


def test_a_hot_issue_becomes_a_policy_study_linking_all_its_demands_which_show_it(world):
    _firms, hiring, _ = _hiring_world(world)
    issue = _compute(world)[0]
    client = login(world.dispatcher)

    response = client.post(reverse("hotissues:study_start", args=[issue.pk]),
                           {"title": "技能人才供给专项研究", "note": "研究出台技能人才引育政策", "lead_unit": world.bureau.pk})

    study = PolicyStudy.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("hotissues:study", args=[study.pk])
    assert set(study.demands.values_list("pk", flat=True)) == {d.pk for d in hiring}
    assert study.lead_unit == world.bureau and study.source_title == issue.title
    assert DemandEvent.objects.filter(verb="policy_study").count() == 5
    assert AuditEntry.objects.get(action="policy_study").detail["demands"] == 5
    detail = client.get(reverse("demands:detail", args=[hiring[0].number])).content.decode()
    assert "本诉求已纳入课题" in detail and "技能人才供给专项研究" in detail and "纳入研究推进课题" in detail
    again = client.post(reverse("hotissues:study_start", args=[issue.pk]), {"title": "再来一次"}, follow=True)
    assert "该热点问题已转为区级研究推进课题。" in again.content.decode()
    assert PolicyStudy.objects.count() == 1
    assert "已转研究推进" in client.get(reverse("hotissues:list")).content.decode()


def test_a_supervisor_watches_but_cannot_start_a_study(world):
    _hiring_world(world)
    issue = _compute(world)[0]
    client = login(world.supervisor)

    assert client.get(reverse("hotissues:detail", args=[issue.pk])).status_code == 200
    refused = client.post(reverse("hotissues:study_start", args=[issue.pk]), {"title": "越权"}, follow=True)

    assert "只有本辖区的调度员、领导或管理员" in refused.content.decode()
    assert not PolicyStudy.objects.exists()


@pytest.mark.parametrize("who", ["handler", "owner", "other_dispatcher", "specialist"])
def test_outsiders_are_refused_the_pages_and_get_nothing_from_the_api(world, who):
    _hiring_world(world)
    issue = _compute(world)[0]
    user = getattr(world, who)
    client = login(user)

    assert client.get(reverse("hotissues:list")).status_code in (200, 404)
    assert "南头街道工业企业反映" not in client.get(reverse("hotissues:list")).content.decode()
    assert client.get(reverse("hotissues:detail", args=[issue.pk])).status_code == 404
    assert client.post(reverse("hotissues:study_start", args=[issue.pk])).status_code == 404
    api = client.get("/api/v1/hotissues", **bearer(user))
    assert api.status_code == 200 and api.json()["items"] == []
    assert not PolicyStudy.objects.exists()


def test_the_api_lists_the_month_with_representatives_in_few_queries(world, django_assert_max_num_queries):
    _hiring_world(world)
    _compute(world)
    headers = bearer(world.dispatcher)

    with django_assert_max_num_queries(8):
        response = Client().get("/api/v1/hotissues", {"month": "2026-11"}, **headers)

    item = response.json()["items"][0]
    assert item["rank"] == 1 and item["enterprise_count"] == 4 and item["demand_count"] == 5
    assert len(item["representatives"]) == 3 and item["studied"] is False
    bad = Client().get("/api/v1/hotissues", {"month": "11/2026"}, **headers)
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_filter"


def test_recompute_queues_the_month_for_the_callers_jurisdiction(world, django_capture_on_commit_callbacks):
    _hiring_world(world)
    client = login(world.leader)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("hotissues:refresh"),
                               {"jurisdiction": world.district.code, "month": "2026-11"})

    assert response.status_code == 302
    assert HotIssue.objects.filter(jurisdiction=world.district, period_start=NOVEMBER[0]).count() == 1
    assert AuditEntry.objects.get(action="hot_issues_recomputed").detail["month"] == "2026-11"
    far = client.post(reverse("hotissues:refresh"), {"jurisdiction": world.other_district.code, "month": "2026-11"})
    assert far.status_code == 404


def test_the_monthly_circular_lists_the_months_hot_issues_in_its_page_word_and_excel(world):
    from qinqing.reports.circulars import render_excel, render_word
    from qinqing.reports.models import CircularKind
    from qinqing.reports.services import issue_circular

    _hiring_world(world)
    issue = _compute(world)[0]
    services.start_policy_study(world.dispatcher, issue, title="技能人才供给专项研究")

    circular = issue_circular(world.supervisor, kind=CircularKind.MONTHLY, jurisdiction=world.district,
                              start=NOVEMBER[0], end=NOVEMBER[1])

    row = circular.snapshot["hot_issues"][0]
    assert row[:4] == [1, issue.title, 4, 5] and row[-1] == "已转区级研究推进"
    page = login(world.supervisor).get(reverse("reports:circular", args=[circular.pk])).content.decode()
    assert "<h2>热点问题</h2>" in page and issue.title in page
    with zipfile.ZipFile(io.BytesIO(render_word(circular.snapshot, circular.number))) as docx:
        assert "、热点问题" in docx.read("word/document.xml").decode()
    sheets = load_workbook(io.BytesIO(render_excel(circular.snapshot))).sheetnames
    assert "热点问题" in sheets


def test_the_hot_command_finds_the_teddy_cup_samples_hot_issues_with_their_counts(db):
    out = io.StringIO()
    sample = Path(__file__).resolve().parent / "data/teddycup2020_c/附件3_示例数据.csv"  # the organisers' sample

    call_command("textmodel", "hot", str(sample), "--top", "5", stdout=out)

    text = out.getvalue()
    assert text.startswith("留言 30 条")
    first, second = text.split("\n1. ")[1], text.split("\n2. ")[1]
    assert "魅力之城" in first and "留言 10 条 · 用户 8 个" in first
    assert "经济学院学生" in second and "实习" in second
    assert "\n3. " not in text  # three look-alike questions with nothing in common are not a hot issue


def test_the_hot_command_names_a_missing_column(tmp_path, db):
    bad = tmp_path / "留言.csv"
    bad.write_text("编号,内容\n1,没有主题列\n", encoding="utf-8")

    with pytest.raises(CommandError, match="文件缺少列：留言主题、留言详情"):
        call_command("textmodel", "hot", str(bad))


def test_the_demo_step_computes_the_last_three_months_and_studies_the_hottest_complete_one(world):
    from types import SimpleNamespace

    from qinqing.demo import hotissues as demo

    firms, hiring, _ = _hiring_world(world)
    _receive(world, firms[0], "厂区路灯损坏", "厂区门口路灯损坏，夜班员工出行不便。", "2026-12-01 09:00")
    said = []

    demo.build(SimpleNamespace(district=world.district, dispatchers=[world.dispatcher]), said.append)

    assert said == ["热点问题已计算：近3个月1个，最热的一个已转区级研究推进"]
    study = PolicyStudy.objects.get()
    assert study.hot_issue.period_start == NOVEMBER[0]
    assert set(study.demands.values_list("pk", flat=True)) == {d.pk for d in hiring}
