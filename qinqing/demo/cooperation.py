"""The demo's 派单目录, 协办意见, 退单争议, 提级 with 批示, and 区级研究推进 progress (qinqing.cooperation).

Built after the demands have been played, through the cooperation services (so each step is on the timeline as
the services write it), quiet: nobody is notified of history. A few dozen service calls, well under a few
seconds. The 派单目录 names each department of the demo district for the matters its remit covers; the
matters are the ordinary division of work between district departments, not a published list.
"""

import random

from qinqing.cooperation import services
from qinqing.cooperation.models import CatalogueEntry, CoTask, TaskState
from qinqing.demands import services as demand_services
from qinqing.demands.models import UNIT_STATES, Demand, State, Tier

from .org import CATEGORY_UNITS

# (matter, department key): who handles what in the demo district.
MATTERS = (
    ("企业开办、经营许可与证照办理", "spj"), ("融资对接、贷款贴息与转贷", "jrb"), ("技术改造与智能化改造", "gxj"),
    ("招工用工、技能培训与稳岗", "rsj"), ("用地报批与规划许可", "zrj"), ("施工许可与竣工验收", "zjj"),
    ("外贸出口与商贸流通", "swj"), ("市场主体登记与知识产权", "scj"), ("税费减免与退税", "swu"),
    ("科技项目与高新技术企业认定", "kjj"), ("环评审批与排污许可", "sthj"), ("道路交通与物流运输", "jtj"),
    ("安全生产与应急管理", "yjj"), ("职工子女入学", "jyj"), ("产业政策与项目审批", "fgj"), ("惠企资金拨付", "czj"),
)
OPINIONS = (
    "经核，企业所涉事项属我单位职责部分已梳理完毕，建议主办单位在答复中一并说明办理时限。",
    "我单位可安排专人上门对接，配合主办单位于本周内完成现场核查。",
    "相关政策口径已与上级主管部门确认，企业符合条件，建议按程序申报。",
    "该事项需企业补充提供近两年财务报表，我单位收到后3个工作日内出具意见。",
    "同意主办单位的处理意见，我单位无不同意见。",
)
INSTRUCTIONS = ("请联席办牵头召集相关部门现场会办，一周内拿出解决方案。", "企业诉求合理，请主办单位会同协办单位限期解决，并及时向企业反馈。",
                "此事涉及多个部门，请分管副区长协调，月底前报告办理进展。")
ANSWERS = ("已于本周召开会办会，形成解决方案，正在落实。", "已会同协办单位上门对接，企业表示认可，预计两周内办结。")
PROGRESS = ("已完成前期调研，正在会同相关部门研究政策口径。", "方案已报区政府常务会议研究，待批复后组织实施。",
            "已争取市级部门支持，项目进入审批阶段。")


def build(rng: random.Random, org, step=print) -> None:
    with demand_services.notifications_suppressed():
        entries = _catalogue(org)
        opinions = _opinions(rng, org)
        urged = services.urge_co_units()
        escalated, instructed = _escalations(rng, org)
        disputes = _disputes(org, entries)
        progress = _progress(rng, org)
    step(f"协办与督导：派单目录{len(entries)}条，协办意见{opinions}份，催办协办单位{urged}次，提级{escalated}件"
         f"（批示{instructed}条），退单争议{disputes}件，研究推进进展{progress}条")


def _catalogue(org) -> list[CatalogueEntry]:
    from qinqing.demands.models import Category

    categories = {CATEGORY_UNITS[c.name]: c for c in Category.objects.filter(parent=None, name__in=CATEGORY_UNITS)}
    return CatalogueEntry.objects.bulk_create([
        CatalogueEntry(jurisdiction=org.district, matter=matter, unit=org.departments[key],
                       category=categories.get(key), basis="部门“三定”职责（演示）")
        for matter, key in MATTERS if key in org.departments])


def _member(org, unit_id):
    return org.handlers.get(unit_id) or org.heads.get(unit_id)


def _opinions(rng: random.Random, org) -> int:
    """Most co-units of open demands have written their opinion; some have only accepted; the rest wait."""
    tasks = list(CoTask.objects.filter(state=TaskState.PENDING, demand__state__in=UNIT_STATES,
                                       demand__jurisdiction__path__startswith=org.district.path)
                 .order_by("pk").values_list("demand_id", "unit_id")[:80])
    written = 0
    for demand_id, unit_id in tasks:
        user, roll = _member(org, unit_id), rng.random()
        if user is None or roll > 0.8:
            continue
        if roll < 0.6:
            services.write_opinion(user, demand_id, opinion=rng.choice(OPINIONS))
            written += 1
        else:
            services.accept_co_task(user, demand_id)
    return written


def _open(org, **filters):
    return (Demand.objects.filter(jurisdiction__path__startswith=org.district.path, tier=Tier.UNIT,
                                  lead_unit__in=org.departments.values(), **filters)
            .order_by("received_at", "pk"))


def _escalations(rng: random.Random, org) -> tuple[int, int]:
    """The oldest open demands of six departments go up: four to 联席办, two on to 区领导, most with a 批示."""
    dispatcher = org.dispatchers[0]
    picked, units = [], set()
    for d in _open(org, state__in=[State.ACCEPTED, State.CONTACTED, State.PLANNED]).only("pk", "lead_unit_id")[:200]:
        if d.lead_unit_id not in units:
            units.add(d.lead_unit_id)
            picked.append(d.pk)
        if len(picked) == 6:
            break
    instructed = 0
    for i, pk in enumerate(picked):
        demand_services.escalate_demand(dispatcher, pk, reason="涉及多个部门职责，提请联席办协调")
        if i >= 4:
            demand_services.escalate_demand(dispatcher, pk, reason="联席办协调后仍需区领导统筹")
        if i % 3 != 2:
            leader = org.leaders[0] if i >= 4 else org.leaders[1 + i % (len(org.leaders) - 1)]
            instruction = services.write_instruction(leader, pk, text=rng.choice(INSTRUCTIONS))
            instructed += 1
            if i % 2 == 0:
                lead = Demand.objects.values_list("lead_unit_id", flat=True).get(pk=pk)
                services.answer_instruction(_member(org, lead), instruction, text=rng.choice(ANSWERS))
    return len(picked), instructed


def _disputes(org, entries: list[CatalogueEntry]) -> int:
    """Two units say a fresh dispatch is not theirs: one awaits the dispatcher, one was turned down."""
    made = 0
    for d in _open(org, state__in=[State.DISPATCHED, State.ACCEPTED], disputes__isnull=True)[:2]:
        entry = next((e for e in entries if e.unit_id != d.lead_unit_id), None)
        user = _member(org, d.lead_unit_id)
        if entry is None or user is None:
            continue
        services.dispute_dispatch(user, d, entry=entry, reason=f"诉求所涉为“{entry.matter}”，属{entry.unit.name}职责")
        if made == 1:
            services.decide_dispute(org.dispatchers[0], d, upheld=False,
                                    note="诉求核心在本单位职责范围内，其他部门作为协办配合")
        made += 1
    return made


def _progress(rng: random.Random, org) -> int:
    """About half of the 区级研究推进 demands have reported progress lately; the rest show as stalled."""
    written = 0
    rows = (Demand.objects.filter(state=State.LONG_TERM, jurisdiction__path__startswith=org.district.path)
            .order_by("pk").values_list("pk", "lead_unit_id"))
    for pk, unit_id in rows:
        user = org.handlers.get(unit_id)
        if user is None or rng.random() < 0.5:
            continue
        services.record_progress(user, pk, text=rng.choice(PROGRESS))
        written += 1
    return written
