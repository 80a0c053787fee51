"""What an enterprise owner reads about its demand: plain words, no staff jargon, no internal notes.

Staff state names ("待签收", "已反馈路径") and timeline verbs ("退回", "提级") describe the
government's internal workflow. The owner wants to know three things: is someone on it,
what happens next, and what do I need to do. Everything shown in the portal is phrased
here, in one place, so that a new verb or state is shown safely (label only, never its note); which
timeline entries the owner reads, and in which words, is qinqing.demands.public, which the API and the
notifications use too.
"""

from dataclasses import dataclass

from qinqing.demands.models import OPEN_STATES, Evaluation, State
from qinqing.demands.public import PublicEntry, timeline_for

# A short badge per state, and the colour class the stylesheet knows.
BADGES = {
    State.RECEIVED: ("已受理", "blue"),
    State.DISPATCHED: ("办理中", "blue"),
    State.RETURNED: ("办理中", "blue"),
    State.ACCEPTED: ("办理中", "blue"),
    State.CONTACTED: ("办理中", "blue"),
    State.PLANNED: ("办理中", "blue"),
    State.REOPENED: ("重新办理", "orange"),
    State.REPLIED: ("待您评价", "red"),
    State.EVALUATED: ("已评价", "purple"),
    State.CLOSED: ("已办结", "green"),
    State.LONG_TERM: ("研究推进", "gold"),
    State.TRANSFERRED: ("市级研究", "gold"),
    State.MERGED: ("合并办理", "grey"),
}


def badge(demand) -> tuple[str, str]:
    if getattr(demand, "paused_since", None) and demand.state in OPEN_STATES:
        return ("已挂起", "gold")  # the clock stands still (qinqing.handoffs)
    return BADGES.get(demand.state, ("办理中", "blue"))


def status_line(demand) -> str:
    """One sentence: where the demand is and what happens next."""
    unit = demand.lead_unit.name if demand.lead_unit_id else "承办单位"
    state = demand.state
    if state == State.RECEIVED:
        return "已受理，等待交办"
    if state == State.RETURNED:
        return "正在为您重新安排承办单位"
    if state == State.DISPATCHED:
        return f"已交给{unit}，等待对方接手"
    if state == State.ACCEPTED:
        return f"{unit}正在办理，会尽快与您联系"
    if state == State.CONTACTED:
        return f"{unit}已与您联系，正在研究解决办法"
    if state == State.PLANNED:
        return f"{unit}已告知解决办法，正在办理"
    if state == State.REOPENED:
        return f"正在重新办理（{unit}）"
    if getattr(demand, "paused_since", None) and state not in (State.REPLIED, State.EVALUATED, State.CLOSED):
        return "已挂起，暂停计时，恢复后继续办理"  # qinqing.handoffs: e.g. waiting for the enterprise's documents
    if state == State.REPLIED:
        return "已正式答复，请您评价"
    if state == State.EVALUATED:
        if demand.evaluation == Evaluation.UNSATISFIED:
            return "您评价为不满意，可申请重新办理"
        return "感谢您的评价，等待办结"
    if state == State.CLOSED:
        return "已办结"
    if state == State.LONG_TERM:
        return "需区里研究推进，会持续跟进并告知进展"
    if state == State.TRANSFERRED:
        return "已移送市级部门研究，会跟进结果"
    if state == State.MERGED:
        return "与相同问题合并办理，进度请看合并后的诉求"
    return "办理中"


# ---------------------------------------------------------------- progress of the loop

STEPS = ("受理", "交办", "联系", "路径", "答复", "评价", "办结")
ANSWERED = (State.REPLIED, State.EVALUATED, State.CLOSED)


@dataclass(frozen=True)
class Step:
    label: str
    done: bool
    current: bool


def progress(demand) -> list[Step]:
    """The seven steps of the loop, each done or not; the first undone one is current.

    A later step done implies the earlier ones are (a reply may come without a recorded
    contact, e.g. after long-term study), so the bar never shows gaps.
    """
    state = demand.state
    done = [
        True,
        demand.dispatched_at is not None and state not in (State.RECEIVED, State.RETURNED),
        demand.contacted_at is not None,
        demand.path_at is not None,
        state in ANSWERED,
        state in (State.EVALUATED, State.CLOSED),
        state == State.CLOSED,
    ]
    for i in range(len(done) - 2, -1, -1):
        done[i] = done[i] or done[i + 1]
    stopped = state in (State.MERGED, State.TRANSFERRED, State.LONG_TERM)
    current = next((i for i, d in enumerate(done) if not d), None)
    return [Step(label, done[i], i == current and not stopped) for i, label in enumerate(STEPS)]


# ---------------------------------------------------------------- the timeline

# Which entries the owner sees and in which words is one rule shared with the API and notifications.
Entry = PublicEntry


def timeline(events, user, shown=()) -> list[Entry]:
    """Non-internal events in plain words; notes only where they were written for the enterprise."""
    return timeline_for(user, events, shown)
