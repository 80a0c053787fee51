"""A change of the working-day calendar moves the stored deadlines it affects.

The State Council's notice for 2027 (国务院办公厅关于2027年部分节假日安排的通知) is in neither the reference
data nor the stored pages, so "the 2027 arrangement" here holds only the days the statutory rules fix
whatever the notice says: 《全国年节及纪念日放假办法》 (as revised in 2024), article 2, gives 元旦 on
1 January and 国庆节 on 1–3 October; in 2027, 1 January and 1 October are Fridays, which the
Monday–Friday fallback counts as working days. The notice's make-up working days and lunar festivals
are left out rather than guessed.
"""

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from qinqing.demands import services
from qinqing.demands.errors import PermissionDeniedError
from qinqing.demands.models import Channel, Demand, DemandEvent, Evaluation, Outcome, State
from qinqing.demands.tasks import move_deadlines_for_calendar
from qinqing.lib.workdays import WorkCalendar
from qinqing.visits import services as visit_services
from qinqing.visits.models import Duty, Level
from qinqing.workdays import services as calendar_services
from qinqing.workdays.calendar import get_calendar, invalidate, load_calendar
from qinqing.workdays.models import WorkdayOverride
from qinqing.workdays.recompute import move_deadlines

from .conftest import at, login, on_day

D = dt.date.fromisoformat
STATUTORY_2027 = "date,kind,note\n2027-01-01,holiday,元旦\n2027-10-01,holiday,国庆节\n"


@pytest.fixture(autouse=True)
def _fresh_calendar():
    invalidate()
    yield
    invalidate()


def receive(world, when: str, title: str = "厂房消防验收排期") -> Demand:
    return services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT, title=title,
                                   content="新建厂房等待消防验收，影响投产。", category=world.hiring,
                                   received_at=at(when))


def calendar_entries(demand) -> list[DemandEvent]:
    return list(DemandEvent.objects.filter(demand=demand, data__has_key="calendar"))


def dues(demand) -> tuple[dt.date, dt.date, dt.date, dt.date]:
    demand.refresh_from_db()
    return demand.dispatch_due, demand.contact_due, demand.path_due, demand.resolve_due


def run_import(tmp_path, text: str) -> list[str]:
    path = tmp_path / "holidays.csv"
    path.write_text(text, encoding="utf-8")
    out = io.StringIO()
    call_command("workdays", "import", str(path), stdout=out, stderr=io.StringIO())
    return out.getvalue().strip().splitlines()


def test_a_contact_deadline_on_a_day_marked_a_holiday_in_the_admin_moves_to_the_next_working_day(world):
    demand = receive(world, "2026-12-03 09:00")
    assert dues(demand) == (D("2026-12-03"), D("2026-12-04"), D("2026-12-07"), D("2027-01-04"))
    version = demand.version

    response = login(world.admin).post(reverse("admin:workdays_workdayoverride_add"),
                                       {"date": "2026-12-04", "kind": "holiday", "note": "临时调整"}, follow=True)

    assert "1 件诉求的期限随之调整" in response.content.decode()
    assert dues(demand) == (D("2026-12-03"), D("2026-12-07"), D("2026-12-08"), D("2027-01-04"))
    assert demand.version == version + 1  # a page opened before the change is stale
    [entry] = calendar_entries(demand)
    assert entry.actor is None and entry.verb_label == "修改"
    assert entry.note == "节假日调整：联系企业时限 2026-12-04 → 2026-12-07；反馈路径时限 2026-12-07 → 2026-12-08"
    assert entry.data["calendar"]["deadlines"] == {"contact_due": {"old": "2026-12-04", "new": "2026-12-07"},
                                       "path_due": {"old": "2026-12-07", "new": "2026-12-08"}}
    assert entry.data["calendar"]["days"] == ["2026-12-04"]


def test_the_demand_page_shows_the_move_as_a_system_entry_and_the_enterprise_is_not_shown_it(world):
    demand = services.receive_demand(world.owner, channel=Channel.ONLINE, title="厂房消防验收排期",
                                     content="新建厂房等待消防验收，影响投产。", category=world.hiring)
    calendar_services.save_override(world.admin, WorkdayOverride(date=D("2026-12-04"), kind="holiday"))

    staff_page = login(world.dispatcher).get(reverse("demands:detail", args=[demand.number])).content.decode()
    owner_page = login(world.owner).get(reverse("portal:detail", args=[demand.number])).content.decode()

    assert "节假日调整：联系企业时限 2026-12-04 → 2026-12-07" in staff_page
    assert "deadlines" not in staff_page  # the dates are in the note, not repeated as raw data
    assert "节假日调整" not in owner_page


def test_editing_the_date_of_a_holiday_in_the_admin_moves_deadlines_off_the_new_day_and_back_onto_the_old(world):
    demand = receive(world, "2026-12-03 09:00")
    calendar_services.save_override(world.admin, WorkdayOverride(date=D("2026-12-04"), kind="holiday"))
    assert dues(demand)[1:3] == (D("2026-12-07"), D("2026-12-08"))
    override = WorkdayOverride.objects.get()

    login(world.admin).post(reverse("admin:workdays_workdayoverride_change", args=[override.pk]),
                            {"date": "2026-12-08", "kind": "holiday", "note": "改期"})

    assert dues(demand)[1:3] == (D("2026-12-04"), D("2026-12-07"))
    assert calendar_entries(demand)[-1].data["calendar"]["days"] == ["2026-12-04", "2026-12-08"]


def test_deleting_the_holiday_in_the_admin_moves_the_deadline_back(world):
    demand = receive(world, "2026-12-03 09:00")
    calendar_services.save_override(world.admin, WorkdayOverride(date=D("2026-12-04"), kind="holiday"))
    assert dues(demand)[1] == D("2026-12-07")
    override = WorkdayOverride.objects.get()

    login(world.admin).post(reverse("admin:workdays_workdayoverride_delete", args=[override.pk]), {"post": "yes"})

    assert dues(demand)[1] == D("2026-12-04")
    assert [e.data["calendar"]["deadlines"]["contact_due"] for e in calendar_entries(demand)] == [
        {"old": "2026-12-04", "new": "2026-12-07"}, {"old": "2026-12-07", "new": "2026-12-04"}]


def test_a_closed_demand_and_a_stage_already_met_keep_their_deadlines(world):
    closed = receive(world, "2026-12-03 09:00", "现场解决的用电问题")
    services.close_on_the_spot(world.dispatcher, closed, solution="供电所当场调整了计量表。")
    handled = receive(world, "2026-12-02 09:00")
    services.dispatch_demand(world.dispatcher, handled, lead_unit=world.bureau)
    services.contact_enterprise(world.handler, handled, method="电话")  # the contact stage is met on 12-03
    assert dues(handled)[1:3] == (D("2026-12-03"), D("2026-12-04"))
    closed_before = dues(closed)

    calendar_services.import_workdays("date,kind\n2026-12-03,holiday\n", user=world.admin)

    assert dues(closed) == closed_before and not calendar_entries(closed)
    # Contact was due 12-03 and made that day: its deadline stays. The path, still to come, moves.
    assert dues(handled)[1:3] == (D("2026-12-03"), D("2026-12-07"))
    handled.refresh_from_db()
    assert (handled.current_stage, handled.next_due) == ("path", D("2026-12-07"))
    [entry] = calendar_entries(handled)
    assert entry.note == "节假日调整：反馈路径时限 2026-12-04 → 2026-12-07"


def test_a_reopened_demands_redo_deadline_and_its_extension_move_as_the_services_count_them(world):
    demand = receive(world, "2026-11-02 09:00")
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    services.contact_enterprise(world.handler, demand, method="电话", contacted_at=at("2026-11-02 15:00"))
    services.reply_demand(world.handler, demand, reply="已协调职业院校推荐学员。", outcome=Outcome.SOLVED)
    services.evaluate_demand(world.owner, demand, evaluation=Evaluation.UNSATISFIED, comment="人员仍未到位")
    services.reopen_demand(world.dispatcher, demand, reason="企业不满意")  # 12-03: 10 working days → 12-16
    services.request_extension(world.handler, demand, days=2, reason="需等待职业院校排课")
    services.approve_extension(world.dispatcher, demand)
    assert dues(demand)[3] == D("2026-12-18")

    calendar_services.import_workdays("date,kind\n2026-12-10,holiday\n2026-12-17,holiday\n", user=world.admin)

    demand.refresh_from_db()
    assert demand.state == State.REOPENED
    assert (demand.resolve_due, demand.next_due) == (D("2026-12-22"), D("2026-12-22"))
    assert dues(demand)[1] == D("2026-11-03")  # the contact made in November keeps its deadline


def test_importing_the_2027_holidays_over_the_weekday_fallback_moves_late_december_deadlines_once(world, tmp_path):
    assert not get_calendar().is_known_year(2027)
    with on_day(D("2026-12-30")):
        wednesday = receive(world, "2026-12-30 09:00", "年底用工需求")
    with on_day(D("2026-12-31")):
        thursday = receive(world, "2026-12-31 09:00", "年底融资需求")
    # On the fallback, Friday 1 January 2027 is a working day.
    assert dues(wednesday)[1:3] == (D("2026-12-31"), D("2027-01-01"))
    assert dues(thursday)[1:3] == (D("2027-01-01"), D("2027-01-04"))
    early = receive(world, "2026-11-30 09:00", "上月底的诉求")  # resolve by 12-30: nothing left in 2027
    early_before = dues(early)

    with on_day(D("2026-12-31")):
        lines = run_import(tmp_path, STATUTORY_2027)

    assert lines == ["已导入 2 个日期。", "2 件诉求的期限随之调整，已记入各诉求的办理记录。"]
    assert dues(wednesday)[1:3] == (D("2026-12-31"), D("2027-01-04"))
    assert dues(thursday)[1:3] == (D("2027-01-04"), D("2027-01-05"))
    assert dues(early) == early_before and not calendar_entries(early)
    assert [len(calendar_entries(d)) for d in (wednesday, thursday)] == [1, 1]

    with on_day(D("2026-12-31")):
        again = run_import(tmp_path, STATUTORY_2027)

    assert again == ["已导入 2 个日期。"]
    assert dues(thursday)[1:3] == (D("2027-01-04"), D("2027-01-05"))
    assert [len(calendar_entries(d)) for d in (wednesday, thursday)] == [1, 1]


def test_the_admin_csv_import_moves_deadlines_too(world):
    demand = receive(world, "2026-12-03 09:00")
    upload = SimpleUploadedFile("2026.csv", b"date,kind,note\n2026-12-04,holiday,\n", content_type="text/csv")

    response = login(world.admin).post(reverse("admin:workdays_workdayoverride_import"), {"file": upload},
                                       follow=True)

    page = response.content.decode()
    assert "已导入 1 个日期" in page and "1 件诉求的期限随之调整" in page
    assert dues(demand)[1] == D("2026-12-07")


def test_a_large_change_is_left_to_the_worker_and_the_admin_says_so(world, settings,
                                                                   django_capture_on_commit_callbacks):
    settings.QINQING_CALENDAR_SYNC_DEMANDS = 1
    first, second = receive(world, "2026-12-03 09:00"), receive(world, "2026-12-03 09:30", "第二件")
    upload = SimpleUploadedFile("2026.csv", b"date,kind\n2026-12-04,holiday\n", content_type="text/csv")

    with django_capture_on_commit_callbacks() as callbacks:
        response = login(world.admin).post(reverse("admin:workdays_workdayoverride_import"), {"file": upload},
                                           follow=True)

    assert "期限可能受影响的 2 件诉求正在后台重新计算期限" in response.content.decode()
    assert dues(first)[1] == D("2026-12-04")  # nothing moved in the request
    for callback in callbacks:
        callback()  # after commit: the worker (immediate in tests) moves them
    assert dues(first)[1] == dues(second)[1] == D("2026-12-07")
    assert len(calendar_entries(first)) == len(calendar_entries(second)) == 1


def test_the_worker_pass_reads_the_calendar_from_the_database_and_repeats_harmlessly(world):
    demand = receive(world, "2026-12-03 09:00")
    get_calendar()  # cached before the change, as in a worker process that has not reloaded it
    WorkdayOverride.objects.bulk_create([WorkdayOverride(date=D("2026-12-04"), kind="holiday")])  # no signal

    assert move_deadlines_for_calendar.call_local(["2026-12-04"]) == 1
    assert move_deadlines_for_calendar.call_local(["2026-12-04"]) == 0
    assert dues(demand)[1] == D("2026-12-07")
    assert len(calendar_entries(demand)) == 1


@pytest.mark.parametrize("count", [5, 40])
def test_moving_deadlines_costs_the_same_few_statements_however_many_demands_move(world, count):
    services.receive_demands(world.dispatcher, [
        services.Intake(channel=Channel.VISIT, title=f"诉求{n}", content="企业反映的问题", enterprise=world.enterprise,
                        category=world.hiring, received_at=at("2026-12-03 09:00")) for n in range(count)])
    WorkdayOverride.objects.create(date=D("2026-12-04"), kind="holiday")
    cal = load_calendar()

    with CaptureQueriesContext(connection) as ctx:
        moved = move_deadlines([D("2026-12-04")], cal)

    assert moved == count
    # Select the chunk (locked), update the moved rows, insert their timeline entries.
    assert len(ctx) <= 3, [q["sql"][:80] for q in ctx.captured_queries]
    assert DemandEvent.objects.filter(data__has_key="calendar").count() == count


def test_a_duty_assignments_cadence_counts_calendar_days_so_a_holiday_leaves_it_alone(world):
    cadre = visit_services.register_cadre(world.dispatcher, world.specialist, level=Level.SPECIALIST)
    assignment = visit_services.assign_contact(world.dispatcher, world.enterprise, cadre, duty=Duty.SPECIALIST,
                                               on=D("2026-12-03"))
    assert (assignment.next_contact_due, assignment.next_visit_due) == (D("2027-01-02"), D("2027-03-03"))

    calendar_services.import_workdays("date,kind\n2027-03-03,holiday\n2027-01-02,workday\n", user=world.admin)

    assignment.refresh_from_db()
    assert (assignment.next_contact_due, assignment.next_visit_due) == (D("2027-01-02"), D("2027-03-03"))


def test_a_supervision_notices_answer_deadline_moves_off_a_new_holiday_and_back_when_it_is_deleted(world):
    from qinqing.supervision import services as supervision
    from qinqing.supervision.models import NoticeEvent

    with services.acting_at(at("2026-11-18 10:00")):
        late = services.dispatch_demand(world.dispatcher, receive(world, "2026-11-18 10:00"), lead_unit=world.bureau)
    notice = supervision.issue_notice(world.supervisor, late, requirement="请抓紧联系企业并书面反馈。")
    answered = supervision.issue_notice(
        world.supervisor, services.dispatch_demand(world.dispatcher, receive(world, "2026-12-03 08:00", "用电增容"),
                                                   lead_unit=world.bureau),
        requirement="请反馈。")
    supervision.answer_notice(world.handler, answered, answer="已联系企业，正在办理。")
    assert notice.reply_due == D("2026-12-08")  # three working days after Thursday 3 December

    response = login(world.admin).post(reverse("admin:workdays_workdayoverride_add"),
                                       {"date": "2026-12-07", "kind": "holiday", "note": "临时调整"}, follow=True)

    assert "1 份督办单的反馈期限随之调整" in response.content.decode()
    notice.refresh_from_db()
    assert notice.reply_due == D("2026-12-09")
    [entry] = NoticeEvent.objects.filter(notice=notice, verb="recalendar")
    assert entry.note == "节假日调整：反馈期限 2026-12-08 → 2026-12-09" and entry.actor is None
    answered_due = answered.reply_due
    answered.refresh_from_db()
    assert answered.reply_due == answered_due  # an answered notice keeps the deadline it was judged by

    calendar_services.delete_overrides(world.admin, WorkdayOverride.objects.filter(date=D("2026-12-07")))
    notice.refresh_from_db()
    assert notice.reply_due == D("2026-12-08")
    assert NoticeEvent.objects.filter(notice=notice, verb="recalendar").count() == 2


def test_only_an_administrator_changes_the_calendar(world):
    demand = receive(world, "2026-12-03 09:00")

    with pytest.raises(PermissionDeniedError, match="只有管理员可以修改工作日历"):
        calendar_services.import_workdays("date,kind\n2026-12-04,holiday\n", user=world.dispatcher)
    assert not WorkdayOverride.objects.exists()
    assert dues(demand)[1] == D("2026-12-04")


def test_the_fallback_calendar_is_what_the_test_assumes():
    """2027 is beyond the calendar package: its Fridays 1 January and 1 October are working days there."""
    cal = WorkCalendar()
    assert cal.is_workday(D("2027-01-01")) and cal.is_workday(D("2027-10-01"))
    assert D("2027-01-01").weekday() == D("2027-10-01").weekday() == 4
