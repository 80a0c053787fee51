"""The business environment's 4 classes × 16 aspects (seed 004): suggested at intake from the kind, set at
dispatch, filterable in the ledger, export and API, broken down on the dashboard and in the monthly circular."""

import datetime as dt
import io
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from docx import Document
from openpyxl import load_workbook

from qinqing.demands import services, taxonomy
from qinqing.demands.errors import DomainError
from qinqing.demands.filters import filter_demands
from qinqing.demands.models import Category, Channel, Demand, EnvironmentAspect, EnvironmentClass
from qinqing.reports import circulars, stats
from qinqing.reports.models import CircularKind
from qinqing.workbench.services import export_ledger

from .conftest import at, bearer, login


def aspect(class_name: str, name: str) -> EnvironmentAspect:
    return EnvironmentAspect.objects.get(env_class__name=class_name, name=name)


def receive(world, title="技术工人招聘困难", *, category=None, when="2026-11-10 10:00", dispatcher=None,
            enterprise=None):
    with services.acting_at(at(when)):
        return services.receive_demand(
            dispatcher or world.dispatcher, enterprise=enterprise or world.enterprise, channel=Channel.VISIT,
            title=title, content=f"{title}，请协调解决。", category=category or world.hiring, received_at=at(when))


def ledger_count(user, url: str) -> int:
    qs, form = filter_demands(Demand.objects.visible_to(user), QueryDict(urlsplit(url).query))
    assert form.is_valid(), form.errors
    return qs.count()


# ---------------------------------------------------------------- configuration

def test_the_four_classes_each_come_with_four_aspects_and_each_kind_with_a_default(db):
    classes = list(EnvironmentClass.objects.values_list("name", flat=True))
    assert classes == ["市场环境", "政务环境", "法治环境", "创新环境"]
    assert EnvironmentAspect.objects.filter(active=True).count() == 16
    assert list(EnvironmentAspect.objects.filter(env_class__name="市场环境").values_list("name", flat=True)) == [
        "市场准入", "公平竞争", "要素保障", "拖欠账款"]
    defaults = dict(Category.objects.filter(parent=None).values_list("name", "default_aspect__name"))
    assert defaults["准入难"] == "市场准入" and defaults["引才用工难"] == "人才支撑"
    assert defaults["融资难"] == "融资服务" and defaults["政策落地难"] == "政策落实"
    assert defaults["其它"] is None


def test_the_admin_edits_classes_aspects_and_a_kinds_default(world):
    client = login(world.admin)
    market = EnvironmentClass.objects.get(name="市场环境")
    assert "拖欠账款" in client.get(reverse("admin:demands_environmentclass_change", args=[market.pk])).content.decode()
    assert client.get(reverse("admin:demands_environmentaspect_changelist")).status_code == 200
    page = client.get(reverse("admin:demands_category_change", args=[world.hiring.pk])).content.decode()
    assert "默认营商环境方面" in page


# ---------------------------------------------------------------- intake and dispatch

def test_intake_suggests_the_aspect_of_the_kind_without_querying_the_aspects(world):
    taxonomy.get_taxonomy()  # warm, as every running process is
    with CaptureQueriesContext(connection) as ctx:
        d = receive(world)
    assert d.aspect_id == aspect("创新环境", "人才支撑").pk
    assert not [q for q in ctx.captured_queries if "environmentaspect" in q["sql"]]
    other = receive(world, "其他事项", category=Category.objects.get(name="其它"))
    assert other.aspect_id is None


def test_a_subcategory_without_its_own_default_takes_its_parents_and_a_retired_one_suggests_nothing(world):
    sub = Category.objects.create(name="高技能人才", parent=world.hiring)
    assert receive(world, category=sub).aspect_id == aspect("创新环境", "人才支撑").pk
    talent = aspect("创新环境", "人才支撑")
    talent.active = False
    talent.save()  # the admin's save drops the cached taxonomy
    assert receive(world).aspect_id is None


def test_a_new_default_in_the_admin_applies_to_the_next_intake(world):
    world.hiring.default_aspect = aspect("市场环境", "公平竞争")
    world.hiring.save()
    assert receive(world).aspect_id == aspect("市场环境", "公平竞争").pk


def test_the_dispatcher_changes_the_aspect_and_the_timeline_says_so(world, demand):
    new = aspect("政务环境", "政策落实")
    d = services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau, aspect=new.pk,
                                 note="请尽快对接")
    assert Demand.objects.get(pk=d.pk).aspect_id == new.pk
    event = d.events.get(verb="dispatch")
    assert event.note == "请尽快对接；营商环境方面由“创新环境·人才支撑”改为“政务环境·政策落实”"
    assert event.data["aspect"] == "政务环境·政策落实" and event.data["old_aspect"] == "创新环境·人才支撑"


def test_dispatch_without_an_aspect_keeps_it_and_notes_nothing(world, demand):
    d = services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    assert Demand.objects.get(pk=d.pk).aspect_id == aspect("创新环境", "人才支撑").pk
    event = d.events.get(verb="dispatch")
    assert event.note == "" and "old_aspect" not in event.data


def test_a_corrected_kind_moves_a_suggested_aspect_but_not_a_chosen_one(world, demand):
    d = services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau, category=world.finance_kind)
    assert Demand.objects.get(pk=d.pk).aspect_id == aspect("创新环境", "融资服务").pk
    chosen = receive(world)
    services.dispatch_demand(world.dispatcher, chosen, lead_unit=world.bureau, aspect=aspect("法治环境", "产权保护"))
    services.return_demand(world.handler, chosen, reason="不属于本单位职责")
    services.dispatch_demand(world.dispatcher, chosen, lead_unit=world.finance, category=world.finance_kind)
    assert Demand.objects.get(pk=chosen.pk).aspect_id == aspect("法治环境", "产权保护").pk


def test_a_retired_or_unknown_aspect_is_refused_in_chinese_and_nothing_changes(world, demand):
    retired = aspect("市场环境", "拖欠账款")
    retired.active = False
    retired.save()
    for value in (retired.pk, 999999, "abc"):
        with pytest.raises(DomainError, match="所选营商环境方面不存在或已停用"):
            services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau, aspect=value)
    d = Demand.objects.get(pk=demand.pk)
    assert d.state == "received" and d.aspect_id == aspect("创新环境", "人才支撑").pk


def test_the_dispatch_form_offers_the_aspects_by_class_and_the_page_shows_the_aspect(world, demand):
    client = login(world.dispatcher)
    url = reverse("demands:detail", args=[demand.number])
    page = client.get(url).content.decode()
    assert '<optgroup label="法治环境">' in page and "当前：创新环境·人才支撑" in page
    assert "<dt>营商环境</dt><dd>创新环境·人才支撑</dd>" in page
    target = aspect("法治环境", "纠纷化解")
    response = client.post(reverse("demands:act", args=[demand.number, "dispatch"]), {
        "version": demand.version, "lead_unit": world.bureau.pk, "aspect": target.pk})
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "<dt>营商环境</dt><dd>法治环境·纠纷化解</dd>" in page
    assert "营商环境方面由“创新环境·人才支撑”改为“法治环境·纠纷化解”" in page


# ---------------------------------------------------------------- ledger, export, API

def test_the_ledger_filters_by_class_and_by_aspect_and_can_show_the_column(world, demand):
    finance = receive(world, "贷款续贷困难", category=world.finance_kind)
    permit = receive(world, "厂房审批慢", category=Category.objects.get(name="准入难"))
    client = login(world.dispatcher)
    innovation = EnvironmentClass.objects.get(name="创新环境")
    html = client.get(reverse("demands:ledger"), {"env_class": innovation.pk}).content.decode()
    assert demand.number in html and finance.number in html and permit.number not in html
    html = client.get(reverse("demands:ledger"), {"aspect": aspect("市场环境", "市场准入").pk}).content.decode()
    assert permit.number in html and demand.number not in html
    assert '<option value="' + str(innovation.pk) + '">创新环境</option>' in client.get(
        reverse("demands:ledger")).content.decode()
    client.post(reverse("workbench:columns"), {"cols": ["number", "aspect"]})
    html = client.get(reverse("demands:ledger")).content.decode()
    assert "<th" in html and "营商环境方面" in html and "市场环境·市场准入" in html


def test_a_bad_aspect_filter_lists_nothing(world, demand):
    html = login(world.dispatcher).get(reverse("demands:ledger"), {"aspect": "x"}).content.decode()
    assert demand.number not in html and "筛选条件有误" in html


def test_the_export_carries_the_aspect_and_follows_its_filter(world, demand):
    receive(world, "厂房审批慢", category=Category.objects.get(name="准入难"))
    job, data = export_ledger(world.dispatcher, query=f"aspect={aspect('创新环境', '人才支撑').pk}",
                              columns=["number", "aspect"])
    sheet = load_workbook(io.BytesIO(data)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows == [["编号", "营商环境方面"], [demand.number, "创新环境·人才支撑"]]


def test_the_api_shows_filters_and_changes_the_aspect(world, demand):
    receive(world, "厂房审批慢", category=Category.objects.get(name="准入难"))
    client = login(world.dispatcher)
    headers = bearer(world.dispatcher)
    innovation = EnvironmentClass.objects.get(name="创新环境")
    body = client.get("/api/v1/demands", {"env_class": innovation.pk}, **headers).json()
    assert [i["number"] for i in body["items"]] == [demand.number]
    assert body["items"][0]["aspect"] == {"id": aspect("创新环境", "人才支撑").pk, "env_class": "创新环境",
                                          "name": "人才支撑"}
    target = aspect("政务环境", "审批效率")
    response = client.post(f"/api/v1/demands/{demand.number}/dispatch", {
        "lead_unit": world.bureau.pk, "aspect": target.pk, "version": demand.version},
        content_type="application/json", **headers)
    assert response.status_code == 200 and response.json()["aspect"]["name"] == "审批效率"
    fresh = receive(world, "新诉求")
    response = client.post(f"/api/v1/demands/{fresh.number}/dispatch", {"lead_unit": world.bureau.pk,
                                                                        "aspect": 999999},
                           content_type="application/json", **headers)
    assert response.status_code == 400 and "营商环境方面" in response.json()["detail"]
    assert Demand.objects.get(pk=fresh.pk).state == "received"


def test_the_api_ledger_reads_aspects_without_a_query_per_row(world, django_assert_max_num_queries):
    for i in range(3):
        receive(world, f"诉求{i}", category=world.finance_kind)
    client, headers = login(world.dispatcher), bearer(world.dispatcher)
    client.get("/api/v1/demands", **headers)
    with django_assert_max_num_queries(10) as few:
        client.get("/api/v1/demands", **headers)
    for i in range(6):
        receive(world, f"更多诉求{i}", category=Category.objects.get(name="准入难"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/api/v1/demands", **headers)


# ---------------------------------------------------------------- dashboard and circular

@pytest.fixture
def spread(world):
    """Demands over November in the district (and one outside) across classes and aspects."""
    out = [receive(world, "招工难", when="2026-11-02 10:00"),
           receive(world, "缺技工", when="2026-11-03 10:00"),
           receive(world, "续贷", category=world.finance_kind, when="2026-11-04 10:00"),
           receive(world, "审批", category=Category.objects.get(name="准入难"), when="2026-11-05 10:00"),
           receive(world, "其他", category=Category.objects.get(name="其它"), when="2026-11-06 10:00")]
    services.dispatch_demand(world.dispatcher, out[3], lead_unit=world.bureau, aspect=aspect("市场环境", "拖欠账款"))
    receive(world, "外区", dispatcher=world.other_dispatcher, enterprise=world.other_enterprise,
            when="2026-11-05 10:00")
    return out


def test_the_breakdown_counts_every_class_and_aspect_and_each_number_opens_its_ledger(world, spread):
    period = stats.Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    breakdown = stats.environment_breakdown(world.district, period)
    assert [c.label for c in breakdown] == ["市场环境", "政务环境", "法治环境", "创新环境", "未归类"]
    assert [c.value for c in breakdown] == [1, 0, 0, 3, 1]
    assert sum(len(c.aspects) for c in breakdown) == 16
    counts = {(c.label, a.label): a.value for c in breakdown for a in c.aspects}
    assert counts[("创新环境", "人才支撑")] == 2 and counts[("创新环境", "融资服务")] == 1
    assert counts[("市场环境", "拖欠账款")] == 1 and counts[("市场环境", "市场准入")] == 0
    for c in breakdown:
        if c.url:
            assert ledger_count(world.dispatcher, c.url) == c.value
        for a in c.aspects:
            assert ledger_count(world.dispatcher, a.url) == a.value


def test_the_dashboard_shows_the_four_classes_and_sixteen_aspects_and_exports_them(world, spread):
    client = login(world.leader)
    html = client.get(reverse("reports:dashboard")).content.decode()
    assert "营商环境4大类16个方面" in html and "拖欠账款" in html and "数字转型" in html
    book = load_workbook(io.BytesIO(client.get(reverse("reports:dashboard"), {"format": "xlsx"}).content))
    rows = [[c.value for c in row] for row in book["4大类16个方面"].iter_rows(min_row=3)]
    assert ["创新环境", "人才支撑", 2] in rows and ["创新环境", "小计", 3] in rows and rows[-1] == ["未归类", None, 1]


def test_the_monthly_circular_has_its_four_classes_sixteen_aspects_section(world, spread):
    data = circulars.snapshot(CircularKind.MONTHLY, world.district,
                              stats.Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30)))
    classes = {label: (n, aspects) for label, n, _, aspects in data["environment"]}
    assert classes["创新环境"][0] == 3 and ["人才支撑", 2] == classes["创新环境"][1][1][:2]
    document = Document(io.BytesIO(circulars.render_word(data, "南山亲清月通〔2026〕1号")))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "营商环境4大类16个方面" in text
    assert "创新环境3件（人才支撑2件、融资服务1件）" in text
    book = load_workbook(io.BytesIO(circulars.render_excel(data)))
    rows = [[c.value for c in row] for row in book["4大类16个方面"].iter_rows(min_row=3)]
    assert ["市场环境", "拖欠账款", 1] in rows and len(rows) == 16 + 4 + 1
    weekly = circulars.snapshot(CircularKind.WEEKLY, world.district,
                                stats.Period(dt.date(2026, 11, 2), dt.date(2026, 11, 8)))
    assert "environment" not in weekly
