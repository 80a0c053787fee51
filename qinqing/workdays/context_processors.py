from .calendar import unknown_years_ahead


def calendar_warning(request):
    """Administrators see, on every page, that a year's holiday arrangement is missing."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not (user.is_superuser or user.has_role("admin")):
        return {}
    return {"calendar_unknown_years": unknown_years_ahead()}
