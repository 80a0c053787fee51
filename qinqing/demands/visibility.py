"""Who may see which demand. Every list, page and API endpoint goes through `visible_to`."""

from django.db.models import Exists, OuterRef, Q

from qinqing.accounts.models import Role
from qinqing.enterprises.models import Helpers


def demand_visibility_q(user):
    """A Q selecting the demands `user` may see, or None for "everything" (administrators)."""
    from .models import Demand

    if not user or not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_superuser or user.has_role(Role.ADMIN):
        return None
    q = Q(pk__in=[])
    if user.is_staff_user:
        q |= Q(first_receiver=user)  # 首接负责: whoever took a demand in follows it
    if user.has_role(Role.ENTERPRISE) and user.enterprise_id:
        # Not a level's linked copy of a handed-over demand (qinqing.handoffs): the enterprise follows the original.
        q |= Q(enterprise_id=user.enterprise_id, handed_from__isnull=True)
    if user.has_role(Role.DISPATCHER, Role.SUPERVISOR, Role.LEADER) and user.jurisdiction_id:
        q |= Q(jurisdiction__path__startswith=user.jurisdiction.path)
    if user.has_role(Role.SPECIALIST):
        q |= Q(enterprise_id__in=Helpers.objects.held_by(user).values("enterprise_id"))
    if user.has_role(Role.HANDLER, Role.UNIT_HEAD) and user.unit_id:
        co = Demand.co_units.through.objects.filter(demand_id=OuterRef("pk"), unit_id=user.unit_id)
        q |= Q(lead_unit_id=user.unit_id) | Exists(co)
    return q
