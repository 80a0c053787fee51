"""Binding an authenticator by QR code: the enrolment page draws the otpauth:// address (issuer 亲清, the
person's account name, the device's secret) as an SVG image on the server, allowed by the strict CSP (a
data: image, no script, no style attribute); the secret stays on the page as text for phones without a
camera; the page is kept out of caches; a correct code from the secret binds the device."""

import re
from base64 import b32encode
from unittest import mock
from urllib.parse import parse_qs, unquote, urlsplit

import segno
from django.urls import reverse
from django.utils.html import escape
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from qinqing.accounts.account_views import qr_image

from .conftest import login

QR_IMG = re.compile(r'<img class="otp-qr" src="(data:image/svg\+xml[^"]+)"')


def enrolment_page(client):
    """The page and the one text segno was asked to draw while rendering it."""
    with mock.patch("segno.make", wraps=segno.make) as make:
        response = client.get(reverse("otp_enrol"))
    assert response.status_code == 200
    assert make.call_count == 1
    return response.content.decode(), make.call_args.args[0]


def test_the_enrolment_page_shows_a_qr_code_of_the_otpauth_address_for_this_person(world):
    page, drawn = enrolment_page(login(world.dispatcher))
    device = TOTPDevice.objects.get(user=world.dispatcher, confirmed=False)

    address = urlsplit(drawn)
    params = parse_qs(address.query)
    assert (address.scheme, address.netloc) == ("otpauth", "totp")
    assert unquote(address.path) == "/亲清:dispatcher"
    assert params["issuer"] == ["亲清"]
    assert params["secret"] == [b32encode(device.bin_key).decode()]
    assert (params["digits"], params["period"]) == (["6"], ["30"])

    image = QR_IMG.search(page)
    assert image, "no QR image on the enrolment page"
    assert image.group(1) == escape(qr_image(drawn))  # the picture is the QR code of exactly that address


def test_the_qr_code_is_an_svg_drawn_without_script_or_style_attributes(world):
    page, drawn = enrolment_page(login(world.handler))
    svg = unquote(qr_image(drawn).split(",", 1)[1])
    assert svg.startswith("<svg") and "<path" in svg
    assert "<script" not in svg and "style=" not in svg and "http://" not in svg.replace(
        "http://www.w3.org/2000/svg", "")  # nothing loaded from anywhere
    assert "style=" not in page and "<script>" not in page  # the page stays within the CSP


def test_the_secret_stays_on_the_page_as_text_for_phones_without_a_camera(world):
    page, _ = enrolment_page(login(world.handler))
    secret = b32encode(TOTPDevice.objects.get(user=world.handler).bin_key).decode()
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    assert f'<p class="otp-secret" id="otp-secret">{grouped}</p>' in page
    assert "手动输入密钥" in page and "扫描下面的二维码" in page


def test_no_browser_or_proxy_keeps_a_copy_of_the_page_with_the_secret(world):
    response = login(world.handler).get(reverse("otp_enrol"))
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_the_qr_code_and_the_secret_stay_the_same_when_the_page_is_opened_again(world):
    client = login(world.handler)
    first, drawn = enrolment_page(client)
    again, drawn_again = enrolment_page(client)
    assert drawn == drawn_again and QR_IMG.search(first).group(1) == QR_IMG.search(again).group(1)
    assert TOTPDevice.objects.filter(user=world.handler).count() == 1


def test_an_enterprise_user_binds_by_qr_code_in_the_portal_frame(world):
    page, drawn = enrolment_page(login(world.owner))
    assert '<body class="portal">' in page
    assert QR_IMG.search(page).group(1) == escape(qr_image(drawn))
    assert unquote(urlsplit(drawn).path) == "/亲清:owner"


def test_confirming_with_the_current_code_of_the_secret_enables_the_device(world):
    client = login(world.owner)
    enrolment_page(client)
    device = TOTPDevice.objects.get(user=world.owner)

    wrong = client.post(reverse("otp_enrol"), {"code": f"{(totp(device.bin_key) + 1) % 1000000:06d}"})
    assert "验证码不正确或已过期" in wrong.content.decode()
    device.refresh_from_db()
    assert not device.confirmed

    device.throttling_failure_count = 0  # django-otp makes a wrong code wait; this test does not
    device.throttling_failure_timestamp = None
    device.save(update_fields=["throttling_failure_count", "throttling_failure_timestamp"])
    right = client.post(reverse("otp_enrol"), {"code": f"{totp(device.bin_key):06d}"})
    assert right.status_code == 302 and right["Location"] == reverse("account_security")
    device.refresh_from_db()
    assert device.confirmed
    assert "已启用" in client.get(reverse("account_security")).content.decode()

    with mock.patch("segno.make") as make:  # once bound, the secret and its QR code are not shown again
        assert client.get(reverse("otp_enrol"))["Location"] == reverse("account_security")
    make.assert_not_called()
