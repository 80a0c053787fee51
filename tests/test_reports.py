"""Dashboards, briefings and circulars: every figure is a database count, and equals the ledger it links to."""

import datetime as dt
import io
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.http import QueryDict
from django.urls import reverse
from docx import Document
from openpyxl import load_workbook

from qinqing.demands import services
from qinqing.demands.filters import filter_demands
from qinqing.demands.models import Category, Channel, Demand, Evaluation, Outcome
from qinqing.reports import circulars, rollup, stats
from qinqing.reports.briefing import build_briefing
from qinqing.reports.models import Circular, CircularKind, DemandRollup, ReportEvent
from qinqing.reports.services import issue_circular, issue_scheduled
from qinqing.workdays import calendar as workcal

from .conftest import at, login, on_day

TODAY = dt.date(2026, 11, 27)


@pytest.fixture(autouse=True)
def _today():
    workcal.invalidate()
    with on_day(TODAY):
        yield
    workcal.invalidate()


def receive(world, title, *, when, category=None, channel=Channel.VISIT, enterprise=None):
    with services.acting_at(at(when)):
        return services.receive_demand(
            world.dispatcher, enterprise=enterprise or world.enterprise, channel=channel, title=title,
            content=f"{title}，请协调解决。", category=category or world.finance_kind, received_at=at(when))


def close(world, d, *, on: str, contact_late=False):
    """Take a demand through the whole loop, contacting late when asked."""
    day = dt.datetime.fromisoformat(on)
    with services.acting_at(at(on)):
        d = services.dispatch_demand(world.dispatcher, d, lead_unit=world.bureau)
    contact_at = at((day + dt.timedelta(days=6 if contact_late else 0)).isoformat(sep=" ")[:16])
    with services.acting_at(contact_at):
        d = services.contact_enterprise(world.handler, d, method="电话")
        d = services.feed_back_path(world.handler, d, path="协调职业院校对接")
        d = services.reply_demand(world.handler, d, reply="已对接", outcome=Outcome.SOLVED)
        d = services.evaluate_demand(world.owner, d, evaluation=Evaluation.SATISFIED)
        return services.close_demand(world.dispatcher, d)


@pytest.fixture
def ledger(world):
    """Demands in the district over a few weeks: kinds, channels, states and units all differ."""
    out = {}
    out["closed"] = close(world, receive(world, "贷款续贷困难", when="2026-11-02 10:00"), on="2026-11-02 11:00")
    out["late"] = close(world, receive(world, "招工难", when="2026-11-03 09:00", category=world.hiring,
                                       channel=Channel.HOTLINE), on="2026-11-03 10:00", contact_late=True)
    out["waiting"] = receive(world, "厂房审批慢", when="2026-11-10 10:00", category=world.hiring)
    d = receive(world, "融资担保", when="2026-11-17 10:00", channel=Channel.ONLINE)
    with services.acting_at(at("2026-11-17 11:00")):
        d = services.dispatch_demand(world.dispatcher, d, lead_unit=world.finance, co_units=[world.bureau])
        out["long"] = services.mark_long_term(world.dispatcher, d, reason="需区级研究")
    d = receive(world, "跨区物流", when="2026-11-18 10:00")
    with services.acting_at(at("2026-11-18 11:00")):
        d = services.dispatch_demand(world.dispatcher, d, lead_unit=world.bureau)
        out["city"] = services.transfer_to_city(world.dispatcher, d, reason="超出区级事权")
    dup = receive(world, "贷款续贷困难（重复）", when="2026-11-02 15:00")
    out["merged"] = services.merge_demand(world.dispatcher, dup, into=out["waiting"])
    with services.acting_at(at("2026-11-20 09:00")):
        out["other"] = services.receive_demand(
            world.other_dispatcher, enterprise=world.other_enterprise, channel=Channel.VISIT, title="外区诉求",
            content="外区企业的诉求。", category=world.finance_kind, received_at=at("2026-11-20 09:00"))
    return out


def ledger_count(user, url: str) -> int:
    params = QueryDict(urlsplit(url).query)
    qs, form = filter_demands(Demand.objects.visible_to(user), params)
    assert form.is_valid(), form.errors
    return qs.count()


def all_items(board: stats.Dashboard):
    yield from board.cards
    for group in (board.by_category, board.by_channel, board.by_state, board.by_unit, board.by_jurisdiction,
                  board.trend, board.hot, board.overdue):
        yield from group


def test_every_dashboard_figure_equals_the_ledger_its_link_opens(world, ledger):
    rollup.refresh()
    board = stats.dashboard(world.district, stats.Period(dt.date(2026, 10, 26), TODAY), TODAY)
    assert board.total.value == 5  # the merged duplicate and the other district's demand are not counted
    checked = 0
    for item in all_items(board):
        if item.url:
            assert ledger_count(world.leader, item.url) == item.value, (item.label, item.url)
            checked += 1
    assert checked >= 20
    # A unit counts the demands it leads or helps with, as the ledger's unit filter does.
    assert {i.label: i.value for i in board.by_unit} == {world.bureau.name: 4, world.finance.name: 1, "未交办": 1}


def test_a_town_dashboard_counted_live_equals_its_ledger_too(world, ledger):
    rollup.refresh()
    board = stats.dashboard(world.town, stats.Period(dt.date(2026, 10, 26), TODAY), TODAY)
    assert board.total.value == 5
    for item in all_items(board):
        if item.url:
            assert ledger_count(world.leader, item.url) == item.value, (item.label, item.url)


def test_the_ledger_page_lists_exactly_what_a_dashboard_number_counts(world, ledger):
    rollup.refresh()
    board = stats.dashboard(world.district, stats.Period(dt.date(2026, 10, 26), TODAY), TODAY)
    closed = next(i for i in board.cards if i.label == "已办结")
    html = login(world.leader).get(closed.url).content.decode()
    assert closed.value == 2
    assert ledger["closed"].number in html and ledger["late"].number in html
    assert ledger["waiting"].number not in html


def test_the_dashboard_shows_rates_of_deadlines_met_and_satisfaction(world, ledger):
    rollup.refresh()
    board = stats.dashboard(world.district, stats.Period(dt.date(2026, 10, 26), TODAY), TODAY)
    rates = {r.name: r for r in board.rate_set.ontime}
    # "waiting" was never dispatched and its deadlines have passed: it counts against 交办 and 联系企业按时率
    # (its 办结 deadline has not come yet).
    assert (rates["联系企业按时率"].part, rates["联系企业按时率"].whole, rates["联系企业按时率"].text) == (1, 3, "33.3%")
    assert (rates["交办按时率"].part, rates["交办按时率"].whole) == (4, 5)
    assert rates["办结按时率"].whole == 2
    s = board.rate_set.satisfaction
    assert (s.part, s.whole, s.value) == (2, 2, 100.0)


ROLLUP_COLUMNS = ("jurisdiction_id", "week", "dimension", "key", *rollup.MEASURE_FIELDS)


def rollup_rows():
    return sorted(DemandRollup.objects.values_list(*ROLLUP_COLUMNS))


def test_the_rollup_follows_each_transition_and_equals_a_full_rebuild(world, ledger):
    rollup.refresh()
    with services.acting_at(at("2026-11-26 10:00")):
        services.dispatch_demand(world.dispatcher, ledger["waiting"], lead_unit=world.finance)
    rollup.refresh()
    incremental = rollup_rows()
    rollup.rebuild()
    assert incremental == rollup_rows()
    board = stats.dashboard(world.district, stats.Period(dt.date(2026, 10, 26), TODAY), TODAY)
    states = {i.label: i.value for i in board.by_state}
    assert states["待签收"] == 1 and "待交办" not in states


def test_the_rollup_counts_only_what_changed_and_still_equals_a_count_from_scratch(world, ledger):
    """Each refresh applies the changed demands' old and new contributions; after a day of every kind of
    change (co-units, stages met late, evaluations, a merge, a reopening, new demands in a town) every
    cell and every measure equals a rebuild counted from the demand table."""
    rollup.rebuild()
    before = rollup_rows()
    fresh = receive(world, "新来的诉求", when="2026-11-24 09:00", category=world.hiring, channel=Channel.WECHAT)
    rollup.refresh()
    assert rollup_rows() != before
    with services.acting_at(at("2026-11-24 10:00")):
        d = services.dispatch_demand(world.dispatcher, fresh, lead_unit=world.bureau, co_units=[world.finance])
    with services.acting_at(at("2026-11-27 09:00")):  # contacted a day late
        d = services.contact_enterprise(world.handler, d, method="电话")
        d = services.feed_back_path(world.handler, d, path="协调")
    rollup.refresh()
    with services.acting_at(at("2026-11-27 10:00")):
        d = services.reply_demand(world.handler, d, reply="已解决", outcome=Outcome.SOLVED)
        d = services.evaluate_demand(world.owner, d, evaluation=Evaluation.UNSATISFIED, comment="仍未解决")
        services.reopen_demand(world.dispatcher, d, reason="企业反映未解决")
        dup = receive(world, "新来的诉求（重复）", when="2026-11-27 10:00")
        services.merge_demand(world.dispatcher, dup, into=ledger["waiting"])
        services.dispatch_demand(world.dispatcher, ledger["waiting"], lead_unit=world.finance,
                                 co_units=[world.bureau])
    assert rollup.refresh() == 3  # the new demand, the duplicate and the demand it joined
    incremental = rollup_rows()
    assert rollup.refresh() == 0 and rollup_rows() == incremental  # nothing new: nothing moves
    rollup.rebuild()
    assert incremental == rollup_rows()
    board = stats.dashboard(world.district, stats.Period(dt.date(2026, 10, 26), TODAY), TODAY)
    for item in all_items(board):
        if item.url:
            assert ledger_count(world.leader, item.url) == item.value, (item.label, item.url)


def test_a_refresh_reads_only_the_changed_demands(world, ledger, django_assert_max_num_queries):
    """Its statements do not depend on how many demands there are, only on how many changed."""
    rollup.rebuild()
    for i in range(12):
        receive(world, f"批量诉求{i}", when=f"2026-11-{10 + i} 10:00")
    rollup.refresh()
    with services.acting_at(at("2026-11-26 10:00")):
        services.dispatch_demand(world.dispatcher, ledger["waiting"], lead_unit=world.finance)
    with django_assert_max_num_queries(16):
        assert rollup.refresh() == 1


def test_the_dashboard_page_draws_charts_over_tables_that_link_to_the_ledger(world, ledger):
    html = login(world.leader).get(reverse("reports:dashboard")).content.decode()
    assert "vendor/echarts/echarts.min.js" in html
    assert 'class="grid dash-table"' in html  # the fallback when the script is missing
    assert "/demands/?jurisdiction=440305" in html
    assert "按问题类别" in html and "各环节按时率与满意率" in html


def test_the_dashboard_costs_the_same_queries_with_more_demands(world, ledger, django_assert_max_num_queries):
    client = login(world.leader)
    client.get(reverse("reports:dashboard"))
    with django_assert_max_num_queries(40) as small:
        client.get(reverse("reports:dashboard"))
    few = len(small.captured_queries)
    for i in range(6):
        receive(world, f"新增诉求{i}", when=f"2026-11-{10 + i} 10:00", category=world.hiring,
                channel=Channel.WECHAT)
    client.get(reverse("reports:dashboard"))  # the refresh after the new events
    with django_assert_max_num_queries(few):
        client.get(reverse("reports:dashboard"))


def test_the_dashboard_exports_every_table_to_excel(world, ledger):
    rollup.refresh()  # the worker's first run builds the rollup
    response = login(world.leader).get(reverse("reports:dashboard"), {"format": "xlsx"})
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content) if response.streaming else
                                    response.content))
    assert {"概览", "按类别", "按渠道", "按状态", "按单位", "按周", "按时率", "当前超期"} <= set(book.sheetnames)
    assert book["概览"]["A2"].value == "项目" and book["概览"]["B3"].value == 5
    assert ReportEvent.objects.filter(verb="export_dashboard", actor=world.leader).exists()


@pytest.mark.parametrize("name", ["reports:dashboard", "reports:briefing", "reports:circulars"])
def test_outsiders_get_404_on_statistics(world, ledger, name):
    assert login(world.owner).get(reverse(name)).status_code == 404
    assert login(world.handler).get(reverse(name)).status_code == 404
    other = login(world.other_dispatcher)
    assert other.get(reverse(name), {"jurisdiction": world.district.code}).status_code == 404
    assert other.get(reverse(name)).status_code == 200  # their own district works


def make_visits(world):
    """Three visited enterprises (two 四上) and two seminars in November, one visit outside the period."""
    from qinqing.enterprises.models import Enterprise, Sector
    from qinqing.visits.models import Seminar, Visit

    from .conftest import real_codes

    codes = real_codes()
    builder = Enterprise.objects.create(name="南头建筑工程有限公司", credit_code=codes[3], sector=Sector.CONSTRUCTION,
                                        jurisdiction=world.town, is_four_above=True)
    for enterprise, day in [(world.enterprise, 3), (world.enterprise, 12), (world.neighbour, 5), (builder, 20)]:
        Visit.objects.create(enterprise=enterprise, visited_on=dt.date(2026, 11, day))
    Visit.objects.create(enterprise=world.other_enterprise, visited_on=dt.date(2026, 11, 4))
    Visit.objects.create(enterprise=builder, visited_on=dt.date(2026, 10, 20))
    for day in (6, 19):
        Seminar.objects.create(held_on=dt.date(2026, 11, day), kind=Seminar.Kind.values[0], title="政策宣讲",
                               jurisdiction=world.district)


EXPECTED = ("2026年11月1日至11月27日，共走访区内民营企业3家（“四上”企业2家、“四下”存在困难的企业1家）。"
            "其中工业1家、建筑业1家、餐饮住宿业1家。召开2次宣讲会和座谈会，收集到企业反映的困难和问题5件，"
            "涉及融资难3件、引才用工难2件。截至2026年11月27日，已办结2件，区级研究推进1件，移送市级研究1件，"
            "尚在办理中1件。")


def test_the_briefing_writes_the_report_paragraph_from_the_data(world, ledger):
    make_visits(world)
    text = build_briefing(world.district, dt.date(2026, 11, 1), TODAY, TODAY).text
    assert text == EXPECTED


def test_the_briefing_command_prints_the_same_text(world, ledger):
    make_visits(world)
    out = io.StringIO()
    with on_day(TODAY):
        call_command("briefing", "--from", "2026-11-01", "--to", "2026-11-27", "--jurisdiction", "440305",
                     stdout=out)
    assert out.getvalue().strip() == EXPECTED


def test_the_briefing_command_refuses_a_bad_date_in_chinese(world):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="日期格式应为"):
        call_command("briefing", "--from", "2026-13-01", "--to", "2026-11-27")


def test_the_briefing_page_offers_the_text_and_a_word_briefing(world, ledger):
    make_visits(world)
    client = login(world.leader)
    params = {"start": "2026-11-01", "end": "2026-11-27", "jurisdiction": "440305"}
    html = client.get(reverse("reports:briefing"), params).content.decode()
    assert EXPECTED in html
    response = client.get(reverse("reports:briefing"), {**params, "format": "docx"})
    text = "\n".join(p.text for p in Document(io.BytesIO(response.content)).paragraphs)
    assert EXPECTED in text and "走访服务民营企业工作简报" in text
    book = load_workbook(io.BytesIO(client.get(reverse("reports:briefing"), {**params, "format": "xlsx"}).content))
    assert book.sheetnames == ["简报文字", "走访企业", "问题分类", "办理情况"]
    assert book["简报文字"]["A3"].value == EXPECTED and book["问题分类"]["B5"].value == 5
    assert "开始日期不能晚于结束日期" in client.get(reverse("reports:briefing"), {
        **params, "start": "2026-11-28"}).content.decode()


def docx_text(content: bytes) -> str:
    doc = Document(io.BytesIO(content))
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def test_a_circular_is_issued_on_demand_and_reproduces_from_its_snapshot(world, ledger):
    client = login(world.supervisor)
    response = client.post(reverse("reports:circular_issue"), {
        "jurisdiction": "440305", "kind": CircularKind.MONTHLY, "start": "2026-11-01", "end": "2026-11-27"})
    circular = Circular.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("reports:circular", args=[circular.pk])
    assert circular.number == "南山亲清月通〔2026〕1号"
    assert circular.snapshot["received"] == 5
    word = b"".join(client.get(reverse("reports:circular_file", args=[circular.pk, "word"])).streaming_content)
    text = docx_text(word)
    assert "南山区督查室" in text and "超期未办结涉企诉求的通报" in text and ledger["waiting"].number in text
    excel = b"".join(client.get(reverse("reports:circular_file", args=[circular.pk, "excel"])).streaming_content)
    assert "超期明细" in load_workbook(io.BytesIO(excel)).sheetnames

    # The demands move on; the stored circular and a rebuild from its snapshot do not.
    with services.acting_at(at("2026-11-27 09:00")):
        services.dispatch_demand(world.dispatcher, ledger["waiting"], lead_unit=world.bureau)
    assert docx_text(circulars.render_word(circular.snapshot, circular.number)) == text
    again = issue_circular(world.supervisor, kind=CircularKind.MONTHLY, jurisdiction=world.district,
                           start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 27))
    assert again.pk == circular.pk and Circular.objects.count() == 1
    assert ReportEvent.objects.filter(verb="issue_circular", circular=circular, actor=world.supervisor).exists()


def test_circular_figures_link_to_ledgers_with_the_same_numbers(world, ledger):
    circular = issue_circular(world.supervisor, kind=CircularKind.HALF_MONTHLY, jurisdiction=world.district,
                              start=dt.date(2026, 11, 16), end=dt.date(2026, 11, 30))
    data = circular.snapshot
    assert ledger_count(world.supervisor, data["received_url"]) == data["received"] == 2
    for _label, n, url in data["by_category"] + data["outcomes"] + data["overdue"]:
        assert ledger_count(world.supervisor, url) == n


def test_the_worker_issues_each_kind_for_every_district_on_its_day(world, ledger):
    ids = issue_scheduled(CircularKind.WEEKLY, dt.date(2026, 11, 23))
    assert len(ids) == 2  # 南山区 and 宝安区
    weekly = Circular.objects.get(jurisdiction=world.district)
    assert (weekly.period_start, weekly.period_end) == (dt.date(2026, 11, 16), dt.date(2026, 11, 22))
    assert weekly.created_by is None and weekly.snapshot["received"] == 2
    assert issue_scheduled(CircularKind.WEEKLY, dt.date(2026, 11, 23)) == ids  # idempotent
    assert circulars.period_for(CircularKind.HALF_MONTHLY, dt.date(2026, 12, 1)) == stats.Period(
        dt.date(2026, 11, 16), dt.date(2026, 11, 30))
    assert circulars.period_for(CircularKind.HALF_MONTHLY, dt.date(2026, 11, 16)) == stats.Period(
        dt.date(2026, 11, 1), dt.date(2026, 11, 15))
    assert circulars.period_for(CircularKind.MONTHLY, dt.date(2027, 1, 1)) == stats.Period(
        dt.date(2026, 12, 1), dt.date(2026, 12, 31))


def test_outsiders_cannot_read_or_issue_another_districts_circulars(world, ledger):
    circular = issue_circular(world.supervisor, kind=CircularKind.WEEKLY, jurisdiction=world.district,
                              start=dt.date(2026, 11, 16), end=dt.date(2026, 11, 22))
    other = login(world.other_dispatcher)
    assert other.get(reverse("reports:circular", args=[circular.pk])).status_code == 404
    assert other.get(reverse("reports:circular_file", args=[circular.pk, "word"])).status_code == 404
    assert login(world.owner).get(reverse("reports:circular", args=[circular.pk])).status_code == 404
    response = other.post(reverse("reports:circular_issue"), {
        "jurisdiction": "440305", "kind": "weekly", "start": "2026-11-01", "end": "2026-11-07"})
    assert response.status_code == 404
    assert "440305" not in other.get(reverse("reports:circulars")).content.decode()


def test_a_circular_whose_file_is_gone_answers_a_chinese_404_not_a_server_error(world, ledger, settings, tmp_path):
    circular = issue_circular(world.supervisor, kind=CircularKind.WEEKLY, jurisdiction=world.district,
                              start=dt.date(2026, 11, 16), end=dt.date(2026, 11, 22))
    settings.MEDIA_ROOT = tmp_path / "restored-from-an-older-backup"
    response = login(world.supervisor).get(reverse("reports:circular_file", args=[circular.pk, "word"]))
    assert response.status_code == 404
    assert "通报文件已不存在" in response.content.decode()


def test_a_bad_circular_request_is_refused_in_chinese_and_nothing_is_stored(world):
    client = login(world.supervisor)
    response = client.post(reverse("reports:circular_issue"), {
        "jurisdiction": "440305", "kind": "weekly", "start": "2026-11-10", "end": "2026-11-01"}, follow=True)
    assert "开始日期不能晚于结束日期" in response.content.decode()
    assert not Circular.objects.exists()


def test_categories_keep_their_taxonomy_order_in_the_briefing(world, ledger):
    first = Category.objects.filter(parent=None).order_by("position", "id").first()
    figures = stats.demand_figures(world.district, stats.Period(dt.date(2026, 11, 1), TODAY))
    labels = [i.label for i in figures.by_category]
    assert labels == sorted(labels, key=lambda n: Category.objects.get(parent=None, name=n).position)
    assert first is not None


def test_a_timeline_entry_committed_late_is_still_counted(world, ledger):
    """Ids are handed out before commit: an entry can appear below the mark after a refresh passed it."""
    from django.db import connection

    from qinqing.demands.models import DemandEvent
    from qinqing.reports.models import RollupMark

    rollup.refresh()
    waiting = ledger["waiting"]
    # Two entries are written; the first one's transaction has not committed when the refresh runs.
    late = DemandEvent.objects.create(demand=waiting, verb="note", note="未提交的事务")
    DemandEvent.objects.create(demand=ledger["closed"], verb="note", note="已提交")
    table = DemandEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [late.pk])
    rollup.refresh()
    assert RollupMark.objects.get().recheck_from == late.pk

    # The late transaction commits: the demand was dispatched and its entry appears with the old id.
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Demand._meta.db_table} SET state = 'dispatched', lead_unit_id = %s WHERE id = %s",
                       [world.bureau.pk, waiting.pk])
        cursor.execute(f"INSERT INTO {table} (id, demand_id, verb, from_state, to_state, note, data, internal, "
                       f"created_at) VALUES (%s, %s, 'dispatch', 'received', 'dispatched', '', '{{}}', %s, %s)",
                       [late.pk, waiting.pk, False, late.created_at])
    DemandEvent.objects.create(demand=ledger["closed"], verb="note", note="之后的记录")
    rollup.refresh()
    board = stats.dashboard(world.district, stats.Period(dt.date(2026, 10, 26), TODAY), TODAY)
    assert {i.label: i.value for i in board.by_state}.get("待签收") == 1
    assert RollupMark.objects.get().recheck_from is None


def test_the_dashboard_says_when_many_changes_are_still_being_counted(world, ledger):
    from qinqing.demands.models import DemandEvent

    rollup.refresh()
    DemandEvent.objects.bulk_create([DemandEvent(demand=ledger["waiting"], verb="note") for _ in range(150)])
    html = login(world.leader).get(reverse("reports:dashboard")).content.decode()
    assert "150 条办理记录正在计入" in html
    rollup.refresh()
    assert "正在计入" not in login(world.leader).get(reverse("reports:dashboard")).content.decode()


def test_the_dashboard_never_builds_the_rollup_itself(world, ledger):
    """Before the worker's first run a leader is told so, instead of waiting for a count of everything."""
    html = login(world.leader).get(reverse("reports:dashboard")).content.decode()
    assert "统计汇总尚未生成" in html
    assert not DemandRollup.objects.exists()
    rollup.refresh()
    assert "统计汇总尚未生成" not in login(world.leader).get(reverse("reports:dashboard")).content.decode()
