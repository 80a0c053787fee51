"""The visit log's filters (方式, 企业确认, 企业): one place, read by the log page and by whatever lists visits next."""

from dataclasses import dataclass

from qinqing.enterprises.models import Enterprise

from .models import Confirmation, Form


@dataclass
class VisitFilters:
    """What the request asked for, each value already checked (an unknown value filters nothing)."""

    form: str = ""
    confirmation: str = ""
    enterprise: Enterprise | None = None
    enterprise_id: int | None = None


def read_filters(params, user) -> VisitFilters:
    """The filters in `params`. The enterprise is looked up among those the user may see, for its name on the
    page; an id the user may not see still filters (to nothing the user may see), never to everything."""
    chosen = VisitFilters()
    if params.get("form", "") in Form.values:
        chosen.form = params["form"]
    if params.get("confirmation", "") in Confirmation.values:
        chosen.confirmation = params["confirmation"]
    raw = params.get("enterprise", "")
    if raw.isascii() and raw.isdigit():
        chosen.enterprise_id = int(raw)
        chosen.enterprise = Enterprise.objects.visible_to(user).filter(pk=chosen.enterprise_id).only("pk", "name").first()
    return chosen


def apply_filters(visits, chosen: VisitFilters):
    """Narrow a queryset of visible visits."""
    if chosen.form:
        visits = visits.filter(form=chosen.form)
    if chosen.confirmation:
        visits = visits.filter(confirmation=chosen.confirmation)
    if chosen.enterprise_id is not None:
        visits = visits.filter(enterprise_id=chosen.enterprise_id)
    return visits
