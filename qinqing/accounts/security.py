"""Account security (等保2.0 三级 身份鉴别, OWASP ASVS level 2): what happens around a login.

- Lockout (django-axes): `LockoutHandler` counts consecutive failures per account and per address, each
  against its own limit; `lockout_response` tells the person, in Chinese, until when they are locked;
  `unlock` is the administrator's way out (admin: 登录失败与锁定 → 解除锁定).
- Sessions: `AccountGuardMiddleware` ends a session idle too long (staff 30 minutes, enterprise accounts
  longer) or older than the absolute limit, then holds a signed-in person at the one page they must pass
  first: the second factor, the change of an initial password, the enrolment their role requires.
- Second factor (django-otp, TOTP): at login `_second_factor_at_login` notes in the session whether the
  person must enter a code or enrol, so the middleware reads the session, not the database, per request.
- Passwords: `change_password` is the one way a person's own password changes.
- The published development SECRET_KEY: `refuse_published_secret_key` (qinqing/wsgi.py) and a deploy check.
"""

import base64
import datetime as dt
import hashlib
import logging
import re
from urllib.parse import urlencode

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_logged_in
from django.core import checks
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import transaction
from django.db.models import Q, Sum
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from qinqing.lib import clock

from .models import Role

log = logging.getLogger(__name__)

# Session keys. Times are POSIX seconds (sessions are JSON).
SESSION_SINCE = "qq_since"  # when this session's login happened
SESSION_SEEN = "qq_seen"  # the last request, to the minute
SECOND_FACTOR = "qq_2fa"  # "verify" (has a device, code not yet given) or "enrol" (role requires one)
SEEN_GRANULARITY = 60  # seconds: the session is written at most once a minute just to note activity

IDLE_MESSAGE = "长时间未操作，已自动退出，请重新登录。"
API_PREFIX = "/api/"


# --- Lockout ------------------------------------------------------------------------------------------

def client_address(request: HttpRequest) -> str | None:
    """The address failures are counted against. Behind our HTTPS proxy (QINQING_HTTPS) that is the last
    X-Forwarded-For entry, the one the proxy itself appended; entries before it are the client's to forge."""
    if settings.QINQING_HTTPS:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if forwarded:
            return forwarded[-1]
    return request.META.get("REMOTE_ADDR")


def _recent_attempts(request: HttpRequest):
    return AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request))


class LockoutHandler(AxesDatabaseHandler):
    """axes' database handler with two limits instead of one.

    axes compares the larger of the per-account and per-address failure counts with AXES_FAILURE_LIMIT.
    An office behind one address would lock itself out at the account limit, so the address has its own,
    higher limit (QINQING_LOGIN_ADDRESS_FAILURE_LIMIT): `get_failures` answers the account's count, raised
    to the account limit once the address has reached its own.
    """

    def _counts(self, request: HttpRequest, credentials: dict | None) -> tuple[int, int]:
        username = get_client_username(request, credentials)
        address = request.axes_ip_address
        by_account = Q(username=username) if username else Q(pk__in=[])
        counts = _recent_attempts(request).filter(by_account | Q(ip_address=address)).aggregate(
            account=Sum("failures_since_start", filter=by_account),
            address=Sum("failures_since_start", filter=Q(ip_address=address)))
        return counts["account"] or 0, counts["address"] or 0

    def get_failures(self, request, credentials: dict | None = None) -> int:
        account, address = self._counts(request, credentials)
        if address >= settings.QINQING_LOGIN_ADDRESS_FAILURE_LIMIT:
            return max(account, settings.AXES_FAILURE_LIMIT)
        return account

    def reset_user_attempts(self, request, credentials: dict | None = None) -> int:
        """After a successful login only the account's count starts again: someone holding one valid account
        must not be able to wipe the address's count of guesses at other accounts."""
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count

    def locked_until(self, request: HttpRequest, credentials: dict | None = None) -> tuple[str, dt.datetime]:
        """("account" or "address", the moment the lock lifts): the later of the locks in force.

        A count falls as its attempt records age past the cool-off, oldest first; the lock lifts when the
        count drops below the limit.
        """
        cool_off = get_cool_off(request)
        username = get_client_username(request, credentials)
        sides = [("address", Q(ip_address=request.axes_ip_address), settings.QINQING_LOGIN_ADDRESS_FAILURE_LIMIT)]
        if username:
            sides.insert(0, ("account", Q(username=username), settings.AXES_FAILURE_LIMIT))
        found = []
        for kind, where, limit in sides:
            rows = list(_recent_attempts(request).filter(where).order_by("attempt_time")
                        .values_list("attempt_time", "failures_since_start"))
            remaining = sum(n for _, n in rows)
            until = None
            for attempt_time, failures in rows:
                if remaining < limit:
                    break
                until = attempt_time + cool_off
                remaining -= failures
            if until is not None:
                found.append((until, kind))
        if not found:  # locked a moment ago by records that have just aged out: say the full cool-off
            return "account", clock.now() + cool_off
        until, kind = max(found)
        return kind, until


def lockout_message(kind: str, until: dt.datetime) -> str:
    when = timezone.localtime(until)
    today = clock.localnow().date()
    moment = when.strftime("%H:%M") if when.date() == today else f"{when.month}月{when.day}日 {when:%H:%M}"
    if kind == "address":
        return (f"您所在网络地址的登录失败次数过多，已暂时锁定，请于 {moment} 后再试；"
                f"如需提前解锁，请联系系统管理员。")
    return (f"该账号连续{settings.AXES_FAILURE_LIMIT}次密码错误，已被锁定，请于 {moment} 后再试；"
            f"如需提前解锁，请联系系统管理员。")


def lockout_response(request: HttpRequest, original_response=None, credentials: dict | None = None):
    """AXES_LOCKOUT_CALLABLE: the login page again, saying the account (or address) is locked and until when.

    429 like axes' own answer; the page is the login page so the person sees where they are.
    """
    from axes.handlers.proxy import AxesProxyHandler

    handler = AxesProxyHandler.get_implementation()
    kind, until = handler.locked_until(request, credentials)
    if request.path_info.startswith(API_PREFIX):
        return JsonResponse({"detail": lockout_message(kind, until), "code": "locked"}, status=429,
                            json_dumps_params={"ensure_ascii": False})
    username = get_client_username(request, credentials) or ""
    form = AuthenticationForm(request, initial={"username": username})
    return render(request, "registration/login.html", {
        "form": form, "lockout": lockout_message(kind, until), "next": request.POST.get("next", ""),
    }, status=429)


def unlock(actor, attempts) -> int:
    """Lift the lockouts of the given attempt records (the admin's 解除锁定): their failures are forgotten.

    Only an administrator may; the number of records removed is returned and logged with who did it.
    """
    if not (actor.is_superuser or actor.has_role(Role.ADMIN)):
        raise PermissionDenied("只有系统管理员可以解除登录锁定。")
    with transaction.atomic():
        described = list(attempts.values_list("username", "ip_address"))
        count, _ = attempts.delete()
    log.warning("login lockout lifted by %s for %s", actor.get_username(), described)
    return count


# --- Passwords ----------------------------------------------------------------------------------------

def change_password(user, new_password: str) -> None:
    """Set the person's own new password (already validated) and lift the demand to change the initial one."""
    user.set_password(new_password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])


def require_password_change(user) -> None:
    """The administrator chose this password (new account, reset): its holder must replace it on login."""
    if not user.must_change_password:
        user.must_change_password = True
        if user.pk:
            user.save(update_fields=["must_change_password"])


# --- Second factor ------------------------------------------------------------------------------------

def requires_second_factor(user) -> bool:
    """Whether the person's roles are among QINQING_REQUIRE_2FA_ROLES (administrators' choice)."""
    required = set(settings.QINQING_REQUIRE_2FA_ROLES)
    return bool(required and user.roles & required)


def confirmed_devices(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True)


@receiver(user_logged_in, dispatch_uid="qinqing-second-factor-at-login")
def _second_factor_at_login(sender, request, user, **kwargs):
    """Note what this session still owes: a code from the person's device, or an enrolment their role needs;
    and start the session's clocks. One query at login instead of one per request."""
    if request is None or not hasattr(request, "session"):
        return
    now = clock.now().timestamp()
    request.session[SESSION_SINCE] = request.session[SESSION_SEEN] = now
    if request.session.get(DEVICE_ID_SESSION_KEY):  # already verified by an OTP-aware form
        request.session.pop(SECOND_FACTOR, None)
    elif confirmed_devices(user).exists():
        request.session[SECOND_FACTOR] = "verify"
    elif requires_second_factor(user):
        request.session[SECOND_FACTOR] = "enrol"
    else:
        request.session.pop(SECOND_FACTOR, None)


def second_factor_passed(request: HttpRequest) -> None:
    """The person gave a valid code (at login or when enrolling): nothing more is owed this session."""
    request.session.pop(SECOND_FACTOR, None)


# --- The guard ----------------------------------------------------------------------------------------

def idle_limit(user) -> dt.timedelta:
    """Staff 30 minutes by default; enterprise accounts (phones, long forms) QINQING_PORTAL_… minutes."""
    if not user.is_staff_user and user.has_role(Role.ENTERPRISE):
        return dt.timedelta(minutes=settings.QINQING_PORTAL_SESSION_IDLE_MINUTES)
    return dt.timedelta(minutes=settings.QINQING_SESSION_IDLE_MINUTES)


def _shortest_idle_seconds() -> float:
    return 60.0 * min(settings.QINQING_SESSION_IDLE_MINUTES, settings.QINQING_PORTAL_SESSION_IDLE_MINUTES)


def _answer(request: HttpRequest, url: str, detail: str, code: str, status: int = 403) -> HttpResponse:
    """Send the person to `url`: a redirect for pages, HX-Redirect for htmx partials, JSON for the API."""
    if request.path_info.startswith(API_PREFIX):
        return JsonResponse({"detail": detail, "code": code}, status=status,
                            json_dumps_params={"ensure_ascii": False})
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _with_next(url: str, request: HttpRequest) -> str:
    if request.method == "GET" and not request.headers.get("HX-Request"):
        return f"{url}?{urlencode({'next': request.get_full_path()})}"
    return url


class AccountGuardMiddleware:
    """Ends stale sessions and holds a signed-in person at the page they must pass first.

    Runs after authentication, OTP and messages. In order: the absolute and idle limits (logout, with
    「长时间未操作，已自动退出」 on the login page); then, except on the pages that settle it, the code from
    the person's device, the change of an initial password, the enrolment their role requires. Bearer-token
    API calls carry no session and pass untouched.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self._open_paths = None

    def open_paths(self) -> tuple[str, ...]:
        """Where a person who still owes something may go: the pages that settle it, and the way out."""
        if self._open_paths is None:
            self._open_paths = tuple(reverse(name) for name in (
                "login", "logout", "otp_verify", "otp_enrol", "password_change", "admin:logout"))
        return self._open_paths

    def __call__(self, request):
        user = request.user
        if user.is_authenticated:
            answer = self._expire(request, user) or self._hold(request, user)
            if answer is not None:
                return answer
        return self.get_response(request)

    def _expire(self, request, user):
        session = request.session
        now = clock.now().timestamp()
        since, seen = session.get(SESSION_SINCE), session.get(SESSION_SEEN)
        if since is None or seen is None:  # a session from before these limits: its clocks start now
            session[SESSION_SINCE] = session[SESSION_SEEN] = now
            return None
        if now - since > settings.QINQING_SESSION_MAX_HOURS * 3600:
            message = f"登录已超过{settings.QINQING_SESSION_MAX_HOURS}小时，已自动退出，请重新登录。"
        elif now - seen > _shortest_idle_seconds() and now - seen > idle_limit(user).total_seconds():
            # (the person's roles, which may cost a query, are read only once the shorter limit has passed)
            message = IDLE_MESSAGE
        else:
            if now - seen >= SEEN_GRANULARITY:
                session[SESSION_SEEN] = now
            return None
        logout(request)
        messages.info(request, message)
        return _answer(request, _with_next(reverse("login"), request), message, "session_expired", status=401)

    def _hold(self, request, user):
        if request.path_info.startswith(self.open_paths()):
            return None
        owed = request.session.get(SECOND_FACTOR)
        if owed == "verify":
            return _answer(request, _with_next(reverse("otp_verify"), request),
                           "请先输入手机验证器上的动态验证码。", "second_factor_required")
        if user.must_change_password:
            return _answer(request, _with_next(reverse("password_change"), request),
                           "请先修改初始密码。", "password_change_required")
        if owed == "enrol":
            return _answer(request, _with_next(reverse("otp_enrol"), request),
                           "您的角色须启用两步验证，请先绑定手机验证器。", "second_factor_enrolment_required")
        return None


# --- Content-Security-Policy --------------------------------------------------------------------------

INLINE_STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.DOTALL)


def inline_style_hashes(html: str) -> list[str]:
    """CSP sources ('sha256-…') for the <style> blocks of a page that cannot load app.css (the 500 page)."""
    return [f"'sha256-{base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()}'"
            for css in INLINE_STYLE.findall(html)]


# --- SECRET_KEY ---------------------------------------------------------------------------------------

def published_secret_key_in_use() -> bool:
    return settings.SECRET_KEY == settings.DEV_SECRET_KEY


SECRET_KEY_REFUSAL = (
    "SECRET_KEY 未设置：不能用仓库里公开的开发密钥对外服务（会话和CSRF令牌可被伪造）。"
    "请设置环境变量 SECRET_KEY（例如 python -c 'import secrets; print(secrets.token_urlsafe(50))' 的输出）；"
    "仅本机演示可设 QINQING_DEMO=true（make run 已设置）或 DEBUG=true。"
    " / SECRET_KEY is not set: refusing to serve with the development key published in the repository."
)


def refuse_published_secret_key() -> None:
    """Called as the WSGI application loads (gunicorn, runserver): no server signs sessions with a key
    anyone can read, unless this is DEBUG or the demo (QINQING_DEMO, set by `make run`)."""
    if published_secret_key_in_use() and not (settings.DEBUG or settings.QINQING_DEMO):
        raise ImproperlyConfigured(SECRET_KEY_REFUSAL)


@checks.register(checks.Tags.security, deploy=True)
def check_published_secret_key(app_configs=None, **kwargs):
    if published_secret_key_in_use():
        return [checks.Error(SECRET_KEY_REFUSAL, id="qinqing.E001")]
    return []
