"""The 惠企政策 section of the enterprise's 360° page: the current policies it qualifies for, with estimates.

Two queries whatever the library holds: the policies the user sees that apply where the enterprise is, then
the enterprise's rows of the stored match table (matching.policies_for)."""

from django.urls import reverse

from qinqing.lib import clock

from . import matching
from .models import Policy


def policies(user, enterprise) -> dict:
    candidates = list(Policy.objects.visible_to(user).current().applying_in(enterprise.jurisdiction)
                      .order_by("apply_closes", "-pk"))
    matches = matching.policies_for(enterprise, candidates)
    today = clock.today()
    for m in matches:
        m.days_left = m.policy.days_left(today)
    open_now = sum(1 for m in matches if m.days_left is not None and m.days_left >= 0)
    cards = [{"count": len(matches), "label": "可享政策", "url": "#policies", "tone": "green" if matches else "",
              "hint": f"{open_now}项正在申报" if open_now else "暂无正在申报的"}]
    return {"matches": matches, "candidates": len(candidates), "cards": cards,
            "list_url": reverse("policies:list")}
