"""The enterprise's side: 为您匹配的政策 (with the estimated benefit and the days left to apply), then every
other current policy that applies where it is registered, and one policy's text and interpretation."""

from django.http import Http404
from django.shortcuts import get_object_or_404, render

from qinqing.lib import clock, uploads
from qinqing.portal.views import portal_page

from . import matching, reach
from .models import Policy, PolicyAttachment, PolicyOpen


def _current(user):
    return Policy.objects.visible_to(user).select_related("jurisdiction").order_by("apply_closes", "-pk")


@portal_page
def my_policies(request):
    """Two queries for the lists: the current policies, then one row of the enterprise with every rule."""
    user = request.user
    policies = list(_current(user))
    matches = matching.policies_for(user.enterprise, policies)
    matched_ids = {m.policy.pk for m in matches}
    today = clock.today()
    for m in matches:
        m.days_left = m.policy.days_left(today)
    others = [p for p in policies if p.pk not in matched_ids]
    return render(request, "policies/portal_list.html", {"matches": matches, "others": others, "today": today})


@portal_page
def policy_page(request, pk):
    policy = get_object_or_404(_current(request.user), pk=pk)
    found = matching.policies_for(request.user.enterprise, [policy])
    reach.record_open(policy, request.user.enterprise_id, PolicyOpen.Via.PAGE)
    return render(request, "policies/portal_detail.html", {
        "policy": policy, "files": list(policy.attachments.order_by("uploaded_at", "pk")), "match": found[0] if found else None, "days_left": policy.days_left()})


@portal_page
def policy_file(request, pk):
    """An attachment of a policy the enterprise may see (current, applying where it is); 404 otherwise."""
    item = get_object_or_404(PolicyAttachment.objects.filter(policy__in=Policy.objects.visible_to(request.user)),
                             pk=pk)
    try:
        return uploads.stored_file_response(item.file, item.name, inline=True)
    except FileNotFoundError:
        raise Http404("附件文件已丢失") from None
