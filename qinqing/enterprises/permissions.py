"""Who may change the registry, and where.

Administrators everywhere; dispatchers (营商办/联席办) within their jurisdiction's subtree. `user=None`
is the system itself (manage.py commands run by an operator on the server) and may do everything.
Reading follows Enterprise.objects.visible_to(user); these rules only add who may write.
"""

from qinqing.accounts.models import Role

NOTHING = "\x00"  # a path prefix no jurisdiction has


def is_registry_admin(user) -> bool:
    return user is None or user.is_superuser or user.has_role(Role.ADMIN)


def managed_scope(user) -> str | None:
    """None for "everywhere"; else the jurisdiction path prefix the user manages (NOTHING for none)."""
    if is_registry_admin(user):
        return None
    if user.is_authenticated and user.has_role(Role.DISPATCHER) and user.jurisdiction_id:
        return user.jurisdiction.path
    return NOTHING


def may_manage_registry(user) -> bool:
    return managed_scope(user) != NOTHING


def may_manage_place(user, jurisdiction) -> bool:
    scope = managed_scope(user)
    return scope is None or (scope != NOTHING and jurisdiction is not None and jurisdiction.path.startswith(scope))
