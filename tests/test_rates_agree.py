"""One definition per rate: the leader's home page, the dashboard, the circular (page, Word, Excel) and the
unit assessment show the same 满意率 and 按时率 for the same period, equal to the figure computed by hand;
an unfinished stage past its deadline counts against 按时率; the rollup's rates equal a count from
scratch; a circular's outcome clauses add up to the demands it counts, on random data too."""

import datetime as dt
import io
import re

import pytest
from django.urls import reverse
from docx import Document
from openpyxl import load_workbook

from qinqing.demands import services
from qinqing.demands.models import Channel, Evaluation, Outcome
from qinqing.reports import circulars, rates, rollup, stats
from qinqing.reports.models import CircularKind
from qinqing.reports.services import issue_circular

from .conftest import NOW, at, login
from .test_briefing_adds_up import END, START, district  # noqa: F401 - the random district fixture

TODAY = NOW.date()  # 2026-12-03
PERIOD = stats.recent_weeks(TODAY)  # the dashboard's default: 2026-09-14 to 2026-12-06
SHOWN = ("satisfaction", "dispatch_ontime", "contact_ontime", "path_ontime", "reply_ontime")
# Worked out by hand from the demands below (all led by 人力资源局, received in the period):
#   满意率: 满意 (A) + 基本满意 (B) over the three evaluated (A, B, C)        = 2/3
#   交办: the four dispatched within a working day                            = 4/4
#   联系企业: A and C on time, B six days late, D never contacted and late     = 2/4
#   反馈路径: A and C on time, B late with its contact, D not done and late    = 2/4
#   办结: A, B, C replied within the month; D's 办结 deadline has not come yet = 3/3
EXPECTED = {"satisfaction": "66.7%", "dispatch_ontime": "100.0%", "contact_ontime": "50.0%",
            "path_ontime": "50.0%", "reply_ontime": "100.0%"}


def receive(world, title, when):
    with services.acting_at(at(when)):
        return services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT,
                                       title=title, content=f"{title}，请协调解决。", category=world.finance_kind,
                                       received_at=at(when))


def through(world, d, on: str, *, contact_days=0, evaluation=Evaluation.SATISFIED):
    day = dt.datetime.fromisoformat(on)
    with services.acting_at(at(on)):
        d = services.dispatch_demand(world.dispatcher, d, lead_unit=world.bureau)
    with services.acting_at(at((day + dt.timedelta(days=contact_days)).isoformat(sep=" ")[:16])):
        d = services.contact_enterprise(world.handler, d, method="电话")
        d = services.feed_back_path(world.handler, d, path="协调对接")
        d = services.reply_demand(world.handler, d, reply="已对接", outcome=Outcome.SOLVED)
        d = services.evaluate_demand(world.owner, d, evaluation=evaluation,
                                     comment="仍未解决" if evaluation == Evaluation.UNSATISFIED else "")
        return services.close_demand(world.dispatcher, d) if evaluation != Evaluation.UNSATISFIED else d


@pytest.fixture
def known(world):
    out = {
        "A": through(world, receive(world, "贷款续贷", "2026-11-02 10:00"), "2026-11-02 11:00"),
        "B": through(world, receive(world, "招工难", "2026-11-03 09:00"), "2026-11-03 10:00", contact_days=6,
                     evaluation=Evaluation.BASIC),
        "C": through(world, receive(world, "用地审批", "2026-11-04 09:00"), "2026-11-04 10:00",
                     evaluation=Evaluation.UNSATISFIED),
    }
    d = receive(world, "厂房租金", "2026-11-05 09:00")
    with services.acting_at(at("2026-11-05 10:00")):
        out["D"] = services.dispatch_demand(world.dispatcher, d, lead_unit=world.bureau)
    assert out["D"].contact_due < TODAY and out["D"].path_due < TODAY <= out["D"].resolve_due
    # Not counted: a duplicate merged into D, and a demand of the district next door.
    dup = receive(world, "厂房租金（重复）", "2026-11-06 09:00")
    services.merge_demand(world.dispatcher, dup, into=out["D"])
    with services.acting_at(at("2026-11-06 09:00")):
        services.receive_demand(world.other_dispatcher, enterprise=world.other_enterprise, channel=Channel.VISIT,
                                title="外区诉求", content="外区企业的诉求。", category=world.finance_kind,
                                received_at=at("2026-11-06 09:00"))
    rollup.refresh()  # the worker's first run builds the rollup the dashboard reads
    return out


RATE = re.compile(r'data-rate="(\w+)"[^>]*>([^<]+)<')


def rates_in(html: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for key, text in RATE.findall(html):
        found.setdefault(key, set()).add(text)
    return found


def docx_text(content: bytes) -> str:
    doc = Document(io.BytesIO(content))
    return "\n".join([p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells])


def test_every_page_shows_the_same_rates_with_their_period(world, known):
    period = rates.period_text(PERIOD.start, PERIOD.end)
    assert period == "统计期间：2026-09-14至2026-12-06"
    expected = {key: {text} for key, text in EXPECTED.items()}

    home = login(world.leader).get(reverse("home")).content.decode()
    dashboard = login(world.leader).get(reverse("reports:dashboard")).content.decode()
    circular = issue_circular(world.supervisor, kind=CircularKind.MONTHLY, jurisdiction=world.district,
                              start=PERIOD.start, end=PERIOD.end)
    supervisor = login(world.supervisor)
    circular_page = supervisor.get(reverse("reports:circular", args=[circular.pk])).content.decode()
    assessment = supervisor.get(reverse("supervision:assessment"), {
        "start": PERIOD.start.isoformat(), "end": PERIOD.end.isoformat()}).content.decode()
    bureau_row = next(row for row in assessment.split("<tr") if world.bureau.name in row)

    for name, html in (("home", home), ("dashboard", dashboard), ("circular", circular_page),
                       ("assessment", bureau_row)):
        found = rates_in(html)
        assert {k: found.get(k) for k in SHOWN} == expected, name
    for html in (home, dashboard, circular_page, assessment):
        assert period in html
        assert "期限已过仍未完成" in html  # the formula is on the page, not only in our heads

    word = docx_text(b"".join(supervisor.get(reverse("reports:circular_file",
                                                     args=[circular.pk, "word"])).streaming_content))
    assert period in word and "满意率66.7%（2/3）" in word and "联系企业按时率50.0%（2/4）" in word
    book = load_workbook(io.BytesIO(b"".join(supervisor.get(reverse("reports:circular_file",
                                                                    args=[circular.pk, "excel"])).streaming_content)))
    sheet = {row[0]: row for row in book["满意率与按时率"].iter_rows(min_row=3, values_only=True)}
    assert sheet["满意率"][1:5] == (2, 3, 66.7, period)
    assert sheet["联系企业按时率"][1:5] == (2, 4, 50.0, period)


def test_an_overdue_unfinished_stage_pulls_the_rate_below_100_and_finishing_it_late_keeps_it_there(world, known):
    def contact():
        return stats.dashboard_rates(world.district, PERIOD, TODAY).stage("contact")

    before = contact()
    assert (before.part, before.whole) == (2, 4)
    with services.acting_at(at("2026-12-03 09:00")):
        services.contact_enterprise(world.handler, known["D"], method="电话")
    rollup.refresh()
    after = contact()
    assert (after.part, after.whole) == (2, 4)  # now done, late: still against the rate, counted once


def test_the_circular_outcomes_add_up_to_the_demands_it_counts(world, known):
    data = circulars.snapshot(CircularKind.WEEKLY, world.district, PERIOD)
    assert sum(n for _, n, _ in data["outcomes"]) == data["received"] == 4
    assert {label: n for label, n, _ in data["outcomes"]} == {
        "已办结": 2, "已答复待评价": 1, "区级研究推进": 0, "移送市级研究": 0, "办理中": 1}
    assert data["merged"] == 1
    assert "其中已办结2件，已答复待评价1件，区级研究推进0件，移送市级研究0件，办理中1件。" in circulars._lead(data)


def test_on_random_data_breakdowns_add_up_and_the_rollup_rates_equal_a_count_from_scratch(world, district):  # noqa: F811
    period = stats.Period(START, END + dt.timedelta(days=2))  # 2 to 29 November: whole weeks
    assert stats.week_aligned(period) == period
    rollup.refresh()
    for node in (world.district, world.town):
        data = circulars.snapshot(CircularKind.HALF_MONTHLY, node, period)
        assert sum(n for _, n, _ in data["outcomes"]) == data["received"] > 0
        assert sum(n for _, n, _ in data["by_category"]) == data["received"]
        from_rollup = stats.dashboard_rates(node, period, TODAY)
        scratch = rates.live(stats.received(node, period), period.start, period.end, TODAY)
        assert [r.as_dict() for r in from_rollup.shown] == [r.as_dict() for r in scratch.shown] == data["rates"]
        assert any(r.whole for r in scratch.ontime) and any(r.value < 100 for r in scratch.ontime if r.whole)


def test_before_the_first_rollup_the_home_page_says_so_instead_of_showing_zero_rates(world):
    receive(world, "贷款续贷", "2026-11-02 10:00")
    html = login(world.leader).get(reverse("home")).content.decode()
    assert "统计汇总尚未生成" in html and "data-rate=" not in html
    rollup.refresh()
    html = login(world.leader).get(reverse("home")).content.decode()
    assert "统计汇总尚未生成" not in html and 'data-rate="satisfaction"' in html
