"""/api/v1/hotissues: the hot issues of a month, with the same filters as the leaders' page and its export.

Mounted by qinqing/api/api.py. Rows come only from HotIssue.objects.visible_to(user): leaders, dispatchers and
supervisors get their jurisdiction's, administrators all, anyone else an empty list.
"""

import datetime as dt

from ninja import Field, Query, Router, Schema

from qinqing.api.errors import ApiError
from qinqing.api.schemas import doc

from .filters import filter_hot_issues
from .models import HotIssueMember

router = Router(tags=["热点问题"])

MAX_LIMIT = 100
MAX_OFFSET = 100_000


class Error(Schema):
    detail: str = Field(description="给用户看的中文说明")
    code: str = Field(description="简短的错误代码，如 invalid_filter")


class Representative(Schema):
    number: str
    title: str
    similarity: float = Field(description="与本类中心的余弦相似度（0～1）")


class HotIssueOut(Schema):
    id: int
    jurisdiction: str = Field(description="区域名称")
    jurisdiction_code: str
    period_start: dt.date
    period_end: dt.date
    rank: int = Field(description="本区域本月按热度的排名")
    heat: float = Field(description="热度，见列表页“热度怎么算”")
    title: str = Field(description="自动生成的标题：地点、涉及群体、关键词")
    terms: list[str]
    place: str
    group: str
    enterprise_count: int
    demand_count: int
    recent_count: int = Field(description="期末7天内的诉求数")
    previous_count: int = Field(description="上期同类诉求数")
    growth: float = Field(description="(本期−上期)÷(本期+上期)，−1～1")
    units: list[tuple[str, int]] = Field(description="[主办单位, 件数]")
    trend: list[tuple[dt.date, int]] = Field(description="[日期, 件数]，期间内每天")
    representatives: list[Representative]
    studied: bool = Field(description="已转区级研究推进")


class HotIssuePage(Schema):
    items: list[HotIssueOut]
    next: int | None = Field(description="下一页的 offset；没有更多时为 null")


class HotIssueFilters(Schema):
    month: str | None = Field(None, description="月份 YYYY-MM；缺省为最近计算的月份",
                              **doc(pattern=r"^(20\d{2}|2100)-(0?[1-9]|1[0-2])$", examples=["2026-12"]))
    jurisdiction: str | None = Field(None, description="区域代码（含下辖区域）", **doc(maxLength=20))
    q: str | None = Field(None, description="标题包含的文字", **doc(maxLength=60, examples=["招工"]))
    min_enterprises: int | None = Field(None, description="企业数不少于", **doc(minimum=1, maximum=100000))


@router.get("", response={200: HotIssuePage, 400: Error, 401: Error}, summary="热点问题列表")
def list_hot_issues(request, filters: Query[HotIssueFilters], limit: int = Query(50, ge=1, le=MAX_LIMIT),
                    offset: int = Query(0, ge=0, le=MAX_OFFSET)):
    """The caller's hot issues of one month, by jurisdiction and rank; page with `limit` (≤100) and `next`."""
    qs, form, _month = filter_hot_issues(request.auth, request.GET)
    if form.is_bound and form.errors:
        raise ApiError(400, "筛选条件有误：" + "；".join(f"{form.fields[k].label}：{' '.join(v)}"
                                                   for k, v in form.errors.items()), "invalid_filter")
    rows = list(qs[offset:offset + limit + 1])
    page, has_next = rows[:limit], len(rows) > limit
    reps: dict[int, list[dict]] = {}
    for m in (HotIssueMember.objects.filter(hot_issue__in=[i.pk for i in page], representative=True)
              .select_related("demand").order_by("hot_issue", "-similarity", "demand_id")):
        reps.setdefault(m.hot_issue_id, []).append(
            {"number": m.demand.number, "title": m.demand.title, "similarity": m.similarity})
    items = [{"id": i.pk, "jurisdiction": i.jurisdiction.name, "jurisdiction_code": i.jurisdiction.code,
              "period_start": i.period_start, "period_end": i.period_end, "rank": i.rank, "heat": i.heat,
              "title": i.title, "terms": i.terms, "place": i.place, "group": i.group,
              "enterprise_count": i.enterprise_count, "demand_count": i.demand_count,
              "recent_count": i.recent_count, "previous_count": i.previous_count, "growth": i.growth,
              "units": i.units, "trend": i.trend, "representatives": reps.get(i.pk, []), "studied": i.studied}
             for i in page]
    return {"items": items, "next": offset + limit if has_next else None}
