"""A bulk dispatch from the ledger in a real browser (Playwright, Debian's Chromium): the dispatcher ticks the
whole page with the header's box, clears one row, dispatches the three left to one unit from the action bar
and reads three success rows. Screenshots go to build/screenshots/."""

from qinqing.demands import services
from qinqing.demands.models import Channel, Demand

from .browser import MARKS
from .test_e2e_loop import DESKTOP, Actor

pytestmark = MARKS


def test_a_dispatcher_ticks_three_ledger_rows_and_dispatches_them_to_one_unit(browser, live_server, world):
    rows = [services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.HOTLINE,
                                    title=f"园区停车难{i}", content="园区停车位不足，请协调。", category=world.hiring)
            for i in range(4)]
    dispatcher = Actor(browser, live_server.url, world.dispatcher, DESKTOP, "bulk")
    dispatcher.open("/demands/?q=园区停车难")
    page = dispatcher.page
    page.locator("input[data-pick-all]").check()
    assert page.locator("input[data-pick]:checked").count() == 4
    page.locator(f"input[data-pick][value='{rows[1].number}']").uncheck()
    assert not page.locator("input[data-pick-all]").is_checked()
    bar = page.locator("#bulk-form")
    bar.locator("select[name=action]").select_option("dispatch")
    bar.locator("select[name=unit]").select_option(str(world.finance.pk))
    dispatcher.shot("01-ledger-ticked")
    bar.locator("button[type=submit]").click()
    page.wait_for_load_state()

    assert "批量交办到单位：成功3件" in page.locator("h1").inner_text()
    assert page.locator("tr.row-ok").count() == 3 and page.locator("tr.row-failed").count() == 0
    dispatcher.shot("02-three-dispatched")
    leads = dict(Demand.objects.filter(pk__in=[d.pk for d in rows]).values_list("number", "lead_unit"))
    assert leads == {rows[0].number: world.finance.pk, rows[1].number: None,
                     rows[2].number: world.finance.pk, rows[3].number: world.finance.pk}
    page.get_by_text("返回继续操作").click()
    page.wait_for_load_state()
    assert page.url.startswith(f"{live_server.url}/demands/?") and "q=" in page.url
