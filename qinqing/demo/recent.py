"""The last months' finished work: demands received every week since WEEKS weeks before today, run through
the whole loop, so that replies, evaluations and 销号 happen in every week of the leader dashboard's default
twelve and its 已办结, 满意率 and 按时率 are those of a district at work, not of one that stopped in April.

Each demand is laid out to its end (or to district study, or the city) on the 1231 clock, mostly on time;
the steps that would fall after now are simply not played yet, so the last weeks' demands are caught in the
middle as they would be. A step is late only for demands old enough to be finished by today, so nothing
here is overdue now (current.py is where the overdue work lives). Days are relative to today
(deterministic for a given day) and never inside the campaign, whose figures are seed 000's.
"""

import datetime as dt

from django.db.models import Count, DateField
from django.db.models.functions import TruncWeek
from django.utils import timezone

from qinqing.demands.models import Channel, Demand, DemandEvent, Evaluation, State
from qinqing.lib import clock
from qinqing.lib.workdays import add_months

from . import texts
from .campaign import same_day
from .figures import CAMPAIGN_END, DEMANDS_BY_CATEGORY
from .runner import Plan
from .stories import Teller

WEEKS = 16  # four more than the dashboard shows: its first weeks see the replies to demands received before
SHOWN_WEEKS = 12  # the dashboard's default range, whose weeks must all see replies, evaluations and 销号
PER_WEEK = (8, 12)
CHANNELS = ((Channel.HOTLINE, 28), (Channel.ONLINE, 20), (Channel.WECHAT, 12), (Channel.MEETING, 8),
            (Channel.VISIT, 26), (Channel.SEMINAR, 6))
FACE_TO_FACE = (Channel.VISIT, Channel.MEETING, Channel.SEMINAR)
# Every TRANSFER_EVERY-th demand goes to the city and every LONG_TERM_EVERY-th stays under district study
# (counted, not drawn, so that each view has some whatever the day); shares of the other paths.
TRANSFER_EVERY, LONG_TERM_EVERY = 50, 20
LATE_CONTACT, LATE_REPLY, EXPLAINED, SIGNED = 0.06, 0.08, 0.2, 0.25
BASIC, UNSATISFIED = 0.15, 0.05
LATE_ONLY_BEFORE = 60  # days: a demand this old is finished by today, so its late step is in the past


class Recent:
    """Lays out the recent weeks' demands relative to today."""

    def __init__(self, teller: Teller, categories: dict):
        self.teller, self.rng, self.office = teller, teller.rng, teller.office
        self.categories = categories
        self.now = clock.now()
        self.today = timezone.localdate(self.now)
        self.cutoff = self.now - dt.timedelta(minutes=10)

    def days(self) -> list[dt.date]:
        """Working days from the Monday WEEKS weeks back to yesterday, none inside the campaign."""
        day = self.today - dt.timedelta(days=self.today.weekday(), weeks=WEEKS)
        out = []
        while day < self.today:
            if day > CAMPAIGN_END and self.office.cal.is_workday(day):
                out.append(day)
            day += dt.timedelta(days=1)
        return out

    def build(self, enterprises: list) -> list[Plan]:
        rng = self.rng
        by_week: dict[dt.date, list[dt.date]] = {}
        for day in self.days():
            by_week.setdefault(day - dt.timedelta(days=day.weekday()), []).append(day)
        channels, weights = zip(*CHANNELS, strict=True)
        names, counts = zip(*DEMANDS_BY_CATEGORY.items(), strict=True)
        plans = []
        for days in by_week.values():
            for _ in range(round(rng.randint(*PER_WEEK) * len(days) / 5)):
                channel = rng.choices(channels, weights)[0]
                category = self.categories[rng.choices(names, counts)[0]]
                story = self.teller.story(rng.choice(enterprises), category)
                n = len(plans)
                fate = ("transfer" if n % TRANSFER_EVERY == TRANSFER_EVERY // 2 else
                        "long" if n % LONG_TERM_EVERY == LONG_TERM_EVERY // 2 else "close")
                self.tell(story, rng.choice(days), channel, fate)
                # Steps after now have not happened yet: the demand stays where the last one left it.
                story.plan.steps = [step for step in story.plan.steps if step[0] <= self.cutoff]
                plans.append(story.plan)
        return plans

    def tell(self, story, d0: dt.date, channel: str, fate: str) -> None:
        """Lay out one demand from its receipt on `d0` to 销号, district study ("long") or the city."""
        rng, office, teller = self.rng, self.office, self.teller
        late_ok = (self.today - d0).days >= LATE_ONLY_BEFORE
        staff = channel in FACE_TO_FACE
        receiver = story.enterprise.service_specialist if staff else teller.dispatcher()
        m = teller.receive(story, receiver, channel, office.moment(d0, dt.time(8, 40), dt.time(15, 30)))
        m = teller.dispatch(story, same_day(office, m, 15, 150))
        if rng.random() < SIGNED:
            m = teller.accept(story, office.after(m, 10, 120))
        if late_ok and rng.random() < LATE_CONTACT:
            day = office.workday(d0, rng.randint(3, 4))
        else:
            day = max(office.day_of(m), office.workday(d0, rng.choice((0, 1, 1))))
        m = teller.contact(story, office.on(day, m))
        day = max(office.day_of(m), office.workday(d0, rng.choice((1, 2, 2))))
        m = teller.feed_back(story, office.on(day, m))
        path_day = office.day_of(m)

        if fate == "transfer":
            m = teller.escalate(story, office.on(office.workday(path_day, rng.randint(2, 5)), m),
                                texts.ESCALATE_TO_OFFICE)
            m = teller.escalate(story, office.on(office.workday(office.day_of(m), rng.randint(2, 4)), m),
                                texts.ESCALATE_TO_LEADERS)
            teller.transfer(story, office.on(office.workday(office.day_of(m), rng.randint(2, 6)), m))
            return
        if fate == "long":
            m = teller.escalate(story, office.on(office.workday(path_day, rng.randint(2, 6)), m),
                                texts.ESCALATE_TO_OFFICE)
            teller.mark_long_term(story, office.on(office.workday(office.day_of(m), rng.randint(1, 6)), m))
            return

        due = office.workday(add_months(d0, 1))
        if late_ok and rng.random() < LATE_REPLY:
            reply_day = office.workday(due, rng.randint(1, 5))
        else:
            room = max(office.cal.workdays_between(path_day, due), 2)
            reply_day = office.workday(path_day, rng.randint(2, min(room, 14)))
        explained = rng.random() < EXPLAINED
        m = teller.reply(story, office.on(max(reply_day, office.day_of(m)), m), explained)
        roll = rng.random()
        if roll < UNSATISFIED:
            m = teller.evaluate(story, office.on(office.workday(office.day_of(m), rng.randint(1, 3)), m),
                                Evaluation.UNSATISFIED)
            m = teller.reopen(story, office.on(office.workday(office.day_of(m), 1), m))
            m = teller.contact(story, office.on(office.workday(office.day_of(m), rng.randint(0, 1)), m),
                               note="已再次上门了解企业诉求，重新研究办理方案。")
            m = teller.reply(story, office.on(office.workday(office.day_of(m), rng.randint(3, 8)), m))
            evaluation = Evaluation.SATISFIED
        else:
            evaluation = Evaluation.BASIC if roll < UNSATISFIED + BASIC else Evaluation.SATISFIED
        m = teller.evaluate(story, office.on(office.workday(office.day_of(m), rng.randint(1, 3)), m), evaluation)
        teller.close(story, office.on(office.workday(office.day_of(m), rng.randint(0, 2)), m))


def weeks_shown(today: dt.date) -> list[dt.date]:
    """The Mondays of the dashboard's default range ending with today's week."""
    monday = today - dt.timedelta(days=today.weekday())
    return [monday - dt.timedelta(weeks=k) for k in range(SHOWN_WEEKS - 1, -1, -1)]


def verify(district) -> list[str]:
    """Every week of the dashboard's default range saw replies, evaluations and 销号 in the district."""
    today = clock.today()
    weeks = weeks_shown(today)
    since = timezone.make_aware(dt.datetime.combine(weeks[0], dt.time.min))
    events = (DemandEvent.objects.filter(demand__jurisdiction__path__startswith=district.path, created_at__gte=since,
                                         verb__in=("reply", "evaluate", "close"))
              .annotate(week=TruncWeek("created_at", output_field=DateField()))
              .values_list("week", "verb").annotate(n=Count("pk")).order_by())
    seen = {(week, verb) for week, verb, _ in events}
    # This week has only begun: it is not held to it.
    missing = [f"{week:%m-%d}周无{label}" for week in weeks[:-1] for verb, label in
               (("reply", "答复"), ("evaluate", "评价"), ("close", "销号")) if (week, verb) not in seen]
    closed = Demand.objects.filter(jurisdiction__path__startswith=district.path, state=State.CLOSED,
                                   received_at__gte=since).exists()
    return missing + ([] if closed else ["近12周受理的诉求无一办结"])
