"""Demo 热点问题: the district's hot issues of its last three months, computed from the demo demands the way the
worker computes them (qinqing.hotissues.services), and the hottest issue of the last complete month turned into
a 区级研究推进 policy study by the district's first dispatcher, so the leaders' page, a hot issue's page, a
study and the demands' link to it all have something to show.

The demo's demands are told from templates (qinqing.demo.texts) by many enterprises, so the same problem
raised by several factories in a month clusters as it would in a real district. Deterministic: the clustering
is seeded and the demands are."""

import datetime as dt

from django.db.models import Max

from qinqing.demands.models import Demand
from qinqing.hotissues import services
from qinqing.hotissues.models import HotIssue

MONTHS = 3


def build(the_org, step) -> None:
    district = the_org.district
    latest = Demand.objects.filter(jurisdiction__path__startswith=district.path).aggregate(m=Max("received_at"))["m"]
    if latest is None:
        return
    today = latest.date()
    months, start = [], today.replace(day=1)
    for _ in range(MONTHS):
        months.append(services.month_of(start))
        start = (start - dt.timedelta(days=1)).replace(day=1)
    found = sum(len(services.compute_hot_issues(district, first, last, today)) for first, last in months)
    complete = months[1][0] if len(months) > 1 else months[0][0]
    top = HotIssue.objects.filter(jurisdiction=district, period_start=complete).order_by("rank").first()
    if top is not None:
        services.start_policy_study(the_org.dispatchers[0], top, title=f"{top.title[:40]}专项研究",
                                    note="梳理同类诉求的共性原因，研究出台针对性政策措施，统一答复相关企业。")
    step(f"热点问题已计算：近{MONTHS}个月{found}个" + ("，最热的一个已转区级研究推进" if top else ""))
