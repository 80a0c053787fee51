"""The three circulars of seed 000's supervision mechanism ("定期通报"), as data and as documents.

* weekly summary (每周工作简报) to the joint office: demands received and finished in the week, by kind,
  what is overdue now, per unit;
* half-monthly circular (半月通报): visits, problems, solutions and satisfaction callbacks of the half month;
* monthly overdue circular (超期事项月度通报): every demand past its deadline, unit by unit, until closed.

`snapshot(kind, jurisdiction, period)` computes the figures with database aggregates and returns plain
JSON-able data; `render_word` / `render_excel` turn a snapshot into files without touching the database,
which is what makes a stored circular reproducible.
"""

import datetime as dt
from collections import defaultdict

from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q

from qinqing.accounts.models import Jurisdiction, Unit
from qinqing.demands.models import OPEN_STATES, Category, Demand, Stage, State, Urging
from qinqing.handoffs.models import HandOff
from qinqing.handoffs.services import handoff_counts
from qinqing.lib import clock
from qinqing.workdays import calendar as workcal

from . import rates, stats
from .docs import OfficialDocument, cn_date, workbook
from .models import CircularKind

OVERDUE_ROWS = 2000  # details listed in a monthly circular; the rest are counted and linked
UNIT_ROWS = 200


def period_for(kind: str, day: dt.date) -> stats.Period:
    """The last complete period of a kind before `day` (what the scheduled job reports on)."""
    if kind == CircularKind.WEEKLY:
        monday = day - dt.timedelta(days=day.weekday())
        return stats.Period(monday - dt.timedelta(days=7), monday - dt.timedelta(days=1))
    first = day.replace(day=1)
    if kind == CircularKind.HALF_MONTHLY:
        if day.day > 15:
            return stats.Period(first, first.replace(day=15))
        prev_end = first - dt.timedelta(days=1)
        return stats.Period(prev_end.replace(day=16), prev_end)
    prev_end = first - dt.timedelta(days=1)
    return stats.Period(prev_end.replace(day=1), prev_end)


def issuer_for(kind: str, jurisdiction: Jurisdiction) -> str:
    if kind == CircularKind.MONTHLY:
        return f"{jurisdiction.name}督查室"
    return f"{jurisdiction.name}民营经济联席会议办公室"


def title_for(kind: str, jurisdiction: Jurisdiction, period: stats.Period) -> str:
    if kind == CircularKind.WEEKLY:
        return f"{jurisdiction.name}涉企诉求办理情况周报（{period.label}）"
    if kind == CircularKind.HALF_MONTHLY:
        return f"关于{period.label}走访服务民营企业及问题办理情况的通报"
    return f"关于{period.end.year}年{period.end.month}月超期未办结涉企诉求的通报"


def _one_pass(jurisdiction: Jurisdiction, period: stats.Period, today: dt.date):
    """Everything a circular counts on the demand table, in one GROUP BY lead unit over the scope (one
    read of the table, the expensive part at province scale): the period's received demands per top-level
    category and per state; per lead unit, received and replied in the period, open and overdue now; and
    the period's replies, on-time replies and closures (only a lead unit replies or closes, so the units
    add up to them). Rows no figure counts are left out before grouping; a few thousand groups at most."""
    start, end = stats.local_bounds(period)
    # A demand handed between levels (qinqing.handoffs) is one demand: its linked copy at the receiving level is
    # counted there under 移入, not received again, and its closure is the hand-back, not a 销号; a reply handed
    # back counts once in a scope holding both levels (the receiving level's own), once in the sender's alone.
    original = Q(handed_from__isnull=True)
    answered_inside = Exists(HandOff.objects.filter(source_id=OuterRef("pk"), status=HandOff.Status.ANSWERED,
                                                    to_jurisdiction__path__startswith=jurisdiction.path))
    received = Q(received_at__gte=start, received_at__lt=end) & ~Q(state=State.MERGED) & original
    replied = Q(replied_at__gte=start, replied_at__lt=end) & ~Q(answered_inside)
    closed = Q(closed_at__gte=start, closed_at__lt=end, state=State.CLOSED) & original
    open_ = Q(state__in=OPEN_STATES)
    overdue = Q(due_order__lt=today)
    under: dict[int, list[int]] = defaultdict(list)  # top-level category → itself and its children
    for pk, parent in Category.objects.values_list("pk", "parent_id"):
        under[parent or pk].append(pk)
    measures = {
        "received": Count("pk", filter=received), "replied": Count("pk", filter=replied),
        "replied_ontime": Count("pk", filter=replied & Q(replied_at__date__lte=F("resolve_due"))),
        "closed": Count("pk", filter=closed), "open": Count("pk", filter=open_),
        "overdue": Count("pk", filter=overdue),
        "merged": Count("pk", filter=Q(received_at__gte=start, received_at__lt=end, state=State.MERGED) & original),
        **{f"state_{i}": Count("pk", filter=received & Q(state=value)) for i, value in enumerate(stats.COUNTED_STATES)},
        **{f"top_{top}": Count("pk", filter=received & Q(category_id__in=ids)) for top, ids in under.items()},
    }
    rows = list(Demand.objects.filter(jurisdiction__path__startswith=jurisdiction.path)
                .filter(Q(received_at__gte=start, received_at__lt=end) | Q(replied_at__gte=start, replied_at__lt=end)
                        | closed | open_ | overdue)
                .values("lead_unit_id").order_by().annotate(**measures))
    by_top = {top: sum(r[f"top_{top}"] for r in rows) for top in under}
    states = {value: sum(r[f"state_{i}"] for r in rows) for i, value in enumerate(stats.COUNTED_STATES)}
    states[State.MERGED] = sum(r["merged"] for r in rows)  # reported apart, not in the total
    figures = stats.figures_from_counts(jurisdiction, period, by_top, states)
    units = [r for r in rows if r["lead_unit_id"] is not None]
    totals = {k: sum(u[k] for u in units) for k in ("replied", "replied_ontime", "closed")}
    shown = sorted((u for u in units if u["received"] or u["replied"] or u["open"]),
                   key=lambda u: (-u["overdue"], -u["received"]))[:UNIT_ROWS]
    names = dict(Unit.objects.filter(pk__in=[u["lead_unit_id"] for u in shown]).values_list("pk", "name"))
    table = [[names.get(u["lead_unit_id"], ""), u["received"], u["replied"], u["open"], u["overdue"]] for u in shown]
    return figures, table, totals


def snapshot(kind: str, jurisdiction: Jurisdiction, period: stats.Period, today: dt.date | None = None) -> dict:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # A few large GROUP BYs: compiling them to machine code (JIT) costs seconds and saves less.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        return _snapshot(kind, jurisdiction, period, today)


def _snapshot(kind: str, jurisdiction: Jurisdiction, period: stats.Period, today: dt.date | None) -> dict:
    today = today or clock.today()
    figures, units, finished = _one_pass(jurisdiction, period, today)
    overdue = stats.overdue_by_stage(jurisdiction, today)
    data = {
        "kind": kind, "jurisdiction": jurisdiction.name, "jurisdiction_code": jurisdiction.code,
        "period": [period.start.isoformat(), period.end.isoformat()], "period_label": period.label,
        "as_of": today.isoformat(), "issuer": issuer_for(kind, jurisdiction),
        "issuer_short": jurisdiction.name.rstrip("省市区县") + "亲清",
        "title": title_for(kind, jurisdiction, period),
        "received": figures.total.value, "received_url": figures.total.url,
        "by_category": [[i.label, i.value, i.url] for i in figures.by_category],
        # Every clause of stats.OUTCOME_CLAUSES: each received demand is in exactly one, so they add up to
        # "received" (merged duplicates are in neither).
        "outcomes": [[i.label, i.value, i.url] for i in figures.outcomes],
        "merged": figures.merged.value,
        "overdue": [[i.label, i.value, i.url] for i in overdue],
        "finished": finished,
        "moved": handoff_counts(jurisdiction, *stats.local_bounds(period)),  # 移出 / 移入, each once
        "units": units,
        "rates": [r.as_dict() for r in rates.live(stats.received(jurisdiction, period), period.start, period.end,
                                                  today).shown],
    }
    if kind == CircularKind.HALF_MONTHLY:
        data["evaluations"] = stats.evaluations(jurisdiction, period)
        data["visits"] = _visits(jurisdiction, period)
    if kind == CircularKind.MONTHLY:
        data["overdue_rows"] = _overdue_rows(jurisdiction, today)
        data["environment"] = [[c.label, c.value, c.url, [[a.label, a.value, a.url] for a in c.aspects]]
                               for c in stats.environment_breakdown(jurisdiction, period)]
        from qinqing.hotissues import circular as hot  # the month's hot issues (issue 17), as stored rows

        data["hot_issues"] = hot.rows(jurisdiction, period.start)
    return data


ENVIRONMENT_HEADERS = ["大类", "方面", "件数"]


def _environment_rows(data: dict) -> list[list]:
    """The "4大类16个方面" table: each class's aspects, then its subtotal."""
    rows = []
    for label, n, _, aspects in data["environment"]:
        rows += [[label, aspect, count] for aspect, count, _ in aspects]
        rows.append([label, "小计" if aspects else "", n])
    return rows


def _environment_text(data: dict) -> str:
    total = sum(n for _, n, _, _ in data["environment"])
    parts = "；".join(f"{label}{n}件（" + "、".join(f"{a}{c}件" for a, c, _ in aspects if c) + "）"
                     if any(c for _, c, _ in aspects) else f"{label}{n}件"
                     for label, n, _, aspects in data["environment"])
    return f"按营商环境4大类16个方面分类，本期受理的{total}件诉求中：{parts}。" if total else "本期未受理诉求。"


def _visits(jurisdiction: Jurisdiction, period: stats.Period) -> dict:
    from .briefing import visit_figures

    v = visit_figures(jurisdiction, period)
    return {"enterprises": v.enterprises, "four_above": v.four_above, "four_below": v.four_below,
            "seminars": v.seminars, "by_sector": [list(s) for s in v.by_sector]}


def _overdue_rows(jurisdiction: Jurisdiction, today: dt.date) -> list[list]:
    cal = workcal.get_calendar()
    urged = Urging.objects.filter(demand=OuterRef("pk"))
    qs = (Demand.objects.filter(jurisdiction__path__startswith=jurisdiction.path, due_order__lt=today)
          .select_related("enterprise", "lead_unit").annotate(urged=Exists(urged))
          .order_by("due_order", "id")[:OVERDUE_ROWS])
    stages = dict(Stage.choices)
    return [[d.number, d.title, d.enterprise.name if d.enterprise_id else d.reporter_name,
             d.lead_unit.name if d.lead_unit_id else "未交办", stages.get(d.current_stage, ""),
             d.next_due.isoformat(), cal.workdays_between(d.next_due, today), "是" if d.urged else "否"]
            for d in qs]


# ---------------------------------------------------------------- rendering (from the snapshot only)

def _lead(data: dict) -> str:
    outcomes = {label: n for label, n, _ in data["outcomes"]}
    kinds = "、".join(f"{label}{n}件" for label, n, _ in data["by_category"])
    text = f"{data['period_label']}，{data['jurisdiction']}共受理涉企诉求{data['received']}件"
    text += f"（{kinds}）。" if kinds else "。"
    if "merged" in data:  # every clause, adding up to the total (circulars stored before name four only)
        text += "其中" + "，".join(f"{label}{n}件" for label, n, _ in data["outcomes"]) + "。"
        if data["merged"]:
            text += f"另有重复反映并入原诉求（并单）{data['merged']}件，不计入受理数。"
    else:
        text += (f"其中已办结{outcomes.get('已办结', 0)}件，区级研究推进{outcomes.get('区级研究推进', 0)}件，"
                 f"移送市级研究{outcomes.get('移送市级研究', 0)}件，尚在办理{outcomes.get('办理中', 0)}件。")
    moved = data.get("moved") or {}
    if moved.get("out") or moved.get("in"):
        text += (f"本期移交其他层级（移出）{moved['out']}件，其他层级移交本级（移入）{moved['in']}件，"
                 "移入的不重复计入受理数。")
    finished = data["finished"]
    text += f"本期正式答复{finished['replied']}件（按期{finished['replied_ontime']}件），销号办结{finished['closed']}件。"
    overdue = data["overdue"][0][1]
    text += (f"截至{cn_date(dt.date.fromisoformat(data['as_of']))}，当前环节超期未办结{overdue}件。" if overdue
             else "目前无超期未办结事项。")
    return text


def _rates_text(data: dict) -> str:
    """The rates with their period and formulas (qinqing.reports.rates), as stored in the snapshot."""
    shown = data["rates"]
    figures = "，".join(f"{r['name']}{r['text']}（{r['part']}/{r['whole']}）" for r in shown)
    formulas = "".join(r["formula"] for r in shown)
    return f"{shown[0]['period']}，{figures}。口径：{formulas}"


UNIT_HEADERS = ["主办单位", "本期受理", "本期答复", "在办", "当前超期"]
OVERDUE_HEADERS = ["编号", "标题", "企业", "主办单位", "超期环节", "期限", "超期工作日", "已催办"]


def render_word(data: dict, number: str) -> bytes:
    doc = OfficialDocument()
    doc.head(data["issuer"], number)
    doc.title(data["title"])
    doc.heading("一、总体情况")
    doc.paragraph(_lead(data))
    if data.get("rates"):
        doc.paragraph(_rates_text(data))
    section = 2
    if "visits" in data:
        v, e = data["visits"], data["evaluations"]
        doc.heading(f"{'二三四五六'[section - 2]}、走访和满意度回访情况")
        sectors = "、".join(f"{label}{n}家" for label, n in v["by_sector"])
        doc.paragraph(f"本期走访民营企业{v['enterprises']}家（“四上”企业{v['four_above']}家、“四下”企业"
                      f"{v['four_below']}家{'；' + sectors if sectors else ''}），召开宣讲会和座谈会{v['seminars']}次。"
                      f"本期评价和回访{e['total']}件（其中回访代评{e['callback']}件），满意{e['satisfied']}件、"
                      f"基本满意{e['basic']}件、不满意{e['unsatisfied']}件"
                      + (f"，满意率{'—' if e['rate'] is None else str(e['rate']) + '%'}。" if "rate" in e else "。"))
        section += 1
    doc.heading(f"{'二三四五六'[section - 2]}、问题分类")
    doc.table(["类别", "件数"], [[label, n] for label, n, _ in data["by_category"]] + [["合计", data["received"]]])
    section += 1
    doc.heading(f"{'二三四五六'[section - 2]}、各单位办理情况")
    doc.table(UNIT_HEADERS, data["units"])
    section += 1
    doc.heading(f"{'二三四五六'[section - 2]}、超期情况")
    doc.table(["环节", "超期件数"], [[label, n] for label, n, _ in data["overdue"][1:]] + [["合计", data["overdue"][0][1]]])
    if "overdue_rows" in data:
        doc.paragraph("下列事项已超过办理期限，请各主办单位于3个工作日内办结或书面说明原因，督查室将持续跟踪直至销号。")
        doc.table(OVERDUE_HEADERS, data["overdue_rows"])
        more = data["overdue"][0][1] - len(data["overdue_rows"])
        if more > 0:
            doc.paragraph(f"另有{more}件超期事项详见诉求台账。")
    if "environment" in data:
        section += 1
        doc.heading(f"{'二三四五六'[section - 2]}、营商环境4大类16个方面")
        doc.paragraph(_environment_text(data))
        doc.table(ENVIRONMENT_HEADERS, _environment_rows(data))
    if data.get("hot_issues"):
        from qinqing.hotissues import circular as hot

        section += 1
        doc.heading(f"{'二三四五六七八'[section - 2]}、热点问题")
        doc.paragraph(hot.text(data))
        doc.table(hot.HEADERS, data["hot_issues"])
    doc.signature(data["issuer"], dt.date.fromisoformat(data["as_of"]))
    return doc.bytes()


def render_excel(data: dict) -> bytes:
    sheets = [
        ("总体情况", data["title"], ["项目", "件数"],
         [["受理诉求", data["received"]], *([label, n] for label, n, _ in data["outcomes"]),
          ["本期答复", data["finished"]["replied"]], ["本期按期答复", data["finished"]["replied_ontime"]],
          ["本期销号", data["finished"]["closed"]], *([f"{label}超期", n] for label, n, _ in data["overdue"])]),
        ("问题分类", "问题分类", ["类别", "件数"], [[label, n] for label, n, _ in data["by_category"]]),
        ("单位情况", "各单位办理情况", UNIT_HEADERS, data["units"]),
    ]
    if data.get("rates"):
        sheets.insert(1, ("满意率与按时率", f"满意率与按时率（{data['rates'][0]['period']}）", *rates.rate_sheet(data["rates"])))
    if "evaluations" in data:
        e = data["evaluations"]
        sheets.append(("满意度回访", "本期评价与回访（按评价时间）", ["总数", "回访代评", "满意", "基本满意", "不满意"],
                       [[e["total"], e["callback"], e["satisfied"], e["basic"], e["unsatisfied"]]]))
    if "overdue_rows" in data:
        sheets.append(("超期明细", "超期未办结事项", OVERDUE_HEADERS, data["overdue_rows"]))
    if "environment" in data:
        sheets.append(("4大类16个方面", "营商环境4大类16个方面", ENVIRONMENT_HEADERS, _environment_rows(data)))
    if data.get("hot_issues"):
        from qinqing.hotissues import circular as hot

        sheets.append(("热点问题", "热点问题（按热度）", hot.HEADERS, data["hot_issues"]))
    return workbook(sheets)
