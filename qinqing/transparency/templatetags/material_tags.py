"""`{% load material_tags %}`: an attachment's preview kind, and the forms of 补充材料 and 答复附件."""

from django import template

from qinqing.transparency import material

register = template.Library()


@register.filter
def preview_kind(attachment) -> str:
    return material.preview_kind(attachment.name)


@register.simple_tag
def follow_up_form():
    from qinqing.transparency.material_views import FollowUpForm

    return FollowUpForm()


@register.simple_tag
def may_attach_reply_files(user, demand) -> bool:
    from qinqing.demands.verbs import is_admin, is_lead_handler

    return demand.state in material.REPLY_FILE_STATES and (is_lead_handler(user, demand) or is_admin(user))


@register.simple_tag
def may_follow_up(demand) -> bool:
    return demand.state in material.FOLLOW_UP_STATES
