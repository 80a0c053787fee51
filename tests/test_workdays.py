"""Working days on the official calendar (tests/data/cn_holidays, the State Council notices 2024–2026)."""

import csv
import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from qinqing.lib.workdays import WorkCalendar, add_months
from qinqing.workdays.calendar import get_calendar
from qinqing.workdays.models import WorkdayOverride

from .conftest import DATA

DAYS = list(csv.DictReader((DATA / "cn_holidays" / "days_2024_2026.csv").open(encoding="utf-8")))


@pytest.mark.parametrize("row", DAYS, ids=lambda r: r["date"])
def test_every_published_holiday_and_make_up_day_is_respected(row):
    day = dt.date.fromisoformat(row["date"])
    assert WorkCalendar().is_workday(day) is (row["type"] == "adjusted_workday")


def test_the_years_have_the_published_number_of_working_days():
    cal = WorkCalendar()
    for year, expected in [(2024, 251), (2025, 248), (2026, 248)]:
        days = [dt.date(year, 1, 1) + dt.timedelta(n) for n in range(366 if year == 2024 else 365)]
        assert sum(cal.is_workday(d) for d in days) == expected


def test_nth_workday_counts_a_working_start_as_day_one():
    cal = WorkCalendar()
    assert cal.nth_workday(dt.date(2026, 9, 30), 1) == dt.date(2026, 9, 30)
    assert cal.nth_workday(dt.date(2026, 9, 30), 2) == dt.date(2026, 10, 8)
    assert cal.nth_workday(dt.date(2026, 10, 1), 3) == dt.date(2026, 10, 10)  # make-up Saturday


def test_a_year_beyond_every_calendar_falls_back_to_monday_to_friday():
    cal = WorkCalendar()
    assert not cal.is_known_year(2027)
    assert cal.is_workday(dt.date(2027, 1, 1))  # a Friday: no arrangement loaded
    assert not cal.is_workday(dt.date(2027, 1, 2))
    assert cal.nth_workday(dt.date(2026, 12, 31), 2) == dt.date(2027, 1, 1)


def test_administrator_overrides_win_and_make_the_year_known():
    cal = WorkCalendar({dt.date(2027, 1, 1): False, dt.date(2026, 10, 10): False})
    assert cal.is_known_year(2027)
    assert not cal.is_workday(dt.date(2027, 1, 1))
    assert not cal.is_workday(dt.date(2026, 10, 10))


def test_add_months_clamps_to_the_end_of_the_month():
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2026, 12, 15), 1) == dt.date(2027, 1, 15)


def test_workdays_between_counts_forwards_and_backwards():
    cal = WorkCalendar()
    assert cal.workdays_between(dt.date(2026, 9, 30), dt.date(2026, 10, 9)) == 2
    assert cal.workdays_between(dt.date(2026, 10, 9), dt.date(2026, 9, 30)) == -2


def run(*args) -> list[str]:
    out = io.StringIO()
    call_command("workdays", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip().splitlines()


@pytest.mark.django_db
def test_the_add_command_prints_the_date_as_its_last_line():
    assert run("add", "2026-09-30", "2")[-1] == "2026-10-08"
    assert run("add", "2026-10-01", "3")[-1] == "2026-10-10"
    assert run("add", "2026-10-03", "1")[-1] == "2026-10-08"


@pytest.mark.django_db
def test_the_show_command_lists_holidays_and_make_up_days():
    lines = run("show", "2026")
    assert any(line.startswith("2026-10-10") and "调休上班" in line for line in lines)
    assert any(line.startswith("2026-10-01") and "放假" in line for line in lines)


@pytest.mark.django_db
def test_the_show_command_warns_about_an_unloaded_year():
    assert "2027年的节假日安排尚未载入" in run("show", "2027")[0]


@pytest.mark.django_db
def test_importing_a_year_changes_the_arithmetic(tmp_path):
    path = tmp_path / "2027.csv"
    path.write_text("date,kind\n2027-01-01,holiday\n2027-02-07,workday\n", encoding="utf-8")
    assert run("import", str(path)) == ["已导入 2 个日期。"]
    assert run("add", "2027-01-01", "1")[-1] == "2027-01-04"
    assert get_calendar().is_workday(dt.date(2027, 2, 7))
    assert get_calendar().is_known_year(2027)


@pytest.mark.django_db
def test_a_malformed_calendar_file_is_refused_whole(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("date,kind\n2027-01-01,holiday\n2027-13-01,holiday\n2027-02-07,maybe\n", encoding="utf-8")
    with pytest.raises(CommandError, match="第3行：日期“2027-13-01”应为 YYYY-MM-DD 格式"):
        run("import", str(path))
    assert not WorkdayOverride.objects.exists()


@pytest.mark.django_db
def test_a_file_without_the_header_is_refused(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("2027-01-01,holiday\n", encoding="utf-8")
    with pytest.raises(CommandError, match="表头 date,kind"):
        run("import", str(path))
