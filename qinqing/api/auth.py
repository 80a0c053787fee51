"""Who is calling: a bearer token (scripts, other systems) or the browser session (logged-in staff)."""
# ruff: noqa: S608 - the token query names tables and columns from the models; the token is a parameter

from typing import NamedTuple

from django.conf import settings
from django.db import connection
from django.utils import timezone
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from qinqing.accounts.models import (
    TOKEN_TOUCH_INTERVAL,
    ApiToken,
    Jurisdiction,
    Role,
    RoleGrant,
    TokenScope,
    Unit,
    User,
)
from qinqing.demands.services import prepared_cursor
from qinqing.lib import clock

from .errors import ApiError
from .sqlrows import Columns

# What a read-scope token may call: reading only (TokenScope.READ). Everything else creates or changes.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOKEN_REVOKED = "该API令牌已被吊销，请联系管理员重新签发。"
TOKEN_EXPIRED = "该API令牌已于{at}过期，请联系管理员重新签发。"
TOKEN_READ_ONLY = "该API令牌为只读权限，只能查询，不能受理、登记或办理；请使用读写权限的令牌。"


class _TokenQuery:
    """The one statement that authenticates a bearer token: the token with whether it is revoked or expired
    and its scope, its user, the user's jurisdiction and unit, and the user's role codes aggregated, composed
    once per process from the models' own names. A revoked or expired token's row still comes back, so that
    the caller is told which; nothing else is read for it.

    Through the ORM (select_related and a subquery) it cost 0.57 ms of CPU per call, more than anything else
    in an intake; this way about a tenth of that (see qinqing.api.sqlrows). The token row is still read on
    every call: nothing about tokens is cached.
    """

    def __init__(self):
        self.user = Columns(User, "u")
        self.jurisdiction = Columns(Jurisdiction, "j")
        self.unit = Columns(Unit, "n")
        self.vendor = ""

    def _compose(self) -> None:
        qn = connection.ops.quote_name
        join = "STRING_AGG(g.role, ',')" if connection.vendor == "postgresql" else "GROUP_CONCAT(g.role, ',')"
        self.sql = (
            f"SELECT t.id, (t.last_used_at IS NULL OR t.last_used_at < %s), t.revoked, (t.expires_at <= %s), "
            f"t.expires_at, t.scope, "
            f"(SELECT {join} FROM {qn(RoleGrant._meta.db_table)} g WHERE g.user_id = u.id), "
            f"{self.user.select()}, {self.jurisdiction.select()}, {self.unit.select()} "
            f"FROM {qn(ApiToken._meta.db_table)} t JOIN {qn(User._meta.db_table)} u ON u.id = t.user_id "
            f"LEFT JOIN {qn(Jurisdiction._meta.db_table)} j ON j.id = u.jurisdiction_id "
            f"LEFT JOIN {qn(Unit._meta.db_table)} n ON n.id = u.unit_id "
            f"WHERE t.digest = %s")
        self.vendor = connection.vendor

    def __call__(self, digest: str, now, touch_before) -> tuple:
        """(user with jurisdiction, unit and role codes, the token's `TokenRow`), or (None, None) for no such
        token."""
        if self.vendor != connection.vendor:
            self._compose()
        adapt = connection.ops.adapt_datetimefield_value
        with prepared_cursor() as cursor:
            cursor.execute(self.sql, [adapt(touch_before), adapt(now), digest])
            row = cursor.fetchone()
        if row is None:
            return None, None
        token = TokenRow(*row[:6])
        codes = row[6]
        at = 7 + self.user.width
        user = self.user.build(row[7:at])
        user.jurisdiction = self.jurisdiction.build(row[at:at + self.jurisdiction.width])
        user.unit = self.unit.build(row[at + self.jurisdiction.width:])
        user._role_cache = frozenset(codes.split(",")) if codes else frozenset()
        return user, token


_token_query = _TokenQuery()


class TokenRow(NamedTuple):
    """What the token query reads of the token itself."""

    id: int
    touch: bool  # last used longer ago than TOKEN_TOUCH_INTERVAL
    revoked: bool
    expired: bool
    expires_at: object  # as the driver returns it; converted only to tell the caller when (`expiry_text`)
    scope: str

    def expiry_text(self) -> str:
        field = ApiToken._meta.get_field("expires_at")
        col, value = field.get_col(ApiToken._meta.db_table), self.expires_at
        for convert in connection.ops.get_db_converters(col) + field.get_db_converters(connection):
            value = convert(value, col, connection)
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def user_for_token(raw: str, method: str = "GET"):
    """The active user a live token belongs to, with jurisdiction, unit and roles, in one query; None for
    no such token (or an inactive user). A revoked or expired token is refused with 401, a read token
    used for anything but reading with 403, each saying why in Chinese — before anything is written.

    Every call reads the token row, so a token revoked a moment ago is refused on the very next call, in
    every process. The role grants come in the same statement and fill the user's per-instance role
    cache, which `User.roles` would otherwise fill with a second query on the first permission check.
    """
    now = clock.now()
    user, token = _token_query(ApiToken.hash(raw), now, now - TOKEN_TOUCH_INTERVAL)
    if user is None:
        return None
    if token.revoked:
        raise ApiError(401, TOKEN_REVOKED, "token_revoked")
    if token.expired:
        raise ApiError(401, TOKEN_EXPIRED.format(at=token.expiry_text()), "token_expired")
    if not user.is_active:
        return None
    if token.scope != TokenScope.WRITE and method not in SAFE_METHODS:
        raise ApiError(403, TOKEN_READ_ONLY, "token_scope")
    if user.is_superuser:  # as User.roles: a superuser is an administrator whether or not the grant exists
        user._role_cache |= {Role.ADMIN}
    if token.touch:
        # Written at most every few minutes: a read-mostly API should not write on every call.
        ApiToken.objects.filter(pk=token.id).update(last_used_at=now)
    return user


class TokenAuth(HttpBearer):
    """`Authorization: Bearer qq_…`, issued by `manage.py issue_token`."""

    def authenticate(self, request, token):
        if not token:
            return None
        return user_for_token(token.strip(), request.method)


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
