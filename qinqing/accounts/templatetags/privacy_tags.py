"""`{% personal obj "field" %}`: a phone number as the signed-in user may see it (qinqing.lib.privacy).

In full where the rule allows (a tel: link), otherwise masked; on an object's own page a staff member who may
see the object also gets a small 查看 form that reveals the number with a reason (qinqing.accounts.privacy_views).
In a list (`listing=True`) the list rule decides and no form is offered: one reveal at a time, from the page.
"""

from django import template

from qinqing.accounts.privacy_views import reveal_url
from qinqing.lib import privacy

register = template.Library()


@register.inclusion_tag("accounts/_personal.html", takes_context=True)
def personal(context, obj, name: str, listing: bool = False):
    user = context["request"].user
    field = privacy.personal_field(obj, name)
    value = field.value(obj)
    full = bool(value) and (privacy.may_see_personal(user) if listing else field.may_see(user, obj))
    return {
        "value": value if full else field.mask(value), "full": full, "field": field, "obj": obj,
        "kind": field.kind, "action": reveal_url(obj, name),
        "may_reveal": bool(value) and not full and not listing and user.is_staff_user,
        "csrf_token": context.get("csrf_token"),
    }
