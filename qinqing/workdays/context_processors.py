from qinqing.accounts.models import Role

from .calendar import unknown_years_ahead


def calendar_warning(request):
    """Administrators and dispatchers see, on every page, that a year's holiday arrangement is missing.

    Dispatchers too: the deadlines they set by dispatching (1231: one month to resolve) already run into
    that year in December. Only administrators can import it, so only they get the link to the admin.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    may_import = user.is_superuser or user.has_role(Role.ADMIN)
    if not (may_import or user.has_role(Role.DISPATCHER)):
        return {}
    return {"calendar_unknown_years": unknown_years_ahead(), "calendar_may_import": may_import}
