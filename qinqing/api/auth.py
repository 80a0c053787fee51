"""Who is calling: a bearer token (scripts, other systems) or the browser session (logged-in staff)."""
# ruff: noqa: S608 - the token query names tables and columns from the models; the token is a parameter

from django.conf import settings
from django.db import connection
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from qinqing.accounts.models import TOKEN_TOUCH_INTERVAL, ApiToken, Jurisdiction, Role, RoleGrant, Unit, User
from qinqing.lib import clock

from .errors import ApiError


class _TokenQuery:
    """The one statement that authenticates a bearer token, written from the models' own names.

    Through the ORM (select_related of user, jurisdiction and unit, the role codes as a subquery) building
    and compiling this statement and converting its 36 columns took more CPU than anything else in an
    intake. As SQL composed once per process, with the user built by `User.objects.raw` (which converts its
    columns) and the jurisdiction and unit from their own prefixed columns with the ORM's converters, it
    costs a sixth. The token row is still read on every call: nothing about tokens is cached.
    """

    RELATED = {"qq_j_": Jurisdiction, "qq_u_": Unit}

    def __init__(self):
        self.vendor = ""

    def prepare(self) -> None:
        qn, vendor = connection.ops.quote_name, connection.vendor
        token, user = ApiToken._meta.db_table, User._meta.db_table
        join = "STRING_AGG(g.role, ',')" if vendor == "postgresql" else "GROUP_CONCAT(g.role, ',')"
        columns = [f"{qn(token)}.{qn('id')} AS qq_token_id",
                   f"({qn(token)}.last_used_at IS NULL OR {qn(token)}.last_used_at < %s) AS qq_touch",
                   f"(SELECT {join} FROM {qn(RoleGrant._meta.db_table)} g WHERE g.user_id = {qn(user)}.id) AS qq_roles"]
        self.related = []
        for prefix, model in self.RELATED.items():
            alias = prefix.rstrip("_")
            fields = []
            for field in model._meta.concrete_fields:
                columns.append(f"{alias}.{qn(field.column)} AS {prefix}{field.attname}")
                col = field.get_col(model._meta.db_table)
                fields.append((field.attname, connection.ops.get_db_converters(col)
                               + field.get_db_converters(connection), col))
            self.related.append((prefix, model, fields))
        self.sql = (
            f"SELECT {qn(user)}.*, {', '.join(columns)} FROM {qn(token)} "
            f"JOIN {qn(user)} ON {qn(user)}.id = {qn(token)}.user_id "
            f"LEFT JOIN {qn(Jurisdiction._meta.db_table)} qq_j ON qq_j.id = {qn(user)}.jurisdiction_id "
            f"LEFT JOIN {qn(Unit._meta.db_table)} qq_u ON qq_u.id = {qn(user)}.unit_id "
            f"WHERE {qn(token)}.digest = %s AND NOT {qn(token)}.revoked")
        self.vendor = vendor

    def user(self, digest: str, touch_before) -> tuple:
        """(user with jurisdiction, unit and role codes, token id, whether to touch last_used_at)."""
        if self.vendor != connection.vendor:
            self.prepare()
        rows = list(User.objects.raw(self.sql, [connection.ops.adapt_datetimefield_value(touch_before), digest]))
        if not rows:
            return None, None, False
        user = rows[0]
        extra = {name: user.__dict__.pop(name) for name in [n for n in user.__dict__ if n.startswith("qq_")]}
        for prefix, model, fields in self.related:
            values = []
            for attname, converters, col in fields:
                value = extra[prefix + attname]
                for convert in converters:
                    value = convert(value, col, connection)
                values.append(value)
            related = model.from_db(connection.alias, [f[0] for f in fields], values) if values[0] else None
            setattr(user, model._meta.model_name, related)
        codes = extra["qq_roles"]
        user._role_cache = frozenset(codes.split(",")) if codes else frozenset()
        return user, extra["qq_token_id"], bool(extra["qq_touch"])


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
