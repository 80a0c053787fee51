"""The statistical paragraph of a report like seed 000's first section, written from the data.

"共走访区内民营企业930家（“四上”企业549家、“四下”存在困难的企业381家）。其中工业307家、……召开250次
宣讲会和座谈会……收集到企业反映的困难和问题2200件，涉及准入难110件、……，其它问题177件。截至目前，
已办结1606件，区级研究推进585件，移送市级研究9件。"

Visits and seminars come from `qinqing.visits.stats`, demands from `stats.demand_figures` (the ledger's
filter), so every number in the text is also a link to the list behind it.

走访 counts the enterprises visited on site (and met, when the deployment counts 会见 as 走访); those only
phoned or called by video are a clause of their own ("另电话、视频联系N家"), see `qinqing.visits.stats`.
The outcome clauses are `stats.OUTCOME_CLAUSES`: every demand collected is in exactly one of them, so they
add up to the total. The text names 已办结, 区级研究推进 and 移送市级研究 always (as seed 000 does) and
已答复待评价 and 尚在办理中 only when there are some.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q

from qinqing.accounts.models import Jurisdiction
from qinqing.enterprises.models import Sector
from qinqing.lib import clock

from .docs import OfficialDocument, cn_date, workbook
from .stats import OUTCOME_CLAUSES, Clause, DemandFigures, Item, Period, demand_figures

OTHER = "其它"
# How the text words a clause, where it differs from the ledger's label; which clauses it names at zero.
PHRASES = {"open": "尚在办理中"}
ALWAYS_NAMED = ("closed", "long_term", "transferred")


@dataclass
class VisitFigures:
    enterprises: int
    four_above: int
    four_below: int
    by_sector: list[tuple[str, int]]
    seminars: int
    contacted: int  # enterprises reached in the period only by the other forms, never visited (visits.stats)
    contact_label: str  # how the text names those forms: "电话、视频", or "电话、视频、会见"


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

    @property
    def policy_text(self) -> str:
        """Seed 002's sentence for the period and jurisdiction, written from the fulfilment ledger
        (qinqing.fulfilment.ledger): "已落实N项惠企政策，涉及…金额共X万元，惠及企业Y户。" """
        from qinqing.fulfilment.ledger import place_sentence

        return place_sentence(self.jurisdiction, self.period.start, self.period.end)

    @property
    def outcomes(self) -> list[tuple[Clause, str, Item]]:
        """(clause, words, figure) for every outcome clause in order; the figures add up to the total."""
        return [(c, PHRASES.get(c.key, c.label), getattr(self.demands, c.key)) for c in OUTCOME_CLAUSES]

    @property
    def notes(self) -> list[str]:
        """How each figure is counted, for the page (the formula itself is drawn with its links)."""
        from qinqing.visits.stats import visit_rule

        clauses = "；".join(f"{words}：{c.meaning}" for c, words, _ in self.outcomes)
        return [
            visit_rule(),
            "收集口径：统计期内受理（按受理时间）、属地在本区划内的诉求；重复反映经并单并入原诉求的不计入"
            f"（本期并单{self.demands.merged.value}件）。",
            f"办理情况口径：按生成时各诉求的当前状态，每件诉求计入且只计入一项。{clauses}。"
            "“已答复待评价”“尚在办理中”为零时简报文字不写。",
        ]

    def as_dict(self) -> dict:
        d = self.demands
        return {
            "jurisdiction": self.jurisdiction.name, "period": [self.period.start.isoformat(),
                                                               self.period.end.isoformat()],
            "enterprises": self.visits.enterprises, "four_above": self.visits.four_above,
            "four_below": self.visits.four_below, "by_sector": self.visits.by_sector,
            "seminars": self.visits.seminars, "demands": d.total.value,
            "by_category": [(i.label, i.value) for i in d.by_category],
            "contacted": self.visits.contacted,
            **{c.key: item.value for c, _, item in self.outcomes}, "merged": d.merged.value,
        }


def visit_figures(jurisdiction: Jurisdiction, period: Period) -> VisitFigures:
    from qinqing.visits.stats import contact_label, contacted_only, seminars_held, visited_enterprises

    visited = visited_enterprises(period.start, period.end, jurisdiction)
    row = visited.aggregate(total=Count("pk"), four_above=Count("pk", filter=Q(is_four_above=True)))
    sectors = dict(visited.order_by().values_list("sector").annotate(n=Count("pk")))
    return VisitFigures(
        enterprises=row["total"], four_above=row["four_above"], four_below=row["total"] - row["four_above"],
        by_sector=[(label, sectors[value]) for value, label in Sector.choices if sectors.get(value)],
        seminars=seminars_held(period.start, period.end, jurisdiction),
        contacted=contacted_only(period.start, period.end, jurisdiction).count(), contact_label=contact_label())


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
    if v.contacted:
        parts.append(f"另{v.contact_label}联系{v.contacted}家。")
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
    named = [f"{words}{item.value}件" for c, words, item in b.outcomes if c.key in ALWAYS_NAMED or item.value]
    parts.append(f"截至{cn_date(b.as_of)}，" + "，".join(named) + "。")
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
    doc.table(["办理情况", "件数"], [*((words, i.value) for _, words, i in b.outcomes), ("合计", d.total.value)])
    doc.signature(issuer, b.as_of)
    return doc.bytes()


def briefing_xlsx(b: Briefing) -> bytes:
    d, v = b.demands, b.visits
    title = f"{b.jurisdiction.name} {b.period.label}"
    return workbook([
        ("简报文字", f"工作简报 {title}", ["简报文字"], [[b.text]]),
        ("走访企业", f"走访企业行业分布 {title}", ["行业", "走访企业（家）"],
         [*v.by_sector, ("合计", v.enterprises), ("其中：“四上”企业", v.four_above),
          ("“四下”企业", v.four_below), (f"另{v.contact_label}联系（家）", v.contacted),
          ("宣讲会和座谈会（次）", v.seminars)]),
        ("问题分类", f"企业反映问题分类 {title}", ["类别", "问题（件）"],
         [*((i.label, i.value) for i in d.by_category), ("合计", d.total.value)]),
        ("办理情况", f"办理情况（截至{cn_date(b.as_of)}）", ["办理情况", "件数"],
         [*((words, i.value) for _, words, i in b.outcomes), ("合计", d.total.value)]),
    ])
