"""Who is calling: a bearer token (scripts, other systems) or the browser session (logged-in staff)."""

from django.conf import settings
from django.db import connection
from django.db.models.expressions import RawSQL
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from qinqing.accounts.models import TOKEN_TOUCH_INTERVAL, ApiToken, Role, RoleGrant
from qinqing.lib import clock

from .errors import ApiError


def _role_codes() -> RawSQL:
    """The token owner's role codes joined by commas, as a column of the token query.

    Written as SQL rather than an ORM subquery: compiling that subquery cost more CPU per request than the
    second query it saves. Role codes are slugs and never contain a comma.
    """
    qn = connection.ops.quote_name
    join = "STRING_AGG({}, ',')" if connection.vendor == "postgresql" else "GROUP_CONCAT({}, ',')"
    sql = (f"SELECT {join.format(qn('role'))} FROM {qn(RoleGrant._meta.db_table)} "  # noqa: S608 - our names
           f"WHERE {qn('user_id')} = {qn(ApiToken._meta.db_table)}.{qn('user_id')}")
    return RawSQL(sql, ())  # noqa: S611 - no input in it


def user_for_token(raw: str):
    """The active user a live token belongs to, with jurisdiction, unit and roles, in one query.

    Every call reads the token row, so a token revoked a moment ago is refused on the very next call, in
    every process: nothing about tokens is cached. The role grants come in the same statement (a
    correlated subquery) and fill the user's per-instance role cache, which `User.roles` would otherwise
    fill with a second query on the first permission check.
    """
    token = next(iter(
        ApiToken.objects.select_related("user__jurisdiction", "user__unit")
        .annotate(user_roles=_role_codes())
        .filter(digest=ApiToken.hash(raw), revoked=False).order_by()[:1]), None)
    if token is None or not token.user.is_active:
        return None
    user = token.user
    roles = frozenset(token.user_roles.split(",")) if token.user_roles else frozenset()
    # As User.roles: a superuser is an administrator whether or not the grant exists.
    user._role_cache = roles | {Role.ADMIN} if user.is_superuser else roles
    now = clock.now()
    if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_INTERVAL:
        # Written at most every few minutes: a read-mostly API should not write on every call.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
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
