"""Who is calling: a bearer token (scripts, other systems) or the browser session (logged-in staff)."""

from django.conf import settings
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from qinqing.accounts.models import ApiToken

from .errors import ApiError


class TokenAuth(HttpBearer):
    """`Authorization: Bearer qq_…`, issued by `manage.py issue_token`."""

    def authenticate(self, request, token):
        if not token:
            return None
        return ApiToken.authenticate(token.strip())


class SessionAuth(APIKeyCookie):
    """The browser session of a logged-in user; writes must carry the CSRF token like any form."""

    param_name = settings.SESSION_COOKIE_NAME

    def __call__(self, request):
        # Only a real session is checked for CSRF, so that a bad bearer token gets 401, not 403.
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if check_csrf(request) is not None:
            raise ApiError(403, "CSRF校验失败，请刷新页面后重试。", "csrf")
        return user

    def authenticate(self, request, key):  # pragma: no cover - __call__ does the work
        return None
