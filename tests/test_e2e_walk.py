"""Walking the lists in a real browser: a filter survives the pager, a chip narrows the overdue page, and the
board's 导出Excel downloads what the board shows. Playwright drives Debian's Chromium against a live server.

These are the clicks that broke when the pager and chips wrote '??page=2' (Django 5.2's querystring tag
already starts with '?'): 下一页 then led to page 1 of everything. Each step leaves a screenshot in
build/screenshots/walk-*.png. The browser fixture follows tests/test_e2e_loop.py; see there why the
database is transactional and why the ORM may be called between browser steps.
"""

import datetime as dt
import io
import re

import pytest
from django.conf import settings
from django.test import Client
from openpyxl import load_workbook

from qinqing.demands import services
from qinqing.demands.filters import LEDGER_ORDER
from qinqing.demands.models import Channel, Demand, Stage
from qinqing.demands.services import Intake
from tests.conftest import at

from .browser import MARKS, SHOTS

DESKTOP = {"width": 1280, "height": 900}
HOTLINE_ORDERS = 60  # more than a page (50), so the hotline ledger has a page 2 of 10
DISPATCHED = 5


pytestmark = MARKS




@pytest.fixture
def backlog(world):
    """68 demands received on Monday 2 November and never dispatched in time: 60 from the 12345 hotline and
    8 from visits, 5 of which the dispatcher sent to the bureau the next day (now late at 联系企业)."""
    received = at("2026-11-02 10:00")
    intakes = [Intake(channel=Channel.HOTLINE, title=f"热线工单{i:02d}：厂区门前道路积水", enterprise=world.enterprise,
                      content="雨后厂区门前道路积水严重，货车无法进出，请协调市政部门疏通排水。", received_at=received)
               for i in range(1, HOTLINE_ORDERS + 1)]
    intakes += [Intake(channel=Channel.VISIT, title=f"走访问题{i}：用工招聘困难", enterprise=world.enterprise,
                       content="企业扩产缺少技术工人，希望人社部门协助对接职业院校。", received_at=received,
                       category=world.hiring) for i in range(1, 9)]
    demands = services.receive_demands(world.dispatcher, intakes)
    with services.acting_at(at("2026-11-03 09:00")):
        for demand in demands[HOTLINE_ORDERS:HOTLINE_ORDERS + DISPATCHED]:
            services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    return demands


def signed_in(browser, base_url, user):
    """A browser page whose session is `user`'s: these tests walk the lists, not the login form."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  accept_downloads=True)
    context.set_default_timeout(15_000)
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": base_url,
                          "value": client.cookies[settings.SESSION_COOKIE_NAME].value}])
    return context.new_page()


def shown_numbers(page, table="#results table.grid") -> list[str]:
    return page.locator(f"{table} tbody tr td.c-number a").all_inner_texts()


def shot(page, step):
    page.screenshot(path=str(SHOTS / f"walk-{step}.png"), full_page=True)


def test_page_two_of_a_filtered_ledger_keeps_the_filter_and_shows_the_next_rows(browser, live_server, world,
                                                                                 backlog):
    page = signed_in(browser, live_server.url, world.dispatcher)
    page.goto(f"{live_server.url}/demands/")
    assert page.locator(".pager-info").inner_text().endswith("共68条")

    # Choosing 12345热线 in the filter bar swaps the results in place and puts the filter in the address.
    with page.expect_response(re.compile(r"/demands/\?.*channel=hotline")):
        page.select_option("#id_channel", "hotline")
    page.wait_for_url(re.compile(r"channel=hotline"))
    assert page.locator(".pager-info").inner_text() == "第1页 · 第1–50条 · 共60条"
    shot(page, "01-ledger-hotline-page1")

    page.locator("#results .pager a", has_text="下一页").click()
    page.wait_for_url(re.compile(r"page=2"))
    assert "channel=hotline" in page.url and "??" not in page.url
    expected = list(Demand.objects.filter(channel=Channel.HOTLINE).order_by(*LEDGER_ORDER)
                    .values_list("number", flat=True)[50:])
    assert page.locator(".pager-info").inner_text() == "第2页 · 第51–60条 · 共60条"
    assert shown_numbers(page) == expected
    assert page.locator("#id_channel").input_value() == "hotline", "the filter bar still shows the filter"
    shot(page, "02-ledger-hotline-page2")

    # The pushed address is a page of its own: reloading it draws the same rows in the whole page.
    page.reload()
    assert shown_numbers(page) == expected
    assert page.locator("#id_channel").input_value() == "hotline"
    page.locator("#results .pager a", has_text="上一页").click()
    page.wait_for_url(re.compile(r"page=1"))
    assert "channel=hotline" in page.url
    assert page.locator(".pager-info").inner_text() == "第1页 · 第1–50条 · 共60条"


def test_a_stage_chip_and_then_a_unit_chip_narrow_the_overdue_page(browser, live_server, world, backlog):
    page = signed_in(browser, live_server.url, world.dispatcher)
    page.goto(f"{live_server.url}/demands/overdue/")
    assert page.locator(".chips a.chip", has_text="全部环节").text_content().split() == ["全部环节", "68"]
    shot(page, "03-overdue-all")

    page.locator(".chips a.chip", has_text="联系企业超期").click()
    page.wait_for_url(re.compile(r"stage=contact"))
    dispatched = {d.number for d in backlog[HOTLINE_ORDERS:HOTLINE_ORDERS + DISPATCHED]}
    assert set(shown_numbers(page, "table.grid")) == dispatched
    assert page.locator(".chips a.chip.active", has_text="联系企业超期").count() == 1
    assert page.locator(".chips a.chip.active", has_text="全部环节").count() == 0
    shot(page, "04-overdue-contact")

    # The unit chip keeps the stage.
    page.locator(".chips-units a.chip", has_text=world.bureau.name).click()
    page.wait_for_url(re.compile(rf"unit={world.bureau.pk}"))
    assert "stage=contact" in page.url and "??" not in page.url
    assert set(shown_numbers(page, "table.grid")) == dispatched
    assert page.locator(".chips-units a.chip.active", has_text=world.bureau.name).count() == 1
    assert page.locator(".chips a.chip.active", has_text="联系企业超期").count() == 1
    shot(page, "05-overdue-contact-bureau")

    # Back to every stage, still within the bureau: its five, the undispatched backlog belongs to no unit.
    page.locator(".chips a.chip", has_text="全部环节").click()
    page.wait_for_url(lambda url: "stage=" not in url)
    assert set(shown_numbers(page, "table.grid")) == dispatched


def test_the_boards_excel_export_downloads_the_rows_the_filtered_board_shows(browser, live_server, world,
                                                                            backlog, tmp_path):
    page = signed_in(browser, live_server.url, world.supervisor)
    page.goto(f"{live_server.url}/supervision/")
    page.locator("table.sv-matrix thead a", has_text=Stage.DISPATCH.label).click()
    page.wait_for_url(re.compile(r"stage=dispatch"))
    assert page.locator("table.sv-matrix thead a[aria-current]").inner_text() == Stage.DISPATCH.label
    undispatched = set(Demand.objects.filter(lead_unit=None).values_list("number", flat=True))
    assert len(undispatched) == len(backlog) - DISPATCHED
    shown = set(page.locator("section.section table.grid:not(.sv-matrix) tbody td.c-number a").all_inner_texts())
    assert shown <= undispatched and len(shown) == 50  # the board's first page
    shot(page, "06-board-dispatch")

    with page.expect_download() as pending:
        page.get_by_role("link", name="导出Excel").click()
    download = pending.value
    assert download.suggested_filename == f"督办看板-{dt.date(2026, 12, 3):%Y%m%d}.xlsx"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    rows = list(load_workbook(io.BytesIO(path.read_bytes())).active.iter_rows(values_only=True))
    assert "截至2026-12-03" in rows[0][0] and rows[1][:6] == ("编号", "标题", "企业", "主办单位", "状态", "当前环节")
    assert {row[0] for row in rows[2:]} == undispatched, "the file holds every late demand of the stage, only those"
    assert {row[5] for row in rows[2:]} == {Stage.DISPATCH.label}
