"""补充材料 from a phone, in a real browser: the enterprise adds a message and a photo to its open demand on a
375 px screen, and the handler is told and sees the photo in the demand's page (served by the preview view,
allowed by the CSP). Screenshots go to build/screenshots/ (follow-up-*.png)."""

import struct
import zlib

from qinqing.demands import services
from qinqing.notifications.models import Notification

from .browser import MARKS, SHOTS

pytestmark = MARKS
PHONE = {"width": 375, "height": 812}


def photo_png(width=40, height=30) -> bytes:
    """A real 40×30 PNG (a blue rectangle) for the browser to decode."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    rows = b"".join(b"\x00" + b"\x20\x60\xc0" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def sign_in(browser, base_url, user, viewport):
    context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  is_mobile=viewport == PHONE, has_touch=viewport == PHONE)
    context.set_default_timeout(60_000)  # a shared CI box under load is slow to answer
    page = context.new_page()
    page.goto(base_url + "/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "pw-" + user.username)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def test_a_follow_up_with_a_photo_from_a_phone_is_seen_by_the_handler_with_its_preview(
        browser, live_server, world, demand, tmp_path):
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    picture = tmp_path / "门前道路.png"
    picture.write_bytes(photo_png())

    owner = sign_in(browser, live_server.url, world.owner, PHONE)
    owner.goto(f"{live_server.url}/portal/demands/{demand.number}/")
    owner.fill("#follow-up textarea", "补充：门前道路破损照片，货车已无法进出。")
    owner.set_input_files("#follow-up input[type=file]", str(picture))
    owner.click("#follow-up button[type=submit]")
    owner.wait_for_load_state()
    assert "已补充" in owner.locator("body").inner_text()
    owner.screenshot(path=str(SHOTS / "follow-up-phone.png"), full_page=True)
    assert owner.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "the portal page fits the phone"
    assert owner.locator("figure.attachment-preview img").evaluate("img => img.naturalWidth") == 40

    assert Notification.objects.filter(recipient=world.handler, text__contains="企业补充了材料").exists()
    handler = sign_in(browser, live_server.url, world.handler, {"width": 1280, "height": 900})
    handler.goto(f"{live_server.url}/demands/{demand.number}/")
    assert "补充：门前道路破损照片" in handler.locator("main").inner_text()
    preview = handler.locator("figure.attachment-preview img")
    preview.scroll_into_view_if_needed()
    handler.wait_for_function("document.querySelector('figure.attachment-preview img').complete")
    assert preview.evaluate("img => img.naturalWidth") == 40, "the photo loads in the page (CSP img-src 'self')"
    handler.screenshot(path=str(SHOTS / "follow-up-handler.png"), full_page=True)
