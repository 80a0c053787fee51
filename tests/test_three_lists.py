"""Seed 000's three lists (意见清单、问题清单、帮扶责任清单): a demand's nature chosen at intake and at dispatch,
three pages over the ledger's filters, their Excel in a joint office's layout, and their counts in the briefing."""

import datetime as dt
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from qinqing.demands import lists, services
from qinqing.demands.errors import DomainError
from qinqing.demands.models import Channel, Demand, Evaluation, Nature, Outcome
from qinqing.enterprises.models import Helpers
from qinqing.reports.lists import list_counts
from qinqing.reports.stats import Period

from .conftest import at, bearer, login


def receive(world, title, *, nature=Nature.PROBLEM, when="2026-11-10 10:00", channel=Channel.VISIT,
            dispatcher=None, enterprise=None, category=None):
    with services.acting_at(at(when)):
        return services.receive_demand(
            dispatcher or world.dispatcher, enterprise=enterprise or world.enterprise, channel=channel, title=title,
            content=f"{title}，请研究。", category=category or world.hiring, received_at=at(when), nature=nature)


@pytest.fixture
def book(world):
    """Opinions and problems in the district (and one of each outside), at different steps of the loop."""
    Helpers.objects.filter(enterprise=world.enterprise).update(contact_leader=world.leader)
    out = {
        "opinion": receive(world, "建议开设民营企业热线", nature=Nature.OPINION, channel=Channel.SEMINAR,
                           when="2026-11-02 10:00"),
        "taken": receive(world, "技术工人招聘困难", when="2026-11-03 10:00"),
        "waiting": receive(world, "厂房审批慢", when="2026-11-04 10:00"),
        "finance": receive(world, "贷款续贷困难", when="2026-11-05 10:00", category=world.finance_kind),
        "closed": receive(world, "电价偏高", when="2026-11-06 10:00"),
        "duplicate": receive(world, "技术工人招聘困难（重复）", when="2026-11-07 10:00"),
        "outside_opinion": receive(world, "外区建议", nature=Nature.OPINION, dispatcher=world.other_dispatcher,
                                   enterprise=world.other_enterprise, when="2026-11-08 10:00"),
        "outside": receive(world, "外区问题", dispatcher=world.other_dispatcher, enterprise=world.other_enterprise,
                           when="2026-11-08 11:00"),
    }
    with services.acting_at(at("2026-11-10 09:00")):
        d = services.dispatch_demand(world.dispatcher, out["taken"], lead_unit=world.bureau)
        d = services.accept_demand(world.handler, d)
        d = services.contact_enterprise(world.handler, d, method="电话")
        out["taken"] = services.feed_back_path(world.handler, d, path="对接职业院校定向培养")
        services.dispatch_demand(world.dispatcher, out["waiting"], lead_unit=world.bureau)
        services.dispatch_demand(world.dispatcher, out["finance"], lead_unit=world.finance)
        d = services.dispatch_demand(world.dispatcher, out["closed"], lead_unit=world.bureau)
        d = services.contact_enterprise(world.handler, d, method="电话")
        d = services.feed_back_path(world.handler, d, path="协调供电公司")
        d = services.reply_demand(world.handler, d, reply="已协调", outcome=Outcome.SOLVED)
        d = services.evaluate_demand(world.owner, d, evaluation=Evaluation.SATISFIED)
        out["closed"] = services.close_demand(world.dispatcher, d)
        services.merge_demand(world.dispatcher, out["duplicate"], into=out["taken"])
    return out


def listed(client, key, **params) -> str:
    response = client.get(reverse("demands:list", args=[key]), params)
    assert response.status_code == 200
    return response.content.decode()


def workbook_rows(response):
    sheet = load_workbook(io.BytesIO(response.content)).active
    return sheet, [[c.value for c in row] for row in sheet.iter_rows()]


# ---------------------------------------------------------------- nature at intake and dispatch

def test_an_intake_marked_as_an_opinion_goes_to_the_opinion_list_only(world):
    client = login(world.dispatcher)
    page = client.get(reverse("demands:receive")).content.decode()
    assert 'value="opinion"' in page and "意见建议" in page
    response = client.post(reverse("demands:receive"), {
        "enterprise": world.enterprise.credit_code, "channel": Channel.SEMINAR, "nature": Nature.OPINION,
        "title": "建议简化申报材料", "content": "座谈会上企业建议合并重复填报的材料。"})
    assert response.status_code == 302
    d = Demand.objects.get(title="建议简化申报材料")
    assert d.nature == Nature.OPINION
    assert d.number in listed(client, "opinions")
    assert d.number not in listed(client, "problems") and d.number not in listed(client, "responsibility")
    assert "<dt>性质</dt><dd>意见建议</dd>" in client.get(reverse("demands:detail", args=[d.number])).content.decode()


def test_an_intake_without_a_nature_is_a_problem(world):
    d = services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT,
                                title="用工难", content="缺少普工。")
    assert d.nature == Nature.PROBLEM


def test_the_dispatcher_makes_an_opinion_a_problem_and_the_timeline_says_so(world, book):
    client = login(world.dispatcher)
    d = book["opinion"]
    response = client.post(reverse("demands:act", args=[d.number, "dispatch"]), {
        "version": d.version, "lead_unit": world.bureau.pk, "nature": Nature.PROBLEM})
    assert response.status_code == 302
    assert Demand.objects.get(pk=d.pk).nature == Nature.PROBLEM
    assert "性质由“意见建议”改为“困难问题”" in client.get(reverse("demands:detail", args=[d.number])).content.decode()
    assert d.number in listed(client, "responsibility")


def test_an_unknown_nature_is_refused_in_chinese_and_nothing_is_written(world):
    with pytest.raises(DomainError, match="诉求性质“idea”无效"):
        receive(world, "未知", nature="idea")
    assert not Demand.objects.exists()


def test_the_api_takes_the_nature_at_intake_and_dispatch(world):
    client, headers = login(world.dispatcher), bearer(world.dispatcher)
    body = client.post("/api/v1/demands", {
        "credit_code": world.enterprise.credit_code, "channel": "seminar", "title": "建议延长申报期",
        "content": "申报期太短。", "nature": "opinion"}, content_type="application/json", **headers).json()
    assert body["nature"] == "opinion" and body["nature_label"] == "意见建议"
    listed_ = client.get("/api/v1/demands", {"nature": "opinion"}, **headers).json()
    assert [i["number"] for i in listed_["items"]] == [body["number"]]
    response = client.post("/api/v1/demands", {
        "credit_code": world.enterprise.credit_code, "channel": "visit", "title": "x", "content": "y",
        "nature": "wish"}, content_type="application/json", **headers)
    assert response.status_code == 400 and "诉求性质" in response.json()["detail"]
    done = client.post(f"/api/v1/demands/{body['number']}/dispatch", {
        "lead_unit": world.bureau.pk, "nature": "problem"}, content_type="application/json", **headers).json()
    assert done["nature"] == "problem"


# ---------------------------------------------------------------- the three pages

def test_each_list_holds_its_own_demands_in_its_own_columns(world, book):
    client = login(world.dispatcher)
    html = listed(client, "opinions")
    assert "<th" in html and "意见建议内容" in html and "答复意见" in html and "序号" in html
    assert "建议开设民营企业热线" in html and "技术工人招聘困难" not in html and "外区建议" not in html
    html = listed(client, "problems")
    for key in ("taken", "waiting", "finance", "closed"):
        assert book[key].number in html
    assert "（重复）" not in html and "建议开设民营企业热线" not in html and "问题内容" in html
    html = listed(client, "responsibility")
    assert book["taken"].number in html and book["waiting"].number in html
    assert book["closed"].number not in html and book["duplicate"].number not in html


def test_the_responsibility_list_names_unit_person_cadres_deadline_stage_and_progress(world, book):
    html = listed(login(world.dispatcher), "responsibility")
    for header in ("序号", "企业名称", "问题内容", "牵头帮扶单位", "帮扶责任人", "包联干部", "办理时限", "当前环节", "办理进度"):
        assert f">{header}</th>" in html
    row = html.split(book["taken"].number)[1].split("</tr>")[0]
    assert "南山区人力资源局" in row and "钱承办" in row and "王区长（包联领导）、冯专员（服务专员）" in row
    assert book["taken"].resolve_due.strftime("%Y-%m-%d") in row and "已反馈路径；解决路径：对接职业院校定向培养" in row
    waiting = html.split(book["waiting"].number)[1].split("</tr>")[0]
    assert "孙局长（负责人）" in waiting and "联系企业" in waiting  # nobody took it on yet: the unit head answers
    finance = html.split(book["finance"].number)[1].split("</tr>")[0]
    assert "南山区金融工作局" in finance and "负责人" not in finance


def test_the_lists_take_the_ledgers_filters(world, book):
    client = login(world.dispatcher)
    html = listed(client, "responsibility", unit=world.finance.pk)
    assert book["finance"].number in html and book["taken"].number not in html
    html = listed(client, "problems", received_from="2026-11-05", received_to="2026-11-06")
    assert book["finance"].number in html and book["closed"].number in html and book["taken"].number not in html
    html = listed(client, "problems", received_from="2026-11-09", received_to="2026-11-01")
    assert "筛选条件有误" in html and book["taken"].number not in html


def test_the_ledger_links_to_the_three_lists(world):
    html = login(world.dispatcher).get(reverse("demands:ledger")).content.decode()
    for key in ("opinions", "problems", "responsibility"):
        assert reverse("demands:list", args=[key]) in html


def test_an_unknown_list_is_404(world):
    assert login(world.dispatcher).get("/demands/lists/wishes/").status_code == 404


def test_the_lists_page_fifty_rows_at_a_time(world):
    for i in range(52):
        receive(world, f"问题{i:02d}", when=f"2026-11-{1 + i % 28:02d} {8 + i // 28:02d}:00")
    client = login(world.dispatcher)
    first = listed(client, "problems")
    assert first.count("<tr>") == 51 and "下一页" in first and "第1–50条" in first
    second = listed(client, "problems", page=2)
    assert second.count("<tr>") == 3 and "共52条" in second


@pytest.mark.parametrize("key", ["opinions", "problems", "responsibility"])
def test_a_list_page_costs_the_same_queries_with_more_rows(world, book, key, django_assert_max_num_queries):
    client = login(world.dispatcher)
    listed(client, key)
    with django_assert_max_num_queries(20) as few:
        listed(client, key)
    for i in range(10):
        d = receive(world, f"新增{i}", nature=Nature.OPINION if i % 2 else Nature.PROBLEM)
        d = services.dispatch_demand(world.dispatcher, d, lead_unit=world.bureau if i % 3 else world.finance)
        if i % 4 == 0:
            services.accept_demand(world.handler if i % 3 else world.co_handler, d)
    with django_assert_max_num_queries(len(few.captured_queries)):
        listed(client, key)


# ---------------------------------------------------------------- Excel

def test_the_responsibility_list_exports_in_the_joint_offices_layout(world, book):
    response = login(world.dispatcher).get(reverse("demands:list", args=["responsibility"]), {"format": "xlsx"})
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    sheet, rows = workbook_rows(response)
    assert rows[0][0] == "南山区企业问题帮扶责任清单" and [str(r) for r in sheet.merged_cells.ranges] == ["A1:I1", "A2:I2"]
    assert rows[1][0] == "截至2026年12月3日"
    assert rows[2] == ["序号", "企业名称", "问题内容", "牵头帮扶单位", "帮扶责任人", "包联干部", "办理时限", "当前环节",
                       "办理进度"]
    assert sheet.freeze_panes == "A4" and sheet["A1"].font.b and sheet["A3"].font.b
    assert sheet["C4"].border.left.style == "thin" and sheet["C4"].alignment.wrap_text
    assert sheet.column_dimensions["C"].width == 50 and sheet.column_dimensions["A"].width == 6
    body = rows[3:]
    assert [r[0] for r in body] == list(range(1, len(body) + 1)) and len(body) == 3
    taken = next(r for r in body if r[2].startswith("技术工人招聘困难"))
    assert taken[1] == world.enterprise.name and taken[3] == "南山区人力资源局" and taken[4] == "钱承办"
    assert taken[5] == "王区长（包联领导）、冯专员（服务专员）"
    assert taken[6].date() == book["taken"].resolve_due and taken[7] == "办结"


def test_the_opinion_and_problem_lists_export_with_their_own_titles_and_filters(world, book):
    client = login(world.dispatcher)
    _, rows = workbook_rows(client.get(reverse("demands:list", args=["opinions"]), {"format": "xlsx"}))
    assert rows[0][0] == "南山区企业意见建议清单" and rows[2][:3] == ["序号", "企业名称", "意见建议内容"]
    assert [r[2] for r in rows[3:]] == ["建议开设民营企业热线：建议开设民营企业热线，请研究。"]
    _, rows = workbook_rows(client.get(reverse("demands:list", args=["problems"]),
                                       {"format": "xlsx", "jurisdiction": world.town.code, "unit": world.finance.pk}))
    assert rows[0][0] == "南头街道企业困难问题清单"
    assert [r[1] for r in rows[3:]] == [book["finance"].number]


def test_a_formula_in_a_demand_is_exported_as_text(world):
    receive(world, "=HYPERLINK(\"http://x\")")
    _, rows = workbook_rows(login(world.dispatcher).get(reverse("demands:list", args=["problems"]),
                                                        {"format": "xlsx"}))
    assert rows[3][3].startswith("=HYPERLINK")


def test_an_export_too_large_asks_to_narrow_the_filters(world, book, monkeypatch):
    monkeypatch.setattr(lists, "EXPORT_MAX_ROWS", 2)
    monkeypatch.setattr("qinqing.demands.views.lists.EXPORT_MAX_ROWS", 2)
    response = login(world.dispatcher).get(reverse("demands:list", args=["problems"]), {"format": "xlsx"},
                                           follow=True)
    assert "超过单次导出上限2件" in response.content.decode()


# ---------------------------------------------------------------- who sees what

def test_an_enterprise_account_gets_404_on_every_list_and_export(world, book):
    client = login(world.owner)
    for key in ("opinions", "problems", "responsibility"):
        assert client.get(reverse("demands:list", args=[key])).status_code == 404
        assert client.get(reverse("demands:list", args=[key]), {"format": "xlsx"}).status_code == 404


def test_another_district_sees_none_of_ours_on_the_lists_or_in_their_exports(world, book):
    client = login(world.other_dispatcher)
    for key in ("opinions", "problems", "responsibility"):
        html = listed(client, key)
        assert world.enterprise.name not in html
        _, rows = workbook_rows(client.get(reverse("demands:list", args=[key]), {"format": "xlsx"}))
        assert rows[0][0].startswith("宝安区") and all(world.enterprise.name not in str(r) for r in rows)
    assert "外区建议" in listed(client, "opinions") and "外区问题" in listed(client, "responsibility")
    # Asking for our district's lists by filter gives nothing either.
    html = listed(client, "problems", jurisdiction=world.district.code)
    assert book["taken"].number not in html


# ---------------------------------------------------------------- briefing

def test_the_briefing_counts_the_three_lists_and_each_count_opens_its_list(world, book):
    period = Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    counts = list_counts(world.district, period)
    assert (counts.opinions.value, counts.problems.value, counts.responsibility.value) == (1, 4, 3)
    client = login(world.leader)
    for item in counts:
        html = client.get(item.url).content.decode()
        assert html.count("<tr>") - 1 == item.value  # the header row, then one row per demand
    page = client.get(reverse("reports:briefing"), {"start": "2026-11-01", "end": "2026-11-30"}).content.decode()
    assert "三张清单" in page and counts.responsibility.url.replace("&", "&amp;") in page
