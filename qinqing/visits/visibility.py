"""Who may see which assignments, visits and campaigns.

Staff of a jurisdiction (dispatchers, supervision, leaders) see everything about enterprises in their
subtree; a cadre sees their own assignments and the visits to enterprises they serve or took part in;
an enterprise sees only its own helpers and visits.
"""

from django.db.models import Q

from qinqing.accounts.models import Role

JURISDICTION_ROLES = (Role.DISPATCHER, Role.SUPERVISOR, Role.LEADER)


def is_admin(user) -> bool:
    return user.is_superuser or user.has_role(Role.ADMIN)


def _scope(user) -> str | None:
    """The jurisdiction path a staff user oversees, or None."""
    if user.has_role(*JURISDICTION_ROLES) and user.jurisdiction_id:
        return user.jurisdiction.path
    return None


def oversees(user) -> bool:
    """Does the user see a jurisdiction's duties (包联关系, 履职预警) rather than only their own?"""
    return is_admin(user) or _scope(user) is not None


def assignments_visible_to(qs, user):
    if not user.is_authenticated:
        return qs.none()
    if is_admin(user):
        return qs
    q = Q(cadre__user=user)
    if path := _scope(user):
        q |= Q(enterprise__jurisdiction__path__startswith=path)
    if user.has_role(Role.ENTERPRISE) and user.enterprise_id:
        q |= Q(enterprise_id=user.enterprise_id, ended_on__isnull=True)
    return qs.filter(q)


def visits_visible_to(qs, user):
    if not user.is_authenticated:
        return qs.none()
    if is_admin(user):
        return qs
    from .models import Assignment, Visit

    q = Q(pk__in=Visit.visitors.through.objects.filter(user_id=user.pk).values("visit_id"))
    q |= Q(enterprise_id__in=Assignment.objects.current().filter(cadre__user=user).values("enterprise_id"))
    if path := _scope(user):
        q |= Q(enterprise__jurisdiction__path__startswith=path)
    if user.has_role(Role.ENTERPRISE) and user.enterprise_id:
        q |= Q(enterprise_id=user.enterprise_id)
    return qs.filter(q)


def campaigns_visible_to(qs, user):
    if not user.is_authenticated or not user.is_staff_user:
        return qs.none()
    if is_admin(user):
        return qs
    q = Q(groups__members=user) | Q(groups__leader=user)
    if path := _scope(user):
        q |= Q(jurisdiction__path__startswith=path)
    from .models import Campaign

    return qs.filter(pk__in=Campaign.objects.filter(q).values("pk"))


def seminars_visible_to(qs, user):
    if not user.is_authenticated or not user.is_staff_user:
        return qs.none()
    if is_admin(user):
        return qs
    if path := _scope(user):
        return qs.filter(jurisdiction__path__startswith=path)
    return qs.filter(recorded_by=user)
