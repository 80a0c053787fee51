"""The demo's contact duties and visits (包联走访), loaded in bulk after the demands.

Seed 000's campaign: every one of the district's 930 enterprises was visited on site during
CAMPAIGN_START..CAMPAIGN_END (the day its 走访 demands were received, which the visit is linked
to), and 250 宣讲会/座谈会 were held. After the campaign, specialists phone their enterprises about
monthly and contact leaders visit about quarterly, except a few who coast: the neglect lists and
the overdue sweep find them; the towns hold about one seminar a week. Rows are written with bulk_create (one service call per row would take
minutes), each with the audit line the service would have written.
"""

import datetime as dt
import random

from django.db.models import Min
from django.utils import timezone

from qinqing.accounts.models import Unit
from qinqing.demands.models import Channel, Demand
from qinqing.lib import clock
from qinqing.visits.models import (
    Assignment,
    Cadre,
    Campaign,
    CampaignGroup,
    CampaignTarget,
    Confirmation,
    Duty,
    DutyEvent,
    Form,
    Level,
    Production,
    Seminar,
    Trend,
    Visit,
)
from qinqing.visits.services import cadence, due_dates, fill_targets, urge_overdue_contacts
from qinqing.visits.stats import seminars_held, visited_enterprises

from .figures import CAMPAIGN_END, CAMPAIGN_START

SEMINARS_HELD = 250
CAMPAIGN_NAME = "2026年集中走访精准服务民营企业活动"
ASSIGNED_ON = dt.date(2026, 2, 16)
# Who coasts after the campaign: these specialists stop phoning in June, these leaders never return.
COASTING_SPECIALISTS = 2
COASTING_LEADERS = 1
EMPTY_SHARE = 0.03  # visits logged with nothing recorded
DISPUTED_SHARE = 0.012  # visits the enterprise says never happened
SLOPPY_SHARE = 0.05  # holders who get in touch, but less often than the cadence asks
TOPICS = (
    "了解企业今年以来生产经营情况，宣讲支持民营经济发展政策。",
    "走访生产车间，了解订单、用工和资金周转情况。",
    "听取企业对营商环境的意见建议，介绍“1231”诉求办理机制。",
    "送达技改扩能、贷款贴息等扶持政策汇编，解答企业申报疑问。",
    "了解企业扩产计划和用地、用能需求。",
)
PHONE_TOPICS = ("电话回访，企业生产经营正常。", "电话了解订单和用工情况。", "电话告知最新惠企政策申报时间。",
                "电话回访前期反映问题的办理情况，企业表示满意。")
# As many as PHONE_TOPICS: a video call draws its text like a phone call, so the demo's random draws stay the same.
VIDEO_TOPICS = ("视频连线回访，企业生产经营正常。", "视频连线了解订单和用工情况。", "视频连线讲解最新惠企政策申报要点。",
                "视频回访前期反映问题的办理情况，企业表示满意。")
POLICIES = ("《扶持民营企业发展政策汇编》", "支持民营经济发展政策30条", "稳岗返还与技能提升补贴政策",
            "技改扩能与贷款贴息政策")
SEMINAR_TITLES = (
    ("briefing", "惠企政策宣讲会"), ("seminar", "民营企业座谈会"), ("seminar", "政银企对接座谈会"),
    ("briefing", "稳岗用工政策宣讲会"), ("seminar", "“4＋N”民企会谈"), ("briefing", "税费优惠政策宣讲会"),
    ("seminar", "重点行业企业座谈会"),
)


def build(rng: random.Random, org, enterprises: list, cal, log=print) -> None:
    """Cadres, assignments, the campaign, visits and seminars of the demo district."""
    today = clock.today()
    workdays = _workdays(cal, CAMPAIGN_START, CAMPAIGN_END)
    cadres = _cadres(org, enterprises)
    by_user = {c.user_id: c for c in cadres}
    campaign = _campaign(org, enterprises)
    visits, visitors, links = _campaign_visits(rng, enterprises, workdays, campaign)
    later = _later_visits(rng, enterprises, cal, today, org)
    visits += [v for v, _ in later]
    visitors += [people for _, people in later]
    _save_visits(rng, org, visits, visitors, links)
    fill_targets(campaign)
    assignments = _assignments(org, enterprises, by_user, visits, visitors)
    seminars = _seminars(rng, org, enterprises, workdays, campaign, cal, today)
    problems = verify(org.district, len(enterprises))
    if problems:
        from .seed import DemoMismatch

        raise DemoMismatch("演示走访数据与第000号报告的数字不符：" + "；".join(problems))
    urged = urge_overdue_contacts(today)
    log(f"包联走访已载入：干部{len(cadres)}人，包联关系{assignments}条，走访记录{len(visits)}条，"
        f"宣讲会和座谈会{seminars}次，超期催办{urged}条")


def _workdays(cal, start: dt.date, end: dt.date) -> list[dt.date]:
    days, day = [], start
    while day <= end:
        if cal.is_workday(day):
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def _cadres(org, enterprises) -> list[Cadre]:
    leaders = {u.pk for u in org.leaders}
    rows = [Cadre(user=u, level=Level.DISTRICT_LEADER, jurisdiction=org.district, capacity=80) for u in org.leaders]
    heads = {e.contact_leader_id: e.contact_leader for e in enterprises if e.contact_leader_id not in leaders}
    units = {u.pk: u for u in Unit.objects.filter(pk__in={h.unit_id for h in heads.values()})}
    for user in heads.values():
        unit = units[user.unit_id]
        sectors = [] if unit.kind != Unit.Kind.DEPARTMENT else sorted(
            {e.sector for e in enterprises if e.contact_leader_id == user.pk})
        rows.append(Cadre(user=user, level=Level.DIVISION_LEADER, jurisdiction=unit.jurisdiction, unit=unit,
                          capacity=80, sectors=sectors))
    rows += [Cadre(user=u, level=Level.SPECIALIST, jurisdiction=org.district, capacity=60) for u in org.specialists]
    Cadre.objects.bulk_create(rows)
    now = clock.now()
    DutyEvent.objects.bulk_create([
        DutyEvent(verb=DutyEvent.Verb.REGISTER_CADRE, actor=org.admin, note=f"{c.user}：{c.get_level_display()}",
                  data={"level": c.level, "capacity": c.capacity}, created_at=now) for c in rows])
    return list(Cadre.objects.filter(user__in=[c.user for c in rows]))


def _campaign(org, enterprises) -> Campaign:
    campaign = Campaign.objects.create(
        name=CAMPAIGN_NAME, jurisdiction=org.district, starts_on=CAMPAIGN_START, ends_on=CAMPAIGN_END,
        rule={"scope": "区内民营企业（四上企业和存在困难的四下企业）"}, created_by=org.dispatchers[0],
        description="区级领导和各部门、镇街（园区）上下联动，用2个月时间走访区内民营企业。")
    groups = {}
    for name, leader in (("区级领导走访组", org.leaders[0]), ("部门走访组", None), ("镇街走访组", None)):
        groups[name] = CampaignGroup.objects.create(campaign=campaign, name=name, leader=leader)
    groups["区级领导走访组"].members.set(org.leaders)
    groups["镇街走访组"].members.set(org.specialists)
    groups["部门走访组"].members.set({e.contact_leader for e in enterprises
                                  if e.contact_leader_id not in {u.pk for u in org.leaders}})
    leaders = {u.pk for u in org.leaders}
    targets = []
    for e in enterprises:
        group = "区级领导走访组" if e.contact_leader_id in leaders else (
            "部门走访组" if e.is_four_above else "镇街走访组")
        targets.append(CampaignTarget(campaign=campaign, enterprise=e, group=groups[group]))
    CampaignTarget.objects.bulk_create(targets)
    DutyEvent.objects.bulk_create([
        DutyEvent(verb=DutyEvent.Verb.CREATE_CAMPAIGN, actor=org.dispatchers[0], campaign=campaign, note=campaign.name),
        DutyEvent(verb=DutyEvent.Verb.SET_TARGETS, actor=org.dispatchers[0], campaign=campaign,
                  note=f"导入目标企业{len(targets)}家", data={"added": len(targets)}),
    ])
    return campaign


def _situation(rng, visit: Visit) -> None:
    visit.production = rng.choices(Production.values, (80, 15, 5))[0]
    visit.orders = rng.choices(Trend.values, (30, 45, 25))[0]
    visit.employees = rng.randint(8, 600)
    visit.hiring_need = rng.choice((None, None, 0, rng.randint(2, 60)))
    visit.financing_need = rng.choice((None, None, None, rng.randint(1, 60) * 50))


def _campaign_visits(rng, enterprises, workdays, campaign):
    tz = timezone.get_default_timezone()
    start = dt.datetime.combine(CAMPAIGN_START, dt.time(0), tzinfo=tz)
    end = dt.datetime.combine(CAMPAIGN_END + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    raised = Demand.objects.filter(channel=Channel.VISIT, received_at__gte=start, received_at__lt=end,
                                   enterprise__in=enterprises)
    first = dict(raised.values_list("enterprise_id").annotate(m=Min("received_at")).order_by())
    demand_ids: dict[int, list[int]] = {}
    for pk, enterprise_id in raised.values_list("pk", "enterprise_id"):
        demand_ids.setdefault(enterprise_id, []).append(pk)
    visits, visitors, links = [], [], []
    for e in enterprises:
        day = timezone.localtime(first[e.pk], tz).date() if e.pk in first else rng.choice(workdays)
        visit = Visit(enterprise=e, visited_on=day, form=Form.ON_SITE, campaign=campaign,
                      discussed=rng.choice(TOPICS), policies=rng.choice(POLICIES),
                      recorded_by=e.service_specialist,
                      recorded_at=dt.datetime.combine(day, dt.time(17, 30), tzinfo=tz))
        _situation(rng, visit)
        visits.append(visit)
        visitors.append({e.service_specialist_id, e.contact_leader_id} - {None})
        links.append(demand_ids.get(e.pk, []))
    return visits, visitors, links


def _later_visits(rng, enterprises, cal, today, org):
    """After the campaign: each holder phones about monthly and goes on site about quarterly.

    A few coast (two specialists stop in June, one district leader never comes back) and a few are
    merely sloppy (longer gaps), which is what the neglect lists and the sweep should find.
    """
    tz = timezone.get_default_timezone()
    coasting = {u.pk for u in org.specialists[-COASTING_SPECIALISTS:]} | {u.pk for u in
                                                                          org.leaders[-COASTING_LEADERS:]}
    out = []
    for e in enterprises:
        for who in (e.service_specialist_id, e.contact_leader_id):
            if who in coasting and who in {u.pk for u in org.leaders}:
                continue
            stop = dt.date(2026, 6, 20) if who in coasting else today
            sloppy = rng.random() < SLOPPY_SHARE
            last_on_site = CAMPAIGN_END
            day = CAMPAIGN_END + dt.timedelta(days=rng.randint(10, 28))
            while True:
                day = cal.next_workday(day)
                if day >= stop:
                    break
                on_site = (day - last_on_site).days >= rng.randint(55, 80)
                form = (rng.choices((Form.ON_SITE, Form.MEETING), (6, 1))[0] if on_site
                        else rng.choices((Form.PHONE, Form.VIDEO), (9, 1))[0])
                if on_site:
                    last_on_site = day
                visit = Visit(enterprise=e, visited_on=day, form=form, recorded_by_id=who,
                              recorded_at=dt.datetime.combine(day, dt.time(17, 40), tzinfo=tz),
                              discussed=rng.choice(VIDEO_TOPICS if form == Form.VIDEO
                                                   else PHONE_TOPICS if form == Form.PHONE else TOPICS))
                if on_site:
                    _situation(rng, visit)
                out.append((visit, {who}))
                day += dt.timedelta(days=rng.randint(30, 48) if sloppy else rng.randint(16, 28))
    return out


def _save_visits(rng, org, visits, visitors, links) -> None:
    for visit in visits:
        roll = rng.random()
        if visit.campaign_id is None and roll < EMPTY_SHARE:
            visit.discussed = visit.policies = visit.production = visit.orders = ""
            visit.employees = visit.hiring_need = visit.financing_need = None
        elif roll < EMPTY_SHARE + DISPUTED_SHARE:
            visit.confirmation = Confirmation.DISPUTED
            visit.enterprise_comment = rng.choice(("当天没有人来过。", "只打过一次电话，没有上门。"))
            visit.confirmed_at = visit.recorded_at + dt.timedelta(days=rng.randint(1, 9))
        elif roll < 0.7:
            visit.confirmation = Confirmation.CONFIRMED
            visit.rating = rng.choices((5, 4, 3, 2), (60, 28, 9, 3))[0]
            visit.confirmed_at = visit.recorded_at + dt.timedelta(days=rng.randint(0, 6))
    Visit.objects.bulk_create(visits, batch_size=2000)
    through = Visit.visitors.through
    through.objects.bulk_create([through(visit_id=v.pk, user_id=u) for v, people in zip(visits, visitors, strict=True)
                                 for u in people], batch_size=5000)
    demand_through = Visit.demands.through
    demand_through.objects.bulk_create([demand_through(visit_id=v.pk, demand_id=d)
                                        for v, ids in zip(visits, links, strict=False) for d in ids], batch_size=5000)
    DutyEvent.objects.bulk_create([
        DutyEvent(verb=DutyEvent.Verb.RECORD_VISIT, actor_id=v.recorded_by_id, enterprise_id=v.enterprise_id,
                  visit=v, campaign_id=v.campaign_id, note=v.get_form_display(), created_at=v.recorded_at)
        for v in visits], batch_size=5000)
    DutyEvent.objects.bulk_create([
        DutyEvent(verb=DutyEvent.Verb.RAISE_PROBLEM, actor_id=v.recorded_by_id, enterprise_id=v.enterprise_id,
                  visit=v, data={"demand": d}, created_at=v.recorded_at)
        for v, ids in zip(visits, links, strict=False) for d in ids], batch_size=5000)
    DutyEvent.objects.bulk_create([
        DutyEvent(verb=DutyEvent.Verb.CONFIRM_VISIT if v.confirmation == Confirmation.CONFIRMED
                  else DutyEvent.Verb.DISPUTE_VISIT, enterprise_id=v.enterprise_id, visit=v,
                  note=v.enterprise_comment, data={"rating": v.rating}, created_at=v.confirmed_at)
        for v in visits if v.confirmation != Confirmation.PENDING], batch_size=5000)


def _assignments(org, enterprises, by_user, visits, visitors) -> int:
    """Current assignments from the registry's pointers, with each holder's own last contact and visit."""
    rules = cadence()
    last: dict[tuple[int, int], list] = {}
    for visit, people in zip(visits, visitors, strict=True):
        for user_id in people:
            row = last.setdefault((visit.enterprise_id, user_id), [None, None])
            if row[0] is None or visit.visited_on > row[0]:
                row[0] = visit.visited_on
            if visit.form == Form.ON_SITE and (row[1] is None or visit.visited_on > row[1]):
                row[1] = visit.visited_on
    rows = []
    for e in enterprises:
        for duty, user_id in ((Duty.CONTACT_LEADER, e.contact_leader_id), (Duty.SPECIALIST, e.service_specialist_id)):
            cadre = by_user[user_id]
            contact, visit = last.get((e.pk, user_id), (None, None))
            contact_due, visit_due = due_dates(cadre.level, ASSIGNED_ON, contact, visit, rules)
            rows.append(Assignment(enterprise=e, cadre=cadre, duty=duty, level=cadre.level, started_on=ASSIGNED_ON,
                                   assigned_by=org.dispatchers[0], rule="第000号报告三级包联", last_contact_on=contact,
                                   last_visit_on=visit, next_contact_due=contact_due, next_visit_due=visit_due))
    Assignment.objects.bulk_create(rows, batch_size=2000)
    moment = timezone.make_aware(dt.datetime.combine(ASSIGNED_ON, dt.time(9, 30)))
    DutyEvent.objects.bulk_create([
        DutyEvent(verb=DutyEvent.Verb.ASSIGN, actor=org.dispatchers[0], enterprise_id=a.enterprise_id,
                  note=f"{a.get_duty_display()}：{a.cadre.user}", data={"duty": a.duty, "cadre": a.cadre_id},
                  created_at=moment) for a in rows], batch_size=5000)
    return len(rows)


def _seminars(rng, org, enterprises, workdays, campaign, cal, today: dt.date) -> int:
    by_town: dict[int, list] = {}
    for e in enterprises:
        by_town.setdefault(e.jurisdiction_id, []).append(e)
    towns = [t for t in org.towns if t.pk in by_town]
    departments = list(org.departments.values())
    tz = timezone.get_default_timezone()
    rows, attending = [], []

    def hold(i: int, day: dt.date, campaign) -> None:
        kind, title = rng.choice(SEMINAR_TITLES)
        if i % 5 == 0:  # one in five is the district's own, run by a department
            jurisdiction, organiser, pool = org.district, rng.choice(departments), enterprises
        else:
            town = rng.choice(towns)
            jurisdiction, organiser, pool = town, org.town_units.get(town.pk), by_town[town.pk]
        rows.append(Seminar(held_on=day, kind=kind, title=f"{jurisdiction.name}{title}", jurisdiction=jurisdiction,
                            organiser=organiser, campaign=campaign, recorded_by=org.dispatchers[0],
                            recorded_at=dt.datetime.combine(day, dt.time(18, 0), tzinfo=tz)))
        attending.append(rng.sample(pool, min(len(pool), rng.randint(4, 12))))

    for i in range(SEMINARS_HELD):
        hold(i, rng.choice(workdays), campaign)
    # After the campaign the district keeps meeting its enterprises, about one 宣讲会 or 座谈会 a week,
    # so a briefing for any recent period has some (the campaign's 250 stay within its two months).
    week, i = CAMPAIGN_END + dt.timedelta(days=7), 0
    while week < today:
        day = cal.next_workday(week + dt.timedelta(days=rng.randint(0, 4)))
        if day < today:
            hold(i, day, None)
            i += 1
        week += dt.timedelta(days=7)
    Seminar.objects.bulk_create(rows)
    through = Seminar.enterprises.through
    through.objects.bulk_create([through(seminar_id=s.pk, enterprise_id=e.pk)
                                 for s, people in zip(rows, attending, strict=True) for e in people])
    DutyEvent.objects.bulk_create([
        DutyEvent(verb=DutyEvent.Verb.RECORD_SEMINAR, actor=org.dispatchers[0], campaign=campaign, note=s.title,
                  data={"seminar": s.pk}, created_at=s.recorded_at) for s in rows])
    return len(rows)


def verify(district, expected_enterprises: int) -> list[str]:
    """Seed 000's visit figures, computed back the way the briefings compute them."""
    problems = []
    visited = visited_enterprises(CAMPAIGN_START, CAMPAIGN_END, district).count()
    if visited != expected_enterprises:
        problems.append(f"走访企业{visited}家")
    held = seminars_held(CAMPAIGN_START, CAMPAIGN_END, district)
    if held != SEMINARS_HELD:
        problems.append(f"宣讲会和座谈会{held}次")
    return problems
