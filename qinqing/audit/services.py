"""Writing the administrative audit log. `record` is the one entry point: callers' services call it inside their
own transaction, so an entry exists exactly when the change it describes was committed."""

from django.http import HttpRequest

from .models import AuditEntry


def actor_label(user) -> str:
    """The actor as shown later, even after the account is renamed or deleted: login name and full name."""
    if user is None:
        return ""
    name = getattr(user, "full_name", "") or ""
    return f"{user.username}（{name}）" if name and name != user.username else user.username


def record(action: str, *, actor=None, request: HttpRequest | None = None, target: str = "",
           detail: dict | None = None) -> AuditEntry:
    """Append one entry to the audit log and return it.

    `actor` defaults to the request's signed-in user; the address comes from the request, read as the login
    lockout reads it (the proxy's last X-Forwarded-For entry behind HTTPS). Runs in the caller's transaction.
    """
    from qinqing.accounts.security import client_address  # security records logins here: import when used

    if actor is None and request is not None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            actor = user
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    ip = client_address(request) if request is not None else None
    return AuditEntry.objects.create(
        actor=actor, actor_label=actor_label(actor), action=action, target=str(target)[:300],
        detail=detail or {}, ip=ip or None)


NOT_FILTERS = {"format", "page"}  # how the rows were asked for, not which


def filters_of(query: str) -> dict:
    """A filter query string as the entry shows it: each parameter with its value (or values)."""
    from django.http import QueryDict

    params = QueryDict(query or "")
    return {k: v[0] if len(v) == 1 else v for k, v in params.lists() if any(v) and k not in NOT_FILTERS}


def record_export(what: str, *, actor, rows: int, query: str = "", request: HttpRequest | None = None,
                  **detail) -> AuditEntry:
    """An export (a file of many records leaving the system): what, under which filters, how many rows."""
    return record("export", actor=actor, request=request, target=what,
                  detail={"filters": filters_of(query), "rows": rows, **detail})
