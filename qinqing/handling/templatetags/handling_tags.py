"""The demand page's 承办人与关注 card, the 常用语 picker and the lists' bulk action bar (qinqing.handling)."""

from html import escape as esc

from django import template
from django.urls import reverse

from qinqing.handling import services
from qinqing.handling.models import Assignment, Watch
from qinqing.lib.tables import Column

register = template.Library()


@register.inclusion_tag("handling/_demand_people.html", takes_context=True)
def demand_people(context, demand):
    """Who handles the demand, who follows it, and the forms the viewer may use: assign, watch, urge, note."""
    user = context["request"].user
    assignment = (Assignment.objects.filter(demand_id=demand.pk, unit_id=demand.lead_unit_id)
                  .select_related("assignee").first() if demand.lead_unit_id else None)
    watchers = list(Watch.objects.filter(demand_id=demand.pk).select_related("user").order_by("created_at"))
    may_assign = services.refuse_assign(user, demand) is None
    return {
        "demand": demand,
        "assignment": assignment,
        "watchers": watchers,
        "watching": any(w.user_id == user.pk for w in watchers),
        "may_assign": may_assign,
        "handlers": list(services.assignable_handlers(demand)) if may_assign else [],
        "may_urge": services.refuse_urge(user, demand) is None,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("handling/_canned_picker.html")
def canned_picker(demand):
    """The canned replies offered on this demand, their placeholders filled in, to pick into the reply."""
    replies = [(r, services.fill_placeholders(r.text, demand)) for r in services.replies_for(demand)[:50]]
    return {"replies": replies, "demand": demand}


# ---------------------------------------------------------------- bulk actions on a list itself

BULK_FORM_ID = "bulk-form"


def _pick_html(row, ctx) -> str:
    number = esc(row["number"])
    return (f'<input type="checkbox" name="pick" value="{number}" form="{BULK_FORM_ID}" data-pick '
            f'aria-label="选择{number}">')


# The tick box of a row, a column of the demand table like the others (it reads only the number every table
# reads), so the rows are still rendered in one pass and the list's query count does not change.
PICK = Column("pick", "选择", ("number",), lambda r: r["number"], _pick_html, css="c-pick")


@register.simple_tag
def pick_columns(keys=None):
    """The demand table's chosen columns (qinqing.demands.columns) after a tick-box column for bulk actions."""
    from qinqing.demands.columns import chosen

    return [PICK, *chosen(keys)]


@register.inclusion_tag("handling/_bulk_bar.html", takes_context=True)
def bulk_bar(context, source: str):
    """The action bar above a list's table: 交办到单位 / 催办 / 指派承办人 / 导出所选 for the ticked rows, posted
    to the bulk page (views.bulk) with the list's filters and page, which come back to the list after."""
    request = context["request"]
    user = request.user
    units, handlers = services.bulk_choices(user)
    query = request.GET.copy()
    query["source"] = source
    return {
        "form_id": BULK_FORM_ID,
        "action": f"{reverse('handling:bulk')}?{query.urlencode()}",
        "units": units,
        "handlers": handlers,
        "may_dispatch": bool(units),
        "may_assign": bool(handlers),
        "may_urge": services.may_bulk_urge(user),
        "max": services.BULK_MAX,
        "csrf_token": context.get("csrf_token"),
    }
