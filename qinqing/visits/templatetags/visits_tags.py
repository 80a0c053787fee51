"""The visits panel other pages include: a cadre's "due this week" on the workbench."""

from django import template

from qinqing.lib import clock

from ..models import Cadre
from ..queries import due_by_sunday, week_end

register = template.Library()

PANEL_ROWS = 5


@register.inclusion_tag("visits/_home_due.html", takes_context=True)
def visits_due_panel(context):
    """The user's current duties with a contact or visit due by Sunday, soonest first.

    One query (a cadre holds at most a few hundred enterprises, so all due rows are read and counted
    here); a second one only when nothing is due, to tell a cadre with a clear week from a non-cadre.
    """
    user = context["request"].user
    today = clock.today()
    rows = due_by_sunday(today).filter(cadre__user=user).values_list(
        "enterprise_id", "enterprise__name", "next_contact_due", "next_visit_due", "first_due")
    items = [{"enterprise_id": pk, "name": name, "contact_due": contact_due, "visit_due": visit_due,
              "first_due": first, "late": first < today}
             for pk, name, contact_due, visit_due, first in rows]
    is_cadre = bool(items) or Cadre.objects.filter(user=user).exists()
    return {"is_cadre": is_cadre, "items": items[:PANEL_ROWS], "total": len(items),
            "late": sum(r["late"] for r in items), "more": max(0, len(items) - PANEL_ROWS),
            "week_end": week_end(today), "today": today}


@register.simple_tag(takes_context=True)
def visits_oversees(context) -> bool:
    """Does the user oversee a jurisdiction's duties (包联关系, 履职预警)? Cadres who do not only see their own."""
    from ..visibility import oversees

    return oversees(context["request"].user)
