"""The hot-issue list as Excel: the rows the page shows under the same filters, one sheet."""

import datetime as dt

from qinqing.reports.docs import workbook

HEADERS = ["区域", "期间", "排名", "热度", "热点问题", "关键词", "地点", "涉及群体", "企业数", "诉求数", "近7天",
           "上期同类", "增长", "涉及单位", "代表性诉求", "研究推进"]


def export(issues, representatives: dict[int, list[str]], today: dt.date) -> bytes:
    rows = [[i.jurisdiction.name, i.period_label, i.rank, i.heat, i.title, "、".join(i.terms), i.place, i.group,
             i.enterprise_count, i.demand_count, i.recent_count, i.previous_count, i.growth,
             "、".join(f"{name}{n}件" for name, n in i.units), "、".join(representatives.get(i.pk, [])),
             "已转研究推进" if i.studied else ""] for i in issues]
    return workbook([("热点问题", f"热点问题（导出于{today:%Y-%m-%d}）", HEADERS, rows)])
