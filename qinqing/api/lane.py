"""The API's lane: a call to /api/ that carries no session cookie skips the middleware that serves sessions.

First in MIDDLEWARE. A script or another system calls the API with a bearer token and no cookies; for such a
call the session, authentication, second-factor, login-guard, messages, CSRF, locale, lockout and static-file
middleware have nothing to do (no session to load, no signed-in person to check, no page, no form), yet
running them was about a tenth of a single intake's CPU. Such a call goes through the other middleware of
MIDDLEWARE in the same order — the security headers, CommonMiddleware, X-Frame-Options, the error pages and
any middleware added later — and answers with a fixed Content-Security-Policy that fits JSON (nothing may
load, nothing may frame it) instead of the pages' policy rebuilt on every answer. A call that carries the
session cookie (staff using the API from the browser) takes the whole chain, CSRF and idle limits included.
"""

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.utils.module_loading import import_string

PREFIX = "/api/"
CSP_HEADER = "Content-Security-Policy"
API_POLICY = "default-src 'none'; frame-ancestors 'none'"

# Middleware that only serves a session, a signed-in person's pages or static files; each is a no-op for a
# call without a session cookie, except for what it costs.
SESSION_ONLY = frozenset({
    "whitenoise.middleware.WhiteNoiseMiddleware",  # files under STATIC_URL only
    "django.contrib.sessions.middleware.SessionMiddleware",  # no cookie: an empty session, never saved
    "django.middleware.locale.LocaleMiddleware",  # one language (LANGUAGES), already the default
    "django.middleware.csrf.CsrfViewMiddleware",  # API views are exempt; ninja checks CSRF for cookie auth
    "django.contrib.auth.middleware.AuthenticationMiddleware",  # the user of a session; SessionAuth finds none
    "django_otp.middleware.OTPMiddleware",  # the session user's second factor
    "django.contrib.messages.middleware.MessageMiddleware",  # messages are shown on pages
    "qinqing.accounts.security.AccountGuardMiddleware",  # acts on a signed-in session only
    "axes.middleware.AxesMiddleware",  # the login page's lockout
    "csp.middleware.CSPMiddleware",  # replaced by API_POLICY
})


class ApiPolicy:
    """The API's Content-Security-Policy on answers of the lane that have none."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if CSP_HEADER not in response:
            response[CSP_HEADER] = API_POLICY
        return response


class _Lane(BaseHandler):
    """A handler over `paths` (sync middleware, as Django's load_middleware chains them), ending in the view."""

    def __init__(self, paths: list[str]):
        self._view_middleware, self._template_response_middleware, self._exception_middleware = [], [], []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(paths):
            try:
                instance = import_string(path)(handler)
            except MiddlewareNotUsed:
                continue
            if hasattr(instance, "process_view"):
                self._view_middleware.insert(0, instance.process_view)
            if hasattr(instance, "process_template_response"):
                self._template_response_middleware.append(instance.process_template_response)
            if hasattr(instance, "process_exception"):
                self._exception_middleware.append(instance.process_exception)
            handler = convert_exception_to_response(instance)
        self._middleware_chain = handler


def lane_middleware() -> list[str]:
    """The lane's middleware: ApiPolicy (outermost, so that every answer has it), then what follows
    BearerApiLane in MIDDLEWARE but SESSION_ONLY."""
    following = settings.MIDDLEWARE[settings.MIDDLEWARE.index(f"{__name__}.BearerApiLane") + 1:]
    return [f"{__name__}.ApiPolicy", *(path for path in following if path not in SESSION_ONLY)]


class BearerApiLane:
    """Sends a call to /api/ without a session cookie down the lane; everything else down MIDDLEWARE."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.lane = _Lane(lane_middleware())._middleware_chain
        self.cookie = settings.SESSION_COOKIE_NAME

    def __call__(self, request):
        if request.path_info.startswith(PREFIX) and self.cookie not in request.COOKIES:
            return self.lane(request)
        return self.get_response(request)
