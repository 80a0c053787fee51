"""Who is calling: a bearer token (scripts, other systems) or the browser session (logged-in staff)."""
# ruff: noqa: S608 - the token query names tables and columns from the models; the token is a parameter

from django.conf import settings
from django.db import connection
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from qinqing.accounts.models import TOKEN_TOUCH_INTERVAL, ApiToken, Jurisdiction, Role, RoleGrant, Unit, User
from qinqing.lib import clock

from .errors import ApiError
from .sqlrows import Prefixed


class _TokenQuery:
    """The one statement that authenticates a bearer token: the token, its user, the user's jurisdiction and
    unit, and the user's role codes aggregated, composed once per process from the models' own names.

    Through the ORM (select_related and a subquery) it cost 0.57 ms of CPU per call, more than anything else
    in an intake; this way 0.14 ms (see qinqing.api.sqlrows). The token row is still read on every call:
    nothing about tokens is cached.
    """

    def __init__(self):
        self.jurisdiction = Prefixed(Jurisdiction, "qq_j")
        self.unit = Prefixed(Unit, "qq_u")
        self.vendor = ""

    def _compose(self) -> None:
        qn = connection.ops.quote_name
        token, user = qn(ApiToken._meta.db_table), qn(User._meta.db_table)
        join = "STRING_AGG(g.role, ',')" if connection.vendor == "postgresql" else "GROUP_CONCAT(g.role, ',')"
        self.sql = (
            f"SELECT {user}.*, {token}.id AS qq_token_id, "
            f"({token}.last_used_at IS NULL OR {token}.last_used_at < %s) AS qq_touch, "
            f"(SELECT {join} FROM {qn(RoleGrant._meta.db_table)} g WHERE g.user_id = {user}.id) AS qq_roles, "
            f"{self.jurisdiction.columns()}, {self.unit.columns()} "
            f"FROM {token} JOIN {user} ON {user}.id = {token}.user_id "
            f"LEFT JOIN {qn(Jurisdiction._meta.db_table)} qq_j ON qq_j.id = {user}.jurisdiction_id "
            f"LEFT JOIN {qn(Unit._meta.db_table)} qq_u ON qq_u.id = {user}.unit_id "
            f"WHERE {token}.digest = %s AND NOT {token}.revoked")
        self.vendor = connection.vendor

    def user(self, digest: str, touch_before) -> tuple:
        """(user with jurisdiction, unit and role codes, token id, whether to touch last_used_at)."""
        if self.vendor != connection.vendor:
            self._compose()
        rows = list(User.objects.raw(self.sql, [connection.ops.adapt_datetimefield_value(touch_before), digest]))
        if not rows:
            return None, None, False
        user = rows[0]
        user.jurisdiction = self.jurisdiction.pop(user)
        user.unit = self.unit.pop(user)
        codes = user.__dict__.pop("qq_roles")
        user._role_cache = frozenset(codes.split(",")) if codes else frozenset()
        return user, user.__dict__.pop("qq_token_id"), bool(user.__dict__.pop("qq_touch"))


_token_query = _TokenQuery()


def user_for_token(raw: str):
    """The active user a live token belongs to, with jurisdiction, unit and roles, in one query.

    Every call reads the token row, so a token revoked a moment ago is refused on the very next call, in
    every process. The role grants come in the same statement and fill the user's per-instance role
    cache, which `User.roles` would otherwise fill with a second query on the first permission check.
    """
    now = clock.now()
    user, token_id, touch = _token_query.user(ApiToken.hash(raw), now - TOKEN_TOUCH_INTERVAL)
    if user is None or not user.is_active:
        return None
    if user.is_superuser:  # as User.roles: a superuser is an administrator whether or not the grant exists
        user._role_cache |= {Role.ADMIN}
    if touch:
        # Written at most every few minutes: a read-mostly API should not write on every call.
        ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
    return user


class TokenAuth(HttpBearer):
    """`Authorization: Bearer qq_…`, issued by `manage.py issue_token`."""

    def authenticate(self, request, token):
        if not token:
            return None
        return user_for_token(token.strip())


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
