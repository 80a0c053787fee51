"""The unread count shown in both headers (staff and portal): one indexed COUNT per page."""

from django import template

from qinqing.notifications.services import UNREAD_CAP
from qinqing.notifications.services import unread_count as _unread_count

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_count(context) -> int | str:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None:
        return 0
    cached = getattr(request, "_unread_notifications", None)
    if cached is None:
        count = _unread_count(user)
        cached = request._unread_notifications = f"{UNREAD_CAP}+" if count > UNREAD_CAP else count
    return cached
