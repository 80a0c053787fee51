"""What an enterprise may read of its demand's timeline: one rule for the portal, the API and notifications.

Staff write notes for each other on most steps (a dispatch instruction, a return reason such as "企业老板难缠",
an extension's justification), and the timeline names who did what. An enterprise account reads none of
that: it reads each step it may know of in plain words, a note only where the note was written for it (the
solution path, the reply, its own evaluation), and no staff names. A verb this module does not know is not
shown at all, so a new kind of entry is safe until someone decides how the enterprise should read it.
"""

import datetime as dt
from dataclasses import dataclass, field


def sees_whole_timeline(user) -> bool:
    """Staff read every entry with its note, data and actor; anyone else reads `timeline_for`."""
    return bool(user.is_staff_user)


@dataclass(frozen=True)
class PublicView:
    """How an enterprise reads one entry: the text, whether its note is shown, and its tone."""

    text: str
    show_note: bool = False
    tone: str = ""  # "" | "reply" (the government's answer)


def _evaluation_text(data: dict) -> str:
    label = data.get("evaluation", "")
    who = "回访评价" if data.get("callback") else "您的评价"
    return f"{who}：{label}" if label else who


def public_view_of(event) -> PublicView | None:
    """The enterprise's reading of `event`, or None when the enterprise does not see it at all."""
    if event.internal:
        return None
    data = event.data or {}
    verb = event.verb
    if verb == "receive":
        return PublicView("诉求已受理")
    if verb == "dispatch":
        unit = data.get("lead_unit")
        return PublicView(f"已交给{unit}办理" if unit else "已交给承办单位办理")
    if verb == "return":
        return PublicView("正在重新安排承办单位")
    if verb == "accept":
        return PublicView("承办单位已接手办理")
    if verb == "contact":
        method = data.get("method")
        return PublicView(f"承办单位已与您联系（{method}）" if method else "承办单位已与您联系")
    if verb == "plan":
        return PublicView("告知了解决办法", True, "reply")
    if verb == "approve_extension":
        due = data.get("resolve_due", "")
        return PublicView(f"办理期限延长至{due}" if due else "办理期限已延长")
    if verb == "escalate":
        return PublicView("已提请上级协调办理")
    if verb == "mark_long_term":
        return PublicView("列入区级研究推进")
    if verb == "transfer":
        return PublicView("移送市级部门研究")
    if verb == "reply":
        outcome = data.get("outcome")
        return PublicView(f"正式答复（{outcome}）" if outcome else "正式答复", True, "reply")
    if verb == "evaluate":
        return PublicView(_evaluation_text(data), True)
    if verb == "reopen":
        return PublicView("重新办理", True)
    if verb == "close":
        return PublicView("办结", True)
    if verb == "settle":
        return PublicView("现场解决", True, "reply")
    if verb == "merge":
        return PublicView("与相同问题合并办理")
    if verb == "urge":
        return PublicView("已督促承办单位抓紧办理")
    if verb == "handoff_out":  # qinqing.handoffs
        return PublicView(f"移交{data['to']}办理" if data.get("to") else "移交其他层级办理")
    if verb == "handoff_reply":
        outcome = data.get("outcome")
        return PublicView(f"正式答复（{outcome}）" if outcome else "正式答复", True, "reply")
    if verb == "approve_pause":
        return PublicView(f"已挂起（{data['reason']}），暂停计时" if data.get("reason") else "已挂起，暂停计时")
    if verb == "resume":
        return PublicView("恢复办理计时")
    if verb == "follow_up":  # qinqing.transparency.material: the enterprise's own message, the files named
        files = "、".join(data.get("files", []))
        return PublicView(f"补充材料（{files}）" if files else "补充说明", True)
    if verb == "reply_files":
        return PublicView(f"上传答复附件（{'、'.join(data.get('files', []))}）", False, "reply")
    if verb == "import_history":  # qinqing.demands.importer: a finished case from the old ledger
        return PublicView(f"历史台账记录：已办结（{data['outcome']}）" if data.get("outcome") else "历史台账记录：已办结", True,
                          "reply")
    if verb == "default_satisfied":
        return PublicView("答复后未评价，按默认满意办结")
    # Staff-only bookkeeping (extension requests and refusals, edits, 督办单 steps) is not the owner's concern.
    return None


@dataclass(frozen=True)
class PublicEntry:
    """One timeline line as an enterprise reads it; attribute names match what the API's EventOut reads."""

    verb: str
    at: dt.datetime
    text: str
    note: str = ""
    tone: str = ""  # "" | "reply" | "mine" (what this user did)
    from_state: str = ""
    to_state: str = ""
    data: dict = field(default_factory=dict)  # never the entry's own data: it names units and staff choices
    actor_id: None = None  # no staff names
    actor: None = None

    @property
    def verb_label(self) -> str:
        return self.text

    @property
    def created_at(self) -> dt.datetime:
        return self.at


def timeline_for(user, events, shown=()) -> list[PublicEntry]:
    """The entries of `events` an enterprise account sees, in the order given, in plain words.

    `shown` holds texts the page already displays in full (the current reply and solution path), which the
    timeline then does not repeat; earlier replies before a reopening still show.
    """
    shown = {text.strip() for text in shown if text}
    entries = []
    for event in events:
        view = public_view_of(event)
        if view is None:
            continue
        tone = "mine" if event.actor_id is not None and event.actor_id == user.pk else view.tone
        note = event.note if view.show_note and event.note.strip() not in shown else ""
        entries.append(PublicEntry(verb=event.verb, at=event.created_at, text=view.text, note=note, tone=tone,
                                   from_state=event.from_state, to_state=event.to_state))
    return entries
