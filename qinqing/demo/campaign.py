"""The 2026 集中走访 campaign: 2,200 demands from the 930 visited enterprises, step by step.

Each enterprise is visited once (one working day between CAMPAIGN_START and CAMPAIGN_END) and
its demands are received then by its service specialist; a few come from the campaign's
seminars (座谈会). The 1231 clock is mostly kept, with a few late steps so the statistics
are not perfect, and the final states add up to seed 000's figures exactly.
"""

import datetime as dt
import itertools
from collections import Counter

from qinqing.demands.models import Channel, Evaluation
from qinqing.enterprises.models import Sector
from qinqing.lib.workdays import add_months

from . import texts
from .figures import CAMPAIGN_END, CAMPAIGN_START, DEMANDS_BY_CATEGORY, LONG_TERM, TRANSFERRED
from .runner import Plan
from .stories import Story, Teller

S = Sector
# How much more often an enterprise of a sector raises a kind of demand (seed 000: builders and
# property developers report 准入 problems, factories costs, hiring and upgrading, shops and
# restaurants start-ups and hiring).
AFFINITY = {
    "准入难": {S.INDUSTRY: 1, S.CONSTRUCTION: 3, S.AGRICULTURE: 2, S.WHOLESALE_RETAIL: 1, S.HOSPITALITY: 1.5,
               S.TRANSPORT: 1.5, S.REAL_ESTATE: 3, S.SERVICES: 1},
    "融资难": {S.INDUSTRY: 1.2, S.CONSTRUCTION: 1.2, S.AGRICULTURE: 1.5, S.WHOLESALE_RETAIL: 1, S.HOSPITALITY: 1,
               S.TRANSPORT: 1, S.REAL_ESTATE: 1, S.SERVICES: 1},
    "降本增效难": {S.INDUSTRY: 1.5, S.CONSTRUCTION: 0.8, S.AGRICULTURE: 0.8, S.WHOLESALE_RETAIL: 1,
                   S.HOSPITALITY: 1.2, S.TRANSPORT: 1.2, S.REAL_ESTATE: 0.6, S.SERVICES: 0.8},
    "政策落地难": {S.INDUSTRY: 1.2, S.CONSTRUCTION: 0.8, S.AGRICULTURE: 1.2, S.WHOLESALE_RETAIL: 1,
                   S.HOSPITALITY: 1, S.TRANSPORT: 1, S.REAL_ESTATE: 0.8, S.SERVICES: 1.2},
    "引才用工难": {S.INDUSTRY: 1.6, S.CONSTRUCTION: 1, S.AGRICULTURE: 0.6, S.WHOLESALE_RETAIL: 0.6,
                   S.HOSPITALITY: 1.4, S.TRANSPORT: 0.8, S.REAL_ESTATE: 0.4, S.SERVICES: 1},
    "创业难": {S.INDUSTRY: 0.4, S.CONSTRUCTION: 0.4, S.AGRICULTURE: 1, S.WHOLESALE_RETAIL: 1, S.HOSPITALITY: 1.5,
               S.TRANSPORT: 0.6, S.REAL_ESTATE: 0.3, S.SERVICES: 2},
    "转型升级难": {S.INDUSTRY: 2, S.CONSTRUCTION: 0.6, S.AGRICULTURE: 0.8, S.WHOLESALE_RETAIL: 0.6,
                   S.HOSPITALITY: 0.5, S.TRANSPORT: 0.6, S.REAL_ESTATE: 0.4, S.SERVICES: 1.2},
    "其它": dict.fromkeys(S.values, 1),
}
# Which kinds end up under district study or at the city more often.
LONG_TERM_WEIGHT = {"准入难": 1.4, "融资难": 1.3, "降本增效难": 1.3, "政策落地难": 1.2, "引才用工难": 0.8,
                    "创业难": 0.8, "转型升级难": 1.2, "其它": 0.9}
TRANSFER_WEIGHT = {"准入难": 3, "融资难": 1, "降本增效难": 4, "政策落地难": 3, "引才用工难": 1, "创业难": 0.5,
                   "转型升级难": 1, "其它": 0.5}
SEMINARS = 10
SEMINAR_SHARE = 0.06

# Shares of late steps and of the less common paths.
LATE_DISPATCH, LATE_CONTACT, LATE_PATH, LATE_REPLY = 0.03, 0.05, 0.06, 0.07
RETURNED, EXTENDED, REOPENED, EXPLAINED = 0.04, 0.05, 0.025, 0.18
# Some handlers sign for a demand explicitly; most go straight to phoning the enterprise, which
# counts as signing (contact_enterprise records accepted_at).
SIGNED = 0.25
# Most demands kept under district study went through a joint-office consultation first.
CONSULTED = 0.7


def campaign_days(office) -> list[dt.date]:
    day, days = CAMPAIGN_START, []
    while day <= CAMPAIGN_END:
        if office.cal.is_workday(day):
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def _weighted_pick(rng, items, weights, k) -> set[int]:
    """Indices of k items drawn without replacement with the given weights (Efraimidis–Spirakis)."""
    keys = sorted(((rng.random() ** (1 / weights[i]), i) for i in items), reverse=True)
    return {i for _, i in keys[:k]}


def _fates(rng, kinds: list[str]) -> list[str]:
    everyone = range(len(kinds))
    transferred = _weighted_pick(rng, everyone, [TRANSFER_WEIGHT[k] for k in kinds], TRANSFERRED)
    rest = [i for i in everyone if i not in transferred]
    long_term = _weighted_pick(rng, rest, [LONG_TERM_WEIGHT[k] for k in kinds], LONG_TERM)
    return ["transfer" if i in transferred else "long" if i in long_term else "closed" for i in everyone]


def build(teller: Teller, enterprises: list, categories: dict) -> tuple[list[Plan], list[dt.date]]:
    """The campaign's plans, and the working days of its history (for the daily overdue sweep)."""
    rng, office = teller.rng, teller.office
    days = campaign_days(office)
    kinds = [name for name, count in DEMANDS_BY_CATEGORY.items() for _ in range(count)]
    rng.shuffle(kinds)
    cumulative = {
        name: list(itertools.accumulate(AFFINITY[name][e.sector] * (1.3 if e.is_four_above else 1.0)
                                        for e in enterprises))
        for name in DEMANDS_BY_CATEGORY
    }
    chosen = [rng.choices(enterprises, cum_weights=cumulative[kind])[0] for kind in kinds]
    fates = _fates(rng, kinds)
    visits = {e.pk: office.moment(rng.choice(days), dt.time(9, 0), dt.time(16, 0)) for e in enterprises}
    seminars = [office.at(day, dt.time(14, 30)) for day in sorted(rng.sample(days, SEMINARS))]
    raised: Counter = Counter()
    plans = []
    for kind, enterprise, fate in zip(kinds, chosen, fates, strict=True):
        if rng.random() < SEMINAR_SHARE:
            channel = Channel.SEMINAR
            moment = rng.choice(seminars) + dt.timedelta(minutes=rng.randint(10, 110))
        else:
            channel = Channel.VISIT
            moment = visits[enterprise.pk] + dt.timedelta(minutes=7 * raised[enterprise.pk])
            raised[enterprise.pk] += 1
        story = teller.story(enterprise, categories[kind])
        tell(teller, story, moment, channel, fate)
        plans.append(story.plan)
    last = max(plan.last for plan in plans)
    history, day = [], CAMPAIGN_START + dt.timedelta(days=1)
    while day <= office.day_of(last):
        if office.cal.is_workday(day):
            history.append(day)
        day += dt.timedelta(days=1)
    return plans, history


def tell(teller: Teller, story: Story, received: dt.datetime, channel: str, fate: str) -> None:
    """Lay out one campaign demand from receipt to its final state."""
    rng, office = teller.rng, teller.office
    d0 = office.day_of(received)
    m = teller.receive(story, story.enterprise.service_specialist, channel, received)

    if rng.random() < LATE_DISPATCH:
        when = office.moment(office.workday(d0, rng.randint(1, 2)))
    else:
        when = same_day(office, m, 15, 180)
    if rng.random() < RETURNED:
        m = teller.bounce(story, when)
        when = office.after(m, 20, 240)
    m = teller.dispatch(story, when)
    if rng.random() < SIGNED:
        m = teller.accept(story, office.after(m, 10, 150))

    if rng.random() < LATE_CONTACT:
        day = office.workday(d0, rng.randint(2, 4))
    else:
        day = max(office.day_of(m), office.workday(d0, rng.choice((0, 1, 1))))
    m = teller.contact(story, office.on(day, m))
    if rng.random() < LATE_PATH:
        day = office.workday(d0, rng.randint(3, 6))
    else:
        day = max(office.day_of(m), office.workday(d0, rng.choice((1, 2, 2))))
    m = teller.feed_back(story, office.on(day, m))
    path_day = office.day_of(m)

    if fate == "closed":
        _close(teller, story, m, d0, path_day)
    elif fate == "long":
        if rng.random() < CONSULTED:
            m = teller.escalate(story, office.on(office.workday(path_day, rng.randint(3, 10)), m),
                                texts.ESCALATE_TO_OFFICE)
            if rng.random() < 0.3:
                m = teller.escalate(story, office.on(office.workday(office.day_of(m), rng.randint(2, 6)), m),
                                    texts.ESCALATE_TO_LEADERS)
        teller.mark_long_term(story, office.on(office.workday(office.day_of(m), rng.randint(1, 8)), m))
    else:
        m = teller.escalate(story, office.on(office.workday(path_day, rng.randint(3, 8)), m),
                            texts.ESCALATE_TO_OFFICE)
        m = teller.escalate(story, office.on(office.workday(office.day_of(m), rng.randint(2, 5)), m),
                            texts.ESCALATE_TO_LEADERS)
        if rng.random() < 0.5:
            day = office.workday(office.day_of(m), rng.randint(1, 5))
            m = teller.mark_long_term(story, office.on(day, m))
        teller.transfer(story, office.on(office.workday(office.day_of(m), rng.randint(3, 10)), m))


def _close(teller: Teller, story: Story, m: dt.datetime, d0: dt.date, path_day: dt.date) -> None:
    rng, office = teller.rng, teller.office
    due = office.workday(add_months(d0, 1))
    if rng.random() < EXTENDED:
        days = rng.choice((5, 10, 15))
        day = max(path_day, office.workday(d0, rng.randint(12, 16)))
        m = teller.ask_extension(story, office.on(day, m), days)
        m = teller.approve_extension(story, office.after(m, 60, 600))
        reply_day = office.workday(due, rng.randint(1, days))
    elif rng.random() < LATE_REPLY:
        reply_day = office.workday(due, rng.randint(1, 8))
    else:
        room = max(office.cal.workdays_between(path_day, due), 2)
        reply_day = office.workday(path_day, rng.randint(2, min(room, 15)))
    explained = rng.random() < EXPLAINED
    m = teller.reply(story, office.on(max(reply_day, office.day_of(m)), m), explained)
    evaluation = Evaluation.BASIC if rng.random() < (0.35 if explained else 0.07) else Evaluation.SATISFIED
    if rng.random() < REOPENED:
        m = teller.evaluate(story, office.on(office.workday(office.day_of(m), rng.randint(1, 3)), m),
                            Evaluation.UNSATISFIED)
        m = teller.reopen(story, office.on(office.workday(office.day_of(m), 1), m))
        m = teller.contact(story, office.on(office.workday(office.day_of(m), rng.randint(0, 1)), m),
                           note="已再次上门了解企业诉求，重新研究办理方案。")
        m = teller.reply(story, office.on(office.workday(office.day_of(m), rng.randint(3, 8)), m))
        evaluation = Evaluation.SATISFIED
    m = teller.evaluate(story, office.on(office.workday(office.day_of(m), rng.randint(1, 4)), m), evaluation)
    teller.close(story, office.on(office.workday(office.day_of(m), rng.randint(0, 2)), m))


def same_day(office, prev: dt.datetime, lo: int, hi: int) -> dt.datetime:
    """Later the same day (dispatch within the day), at the latest just before the office closes."""
    moment = prev + dt.timedelta(minutes=office.rng.randint(lo, hi))
    closing = office.at(office.day_of(prev), dt.time(17, 45))
    if moment > closing:
        moment = max(closing, prev + dt.timedelta(minutes=5))
    return moment
