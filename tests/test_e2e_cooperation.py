"""A co-unit's opinion in a real browser: the co-unit accepts its part and writes its 协办意见 on the demand page,
and the lead unit's handler reads it on the same page, above the reply form, before replying.

Playwright drives Debian's Chromium against the live server (tests/browser.py). Screenshots go to
build/screenshots/ (cooperation-*.png).
"""

from qinqing.cooperation.models import CoTask, TaskState
from qinqing.demands import services
from qinqing.demands.models import Channel

from .browser import MARKS, SHOTS
from .conftest import at

pytestmark = MARKS


def _signed_in(browser, base_url, user):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                  timezone_id="Asia/Shanghai")
    context.set_default_timeout(60_000)  # a loaded CI machine answers slowly; the steps are few
    page = context.new_page()
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "pw-" + user.username)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return context, page


def test_a_co_unit_writes_its_opinion_and_the_lead_reads_it_before_replying(browser, live_server, world):
    with services.acting_at(at("2026-11-30 10:00")):
        d = services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT,
                                    title="厂房消防验收迟迟未办", content="新建厂房消防验收申请已提交两月，影响投产。",
                                    category=world.hiring, received_at=at("2026-11-30 10:00"))
        services.dispatch_demand(world.dispatcher, d, lead_unit=world.bureau, co_units=[world.finance])
        services.contact_enterprise(world.handler, d, method="电话")
    url = f"{live_server.url}/demands/{d.number}/"

    context, page = _signed_in(browser, live_server.url, world.co_handler)
    page.goto(url)
    page.click("#co-accept button[type=submit]")
    page.wait_for_load_state()
    assert "已接收协办任务" in page.inner_text("body")
    page.fill("#id_co_opinion", "建议企业同步申请技改贴息，我局可安排银行上门对接。")
    page.click("#co-opinion button[type=submit]")
    page.wait_for_load_state()
    assert "已提交协办意见" in page.inner_text("body")
    page.screenshot(path=str(SHOTS / "cooperation-1-co-unit.png"), full_page=True)
    context.close()
    assert CoTask.objects.get(demand=d).state == TaskState.ANSWERED

    context, page = _signed_in(browser, live_server.url, world.handler)
    page.goto(url)
    panel = page.locator("#cooperation").inner_text()
    assert world.finance.name in panel and "建议企业同步申请技改贴息" in panel and "已提交意见" in panel
    assert page.locator("#missing-opinions").count() == 0  # nothing missing above the reply form
    assert page.locator("#act-reply").count() == 1  # and the reply is open to the lead
    page.screenshot(path=str(SHOTS / "cooperation-2-lead.png"), full_page=True)
    context.close()
