"""Staff pages on a 375 px phone, in a real browser: Playwright drives Debian's Chromium against a live server.

The visit form says "走访后在手机上随手记"; a cadre records a visit, checks their week, a dispatcher opens a
demand and the inboxes on the same phone. None of these pages may scroll sideways, the header may not eat
the screen, list tables become one card per row, and the visit date starts at today. Screenshots go to
build/screenshots/ (phone-*.png).

The live server runs in a thread of this process, so these tests need a transactional database;
`serialized_rollback` puts the taxonomy rows written by migrations back for the tests that follow.
"""

import datetime as dt

from qinqing.demands import services
from qinqing.demands.models import Channel
from qinqing.lib import clock
from qinqing.notifications.models import Notification
from qinqing.visits import services as visit_services
from qinqing.visits.models import Duty, Level

from .browser import MARKS, SHOTS

PHONE = {"width": 375, "height": 812}


pytestmark = MARKS




class Phone:
    """One staff member at a 375 px phone, logged in through the login page."""

    def __init__(self, browser, base_url, user):
        self.context = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai",
                                           is_mobile=True, has_touch=True)
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.base_url = base_url
        self.open("/login/")
        self.page.fill("#id_username", user.username)
        self.page.fill("#id_password", "pw-" + user.username)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state()

    def open(self, path):
        response = self.page.goto(self.base_url + path)
        self.page.wait_for_load_state()
        assert response.status == 200, f"{path} answered {response.status}"

    def check_fits(self, name: str):
        """The page does not scroll sideways and the header leaves the screen to the page."""
        self.page.screenshot(path=str(SHOTS / f"phone-{name}.png"), full_page=True)
        width = self.page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{name} scrolls sideways on a phone ({width}px)"
        header = self.page.evaluate("document.querySelector('.topbar').getBoundingClientRect().height")
        assert header <= 110, f"{name}: the header takes {header}px of an 812px screen"

    def cards(self) -> int:
        return self.page.locator("table.grid.as-cards").count()


def test_staff_pages_fit_a_phone_and_the_visit_date_starts_at_today(browser, live_server, world, demand):
    cadre = visit_services.register_cadre(world.dispatcher, world.specialist, level=Level.SPECIALIST,
                                          jurisdiction=world.district)
    visit_services.assign_contact(world.dispatcher, world.enterprise, cadre, duty=Duty.SPECIALIST,
                                  on=clock.today() - dt.timedelta(days=40))
    waiting = services.receive_demand(world.dispatcher, enterprise=world.neighbour, channel=Channel.HOTLINE,
                                      title="员工上下班路段路灯不亮", content="厂区门前道路路灯损坏，夜班员工出行不安全。",
                                      category=world.hiring)
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)

    cadre_phone = Phone(browser, live_server.url, world.specialist)
    cadre_phone.open(f"/visits/new/?enterprise={world.enterprise.pk}")
    cadre_phone.check_fits("visit-entry")
    page = cadre_phone.page
    assert page.input_value("#id_visited_on") == clock.today().isoformat(), "the visit date starts at today"
    radio = page.locator("#id_form_0").bounding_box()
    label = page.locator("label[for=id_form_0]").bounding_box()
    assert label["height"] < 48 and label["y"] <= radio["y"] + radio["height"] / 2 <= label["y"] + label["height"], \
        "each 方式 radio button sits on the line of its label"

    cadre_phone.open("/visits/")
    cadre_phone.check_fits("cadre-week")
    assert world.enterprise.name in page.locator("main").inner_text()
    assert cadre_phone.cards() >= 1, "the week's table reads as one card per enterprise"

    dispatcher_phone = Phone(browser, live_server.url, world.dispatcher)
    dispatcher_phone.open(f"/demands/{demand.number}/")
    dispatcher_phone.check_fits("demand")
    dispatcher_phone.open("/demands/inbox/dispatch/")
    dispatcher_phone.check_fits("dispatch-inbox")
    cell = dispatcher_phone.page.locator("table.grid.as-cards td[data-label='编号']").first
    assert cell.inner_text().strip() == waiting.number, "each card names its fields, the number first"

    handler_phone = Phone(browser, live_server.url, world.handler)
    handler_phone.open("/demands/inbox/unit/")
    handler_phone.check_fits("unit-inbox")
    assert demand.number in handler_phone.page.locator("main").inner_text()
    assert handler_phone.cards() >= 1


def test_going_back_shows_the_bell_without_the_read_notification_and_ledger_popovers_open_one_at_a_time(
        browser, live_server, world, demand):
    note = Notification.objects.create(recipient=world.handler, demand=demand, text="您单位有新交办的诉求")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", world.handler.username)
    page.fill("#id_password", "pw-" + world.handler.username)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("a.bell .bell-count").inner_text() == "1"
    page.goto(f"{live_server.url}/notifications/{note.pk}/")  # opening it marks it read
    page.wait_for_load_state()
    assert page.locator("a.bell .bell-count").count() == 0
    page.go_back()
    page.wait_for_load_state()
    page.locator("a.bell .bell-count").wait_for(state="detached", timeout=5_000)  # not the cached "1"

    page.goto(live_server.url + "/demands/?q=招聘")  # a filter, so it may be saved
    page.wait_for_load_state()
    summaries = page.locator("details.tool-pop > summary")
    assert summaries.count() == 2
    summaries.nth(0).click()
    summaries.nth(1).click()
    assert page.locator("details.tool-pop[open]").count() == 1, "opening one popover closes the other"
    page.screenshot(path=str(SHOTS / "desktop-ledger-popover.png"))
    page.locator("h1").click()
    assert page.locator("details.tool-pop[open]").count() == 0, "a click elsewhere closes it"
    context.close()


def test_the_enterprise_page_fits_a_phone_and_the_dashboard_keeps_its_axis_labels_inside_the_charts(
        browser, live_server, world, demand):
    phone = Phone(browser, live_server.url, world.dispatcher)
    phone.open(f"/enterprises/{world.enterprise.credit_code}/")
    phone.check_fits("enterprise-360")
    assert phone.cards() >= 1, "the enterprise's demands read as one card per row"
    leader = Phone(browser, live_server.url, world.leader)
    leader.open("/reports/dashboard/")
    leader.page.wait_for_selector(".dash-panel.has-chart canvas")
    # Bar charts leave room for their labels (containLabel) instead of a fixed margin that cut them off.
    grids = leader.page.evaluate("""Array.from(document.querySelectorAll('.dash-panel.has-chart .dash-chart'))
        .map(function (box) { var grid = window.echarts.getInstanceByDom(box).getOption().grid;
                              return grid && grid.length ? grid[0].containLabel : 'no grid'; })""")
    assert True in grids and set(grids) <= {True, "no grid"}, grids
    leader.page.screenshot(path=str(SHOTS / "phone-dashboard.png"), full_page=True)
