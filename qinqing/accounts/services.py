"""Changes to accounts that the audit log must show: revealing a masked number, issuing and revoking API tokens.

Each function checks permission, writes its audit entry (qinqing.audit.services.record) and runs in one
transaction, so an entry exists exactly when the change was committed. Refusals raise DomainError (or its
PermissionDeniedError) with a Chinese message and change nothing.
"""

from django.db import transaction

from qinqing.audit.services import record
from qinqing.demands.errors import DomainError, PermissionDeniedError
from qinqing.lib import clock, privacy
from qinqing.lib.text import clean_text

from .models import ApiToken, Role, TokenScope

REASON_MAX = 200
TOKEN_NAME_MAX = 60
TOKEN_DAYS_MAX = 366 * 2  # a token outliving two years of staff changes is a token nobody remembers


def clean_reason(reason: str | None, *, what: str) -> str:
    """A required reason of at most REASON_MAX characters, stripped of blanks and control characters (PostgreSQL's
    JSON refuses a NUL); `what` names it in the message."""
    reason = clean_text(reason or "").strip()
    if not reason:
        raise DomainError(f"请填写{what}。")
    if len(reason) > REASON_MAX:
        raise DomainError(f"{what}不能超过{REASON_MAX}个字（现为{len(reason)}个字）。")
    return reason


def describe(obj) -> str:
    """The audit entry's target: what was looked at, readable after the object changes."""
    if privacy.kind_of(obj) == "demand":
        return f"诉求 {obj.number}"
    return f"企业 {obj.credit_code} {obj.name}"


def reveal_personal(actor, obj, name: str, reason: str, *, request=None) -> str:
    """The full value of personal field `name` of `obj` (a demand or an enterprise), for a staff member who
    gives a reason; the reveal and its reason go to the audit log. The caller has fetched `obj` through
    visible_to(actor): reaching the object is the view's check, a reason and being staff are this one's."""
    field = privacy.personal_field(obj, name)
    reason = clean_reason(reason, what="查看原因")
    if not actor.is_staff_user:
        raise PermissionDeniedError("只有工作人员可以查看完整号码。")
    with transaction.atomic():
        record("reveal", actor=actor, request=request, target=describe(obj),
               detail={"field": field.name, "label": field.label, "reason": reason})
    return field.value(obj)


def may_manage_tokens(actor) -> bool:
    """Administrators issue and revoke tokens; None is an operator on the server (manage.py issue_token)."""
    return actor is None or actor.is_superuser or actor.has_role(Role.ADMIN)


def issue_token(actor, user, *, name: str = "", scope: str = TokenScope.READ, days: int | None = None,
                request=None) -> tuple[str, ApiToken]:
    """Issue an API token for `user` and return (raw token, its row); the raw value is stored nowhere.

    `days` defaults to QINQING_API_TOKEN_DAYS. The scope defaults to read: writing (intake, the verbs) must
    be asked for."""
    if not may_manage_tokens(actor):
        raise PermissionDeniedError("只有管理员可以签发API令牌。")
    if not user.is_active:
        raise DomainError(f"用户“{user.username}”已停用，不能签发令牌。")
    name = clean_text(name or "").strip()
    if len(name) > TOKEN_NAME_MAX:
        raise DomainError(f"令牌用途不能超过{TOKEN_NAME_MAX}个字。")
    if scope not in TokenScope.values:
        raise DomainError(f"令牌权限范围应为 {'、'.join(TokenScope.values)} 之一。")
    if days is not None and not 1 <= days <= TOKEN_DAYS_MAX:
        raise DomainError(f"令牌有效期应为1至{TOKEN_DAYS_MAX}天。")
    with transaction.atomic():
        raw = ApiToken.issue(user, name=name, scope=scope, days=days)
        token = ApiToken.objects.get(digest=ApiToken.hash(raw))
        record("token_issued", actor=actor, request=request, target=str(token),
               detail={"token": token.pk, "user": user.username, "scope": scope, "name": name,
                       "expires_at": token.expires_at.isoformat()})
    return raw, token


def revoke_token(actor, token: ApiToken, reason: str = "", *, request=None) -> bool:
    """Revoke `token`: refused on its very next call in every process (the token row is read on each call).
    False when it was already revoked (nothing written)."""
    if not may_manage_tokens(actor):
        raise PermissionDeniedError("只有管理员可以吊销API令牌。")
    reason = clean_text(reason or "").strip()[:REASON_MAX]
    with transaction.atomic():
        now = clock.now()
        changed = ApiToken.objects.filter(pk=token.pk, revoked=False).update(revoked=True, revoked_at=now)
        if not changed:
            return False
        token.revoked, token.revoked_at = True, now
        record("token_revoked", actor=actor, request=request, target=str(token),
               detail={"token": token.pk, "user": token.user.username, "reason": reason})
    return True
