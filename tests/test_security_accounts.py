"""Accounts under 等保2.0 三级: lockout after repeated failures (per account and per address) with the admin's
unlock, password rules in Chinese, the forced change of an initial password, idle and absolute session
limits, and the optional TOTP second factor that administrators can require for roles."""

import datetime as dt
import json

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from qinqing.accounts import security
from qinqing.accounts.models import LoginLockout, Role, User

from .conftest import NOW, bearer, login, make_user

LOGIN = "/login/"


def later(**delta):
    """Travel the whole process forward from NOW (the clocks of sessions, axes and TOTP move with it)."""
    return time_machine.travel(NOW + dt.timedelta(**delta), tick=True)


def sign_in(client: Client, username: str, password: str):
    return client.post(LOGIN, {"username": username, "password": password})


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def fail(username: str, times: int, address: str = "127.0.0.1") -> None:
    for _ in range(times):
        Client(REMOTE_ADDR=address).post(LOGIN, {"username": username, "password": "wrong-password"})


# --- Lockout ------------------------------------------------------------------------------------------

def test_five_wrong_passwords_lock_the_account_and_the_right_one_is_then_refused_in_chinese(world):
    fail("dispatcher", 5)
    client = Client()
    response = sign_in(client, "dispatcher", "pw-dispatcher")
    assert response.status_code == 429
    page = response.content.decode()
    assert "该账号连续5次密码错误，已被锁定，请于 10:30 后再试" in page
    assert 'value="dispatcher"' in page  # the login form again, the name kept
    assert not signed_in(client)


def test_four_wrong_passwords_then_the_right_one_signs_in_and_starts_the_count_again(world):
    fail("dispatcher", 4)
    client = Client()
    assert sign_in(client, "dispatcher", "pw-dispatcher").status_code == 302
    assert signed_in(client)
    assert not AccessAttempt.objects.filter(username="dispatcher").exists()


def test_the_lock_lifts_by_itself_after_thirty_minutes(world):
    fail("dispatcher", 5)
    with later(minutes=29):
        assert sign_in(Client(), "dispatcher", "pw-dispatcher").status_code == 429
    with later(minutes=31):
        client = Client()
        assert sign_in(client, "dispatcher", "pw-dispatcher").status_code == 302
        assert signed_in(client)


def test_attempts_while_locked_do_not_push_the_announced_time_further(world):
    fail("dispatcher", 5)
    with later(minutes=20):
        page = sign_in(Client(), "dispatcher", "wrong-again").content.decode()
    assert "请于 10:30 后再试" in page


@override_settings(QINQING_LOGIN_ADDRESS_FAILURE_LIMIT=6)
def test_guesses_at_many_accounts_from_one_address_lock_that_address_only(world):
    for name in ("handler", "head", "leader"):
        fail(name, 2, address="10.1.1.1")
    refused = sign_in(Client(REMOTE_ADDR="10.1.1.1"), "supervisor", "pw-supervisor")
    assert refused.status_code == 429
    assert "您所在网络地址的登录失败次数过多" in refused.content.decode()
    elsewhere = Client(REMOTE_ADDR="10.2.2.2")
    assert sign_in(elsewhere, "supervisor", "pw-supervisor").status_code == 302


def test_an_office_behind_one_address_is_not_locked_by_one_clumsy_colleague(world):
    fail("handler", 5, address="10.1.1.1")  # the handler is locked …
    client = Client(REMOTE_ADDR="10.1.1.1")
    assert sign_in(client, "head", "pw-head").status_code == 302  # … the head at the next desk is not
    assert signed_in(client)


@override_settings(QINQING_HTTPS=True)
def test_behind_the_proxy_the_address_is_the_one_the_proxy_appended(world):
    fail_through_proxy = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7")
    for _ in range(2):
        fail_through_proxy.post(LOGIN, {"username": "head", "password": "x"}, secure=True)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}


def test_an_administrator_unlocks_a_locked_account_in_the_admin(world):
    fail("dispatcher", 5)
    admin = login(world.admin)
    listing = admin.get(reverse("admin:accounts_loginlockout_changelist")).content.decode()
    assert "账号已锁定，至 12-03 10:30" in listing and "解除锁定" in listing
    rows = list(LoginLockout.objects.filter(username="dispatcher").values_list("pk", flat=True))
    response = admin.post(reverse("admin:accounts_loginlockout_changelist"),
                          {"action": "unlock", "_selected_action": rows}, follow=True)
    assert "已清除 1 条登录失败记录" in response.content.decode()
    client = Client()
    assert sign_in(client, "dispatcher", "pw-dispatcher").status_code == 302
    assert signed_in(client)


def test_only_an_administrator_may_lift_a_lockout(world):
    fail("dispatcher", 5)
    with pytest.raises(PermissionDenied):
        security.unlock(world.supervisor, LoginLockout.objects.all())
    assert LoginLockout.objects.filter(username="dispatcher").exists()


def test_a_locked_account_keeps_its_api_token_working(world):
    fail("dispatcher", 5)
    response = Client().get("/api/v1/demands", **bearer(world.dispatcher))
    assert response.status_code == 200


def test_successful_logins_are_listed_for_the_audit(world):
    sign_in(Client(REMOTE_ADDR="10.9.9.9"), "leader", "pw-leader")
    page = login(world.admin).get(reverse("admin:accounts_loginrecord_changelist")).content.decode()
    assert "登录记录" in page and "10.9.9.9" in page and "leader" in page


# --- Password rules -----------------------------------------------------------------------------------

def messages_for(password: str, user=None) -> str:
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        validate_password(password, user)
    return " ".join(refused.value.messages)


def test_password_rules_explain_themselves_in_chinese(world):
    assert "密码太短，至少要8个字符" in messages_for("Ab1!")
    assert "小写字母、大写字母、数字、符号中的3类，现在只有2类" in messages_for("abcdefgh12")
    assert "这个密码太常见了" in messages_for("password")
    assert "密码跟 用户名 太相似了" in messages_for("Dispatcher1", world.dispatcher)
    validate_password("Qq-Nanshan-2026", world.dispatcher)  # three classes and more: accepted


def test_the_change_page_refuses_a_weak_password_and_accepts_a_strong_one(world):
    client = login(world.handler)
    weak = client.post(reverse("password_change"), {
        "old_password": "pw-handler", "new_password1": "abcdefgh12", "new_password2": "abcdefgh12"})
    assert weak.status_code == 200
    assert "现在只有2类" in weak.content.decode()
    strong = client.post(reverse("password_change"), {
        "old_password": "pw-handler", "new_password1": "Nanshan#2026", "new_password2": "Nanshan#2026"})
    assert strong.status_code == 302
    assert User.objects.get(pk=world.handler.pk).check_password("Nanshan#2026")
    assert client.get(reverse("home")).status_code == 200  # this session stays signed in


def test_the_new_password_may_not_be_the_old_one(world):
    client = login(world.handler)
    page = client.post(reverse("password_change"), {
        "old_password": "pw-handler", "new_password1": "pw-handler", "new_password2": "pw-handler"})
    assert "新密码不能与原密码相同" in page.content.decode()


# --- The initial password -----------------------------------------------------------------------------

def test_users_created_in_code_or_by_fixtures_need_not_change_their_password(world):
    assert not make_user("someone", Role.HANDLER).must_change_password
    client = Client()
    sign_in(client, "handler", "pw-handler")
    assert client.get(reverse("home")).status_code == 200


def test_an_account_the_administrator_adds_must_change_its_password_at_first_login(world):
    admin = login(world.admin)
    admin.post(reverse("admin:accounts_user_add"), {
        "username": "newclerk", "usable_password": "true", "password1": "Start#2026a", "password2": "Start#2026a",
        "full_name": "新同事", "jurisdiction": world.district.pk, "unit": world.bureau.pk,
        "role_grants-TOTAL_FORMS": "1", "role_grants-INITIAL_FORMS": "0", "role_grants-0-role": Role.HANDLER})
    clerk = User.objects.get(username="newclerk")
    assert clerk.must_change_password

    client = Client()
    assert sign_in(client, "newclerk", "Start#2026a")["Location"] == "/"
    held = client.get("/demands/")
    assert held.status_code == 302 and held["Location"].startswith(reverse("password_change"))
    page = client.get(held["Location"]).content.decode()
    assert "您的密码由管理员设置" in page
    changed = client.post(reverse("password_change"), {
        "old_password": "Start#2026a", "new_password1": "Mine#Own2026", "new_password2": "Mine#Own2026",
        "next": "/demands/"})
    assert changed["Location"] == "/demands/"
    assert not User.objects.get(pk=clerk.pk).must_change_password
    assert client.get("/demands/").status_code == 200


def test_a_password_the_administrator_resets_must_be_changed_too(world):
    admin = login(world.admin)
    admin.post(reverse("admin:auth_user_password_change", args=[world.handler.pk]), {
        "usable_password": "true", "password1": "Reset#2026a", "password2": "Reset#2026a"})
    assert User.objects.get(pk=world.handler.pk).must_change_password


def test_an_api_call_with_the_session_is_told_to_change_the_password_first(world):
    User.objects.filter(pk=world.handler.pk).update(must_change_password=True)
    response = login(world.handler).get("/api/v1/demands")
    assert response.status_code == 403
    assert json.loads(response.content)["code"] == "password_change_required"


# --- Session limits -----------------------------------------------------------------------------------

def test_thirty_minutes_idle_signs_staff_out_with_a_chinese_message(world):
    client = login(world.dispatcher)
    assert client.get(reverse("home")).status_code == 200
    with later(minutes=29):
        assert client.get(reverse("home")).status_code == 200
    with later(minutes=29 + 31):
        response = client.get("/demands/?state=received")
        assert response.status_code == 302
        assert response["Location"] == "/login/?next=%2Fdemands%2F%3Fstate%3Dreceived"
        page = client.get(response["Location"]).content.decode()
    assert "长时间未操作，已自动退出" in page
    assert not signed_in(client)


def test_an_enterprise_account_may_stay_idle_longer(world):
    client = login(world.owner)
    with later(minutes=100):
        assert client.get(reverse("portal:home")).status_code == 200
    with later(minutes=100 + 121):
        assert client.get(reverse("portal:home")).status_code == 302


@override_settings(QINQING_SESSION_IDLE_MINUTES=10)
def test_the_idle_limit_is_a_setting(world):
    client = login(world.dispatcher)
    with later(minutes=11):
        assert client.get(reverse("home")).status_code == 302


def test_a_busy_session_still_ends_twelve_hours_after_login(world):
    client = login(world.dispatcher)
    for minutes in range(20, 12 * 60, 20):
        with later(minutes=minutes):
            assert client.get(reverse("home")).status_code == 200, minutes
    with later(hours=12, minutes=5):
        response = client.get(reverse("home"))
        assert response.status_code == 302
        assert "登录已超过12小时" in client.get(response["Location"]).content.decode()


def test_an_idle_htmx_request_sends_the_whole_page_to_the_login(world):
    client = login(world.dispatcher)
    client.get(reverse("home"))
    with later(minutes=31):
        response = client.get("/demands/", HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == "/login/"


def test_an_idle_api_session_gets_a_json_401(world):
    client = login(world.dispatcher)
    with later(minutes=31):
        response = client.get("/api/v1/demands")
    assert response.status_code == 401
    assert json.loads(response.content)["detail"].startswith("长时间未操作，已自动退出")


# --- Second factor (TOTP) -----------------------------------------------------------------------------

def enrol(client: Client, user) -> TOTPDevice:
    page = client.get(reverse("otp_enrol")).content.decode()
    device = TOTPDevice.objects.get(user=user)
    assert "otpauth://totp/" in page and "绑定手机验证器" in page
    response = client.post(reverse("otp_enrol"), {"code": f"{totp(device.bin_key):06d}"})
    assert response.status_code == 302
    device.refresh_from_db()
    return device


def test_a_user_enrols_an_authenticator_and_the_next_login_asks_for_its_code(world):
    device = enrol(login(world.dispatcher), world.dispatcher)
    assert device.confirmed

    with later(minutes=2):  # a later code: the one used to enrol may not be used again
        client = Client()
        assert sign_in(client, "dispatcher", "pw-dispatcher").status_code == 302
        held = client.get("/demands/")
        assert held.status_code == 302 and held["Location"].startswith(reverse("otp_verify"))
        wrong = client.post(reverse("otp_verify"), {"code": "000000", "next": "/demands/"})
        assert "验证码不正确或已过期" in wrong.content.decode()
    with later(minutes=3):  # django-otp makes a wrong code wait a moment before the next try
        right = client.post(reverse("otp_verify"), {"code": f"{totp(device.bin_key):06d}", "next": "/demands/"})
        assert right["Location"] == "/demands/"
        assert client.get("/demands/").status_code == 200


def test_the_enrolment_needs_a_correct_code(world):
    client = login(world.dispatcher)
    client.get(reverse("otp_enrol"))
    page = client.post(reverse("otp_enrol"), {"code": "12345x"}).content.decode()
    assert "动态验证码是6位数字" in page
    assert not TOTPDevice.objects.filter(user=world.dispatcher, confirmed=True).exists()


@override_settings(QINQING_REQUIRE_2FA_ROLES=["admin", "dispatcher"])
def test_roles_the_administrator_names_must_enrol_at_their_next_login(world):
    dispatcher = Client()
    sign_in(dispatcher, "dispatcher", "pw-dispatcher")
    held = dispatcher.get(reverse("home"))
    assert held["Location"].startswith(reverse("otp_enrol"))
    assert "您的角色须启用两步验证" in dispatcher.get(held["Location"]).content.decode()
    enrol(dispatcher, world.dispatcher)
    assert dispatcher.get(reverse("home")).status_code == 200

    handler = Client()
    sign_in(handler, "handler", "pw-handler")
    assert handler.get(reverse("home")).status_code == 200  # handlers are not among the named roles


def test_the_account_page_shows_whether_the_second_factor_is_on(world):
    client = login(world.handler)
    assert "未启用" in client.get(reverse("account_security")).content.decode()
    enrol(client, world.handler)
    assert "已启用" in client.get(reverse("account_security")).content.decode()
