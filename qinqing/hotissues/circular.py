"""The 热点问题 section of the monthly circular (qinqing.reports.circulars): the month's top hot issues of the
jurisdiction's subtree as stored by the worker (computed for last month in the night before the circular is
issued), as plain rows the snapshot keeps, so that a stored circular reproduces without recomputing."""

from qinqing.accounts.models import Jurisdiction

from .models import HotIssue, PolicyStudy

SHOWN = 5
HEADERS = ["排名", "热点问题", "企业数", "诉求数", "热度", "涉及单位", "研究推进"]


def rows(jurisdiction: Jurisdiction, start) -> list[list]:
    """The top SHOWN hot issues of the month starting `start`, hottest first, with the units involved."""
    issues = list(HotIssue.objects.filter(jurisdiction__path__startswith=jurisdiction.path, period_start=start)
                  .order_by("-heat", "pk")[:SHOWN])
    studied = set(PolicyStudy.objects.filter(hot_issue__in=issues).values_list("hot_issue_id", flat=True))
    return [[n, i.title, i.enterprise_count, i.demand_count, i.heat,
             "、".join(f"{name}{count}件" for name, count in i.units[:3]),
             "已转区级研究推进" if i.pk in studied else ""] for n, i in enumerate(issues, start=1)]


def text(data: dict) -> str:
    shown = data["hot_issues"]
    enterprises = sum(r[2] for r in shown)
    return (f"本月经系统归类，多家企业集中反映的同类问题共{len(shown)}个（涉及企业{enterprises}家次），"
            f"按热度排列如下。请牵头单位从“解决一类问题”着手研究，必要时转区级研究推进，以政策回应同类诉求。")
