"""Every change to the people on a demand and to canned replies goes through one of these verb-named functions.

Each checks permission, runs in one transaction and writes the demand's timeline through
`qinqing.demands.services.log_step` (so notifications follow after commit, as for every step). Errors are the
demands app's one exception family (DomainError and its kinds), with the message shown as is.
"""

import datetime as dt
import re
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from qinqing.accounts.models import Role, User
from qinqing.demands import services as demand_services
from qinqing.demands.errors import DomainError, NotFoundError, PermissionDeniedError
from qinqing.demands.models import UNIT_STATES, Demand, State
from qinqing.demands.verbs import is_admin, is_dispatcher, is_lead_head
from qinqing.lib import clock
from qinqing.lib.text import clean_text

from .models import PLACEHOLDER_RE, PLACEHOLDERS, Assignment, CannedReply, Watch

# A named handler works on a demand while its unit holds it: from dispatch until the reply, and through
# 区级研究推进 (the unit still replies from there).
ASSIGNABLE_STATES = (*UNIT_STATES, State.LONG_TERM)
NOTE_MAX = 2000
MAX_MENTIONS = 10


def _required(text: str, what: str, max_length: int) -> str:
    text = clean_text(text or "").strip()
    if not text:
        raise DomainError(f"请填写{what}。")
    if len(text) > max_length:
        raise DomainError(f"{what}不能超过{max_length}个字。")
    return text


def sees(user, demand) -> bool:
    """Whether `user` is staff who may see `demand` (one query)."""
    return (user is not None and user.is_active and user.is_staff_user
            and Demand.objects.visible_to(user).filter(pk=demand.pk).exists())


# ---------------------------------------------------------------- named handler

def assignable_handlers(demand):
    """The people a demand may be assigned to: active handlers (承办人) of its lead unit."""
    if not demand.lead_unit_id:
        return User.objects.none()
    return (User.objects.filter(unit_id=demand.lead_unit_id, is_active=True, role_grants__role=Role.HANDLER)
            .distinct().order_by("full_name", "username"))


def _assignee(demand, assignee) -> User:
    pk = assignee.pk if isinstance(assignee, User) else assignee
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        found = None
    else:
        found = assignable_handlers(demand).filter(pk=pk).first()
    if found is None:
        raise DomainError("所选承办人不是本诉求主办单位的在岗承办人。")
    return found


def refuse_assign(user, demand) -> DomainError | None:
    """Why `user` may not (re)assign `demand` now (the error to raise), or None."""
    if demand.state not in ASSIGNABLE_STATES or not demand.lead_unit_id:
        return DomainError(f"诉求当前状态为“{demand.get_state_display()}”，不能指派承办人。")
    if not is_lead_head(user, demand):
        return PermissionDeniedError("只有主办单位负责人可以指派承办人。")
    return None


def assign_demand(user, demand, *, assignee, reason: str = "", version: int | None = None) -> Assignment:
    """指派承办人 / 改派: the lead unit's head names the handler; a reassignment needs a reason.

    Both are timeline entries (internal: the enterprise never reads staff names) that notify the new handler,
    and on a reassignment the previous one."""
    with transaction.atomic():
        demand = demand_services.lock_visible(user, demand, version)
        if (refused := refuse_assign(user, demand)) is not None:
            raise refused
        person = _assignee(demand, assignee)
        current = Assignment.objects.select_for_update().select_related("assignee").filter(demand=demand).first()
        now = clock.now()
        if current is None:
            assignment = Assignment.objects.create(demand=demand, assignee=person, unit_id=demand.lead_unit_id,
                                                   assigned_by=user, assigned_at=now)
            demand_services.log_step(user, demand, "assign", note=clean_text(reason or "").strip()[:1000],
                                     data={"assignee": person.display_name, "people": {"assignee": person.pk}},
                                     internal=True)
            return assignment
        if current.assignee_id == person.pk and current.unit_id == demand.lead_unit_id:
            raise DomainError(f"该诉求已指派给{person.display_name}。")
        reason = clean_text(reason or "").strip()
        if not reason or len(reason) > 1000:
            raise DomainError("改派承办人须说明理由（至多1000字）。")
        previous = current.assignee
        current.assignee, current.unit_id, current.assigned_by, current.assigned_at = (
            person, demand.lead_unit_id, user, now)
        current.save(update_fields=["assignee", "unit", "assigned_by", "assigned_at"])
        demand_services.log_step(
            user, demand, "reassign", note=reason,
            data={"previous_assignee": previous.display_name, "assignee": person.display_name,
                  "people": {"assignee": person.pk, "previous": previous.pk}},
            internal=True)
    return current


def my_demands(user):
    """The open demands assigned to `user` in the unit that still leads them, nearest deadline first."""
    return (Demand.objects.visible_to(user)
            .filter(assignment__assignee=user, assignment__unit_id=F("lead_unit_id"), state__in=ASSIGNABLE_STATES)
            .order_by("due_order", "-id"))


# ---------------------------------------------------------------- watchers

def watch_demand(user, demand) -> Watch:
    """关注: any staff who may see the demand follows it and is told of its steps. A personal subscription,
    like a notification setting, so it writes nothing on the demand's timeline."""
    pk = demand.pk if isinstance(demand, Demand) else demand
    target = Demand.objects.visible_to(user).filter(pk=pk).first() if user.is_staff_user else None
    if target is None:
        raise NotFoundError("诉求不存在或您无权查看。")
    with transaction.atomic():
        watch, _ = Watch.objects.get_or_create(demand=target, user=user, defaults={"created_at": clock.now()})
    return watch


def unwatch_demand(user, demand) -> bool:
    """取消关注; True when the user had been following it."""
    pk = demand.pk if isinstance(demand, Demand) else demand
    with transaction.atomic():
        deleted, _ = Watch.objects.filter(demand_id=pk, user=user).delete()
    return bool(deleted)


def is_watching(user, demand) -> bool:
    return Watch.objects.filter(demand=demand, user=user).exists()


# ---------------------------------------------------------------- internal notes with @mentions

# "@" at the start or after anything but a word character (not an e-mail address), then the name up to a blank
# or punctuation. Chinese names are followed by text without a space ("@钱承办请跟进"), so the longest prefix
# that names a user wins.
MENTION = re.compile(r"(?<![0-9A-Za-z_.@])@([^\s@，。,.；;：:！!？?、（）()《》\"“”'‘’]{1,30})")


def find_mentions(text: str) -> list[tuple[str, User]]:
    """(what was written, user) for each @mention in `text`; an unknown or ambiguous name is refused."""
    candidates = [m.group(1) for m in MENTION.finditer(text)][:MAX_MENTIONS + 1]
    if len(candidates) > MAX_MENTIONS:
        raise DomainError(f"一条备注最多提及{MAX_MENTIONS}人。")
    if not candidates:
        return []
    prefixes = {c[:n] for c in candidates for n in range(1, len(c) + 1)}
    users = list(User.objects.filter(Q(username__in=prefixes) | Q(full_name__in=prefixes), is_active=True))
    out = []
    for candidate in candidates:
        for n in range(len(candidate), 0, -1):
            name = candidate[:n]
            by_login = [u for u in users if u.username == name]
            matches = by_login or [u for u in users if u.full_name == name]
            if len(matches) > 1:
                raise DomainError(f"有{len(matches)}位用户名为“{name}”，请改用“@登录名”提及。")
            if matches:
                out.append((name, matches[0]))
                break
        else:
            raise DomainError(f"没有找到被提及的用户“@{candidate}”，请写“@姓名”或“@登录名”。")
    return out


def add_note(user, demand, *, text: str, version: int | None = None):
    """内部备注: staff write a note on the timeline that the enterprise never sees; each person named with
    @姓名 or @登录名 is told of it. Naming someone who may not see the demand refuses the whole note."""
    with transaction.atomic():
        demand = demand_services.lock_visible(user, demand, version)
        if not user.is_staff_user:
            raise PermissionDeniedError("只有工作人员可以写内部备注。")
        text = _required(text, "备注内容", NOTE_MAX)
        mentioned = []
        for written, person in find_mentions(text):
            if person.pk == user.pk or person in mentioned:
                continue
            if not sees(person, demand):
                raise PermissionDeniedError(f"“@{written}”（{person.display_name}）无权查看该诉求，不能提及。")
            mentioned.append(person)
        data = {"people": {"mentioned": [p.pk for p in mentioned]}}
        if mentioned:
            data["mentioned"] = [p.display_name for p in mentioned]
        return demand_services.log_step(user, demand, "note", note=text, data=data, internal=True)


# ---------------------------------------------------------------- urging by hand

def refuse_urge(user, demand) -> DomainError | None:
    """Why `user` may not urge `demand` by hand now (the error to raise), or None."""
    if demand.state not in UNIT_STATES or not demand.lead_unit_id:
        return DomainError(f"诉求当前状态为“{demand.get_state_display()}”，不在承办单位办理中，无需催办。")
    overseer = (user.has_role(Role.SUPERVISOR, Role.LEADER) and user.jurisdiction_id is not None
                and demand.jurisdiction.path.startswith(user.jurisdiction.path))
    if not (is_dispatcher(user, demand) or overseer):
        return PermissionDeniedError("只有调度员、督查室或领导可以催办。")
    return None


def urge_demand(user, demand, *, note: str = "", version: int | None = None):
    """催办 by hand: the lead unit's handlers and head are told to hurry, as by the overdue sweep (which
    alone records 催办记录 per overdue stage)."""
    with transaction.atomic():
        demand = demand_services.lock_visible(user, demand, version)
        if (refused := refuse_urge(user, demand)) is not None:
            raise refused
        note = clean_text(note or "").strip()[:500] or "请抓紧办理并及时反馈进展"
        return demand_services.log_step(user, demand, "urge", note=note)


# ---------------------------------------------------------------- canned replies (常用语)

class Scope:
    UNIT = "unit"
    JURISDICTION = "jurisdiction"
    GLOBAL = "global"

    LABELS = {UNIT: "本单位", JURISDICTION: "本区划共享", GLOBAL: "全局共享"}


def scopes_for(user) -> list[tuple[str, str]]:
    """The scopes `user` may keep canned replies in."""
    out = []
    if user.has_role(Role.UNIT_HEAD) and user.unit_id:
        out.append(Scope.UNIT)
    if user.has_role(Role.DISPATCHER) and user.jurisdiction_id:
        out.append(Scope.JURISDICTION)
    if is_admin(user):
        out.append(Scope.GLOBAL)
    return [(s, Scope.LABELS[s]) for s in out]


def may_manage(user, reply: CannedReply) -> bool:
    if is_admin(user):
        return True
    if reply.unit_id:
        return user.has_role(Role.UNIT_HEAD) and user.unit_id == reply.unit_id
    if reply.jurisdiction_id:
        return (user.has_role(Role.DISPATCHER) and user.jurisdiction_id is not None
                and reply.jurisdiction.path.startswith(user.jurisdiction.path))
    return False


def manageable_replies(user):
    """The canned replies `user` keeps (a unit head: the unit's; a dispatcher: their jurisdiction's shared ones and
    below; an administrator: all)."""
    qs = CannedReply.objects.select_related("unit", "jurisdiction")
    if is_admin(user):
        return qs
    q = Q(pk__in=[])
    if user.has_role(Role.UNIT_HEAD) and user.unit_id:
        q |= Q(unit_id=user.unit_id)
    if user.has_role(Role.DISPATCHER) and user.jurisdiction_id:
        q |= Q(jurisdiction__path__startswith=user.jurisdiction.path)
    return qs.filter(q)


def _check_text(title: str, text: str) -> tuple[str, str]:
    title = _required(title, "标题", 40)
    text = _required(text, "内容", 2000)
    unknown = sorted({p for p in PLACEHOLDER_RE.findall(text) if p not in PLACEHOLDERS})
    if unknown:
        raise DomainError(f"不认识的占位符：{'、'.join('{' + p + '}' for p in unknown)}。可用的占位符："
                          f"{'、'.join('{' + p + '}' for p in PLACEHOLDERS)}。")
    return title, text


def create_canned_reply(user, *, title: str, text: str, scope: str) -> CannedReply:
    """新增常用语 in a scope the user keeps (scopes_for); written to the audit log as a configuration change."""
    from qinqing.audit.services import record

    if scope not in dict(scopes_for(user)):
        raise PermissionDeniedError("您不能在该范围新增常用语：本单位的由单位负责人维护，区划共享的由调度员维护，"
                                    "全局的由管理员维护。")
    title, text = _check_text(title, text)
    unit = user.unit if scope == Scope.UNIT else None
    jurisdiction = user.jurisdiction if scope == Scope.JURISDICTION else None
    with transaction.atomic():
        reply = CannedReply.objects.create(title=title, text=text, unit=unit, jurisdiction=jurisdiction,
                                           created_by=user, updated_at=clock.now())
        record("config_changed", actor=user, target=f"常用语：{title}",
               detail={"action": "create", "id": reply.pk, "scope": reply.scope_label})
    return reply


def _manageable(user, pk) -> CannedReply:
    reply = manageable_replies(user).select_for_update(of=("self",)).filter(pk=pk).first()
    if reply is None or not may_manage(user, reply):
        raise NotFoundError("常用语不存在或您无权维护。")
    return reply


def update_canned_reply(user, pk, *, title: str, text: str) -> CannedReply:
    """修改常用语 the user keeps."""
    from qinqing.audit.services import record

    title, text = _check_text(title, text)
    with transaction.atomic():
        reply = _manageable(user, pk)
        reply.title, reply.text, reply.updated_at = title, text, clock.now()
        reply.save(update_fields=["title", "text", "updated_at"])
        record("config_changed", actor=user, target=f"常用语：{title}",
               detail={"action": "update", "id": reply.pk, "scope": reply.scope_label})
    return reply


def delete_canned_reply(user, pk) -> None:
    """删除常用语 the user keeps."""
    from qinqing.audit.services import record

    with transaction.atomic():
        reply = _manageable(user, pk)
        record("config_changed", actor=user, target=f"常用语：{reply.title}",
               detail={"action": "delete", "id": reply.pk, "scope": reply.scope_label})
        reply.delete()


def _ancestor_paths(path: str) -> list[str]:
    parts = path.strip("/").split("/")
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def replies_for(demand):
    """The canned replies offered on `demand`'s reply form: its lead unit's, those shared by its jurisdiction or
    any above it, and the global ones."""
    q = Q(unit__isnull=True, jurisdiction__isnull=True)
    q |= Q(jurisdiction__path__in=_ancestor_paths(demand.jurisdiction.path))
    if demand.lead_unit_id:
        q |= Q(unit_id=demand.lead_unit_id)
    return CannedReply.objects.filter(q).select_related("unit", "jurisdiction").order_by("title", "id")


def _day(value: dt.date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def fill_placeholders(text: str, demand) -> str:
    """The canned text with {企业名称} {诉求编号} {受理日期} {办结期限} {今天} filled in from `demand`."""
    values = {
        "企业名称": demand.enterprise.name if demand.enterprise_id else (demand.reporter_name or "您"),
        "诉求编号": demand.number,
        "受理日期": _day(timezone.localtime(demand.received_at).date()),
        "办结期限": _day(demand.resolve_due),
        "今天": _day(clock.today()),
    }
    return PLACEHOLDER_RE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


# ---------------------------------------------------------------- bulk actions

BULK_MAX = 200


@dataclass
class RowResult:
    number: str
    ok: bool
    message: str = ""

    @property
    def label(self) -> str:
        return "成功" if self.ok else f"失败：{self.message}"


BULK_ACTIONS = {"dispatch": "交办到单位", "urge": "催办", "assign": "指派承办人"}


def bulk_choices(user) -> tuple[list, list]:
    """The units a dispatcher may dispatch to and the handlers a unit head may assign, for a bulk action form
    (one query each, and only for the roles that may use them)."""
    from qinqing.accounts.models import Unit

    units: list = []
    if user.is_superuser or user.has_role(Role.ADMIN, Role.DISPATCHER):
        qs = Unit.objects.filter(active=True).exclude(kind=Unit.Kind.SUPERVISION).select_related("jurisdiction")
        if not (user.is_superuser or user.has_role(Role.ADMIN)):
            qs = qs.filter(jurisdiction__path__startswith=user.jurisdiction.path) if user.jurisdiction_id \
                else qs.none()
        units = list(qs.order_by("jurisdiction__path", "kind", "name")[:300])
    handlers: list = []
    if user.has_role(Role.UNIT_HEAD) and user.unit_id:
        handlers = list(User.objects.filter(unit_id=user.unit_id, is_active=True, role_grants__role=Role.HANDLER)
                        .distinct().order_by("full_name", "username"))
    return units, handlers


def may_bulk_urge(user) -> bool:
    """Whether the bulk forms offer 催办 (refuse_urge still judges each row)."""
    return user.is_superuser or user.has_role(Role.ADMIN, Role.DISPATCHER, Role.SUPERVISOR, Role.LEADER)


def bulk_act(user, action: str, numbers, *, unit=None, assignee=None, note: str = "") -> list[RowResult]:
    """One action on several demands, each through its own service in its own transaction; a row refused
    writes nothing and is reported with its reason, the others go ahead. At most BULK_MAX rows."""
    if action not in BULK_ACTIONS:
        raise DomainError("请选择批量操作：交办、催办或指派承办人。")
    wanted = list(dict.fromkeys(n.strip().upper() for n in numbers if n and n.strip()))
    # Numbers are looked up, never trusted: one that is not a visible demand's is reported as such.
    if not wanted:
        raise DomainError("请至少勾选一件诉求。")
    if len(wanted) > BULK_MAX:
        raise DomainError(f"一次最多批量处理{BULK_MAX}件诉求，您勾选了{len(wanted)}件。")
    if action == "dispatch" and not unit:
        raise DomainError("请选择交办的主办单位。")
    if action == "assign" and not assignee:
        raise DomainError("请选择承办人。")
    found = dict(Demand.objects.visible_to(user).filter(number__in=wanted).values_list("number", "pk"))
    results = []
    for number in wanted:
        pk = found.get(number)
        if pk is None:
            results.append(RowResult(number[:20], False, "诉求不存在或您无权查看。"))
            continue
        try:
            if action == "dispatch":
                demand_services.dispatch_demand(user, pk, lead_unit=unit, note=note)
            elif action == "urge":
                urge_demand(user, pk, note=note)
            else:
                assign_demand(user, pk, assignee=assignee, reason=note)
        except DomainError as exc:
            results.append(RowResult(number, False, exc.message))
        else:
            results.append(RowResult(number, True))
    return results
