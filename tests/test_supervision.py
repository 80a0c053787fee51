"""Supervision: the overdue board with its flags, 督办单 with their own deadlines and escalation, unit assessment."""

import datetime as dt
import io

import pytest
from django.urls import reverse
from docx import Document
from openpyxl import load_workbook

from qinqing.demands import services as demand_services
from qinqing.demands.errors import DomainError, IllegalTransition, NotFoundError, PermissionDeniedError
from qinqing.demands.models import Channel, Evaluation, Outcome
from qinqing.supervision import assessment, services
from qinqing.supervision.models import Level, NoticeEvent, NoticeStatus, SupervisionNotice
from qinqing.workdays import calendar as workcal

from .conftest import at, login, make_user, on_day

TODAY = dt.date(2026, 11, 27)  # a Friday


@pytest.fixture(autouse=True)
def _today():
    workcal.invalidate()
    with on_day(TODAY):
        yield
    workcal.invalidate()


def receive(world, title, when, category=None):
    with demand_services.acting_at(at(when)):
        return demand_services.receive_demand(
            world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT, title=title,
            content=f"{title}，请协调解决。", category=category or world.hiring, received_at=at(when))


def dispatched(world, title, when, unit=None):
    d = receive(world, title, when)
    with demand_services.acting_at(at(when)):
        return demand_services.dispatch_demand(world.dispatcher, d, lead_unit=unit or world.bureau)


@pytest.fixture
def late(world):
    """Dispatched on 18 November, never contacted: the contact deadline (19th) is 6 working days past."""
    return dispatched(world, "招工难", "2026-11-18 10:00")


@pytest.fixture
def soon(world):
    """Dispatched today: the contact deadline is the next working day (Monday 30th)."""
    return dispatched(world, "用电报装", "2026-11-27 09:00")


def test_the_board_shows_red_flags_by_stage_and_unit_in_working_days(world, late, soon):
    html = login(world.supervisor).get(reverse("supervision:board")).content.decode()
    assert late.number in html and soon.number not in html
    assert "已超期6个工作日" in html  # 20, 23, 24, 25, 26, 27 November
    assert world.bureau.name in html and 'class="flag flag-red"' in html


def test_the_yellow_flag_lists_what_falls_due_by_the_next_working_day(world, late, soon):
    html = login(world.supervisor).get(reverse("supervision:board"), {"flag": "yellow"}).content.decode()
    assert soon.number in html and late.number not in html
    assert "下一工作日到期" in html


def test_the_board_filters_by_unit_and_stage_and_its_counts_match_the_rows(world, late, soon):
    other = dispatched(world, "贷款", "2026-11-16 10:00", unit=world.finance)
    client = login(world.supervisor)
    html = client.get(reverse("supervision:board"), {"unit": world.finance.pk}).content.decode()
    assert other.number in html.split("明细")[1] and late.number not in html.split("明细")[1]
    html = client.get(reverse("supervision:board"), {"stage": "resolve"}).content.decode()
    assert late.number not in html.split("明细")[1]


def test_the_board_exports_its_rows_to_excel(world, late):
    response = login(world.supervisor).get(reverse("supervision:board"), {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet["A3"].value == late.number and sheet["H3"].value == 6


def test_outsiders_get_404_on_the_board_and_see_none_of_its_rows(world, late):
    assert login(world.owner).get(reverse("supervision:board")).status_code == 404
    assert login(world.handler).get(reverse("supervision:board")).status_code == 404
    html = login(world.other_dispatcher).get(reverse("supervision:board")).content.decode()
    assert late.number not in html


def test_the_board_costs_the_same_queries_with_more_overdue_demands(world, late, django_assert_max_num_queries):
    client = login(world.supervisor)
    client.get(reverse("supervision:board"))
    with django_assert_max_num_queries(40) as ctx:
        client.get(reverse("supervision:board"))
    few = len(ctx.captured_queries)
    for i in range(8):
        d = dispatched(world, f"超期{i}", f"2026-11-{10 + i} 10:00", unit=world.finance if i % 2 else world.bureau)
        services.issue_notice(world.supervisor, d, requirement="请抓紧办理")
    with django_assert_max_num_queries(few):
        client.get(reverse("supervision:board"))


def test_a_notice_is_issued_with_its_own_deadline_and_a_number(world, late):
    notice = services.issue_notice(world.supervisor, late, requirement="请于三个工作日内联系企业并反馈。",
                                   today=TODAY)
    assert notice.number == "督办〔2026〕1号"
    assert notice.unit == world.bureau and notice.stage == "contact" and notice.stage_due == dt.date(2026, 11, 19)
    assert notice.reply_due == dt.date(2026, 12, 2)  # three working days after Friday 27th
    assert NoticeEvent.objects.filter(notice=notice, verb="issue", actor=world.supervisor).exists()
    with pytest.raises(IllegalTransition, match="已有待反馈的督办单"):
        services.issue_notice(world.supervisor, late, requirement="再催", today=TODAY)


def test_only_the_supervision_office_issues_notices_and_only_about_visible_open_demands(world, late):
    with pytest.raises(PermissionDeniedError, match="督查室"):
        services.issue_notice(world.handler, late, requirement="催")
    with pytest.raises(DomainError, match="督办要求"):
        services.issue_notice(world.supervisor, late, requirement="  ")
    with pytest.raises(DomainError, match="1到20个工作日"):
        services.issue_notice(world.supervisor, late, requirement="催", days=0)
    outsider = make_user("othersup", "supervisor", jurisdiction=world.other_district)
    with pytest.raises(NotFoundError):
        services.issue_notice(outsider, late, requirement="催")
    undispatched = receive(world, "未交办", "2026-11-20 10:00")
    with pytest.raises(IllegalTransition, match="尚未交办"):
        services.issue_notice(world.supervisor, undispatched, requirement="催")
    assert not SupervisionNotice.objects.exists()


def test_the_unit_answers_its_notice_and_nobody_else_can(world, late):
    notice = services.issue_notice(world.supervisor, late, requirement="请反馈")
    with pytest.raises(PermissionDeniedError):
        services.answer_notice(world.dispatcher, notice, answer="调度员不能代答")
    with pytest.raises(NotFoundError):
        services.answer_notice(world.co_handler, notice, answer="不是我们的诉求")
    with pytest.raises(NotFoundError):
        services.answer_notice(world.other_handler, notice, answer="外区")
    with pytest.raises(DomainError, match="反馈内容"):
        services.answer_notice(world.handler, notice, answer="")
    notice = services.answer_notice(world.handler, notice, answer="已电话联系企业，下周上门。")
    assert notice.status == NoticeStatus.ANSWERED and notice.answered_by == world.handler
    with pytest.raises(IllegalTransition):
        services.answer_notice(world.handler, notice, answer="再答")


def test_an_ignored_notice_is_escalated_to_the_leaders_once(world, late):
    notice = services.issue_notice(world.supervisor, late, requirement="请反馈", today=dt.date(2026, 11, 20))
    assert notice.reply_due == dt.date(2026, 11, 25)
    assert services.escalate_ignored_notices(dt.date(2026, 11, 25)) == 0  # the deadline day itself is fine
    assert services.escalate_ignored_notices(TODAY) == 1
    assert services.escalate_ignored_notices(TODAY) == 0  # idempotent
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.ESCALATED and notice.escalated_at is not None
    follow = SupervisionNotice.objects.get(parent=notice)
    assert follow.level == Level.LEADERS and follow.status == NoticeStatus.ISSUED
    assert follow.reply_due == dt.date(2026, 12, 1) and "逾期未反馈" in follow.requirement
    assert services.escalate_ignored_notices(dt.date(2026, 12, 2)) == 1
    assert SupervisionNotice.objects.count() == 2  # the leaders' notice is not escalated further


def test_the_notice_pages_issue_answer_and_export_word(world, late):
    client = login(world.supervisor)
    form = client.get(reverse("supervision:notice_form", args=[late.number])).content.decode()
    assert "督办要求" in form and late.number in form
    response = client.post(reverse("supervision:notice_issue", args=[late.number]),
                           {"requirement": "请于3个工作日内反馈。", "days": 3})
    notice = SupervisionNotice.objects.get()
    assert response["Location"] == reverse("supervision:notice", args=[notice.pk])
    word = client.get(reverse("supervision:notice", args=[notice.pk]), {"format": "docx"}).content
    doc = Document(io.BytesIO(word))
    text = "\n".join([p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells])
    assert "督办通知单" in text and "督办〔2026〕1号" in text and world.bureau.name in text
    assert "6个工作日" in text and "南山区督查室" in text

    handler = login(world.handler)
    page = handler.get(reverse("supervision:notice", args=[notice.pk])).content.decode()
    assert "提交反馈" in page
    handler.post(reverse("supervision:notice_answer", args=[notice.pk]), {"answer": "已联系企业。"})
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.ANSWERED


def test_outsiders_get_404_on_notices(world, late):
    notice = services.issue_notice(world.supervisor, late, requirement="请反馈")
    for user in (world.owner, world.other_handler, world.other_dispatcher):
        client = login(user)
        assert client.get(reverse("supervision:notice", args=[notice.pk])).status_code == 404
        assert client.post(reverse("supervision:notice_answer", args=[notice.pk]), {"answer": "x"}).status_code == 404
        assert client.post(reverse("supervision:notice_issue", args=[late.number]),
                           {"requirement": "x", "days": 3}).status_code == 404
    assert SupervisionNotice.objects.count() == 1


def test_the_demand_page_lists_its_notices_to_those_who_see_the_demand(world, late, soon,
                                                                       django_assert_max_num_queries):
    notice = services.issue_notice(world.supervisor, late, requirement="请反馈")
    detail = reverse("demands:detail", args=[late.number])
    for user in (world.supervisor, world.handler, world.dispatcher):
        html = login(user).get(detail).content.decode()
        assert notice.number in html and "待反馈" in html and world.bureau.name in html
    # One notice awaits its answer: no second one is offered; the other demand offers the first.
    assert reverse("supervision:notice_form", args=[late.number]) not in login(world.supervisor).get(detail).content.decode()
    other = login(world.supervisor).get(reverse("demands:detail", args=[soon.number])).content.decode()
    assert reverse("supervision:notice_form", args=[soon.number]) in other and notice.number not in other
    assert "督办单" not in login(world.handler).get(reverse("demands:detail", args=[soon.number])).content.decode()
    # Outsiders get nothing: the demand page is a 404 for them.
    for user in (world.other_dispatcher, world.other_handler, world.owner):
        response = login(user).get(detail)
        assert response.status_code == 404 and notice.number not in response.content.decode()
    # The card is one query, however many notices the demand has had.
    client = login(world.supervisor)
    client.get(detail)
    with django_assert_max_num_queries(40) as few:
        client.get(detail)
    services.answer_notice(world.handler, notice, answer="已联系企业")
    services.issue_notice(world.supervisor, late, requirement="请再次反馈")
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(detail).content.decode()
    assert html.count("督办〔2026〕") == 2


def full_loop(world, title, received, *, reply_on, unit=None, evaluation=Evaluation.SATISFIED):
    d = dispatched(world, title, received, unit=unit)
    with demand_services.acting_at(at(received)):
        d = demand_services.contact_enterprise(world.handler if unit is None else world.co_handler, d,
                                               method="电话")
    handler = world.handler if unit is None else world.co_handler
    with demand_services.acting_at(at(reply_on)):
        d = demand_services.feed_back_path(handler, d, path="协调")
        d = demand_services.reply_demand(handler, d, reply="已办", outcome=Outcome.SOLVED)
        d = demand_services.evaluate_demand(world.owner, d, evaluation=evaluation,
                                            comment="" if evaluation != Evaluation.UNSATISFIED else "未解决")
        if evaluation != Evaluation.UNSATISFIED:
            d = demand_services.close_demand(world.dispatcher, d)
    return d


def test_assessment_ranks_units_and_computes_each_rate(world, late):
    # 人力资源局: one closed in 5 working days, path late; one still overdue at contact (late).
    full_loop(world, "人社一", "2026-11-02 09:00", reply_on="2026-11-06 10:00")
    # 金融工作局: one closed on time, satisfied.
    full_loop(world, "金融一", "2026-11-02 09:00", reply_on="2026-11-03 10:00", unit=world.finance)
    scores = {s.name: s for s in assessment.assess([world.bureau, world.finance, world.other_unit],
                                                   dt.date(2026, 11, 1), dt.date(2026, 11, 30), TODAY)}
    bureau, finance = scores[world.bureau.name], scores[world.finance.name]
    assert (bureau.received, bureau.closed, bureau.overdue) == (2, 1, 1)
    # The demand still waiting for contact past its deadline counts against 联系按时率 (qinqing.reports.rates).
    assert bureau.rates == {"dispatch": 100.0, "contact": 50.0, "path": 0.0, "reply": 100.0}
    assert bureau.avg_close_days == 5.0  # 2 → 6 November, both days counted
    assert bureau.reply_rate == 50.0 and bureau.satisfaction_rate == 100.0
    assert finance.avg_close_days == 2.0 and finance.rates["path"] == 100.0
    assert finance.rank == 1 and bureau.rank == 2 and finance.score > bureau.score
    assert scores[world.other_unit.name].rank is None  # nothing received: not ranked


def test_returns_count_against_the_unit_that_returned(world):
    d = dispatched(world, "派错了", "2026-11-10 10:00")
    with demand_services.acting_at(at("2026-11-10 15:00")):
        demand_services.return_demand(world.handler, d, reason="不属于本单位职责")
    scores = {s.name: s for s in assessment.assess([world.bureau], dt.date(2026, 11, 1), TODAY, TODAY)}
    assert scores[world.bureau.name].returns == 1


def test_the_assessment_page_shows_formulas_and_exports_excel(world, late):
    client = login(world.leader)
    html = client.get(reverse("supervision:assessment"), {"start": "2026-11-01", "end": "2026-11-30"}).content.decode()
    assert "计算口径" in html and "综合得分" in html and "30×办结按时率" in html and world.bureau.name in html
    response = client.get(reverse("supervision:assessment"),
                          {"start": "2026-11-01", "end": "2026-11-30", "format": "xlsx"})
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["考核排名", "计算口径"]
    assert book["考核排名"]["B3"].value == world.bureau.name and book["考核排名"]["A3"].value == 1
    assert login(world.owner).get(reverse("supervision:assessment")).status_code == 404
    assert world.bureau.name not in login(world.other_dispatcher).get(
        reverse("supervision:assessment")).content.decode()
