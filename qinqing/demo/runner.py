"""Plays the demo's demand histories through the services, in the order things happened.

Each demand has a plan: a list of (moment, action). All plans are merged by time and played
inside `services.acting_at(moment)`, so the timelines, deadlines and urgings are the ones the
system would have recorded; a daily overdue sweep runs each working morning of the history.
"""

import datetime as dt
import gc
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.utils import timezone

from qinqing.demands import services

Action = Callable[[int | None], object]
BUMP = dt.timedelta(minutes=3)


@dataclass
class Plan:
    """The steps of one demand. The first step receives it and returns the Demand."""

    steps: list[tuple[dt.datetime, Action]] = field(default_factory=list)

    def add(self, moment: dt.datetime, action: Action) -> dt.datetime:
        if self.steps and moment <= self.steps[-1][0]:
            moment = self.steps[-1][0] + BUMP  # two steps in the same minute: keep their order
        self.steps.append((moment, action))
        return moment

    @property
    def last(self) -> dt.datetime:
        return self.steps[-1][0]


def call(verb: Callable, user, **kwargs) -> Action:
    """An action calling a service on the plan's demand: call(services.accept_demand, handler)."""
    return lambda pk: verb(user, pk, **kwargs)


def play(plans: Iterable[Plan], sweeps: Iterable[dt.datetime] = ()) -> None:
    """Run every step in time order; `sweeps` are moments at which to run the overdue sweep."""
    plans = list(plans)
    queue = [(moment, i, j) for i, plan in enumerate(plans) for j, (moment, _) in enumerate(plan.steps)]
    queue += [(moment, -1, 0) for moment in sweeps]
    queue.sort(key=lambda item: (item[0], item[1], item[2]))
    demand_ids: dict[int, int] = {}
    # Tens of thousands of short-lived ORM objects: the cyclic GC would rescan them all again and
    # again for nothing (about a sixth of the run), so it waits until the end.
    gc.disable()
    try:
        _play(plans, queue, demand_ids)
    finally:
        gc.enable()


def _play(plans, queue, demand_ids) -> None:
    with services.notifications_suppressed():
        for moment, i, j in queue:
            with services.acting_at(moment):
                if i < 0:
                    services.urge_overdue(today=timezone.localdate(moment))
                    continue
                result = plans[i].steps[j][1](demand_ids.get(i))
                if j == 0:
                    demand_ids[i] = result.pk
