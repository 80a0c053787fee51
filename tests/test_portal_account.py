"""账号安全 from the portal: an enterprise user finds the link in the portal's header on every portal page, and
the account pages (overview, 修改密码, 绑定手机验证器) open in the portal's phone frame, not the staff one.
The last test drives Chromium on a 360 px phone: the header stays one row, nothing scrolls sideways, and the
enrolment QR code loads under the CSP."""

import re

import pytest
from django.urls import reverse

from .browser import MARKS, SHOTS
from .conftest import login

ACCOUNT_LINK = re.compile(r'<a class="p-header-btn p-account" href="/account/"[^>]*>账号</a>')
PORTAL_PAGES = ["portal:home", "portal:submit", "portal:history", "notifications:centre", "visits_portal:home"]


def in_portal_frame(page: str) -> bool:
    return '<body class="portal">' in page and "qinqing/portal.css" in page and "qinqing/app.css" not in page


@pytest.mark.parametrize("name", PORTAL_PAGES)
def test_an_enterprise_user_sees_the_account_security_link_in_the_portal_header(world, name):
    response = login(world.owner).get(reverse(name))
    assert response.status_code == 200
    page = response.content.decode()
    assert in_portal_frame(page)
    assert ACCOUNT_LINK.search(page), f"no 账号 link in the header of {name}"


@pytest.mark.parametrize(("name", "heading"), [("account_security", "账号安全"), ("password_change", "修改密码"),
                                               ("otp_enrol", "绑定手机验证器")])
def test_the_account_pages_open_inside_the_portal_frame_for_an_enterprise_user(world, name, heading):
    response = login(world.owner).get(reverse(name))
    assert response.status_code == 200
    page = response.content.decode()
    assert in_portal_frame(page)
    assert f'<h1 class="p-page-title">{heading}</h1>' in page
    assert ACCOUNT_LINK.search(page)  # the way back to the overview stays in the header


def test_the_account_overview_in_the_portal_leads_to_the_password_change_and_the_second_factor(world):
    page = login(world.owner).get(reverse("account_security")).content.decode()
    assert 'href="/account/password/"' in page and 'href="/account/2fa/"' in page
    assert "未启用" in page


def test_staff_keep_their_own_frame_without_the_portal_link(world):
    page = login(world.handler).get(reverse("account_security")).content.decode()
    assert '<body class="portal">' not in page and not ACCOUNT_LINK.search(page)
    assert 'href="/account/"' in page  # the staff header's own link (the name) is there


PHONE = {"width": 360, "height": 740}


def browser_test(function):
    """The browser tests' marks (Chromium, a transactional database) on this one test, not on the module."""
    for mark in MARKS:
        function = mark(function)
    return function


@browser_test
def test_on_a_phone_the_header_link_opens_the_account_page_and_the_qr_code_loads(browser, live_server, world):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai", is_mobile=True,
                                  has_touch=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    refused = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text
            else None)
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", "owner")
    page.fill("#id_password", "pw-owner")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/portal/$"))

    header = page.locator(".p-header-row")
    assert header.bounding_box()["height"] <= 60, "the portal header wrapped onto a second row"
    for item in (".p-brand", ".p-bell", ".p-account", ".p-logout button"):  # one row, all on the screen
        box = page.locator(f".p-header {item}").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], f"{item} leaves the screen"
    page.screenshot(path=str(SHOTS / "portal-account-01-header.png"))

    page.click(".p-header a.p-account")
    page.wait_for_url(re.compile(r"/account/$"))
    assert page.locator("body.portal h1").inner_text() == "账号安全"
    page.click("text=绑定手机验证器")
    page.wait_for_url(re.compile(r"/account/2fa/$"))
    qr = page.locator("img.otp-qr")
    qr.wait_for()
    assert page.evaluate("document.querySelector('img.otp-qr').complete") is True
    assert page.evaluate("document.querySelector('img.otp-qr').naturalWidth") > 0, "the QR image did not load"
    box = qr.bounding_box()
    assert 150 <= box["width"] <= 200 and abs(box["width"] - box["height"]) < 1
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "the page scrolls sideways"
    page.screenshot(path=str(SHOTS / "portal-account-02-enrol.png"), full_page=True)
    assert not refused, refused
    context.close()
