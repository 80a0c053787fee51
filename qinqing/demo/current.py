"""The demands open right now: received over the last weeks through every channel, in every open
state, some overdue at each stage, so the workbench, the inboxes and the overdue board have work.

Days are counted back from today on the working-day calendar: back(1) is the last working day before
today, back(k) the k-th. Every step happens on such a day, so nothing is dated in the future; only the
freshest demands are received today, minutes ago.
"""

import datetime as dt

from django.utils import timezone

from qinqing.demands.models import Channel, Evaluation
from qinqing.lib import clock
from qinqing.lib.workdays import add_months

from . import names, texts
from .figures import DEMANDS_BY_CATEGORY
from .runner import Plan
from .stories import Story, Teller

# (what the demand has gone through, how many, overdue at its current stage?)
TARGETS = (
    ("received", 6, False), ("received", 5, True),
    ("returned", 4, True),
    ("dispatched", 7, False), ("dispatched", 5, True),
    ("accepted", 6, False), ("accepted", 5, True),
    ("contacted", 6, False), ("contacted", 5, True),
    ("planned", 16, False), ("planned", 5, True),
    ("extension_pending", 2, False), ("extension_approved", 1, False),
    ("reopened", 3, False), ("reopened", 2, True),
    ("replied", 10, False),
    ("evaluated", 6, False), ("unsatisfied", 1, False),
)
# The demo enterprise users' own demands: one logs in and finds several states and a reply to rate.
OWNER_TARGETS = (
    (("received", False), ("dispatched", True), ("contacted", False), ("planned", False), ("replied", False)),
    (("replied", False), ("planned", True)),
    (("evaluated", False),),
)
NEIGHBOUR_TARGETS = (("received", True), ("dispatched", False), ("planned", False), ("replied", False))
CHANNELS = ((Channel.HOTLINE, 25), (Channel.ONLINE, 20), (Channel.WECHAT, 12), (Channel.MEETING, 10),
            (Channel.OFFICER, 5), (Channel.VISIT, 18), (Channel.SEMINAR, 5), (Channel.OTHER, 5))
QUICK = (5, 40)  # minutes between steps taken the same day
ROUND_THE_CLOCK = (Channel.HOTLINE, Channel.ONLINE, Channel.WECHAT)


class Current:
    """Lays out the current demands relative to today (deterministic for a given day)."""

    def __init__(self, teller: Teller, categories: dict):
        self.teller = teller
        self.rng = teller.rng
        self.office = teller.office
        self.categories = categories
        self.now = clock.now()
        self.today = timezone.localdate(self.now)
        self._back = [self.today]

    def back(self, k: int) -> dt.date:
        """The k-th working day before today (k >= 1)."""
        k = max(k, 1)
        while len(self._back) <= k:
            day = self._back[-1] - dt.timedelta(days=1)
            while not self.office.cal.is_workday(day):
                day -= dt.timedelta(days=1)
            self._back.append(day)
        return self._back[k]

    def resolve_due(self, k: int) -> dt.date:
        return self.office.workday(add_months(self.back(k), 1))

    def received_k(self, target: str, overdue: bool) -> int:
        """How many working days ago a demand must have been received to be where it is, late or not."""
        rng = self.rng
        if target in ("received", "returned"):
            return rng.randint(1, 3)
        if target in ("dispatched", "accepted"):
            return rng.randint(2, 5) if overdue else 1
        if target == "contacted":
            return rng.randint(3, 6) if overdue else rng.randint(1, 2)
        if target == "planned":
            if not overdue:
                return rng.randint(3, 15)
            k = rng.randint(24, 30)
            while self.resolve_due(k) >= self.today:
                k += 1
            return k
        if target == "extension_pending":
            return rng.randint(14, 18)
        if target == "extension_approved":
            return rng.randint(21, 24)
        if target == "replied":
            return rng.randint(5, 20)
        return rng.randint(8, 20)  # evaluated, unsatisfied

    # ------------------------------------------------------------ building

    def build(self, enterprises: list, owners: dict, neighbours: list) -> list[Plan]:
        rng = self.rng
        plans = []
        for target, count, overdue in TARGETS:
            for _ in range(count):
                plans.append(self.one(target, overdue, rng.choice(enterprises)))
        for owner, targets in zip(owners.values(), OWNER_TARGETS, strict=False):
            for i, (target, overdue) in enumerate(targets):
                by_owner = i == 0 and target == "received"
                plans.append(self.one(target, overdue, owner.enterprise, receiver=owner if by_owner else None,
                                      channel=Channel.ONLINE if by_owner else None))
        org = self.teller.org
        # Next door only the two units that exist there handle anything: financing and hiring.
        kinds = (("jrb", self.categories["融资难"]), ("rsj", self.categories["引才用工难"]))
        for (target, overdue), enterprise in zip(NEIGHBOUR_TARGETS, neighbours, strict=False):
            options = [(key, category, t) for key, category in kinds for t in texts.TEMPLATES[category.name]
                       if t.unit == key and (not t.sectors or enterprise.sector in t.sectors)]
            key, category, template = rng.choice(options)
            story = self.teller.story(enterprise, category, template)
            self.tell(story, target, overdue, org.neighbour_dispatcher, Channel.HOTLINE, {},
                      unit=org.neighbour_units[key], dispatcher=org.neighbour_dispatcher)
            plans.append(story.plan)
        return plans

    def one(self, target, overdue, enterprise, receiver=None, channel=None) -> Plan:
        rng, org = self.rng, self.teller.org
        channels, weights = zip(*CHANNELS, strict=True)
        channel = channel or rng.choices(channels, weights)[0]
        extra = {}
        names_, kinds = zip(*DEMANDS_BY_CATEGORY.items(), strict=True)
        category = self.categories[rng.choices(names_, kinds)[0]]
        if channel == Channel.OFFICER:
            # An experience officer's observation on government services, not an enterprise's problem.
            category = self.categories["其它"]
            story = self.teller.story(None, category, rng.choice(texts.OFFICER_TEMPLATES))
            extra = {"reporter_name": f"营商环境体验官{names.person(rng)}", "jurisdiction": org.district}
        elif channel == Channel.HOTLINE and rng.random() < 0.2:
            # A 12345 call from a person, with no registered enterprise behind it.
            town = rng.choice(org.towns)
            options = [t for t in texts.TEMPLATES[category.name] if not t.sectors]
            story = self.teller.story(None, category, rng.choice(options), town=town)
            extra = {"reporter_name": names.person(rng), "reporter_phone": names.mobile(rng),
                     "jurisdiction": town}
        else:
            story = self.teller.story(enterprise, category)
        if receiver is None:
            staff = channel in (Channel.VISIT, Channel.SEMINAR, Channel.MEETING) and story.enterprise
            receiver = story.enterprise.service_specialist if staff else self.teller.dispatcher()
        self.tell(story, target, overdue, receiver, channel, extra)
        return story.plan

    def tell(self, story: Story, target: str, overdue: bool, receiver, channel, extra, unit=None,
             dispatcher=None) -> None:
        """Lay out the steps that bring a demand to `target`, late at the current stage if `overdue`."""
        rng, office, teller, back = self.rng, self.office, self.teller, self.back

        def on(day, prev):
            # A step rolled past closing time lands on the next working morning, which may be today:
            # never later than a few minutes ago.
            moment = office.on(day, prev, *QUICK)
            return min(moment, max(self.now - dt.timedelta(minutes=5), prev + dt.timedelta(minutes=1)))

        if target == "received" and not overdue:
            # Minutes ago, through a channel that is open around the clock.
            moment = self.now - dt.timedelta(minutes=rng.randint(20, 100))
            if channel not in (*ROUND_THE_CLOCK, Channel.OFFICER):
                channel = rng.choice(ROUND_THE_CLOCK)
                if receiver in self.teller.org.specialists:
                    receiver = self.teller.dispatcher()  # 12345 and the portal land at the dispatch centre
            teller.receive(story, receiver, channel, moment, **extra)
            return
        reopen_day = rng.randint(10, 13) if overdue else rng.randint(1, 7)  # of a reopened demand, back(j)
        k = reopen_day + rng.randint(5, 9) if target == "reopened" else self.received_k(target, overdue)
        m = teller.receive(story, receiver, channel, office.moment(back(k), dt.time(8, 40), dt.time(10, 30)),
                           **extra)
        if target == "received":
            return
        if target == "returned":
            teller.bounce(story, on(back(k), m))
            return
        m = teller.dispatch(story, on(back(k), m), unit=unit, co_units=[] if unit else None, user=dispatcher)
        if target == "dispatched":
            return
        m = teller.accept(story, on(back(k - 1 if overdue and rng.random() < 0.5 else k), m))
        if target == "accepted":
            return
        m = teller.contact(story, on(back(k - rng.randint(0, 1)), m))
        if target == "contacted":
            return
        m = teller.feed_back(story, on(back(k - rng.randint(1, 2)), m))
        if target == "planned":
            return
        if target == "extension_pending":
            teller.ask_extension(story, on(back(rng.randint(1, 2)), m), rng.choice((5, 10)))
            return
        if target == "extension_approved":
            m = teller.ask_extension(story, on(back(k - 12), m), 15)
            teller.approve_extension(story, on(back(k - 13), m))
            return
        if target == "reopened":
            # Redone within 10 working days of the reopening: overdue when that was back(10) or earlier.
            m = teller.reply(story, on(back(reopen_day + 2), m), explained=True)
            m = teller.evaluate(story, on(back(reopen_day + 1), m), Evaluation.UNSATISFIED)
            teller.reopen(story, on(back(reopen_day), m))
            return
        if target == "replied":
            teller.reply(story, on(back(rng.randint(1, min(3, k - 3))), m), explained=rng.random() < 0.2)
            return
        m = teller.reply(story, on(back(rng.randint(3, 5)), m))
        evaluation = (Evaluation.UNSATISFIED if target == "unsatisfied"
                      else rng.choices((Evaluation.SATISFIED, Evaluation.BASIC), (4, 1))[0])
        teller.evaluate(story, on(back(rng.randint(1, 2)), m), evaluation)
