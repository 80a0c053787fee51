"""The whole loop in a real browser: Playwright drives Debian's Chromium against a live server.

An owner submits on a phone-sized screen, the dispatcher dispatches, the unit returns it and gets it
again, contacts the enterprise, feeds back a path and replies; the owner rates 不满意 and reopens, the
unit replies again, the owner rates 满意 and the dispatcher closes it. An outsider enterprise opening
the demand's URL gets nothing. Every step leaves a screenshot in build/screenshots/.

The live server runs in a thread of this process, so these tests need a transactional database;
`serialized_rollback` puts the taxonomy rows written by migrations back for the tests that follow.
"""

import re

from qinqing.demands.models import Demand, State
from qinqing.notifications.models import Notification

from .browser import MARKS, SHOTS, sync_api

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


pytestmark = MARKS




class Actor:
    """One person at their own browser, logged in through the login page like anybody else."""

    def __init__(self, browser, base_url, user, viewport, prefix):
        self.context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.base_url = base_url
        self.prefix = prefix
        self.page.goto(f"{base_url}/login/")
        self.page.fill("#id_username", user.username)
        self.page.fill("#id_password", "pw-" + user.username)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state()

    def open(self, path):
        response = self.page.goto(self.base_url + path)
        self.page.wait_for_load_state()
        return response

    def shot(self, step: str):
        self.page.screenshot(path=str(SHOTS / f"{self.prefix}-{step}.png"), full_page=True)

    def act(self, verb: str, fill=None):
        """Submit one action form of the staff demand page, opening the fold of secondary actions if needed."""
        form = self.page.locator(f"#act-{verb}")
        if not form.is_visible():
            form.locator("xpath=ancestor::details[1]/summary").click()  # the fold that holds this form
        if fill:
            fill(form)
        form.locator("button[type=submit]").click()
        self.page.wait_for_load_state()

    def messages(self) -> str:
        return self.page.locator(".messages, .p-messages").inner_text()


def _demand(number) -> Demand:
    return Demand.objects.get(number=number)


def test_a_demand_travels_the_whole_loop_across_roles_in_a_browser(browser, live_server, world, tmp_path):
    base = live_server.url
    owner = Actor(browser, base, world.owner, PHONE, "loop")
    dispatcher = Actor(browser, base, world.dispatcher, DESKTOP, "loop")
    handler = Actor(browser, base, world.handler, DESKTOP, "loop")

    # 1. The owner, on a phone, submits with a photo attached.
    page = owner.page
    assert page.url.endswith("/portal/"), "an enterprise account lands on the portal"
    owner.shot("01-portal-home")
    page.click("a.p-cta")
    photo = tmp_path / "现场照片.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    page.fill("#id_content", "厂房屋顶光伏并网申请已提交两个月，供电公司一直没有安排验收，影响企业降本。")
    page.fill("#id_title", "光伏并网验收迟迟未安排")
    page.set_input_files("#id_attachments", str(photo))
    owner.shot("02-portal-submit-filled")
    page.click("form.p-form button[type=submit]")
    page.wait_for_url(re.compile(r"/portal/demands/QQ\d{4}-\d{6}/$"))
    number = page.url.rstrip("/").rsplit("/", 1)[-1]
    assert "已提交" in owner.messages()
    assert page.locator(".p-files").inner_text().strip().startswith("现场照片.png")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the portal page scrolls sideways on a phone ({width}px)"
    owner.shot("03-portal-submitted")

    # 2. The dispatcher dispatches it to the human resources bureau… which returns it, and gets it again.
    dispatcher.open(f"/demands/{number}/")
    dispatcher.shot("04-staff-received")
    dispatcher.act("dispatch", lambda f: f.locator("select[name=lead_unit]").select_option(str(world.bureau.pk)))
    assert "已交办" in dispatcher.messages()
    handler.open(f"/demands/{number}/")
    handler.act("return", lambda f: f.locator("textarea[name=reason]").fill("并网验收属供电与发改部门职责。"))
    assert "已退回" in handler.messages()
    handler.shot("05-staff-returned")
    assert _demand(number).state == State.RETURNED
    dispatcher.open(f"/demands/{number}/")
    dispatcher.act("dispatch", lambda f: (
        f.locator("select[name=lead_unit]").select_option(str(world.bureau.pk)),
        f.locator("textarea[name=note]").fill("请人社局牵头，金融局配合。"),
    ))
    dispatcher.shot("06-staff-redispatched")
    assert _demand(number).state == State.DISPATCHED

    # 3. The unit contacts the enterprise, feeds back a path and replies.
    handler.open(f"/demands/{number}/")
    handler.act("contact", lambda f: f.locator("select[name=method]").select_option("电话"))
    assert "已联系企业" in handler.messages()
    handler.act("plan", lambda f: f.locator("textarea[name=path]").fill("本周内协调供电公司现场验收。"))
    handler.act("reply", lambda f: (
        f.locator("input[name=outcome][value=solved]").check(),
        f.locator("textarea[name=reply]").fill("已协调供电公司，验收安排在下周一。"),
    ))
    handler.shot("07-staff-replied")
    assert _demand(number).state == State.REPLIED

    # 4. The owner is not satisfied and asks for the demand to be handled again.
    owner.open("/portal/")
    assert owner.page.locator(".p-stat-alert").count() == 1, "a reply waiting for a rating stands out"
    owner.open(f"/portal/demands/{number}/")
    owner.shot("08-portal-to-rate")
    page.locator("label.p-choice-unsatisfied").click()
    page.fill("#rate textarea[name=comment]", "验收日期一推再推，没有书面答复。")
    page.click("#rate button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#reopen").is_visible()
    owner.shot("09-portal-unsatisfied")
    page.click("#reopen button[type=submit]")
    page.wait_for_load_state()
    assert "已申请重新办理" in owner.messages()
    assert _demand(number).state == State.REOPENED

    # 5. The unit replies again; the owner is satisfied this time; the dispatcher closes it out.
    handler.open(f"/demands/{number}/")
    handler.act("reply", lambda f: (
        f.locator("input[name=outcome][value=solved]").check(),
        f.locator("textarea[name=reply]").fill("供电公司已于今日完成验收并出具书面意见。"),
    ))
    owner.open(f"/portal/demands/{number}/")
    page.locator("label.p-choice-satisfied").click()
    page.click("#rate button[type=submit]")
    page.wait_for_load_state()
    assert "感谢您的评价" in owner.messages()
    owner.shot("10-portal-satisfied")
    dispatcher.open(f"/demands/{number}/")
    dispatcher.act("close")
    assert "已销号" in dispatcher.messages()
    dispatcher.shot("11-staff-closed")
    demand = _demand(number)
    assert demand.state == State.CLOSED and demand.reopen_count == 1 and demand.return_count == 1

    # The owner's timeline tells the whole story in plain words, with no staff-only notes.
    owner.open(f"/portal/demands/{number}/")
    story = page.locator(".p-timeline").inner_text()
    for words in ("诉求已受理", "正在重新安排承办单位", "承办单位已与您联系", "重新办理", "办结"):
        assert words in story
    assert "并网验收属供电与发改部门职责" not in page.content(), "a return reason is internal to staff"
    assert "请人社局牵头" not in page.content(), "a dispatch note is internal to staff"
    owner.shot("12-portal-closed-timeline")
    assert Notification.objects.filter(recipient=world.owner, demand=demand).count() >= 5

    # An outsider enterprise that learns the URL gets nothing, on the portal or the staff page.
    outsider = Actor(browser, base, world.neighbour_owner, PHONE, "loop")
    assert outsider.open(f"/portal/demands/{number}/").status == 404
    assert number not in outsider.page.content()
    assert outsider.open(f"/demands/{number}/").status == 404
    outsider.shot("13-outsider-404")
    for actor in (owner, dispatcher, handler, outsider):
        actor.context.close()



def test_staff_tools_in_a_browser_notifications_saved_filters_columns_export_and_slip(
        browser, live_server, world, tmp_path):
    from openpyxl import load_workbook

    from qinqing.demands import services
    from qinqing.demands.models import Channel

    base = live_server.url
    dispatcher = Actor(browser, base, world.dispatcher, DESKTOP, "tools")
    for title in ("融资担保费用偏高", "技术工人招聘困难"):
        services.receive_demand(world.owner, channel=Channel.ONLINE, title=title, content=f"{title}，请协助。")

    # The dispatcher narrows the ledger, keeps the view as a saved filter and chooses the columns.
    page = dispatcher.page
    dispatcher.open("/demands/")
    page.fill("#id_q", "融资")  # the ledger searches as one types (HTMX, after a pause)
    # A locator, not wait_for_function: that evaluates a string, which the Content-Security-Policy forbids.
    sync_api.expect(page.locator("#results td.c-number")).to_have_count(1)
    page.wait_for_load_state("networkidle")
    page.click("text=保存为常用筛选")
    page.fill("input[name=name]", "融资类诉求")
    page.click("form[action$='/filters/save/'] button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".chip-on").inner_text().startswith("融资类诉求")
    page.click("summary:has-text('显示列')")
    page.uncheck("input[name=cols][value=channel]")
    page.check("input[name=cols][value=resolve_due]")
    dispatcher.shot("01-ledger-columns")
    page.click("form[action$='/columns/'] button[type=submit]")
    page.wait_for_load_state()
    headers = page.locator("#results thead").inner_text()
    assert "办结期限" in headers and "渠道" not in headers
    dispatcher.shot("02-ledger-saved-filter")

    # "导出Excel" downloads exactly this view with these columns.
    with page.expect_download() as download:
        page.click("text=导出Excel")
    path = tmp_path / "ledger.xlsx"
    download.value.save_as(path)
    sheet = load_workbook(path).active
    header = [c.value for c in sheet[1]]
    assert "办结期限" in header and "渠道" not in header
    assert [r[1].value for r in sheet.iter_rows(min_row=2)] == ["融资担保费用偏高"]

    # Dispatching tells the handler: the header shows an unread count, the centre leads to the demand.
    number = page.locator("#results td.c-number a").first.inner_text()
    dispatcher.open(f"/demands/{number}/")
    dispatcher.act("dispatch", lambda f: f.locator("select[name=lead_unit]").select_option(str(world.bureau.pk)))
    with page.expect_download() as slip:
        page.click("text=下载交办单")
    assert slip.value.suggested_filename.endswith("交办单.docx")
    handler = Actor(browser, base, world.handler, DESKTOP, "tools")
    assert handler.page.locator(".bell-count").inner_text() == "1"
    handler.page.click("a.bell")
    handler.page.wait_for_load_state()
    handler.shot("03-notification-centre")
    handler.page.click(f"text=新交办诉求：{number}")
    handler.page.wait_for_url(f"**/demands/{number}/")
    assert handler.page.locator(".bell-count").count() == 0

    # The owner is told too, in plain words, on the phone.
    owner = Actor(browser, base, world.owner, PHONE, "tools")
    owner.page.click("a.p-bell")
    owner.page.wait_for_load_state()
    assert "已交由南山区人力资源局办理" in owner.page.locator(".p-list").inner_text()
    owner.shot("04-portal-messages")
    for actor in (dispatcher, handler, owner):
        actor.context.close()
