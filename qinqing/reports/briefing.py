"""The statistical paragraph of a report like seed 000's first section, written from the data.

"共走访区内民营企业930家（“四上”企业549家、“四下”存在困难的企业381家）。其中工业307家、……召开250次
宣讲会和座谈会……收集到企业反映的困难和问题2200件，涉及准入难110件、……，其它问题177件。截至目前，
已办结1606件，区级研究推进585件，移送市级研究9件。"

Visits and seminars come from `qinqing.visits.stats`, demands from `stats.demand_figures` (the ledger's
filter), so every number in the text is also a link to the list behind it.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q

from qinqing.accounts.models import Jurisdiction
from qinqing.enterprises.models import Sector
from qinqing.lib import clock

from .docs import OfficialDocument, cn_date, workbook
from .stats import DemandFigures, Period, demand_figures

OTHER = "其它"


@dataclass
class VisitFigures:
    enterprises: int
    four_above: int
    four_below: int
    by_sector: list[tuple[str, int]]
    seminars: int


@dataclass
class Briefing:
    jurisdiction: Jurisdiction
    period: Period
    as_of: dt.date
    visits: VisitFigures
    demands: DemandFigures

    @property
    def text(self) -> str:
        return briefing_text(self)

    def as_dict(self) -> dict:
        d = self.demands
        return {
            "jurisdiction": self.jurisdiction.name, "period": [self.period.start.isoformat(),
                                                               self.period.end.isoformat()],
            "enterprises": self.visits.enterprises, "four_above": self.visits.four_above,
            "four_below": self.visits.four_below, "by_sector": self.visits.by_sector,
            "seminars": self.visits.seminars, "demands": d.total.value,
            "by_category": [(i.label, i.value) for i in d.by_category],
            "closed": d.closed.value, "long_term": d.long_term.value, "transferred": d.transferred.value,
        }


def visit_figures(jurisdiction: Jurisdiction, period: Period) -> VisitFigures:
    from qinqing.visits.stats import seminars_held, visited_enterprises

    visited = visited_enterprises(period.start, period.end, jurisdiction)
    row = visited.aggregate(total=Count("pk"), four_above=Count("pk", filter=Q(is_four_above=True)))
    sectors = dict(visited.order_by().values_list("sector").annotate(n=Count("pk")))
    return VisitFigures(
        enterprises=row["total"], four_above=row["four_above"], four_below=row["total"] - row["four_above"],
        by_sector=[(label, sectors[value]) for value, label in Sector.choices if sectors.get(value)],
        seminars=seminars_held(period.start, period.end, jurisdiction))


def build_briefing(jurisdiction: Jurisdiction, start: dt.date, end: dt.date,
                   as_of: dt.date | None = None) -> Briefing:
    period = Period(start, end)
    return Briefing(jurisdiction, period, as_of or clock.today(), visit_figures(jurisdiction, period),
                    demand_figures(jurisdiction, period))


def _place(jurisdiction: Jurisdiction) -> str:
    return {"district": "区内", "city": "市内", "province": "省内", "town": "辖区内"}.get(jurisdiction.level, "")


def briefing_text(b: Briefing) -> str:
    v, d = b.visits, b.demands
    parts = [f"{b.period.label}，共走访{_place(b.jurisdiction)}民营企业{v.enterprises}家"
             f"（“四上”企业{v.four_above}家、“四下”存在困难的企业{v.four_below}家）。"]
    if v.by_sector:
        parts.append("其中" + "、".join(f"{label}{n}家" for label, n in v.by_sector) + "。")
    kinds = [i for i in d.by_category if i.label != OTHER]
    other = next((i for i in d.by_category if i.label == OTHER), None)
    problems = f"收集到企业反映的困难和问题{d.total.value}件"
    if kinds:
        problems += "，涉及" + "、".join(f"{i.label}{i.value}件" for i in kinds)
        if other:
            problems += f"，其它问题{other.value}件"
    elif other:
        problems += f"，均为其它问题{other.value}件"
    parts.append(f"召开{v.seminars}次宣讲会和座谈会，{problems}。")
    parts.append(f"截至{cn_date(b.as_of)}，已办结{d.closed.value}件，区级研究推进{d.long_term.value}件，"
                 f"移送市级研究{d.transferred.value}件。")
    if d.open.value:
        parts.append(f"尚在办理中{d.open.value}件。")
    return "".join(parts)


def briefing_docx(b: Briefing, issuer: str) -> bytes:
    doc = OfficialDocument()
    doc.head(issuer, f"{cn_date(b.as_of)}")
    doc.title(f"{b.jurisdiction.name}走访服务民营企业工作简报")
    doc.heading("一、总体情况")
    doc.paragraph(b.text)
    doc.heading("二、走访企业行业分布")
    doc.table(["行业", "走访企业（家）"], [*b.visits.by_sector, ("合计", b.visits.enterprises)])
    doc.heading("三、企业反映问题分类")
    d = b.demands
    doc.table(["类别", "问题（件）"], [*((i.label, i.value) for i in d.by_category), ("合计", d.total.value)])
    doc.heading("四、办理情况")
    doc.table(["办理情况", "件数"], [(i.label, i.value) for i in (d.closed, d.long_term, d.transferred, d.open)])
    doc.signature(issuer, b.as_of)
    return doc.bytes()


def briefing_xlsx(b: Briefing) -> bytes:
    d, v = b.demands, b.visits
    title = f"{b.jurisdiction.name} {b.period.label}"
    return workbook([
        ("简报文字", f"工作简报 {title}", ["简报文字"], [[b.text]]),
        ("走访企业", f"走访企业行业分布 {title}", ["行业", "走访企业（家）"],
         [*v.by_sector, ("合计", v.enterprises), ("其中：“四上”企业", v.four_above),
          ("“四下”企业", v.four_below), ("宣讲会和座谈会（次）", v.seminars)]),
        ("问题分类", f"企业反映问题分类 {title}", ["类别", "问题（件）"],
         [*((i.label, i.value) for i in d.by_category), ("合计", d.total.value)]),
        ("办理情况", f"办理情况（截至{cn_date(b.as_of)}）", ["办理情况", "件数"],
         [(i.label, i.value) for i in (d.closed, d.long_term, d.transferred, d.open)]),
    ])
