"""Every change to assignments, visits, campaigns and seminars goes through one of these functions.

Each one checks that the user may act, runs in one transaction, writes DutyEvent (append-only) and
raises DomainError with a Chinese message. Bulk paths (rule-based assignment, the overdue sweep) are
set-based SQL so that they cost the same per row at a province's scale.
"""

import datetime as dt
import uuid
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, Subquery

from qinqing.accounts.models import Jurisdiction, Role, RoleGrant
from qinqing.audit.services import record
from qinqing.demands import services as demand_services
from qinqing.demands.errors import DomainError, NotFoundError, PermissionDeniedError
from qinqing.demands.models import Channel, Demand
from qinqing.enterprises.models import Enterprise, Helpers, Sector, set_helpers
from qinqing.lib import clock
from qinqing.lib.text import clean_text

from .models import (
    Assignment,
    CadenceRule,
    Cadre,
    Campaign,
    CampaignGroup,
    CampaignTarget,
    Confirmation,
    ContactUrging,
    Duty,
    DutyEvent,
    Form,
    Level,
    Production,
    Seminar,
    Trend,
    Visit,
)
from .visibility import is_admin

POINTER = {Duty.CONTACT_LEADER: "contact_leader_id", Duty.SPECIALIST: "service_specialist_id"}
FIELD_DUTY = {name: duty for duty, name in POINTER.items()}
MAX_PROBLEMS = 20


def _today() -> dt.date:
    return clock.today()


def _require_staff(user) -> None:
    if not user or not user.is_authenticated:
        raise PermissionDeniedError("请先登录。")
    if not user.is_staff_user:
        raise PermissionDeniedError("只有工作人员可以进行该操作。")


def _covers(user, jurisdiction_path: str) -> bool:
    """May `user` manage duties for something located at `jurisdiction_path`?"""
    if is_admin(user):
        return True
    return (user.has_role(Role.DISPATCHER, Role.LEADER) and bool(user.jurisdiction_id)
            and jurisdiction_path.startswith(user.jurisdiction.path))


def _require_manager(user, jurisdiction: Jurisdiction) -> None:
    _require_staff(user)
    if not _covers(user, jurisdiction.path):
        raise PermissionDeniedError("只有本辖区的营商办调度员、领导或管理员可以安排包联。")


def _event(verb, actor, *, enterprise=None, visit=None, campaign=None, note="", data=None) -> DutyEvent:
    return DutyEvent.objects.create(verb=verb, actor=actor, enterprise=enterprise, visit=visit, campaign=campaign,
                                    note=clean_text(note), data=data or {}, created_at=clock.now())


# ---------------------------------------------------------------- cadence

def cadence() -> dict[str, tuple[int, int]]:
    """Level → (contact days, visit days) from the active rules; seed 002's defaults for a missing level."""
    rules = {r.level: (r.contact_days, r.visit_days) for r in CadenceRule.objects.filter(active=True)}
    return {level: rules.get(level, (30, 90)) for level in Level.values}


def due_dates(level: str, started_on: dt.date, last_contact: dt.date | None, last_visit: dt.date | None,
              rules: dict | None = None) -> tuple[dt.date, dt.date]:
    contact_days, visit_days = (rules or cadence())[level]
    return ((last_contact or started_on) + dt.timedelta(days=contact_days),
            (last_visit or started_on) + dt.timedelta(days=visit_days))


def set_cadence(user, level: str, *, contact_days: int, visit_days: int) -> CadenceRule:
    """Change how often a level must get in touch, and move every current deadline of that level."""
    _require_staff(user)
    if not is_admin(user):
        raise PermissionDeniedError("只有管理员可以修改联系走访频次。")
    if level not in Level.values:
        raise DomainError("包联层级无效。")
    if not (1 <= contact_days <= 366 and 1 <= visit_days <= 366):
        raise DomainError("联系和走访周期应在1至366天之间。")
    if visit_days < contact_days:
        raise DomainError("实地走访周期不能短于联系周期（走访本身也算一次联系）。")
    with transaction.atomic():
        rule, _ = CadenceRule.objects.update_or_create(
            level=level, defaults={"contact_days": contact_days, "visit_days": visit_days, "active": True})
        moved = refresh_due_dates(Assignment.objects.current().filter(level=level))
        _event(DutyEvent.Verb.SET_CADENCE, user, note=str(rule),
               data={"level": level, "contact_days": contact_days, "visit_days": visit_days, "moved": moved})
    return rule


def refresh_due_dates(assignments, chunk: int = 5000) -> int:
    """Recompute the stored next-due columns of `assignments`, in chunks."""
    rules = cadence()
    moved = 0
    qs = assignments.only("pk", "level", "started_on", "last_contact_on", "last_visit_on").order_by("pk")
    last_pk = 0
    while True:
        rows = list(qs.filter(pk__gt=last_pk)[:chunk])
        if not rows:
            return moved
        for a in rows:
            a.next_contact_due, a.next_visit_due = due_dates(a.level, a.started_on, a.last_contact_on,
                                                             a.last_visit_on, rules)
        Assignment.objects.bulk_update(rows, ["next_contact_due", "next_visit_due"])
        moved += len(rows)
        last_pk = rows[-1].pk


# ---------------------------------------------------------------- cadres and assignments

def register_cadre(user, person, *, level: str, jurisdiction=None, unit=None, capacity: int = 30,
                   sectors=(), active: bool = True) -> Cadre:
    """登记包联干部: make a staff member assignable at a level."""
    jurisdiction = jurisdiction or person.jurisdiction or (person.unit.jurisdiction if person.unit_id else None)
    if jurisdiction is None:
        raise DomainError("请指定干部所在区划。")
    _require_manager(user, jurisdiction)
    if level not in Level.values:
        raise DomainError("包联层级无效。")
    if not person.is_staff_user:
        raise DomainError("企业账号不能登记为包联干部。")
    if not 1 <= capacity <= 10000:
        raise DomainError("包联上限应在1至10000家之间。")
    bad = [s for s in sectors if s not in Sector.values]
    if bad:
        raise DomainError(f"分管行业“{'、'.join(bad)}”无效。")
    with transaction.atomic():
        cadre, _ = Cadre.objects.update_or_create(
            user=person, defaults={"level": level, "jurisdiction": jurisdiction, "unit": unit or person.unit,
                                   "capacity": capacity, "sectors": list(sectors), "active": active})
        _event(DutyEvent.Verb.REGISTER_CADRE, user, note=f"{person}：{cadre.get_level_display()}",
               data={"cadre": cadre.pk, "level": level, "capacity": capacity})
    return cadre


def _grant_service_role(user_ids, actor) -> None:
    """Whoever holds a duty serves the enterprise: they take in its problems and see it (专员角色).
    A grant widens what a person may see: the audit log records who caused it and for whom."""
    have = set(RoleGrant.objects.filter(user_id__in=user_ids, role=Role.SPECIALIST).values_list("user_id", flat=True))
    granted = sorted(set(user_ids) - have)
    RoleGrant.objects.bulk_create([RoleGrant(user_id=pk, role=Role.SPECIALIST) for pk in granted],
                                  ignore_conflicts=True)
    if granted:
        record("role_changed", actor=actor, target=f"授予{Role.SPECIALIST.label}角色（{len(granted)}人）",
               detail={"granted": Role.SPECIALIST.value, "users": granted, "reason": "分配包联"})


def assign_contact(user, enterprise, cadre, *, duty: str, on: dt.date | None = None, note: str = "") -> Assignment:
    """分配包联: make `cadre` the enterprise's contact leader or specialist from `on`, ending the previous one."""
    _require_manager(user, enterprise.jurisdiction)
    if duty not in Duty.values:
        raise DomainError("职责无效，应为包联领导或为企服务专员。")
    if not cadre.active:
        raise DomainError(f"{cadre.user}已不在岗，不能分配。")
    on = on or _today()
    with transaction.atomic():
        Enterprise.objects.select_for_update().filter(pk=enterprise.pk).first()
        current = Assignment.objects.current().filter(enterprise=enterprise, duty=duty).first()
        if current is not None:
            if current.cadre_id == cadre.pk:
                raise DomainError(f"{cadre.user}已是该企业的{Duty(duty).label}。")
            if on < current.started_on:
                raise DomainError("新的包联开始日期不能早于现任的开始日期。")
            current.ended_on = on
            current.save(update_fields=["ended_on"])
        last_contact, last_visit = _last_contacts(enterprise.pk, cadre.user_id)
        contact_due, visit_due = due_dates(cadre.level, on, last_contact, last_visit)
        assignment = Assignment.objects.create(
            enterprise=enterprise, cadre=cadre, duty=duty, level=cadre.level, started_on=on, assigned_by=user,
            rule="手工分配", last_contact_on=last_contact, last_visit_on=last_visit,
            next_contact_due=contact_due, next_visit_due=visit_due)
        set_helpers(enterprise.pk, **{POINTER[duty]: cadre.user_id})
        _grant_service_role([cadre.user_id], user)
        _event(DutyEvent.Verb.ASSIGN, user, enterprise=enterprise, note=note or f"{Duty(duty).label}：{cadre.user}",
               data={"duty": duty, "cadre": cadre.pk, "previous": current.cadre_id if current else None})
    return assignment


def end_assignment(user, assignment, *, on: dt.date | None = None, reason: str) -> Assignment:
    """解除包联."""
    _require_manager(user, assignment.enterprise.jurisdiction)
    if not assignment.is_current:
        raise DomainError("该包联关系已经结束。")
    reason = clean_text(reason or "").strip()
    if not reason:
        raise DomainError("请填写解除原因。")
    on = on or _today()
    if on < assignment.started_on:
        raise DomainError("结束日期不能早于开始日期。")
    with transaction.atomic():
        assignment.ended_on = on
        assignment.save(update_fields=["ended_on"])
        set_helpers(assignment.enterprise_id, **{POINTER[assignment.duty]: None})
        _event(DutyEvent.Verb.UNASSIGN, user, enterprise=assignment.enterprise, note=reason,
               data={"duty": assignment.duty, "cadre": assignment.cadre_id})
    return assignment


def follow_registry(user, moves, *, on: dt.date | None = None) -> int:
    """The assignments follow a change of helper made in the registry (企业库的编辑、导入、接口).

    `moves` are (enterprise id, "service_specialist_id" or "contact_leader_id", new user id or None).
    The duty's current assignment ends when someone else now holds it; a new one starts, with the
    cadence's deadlines, when the new holder is an active registered cadre (a person named in the
    registry only has no cadence to keep). Runs inside the registry service's transaction, which
    checked permission and writes the audit line; returns how many assignments started.
    """
    moves = [(enterprise_id, FIELD_DUTY[name], user_id) for enterprise_id, name, user_id in moves]
    if not moves:
        return 0
    on = on or _today()
    rules = cadence()
    cadres = {c.user_id: c for c in Cadre.objects.filter(active=True, user_id__in={m[2] for m in moves if m[2]})}
    current = {(a.enterprise_id, a.duty): a for a in Assignment.objects.current().filter(
        enterprise_id__in={m[0] for m in moves}).select_related("cadre")}
    ending, starting = [], []
    for enterprise_id, duty, user_id in moves:
        held = current.get((enterprise_id, duty))
        if held is not None and held.cadre.user_id == user_id:
            continue
        if held is not None:
            ending.append(held.pk)
        cadre = cadres.get(user_id)
        if cadre is not None:
            contact_due, visit_due = due_dates(cadre.level, on, None, None, rules)
            starting.append(Assignment(enterprise_id=enterprise_id, cadre=cadre, duty=duty, level=cadre.level,
                                       started_on=on, assigned_by=user, rule="企业库修改",
                                       next_contact_due=contact_due, next_visit_due=visit_due))
    # Ended before the new rows go in: one current row per duty is a constraint.
    Assignment.objects.filter(pk__in=ending).update(ended_on=on)
    Assignment.objects.bulk_create(starting)
    _grant_service_role([a.cadre.user_id for a in starting], user)  # as assign_contact: the holder serves it
    return len(starting)


def _last_contacts(enterprise_id: int, user_id: int) -> tuple[dt.date | None, dt.date | None]:
    visits = Visit.objects.filter(enterprise_id=enterprise_id, visitors=user_id)
    last_contact = visits.order_by("-visited_on").values_list("visited_on", flat=True).first()
    last_visit = visits.filter(form=Form.ON_SITE).order_by("-visited_on").values_list("visited_on", flat=True).first()
    return last_contact, last_visit


# ---------------------------------------------------------------- bulk assignment by rule

@dataclass
class Tier:
    key: str
    label: str
    duty: str
    level: str
    enterprises: Q  # which enterprises of the jurisdiction
    by_sector: bool  # cadres who list sectors take them by industry, the others by territory


TIERS = [
    Tier("industrial", "区级领导包联规上工业企业", Duty.CONTACT_LEADER, Level.DISTRICT_LEADER,
         Q(sector=Sector.INDUSTRY, is_four_above=True), False),
    Tier("four_above", "部门/镇街处级领导包联其余四上企业", Duty.CONTACT_LEADER, Level.DIVISION_LEADER,
         Q(is_four_above=True) & ~Q(sector=Sector.INDUSTRY), True),
    Tier("four_below", "科室负责人包联四下企业", Duty.CONTACT_LEADER, Level.SECTION_CHIEF,
         Q(is_four_above=False), False),
    Tier("specialist", "为企服务专员一对N服务", Duty.SPECIALIST, Level.SPECIALIST, Q(), False),
]


@dataclass
class _PlanCadre:
    """What the plan reads of a cadre: plain values, no model instances (a province has 100,000 cadres)."""

    pk: int
    level: str
    jurisdiction_id: int
    capacity: int
    sectors: list
    full_name: str
    username: str


@dataclass
class Plan:
    """What a rule-based assignment would do: counts per tier and per cadre, before anything is written."""

    jurisdiction: Jurisdiction
    on: dt.date
    replace: bool
    tiers: list = field(default_factory=list)  # (tier, matched, placed)
    loads: list = field(default_factory=list)  # (cadre id, name, level, existing, new, capacity)
    unplaced: int = 0
    quotas: list = field(default_factory=list)  # (tier key, pool, cadre id, lo, hi)
    territory: dict = field(default_factory=dict)  # tier key -> {jurisdiction id: pool jurisdiction id}
    sector_tiers: set = field(default_factory=set)

    @property
    def placed(self) -> int:
        return sum(t[2] for t in self.tiers)

    @property
    def max_load(self) -> int:
        return max((row[3] + row[4] for row in self.loads), default=0)


def _territories(jurisdictions: list[tuple[int, str]], cadre_places: set[int]) -> dict[int, int]:
    """Each jurisdiction → the deepest jurisdiction at or above it where a cadre of the tier sits.

    A town's enterprises go to the town's own cadres when it has some, else to the district's: the
    pools follow the tree, so a district leader never gets another district's enterprises.
    """
    by_path = {path: pk for pk, path in jurisdictions}
    out = {}
    for pk, path in jurisdictions:
        parts = path.rstrip("/").split("/")
        for depth in range(len(parts), 0, -1):
            ancestor = by_path.get("/".join(parts[:depth]) + "/")
            if ancestor in cadre_places:
                out[pk] = ancestor
                break
    return out


def _water_fill(cadres: list[tuple[int, int, int]], n: int) -> dict[int, int]:
    """Share n enterprises so the fullest cadre is as empty as possible: (id, existing, capacity) → quota."""
    if not cadres or n <= 0:
        return {}
    lo, hi = 0, max(cap for _, _, cap in cadres)

    def room(level):
        return sum(max(0, min(level, cap) - have) for _, have, cap in cadres)

    if room(hi) <= n:
        return {pk: max(0, cap - have) for pk, have, cap in cadres}
    while lo < hi:
        mid = (lo + hi) // 2
        if room(mid) >= n:
            hi = mid
        else:
            lo = mid + 1
    quotas = {pk: max(0, min(lo - 1, cap) - have) for pk, have, cap in cadres}
    left = n - sum(quotas.values())
    for pk, have, cap in sorted(cadres, key=lambda c: (c[1], c[0])):
        if left <= 0:
            break
        if min(lo, cap) - have > quotas[pk]:
            quotas[pk] += 1
            left -= 1
    return quotas


def _tier_enterprises(tier: Tier, jurisdiction, replace: bool):
    qs = Enterprise.objects.filter(tier.enterprises, jurisdiction__path__startswith=jurisdiction.path)
    if not replace:  # NOT EXISTS: an anti-join, where NOT IN over millions of ids would not fit a hash
        qs = qs.exclude(Exists(Assignment.objects.current().filter(duty=tier.duty, enterprise_id=OuterRef("pk"))))
    return qs


def plan_bulk_assignment(user, jurisdiction, *, on: dt.date | None = None, replace: bool = False,
                         tiers=None) -> Plan:
    """Preview seed 000's three levels (and the specialists) for a jurisdiction: who would take how many.

    Everything here is counted with GROUP BY over (town, sector): the plan costs the same for a
    thousand enterprises as for a million. Loads are balanced by water-filling within each pool.
    """
    _require_manager(user, jurisdiction)
    plan = Plan(jurisdiction, on or _today(), replace)
    chosen = [t for t in TIERS if tiers is None or t.key in tiers]
    places = list(Jurisdiction.objects.filter(path__startswith=jurisdiction.path).values_list("pk", "path"))
    all_cadres = [_PlanCadre(*row) for row in Cadre.objects.filter(
        active=True, jurisdiction__path__startswith=jurisdiction.path).order_by("pk").values_list(
        "pk", "level", "jurisdiction_id", "capacity", "sectors", "user__full_name", "user__username")]
    level_labels = dict(Level.choices)
    for tier in chosen:
        cadres = [c for c in all_cadres if c.level == tier.level]
        by_sector = tier.by_sector and any(c.sectors for c in cadres)
        territory = _territories(places, {c.jurisdiction_id for c in cadres})
        plan.territory[tier.key] = territory
        if by_sector:
            plan.sector_tiers.add(tier.key)
        counts: dict[str, int] = {}
        grouped = (_tier_enterprises(tier, jurisdiction, replace).values_list("jurisdiction_id", "sector")
                   .annotate(n=Count("pk")).order_by())
        for place, sector, n in grouped:
            pool = territory.get(place)
            key = f"{pool}:{sector}" if by_sector else str(pool)
            counts[key] = counts.get(key, 0) + n
        existing = {} if replace else dict(
            Assignment.objects.current().filter(duty=tier.duty, cadre__level=tier.level, cadre__active=True,
                                                cadre__jurisdiction__path__startswith=jurisdiction.path)
            .values_list("cadre_id").annotate(n=Count("pk")).order_by())
        pools: dict[str, list[_PlanCadre]] = {}
        for c in cadres:
            keys = ([f"{c.jurisdiction_id}:{s}" for s in (c.sectors or Sector.values)] if by_sector
                    else [str(c.jurisdiction_id)])
            for key in keys:
                pools.setdefault(key, []).append(c)
        given: dict[int, int] = {}
        placed = 0
        for pool, n in sorted(counts.items()):
            members = pools.get(pool, [])
            # A cadre serving several pools (several sectors) shares one capacity across them.
            quotas = _water_fill([(c.pk, existing.get(c.pk, 0) + given.get(c.pk, 0), c.capacity)
                                  for c in members], n)
            lo = 0
            for c in members:
                q = quotas.get(c.pk, 0)
                if q:
                    plan.quotas.append((tier.key, pool, c.pk, lo, lo + q))
                    given[c.pk] = given.get(c.pk, 0) + q
                    lo += q
            placed += lo
        matched = sum(counts.values())
        plan.tiers.append((tier, matched, placed))
        plan.unplaced += matched - placed
        for c in cadres:
            plan.loads.append((c.pk, c.full_name or c.username, level_labels[c.level], existing.get(c.pk, 0),
                               given.get(c.pk, 0), c.capacity))
    return plan


def apply_bulk_assignment(user, jurisdiction, *, on: dt.date | None = None, replace: bool = False,
                          tiers=None) -> Plan:
    """按规则批量分配: write the previewed plan with set-based statements.

    Each tier's picks go into one temporary table; then a handful of statements end the replaced
    assignments, insert the new ones with their deadlines and move both current helpers of each
    enterprise in a single upsert. The audit is the BULK_ASSIGN line (who, when, where, counts, batch)
    plus the assignment rows themselves, which carry assigned_by, rule and the same batch: a per-row
    audit line would repeat each row and double the writes of a province-wide run.
    """
    plan = plan_bulk_assignment(user, jurisdiction, on=on, replace=replace, tiers=tiers)
    batch = uuid.uuid4().hex[:12]
    with transaction.atomic():
        if plan.placed:
            _write_plan(user, plan, batch)
        _event(DutyEvent.Verb.BULK_ASSIGN, user, note=f"{jurisdiction.name}：按规则分配{plan.placed}家",
               data={"batch": batch, "jurisdiction": jurisdiction.pk, "replace": replace,
                     "tiers": {t.key: [m, p] for t, m, p in plan.tiers}, "unplaced": plan.unplaced})
    return plan


# PostgreSQL settings for the length of a bulk assignment's statements (then put back): see _write_plan.
BULK_SETTINGS = {"enable_nestloop": "off", "enable_mergejoin": "off", "work_mem": "256MB"}


def _write_plan(user, plan: Plan, batch: str) -> None:
    """Write the plan with a fixed number of set-based statements, whatever the number of enterprises.

    A quota row says "in pool P, the enterprises ranked lo+1..hi go to cadre C". On PostgreSQL each quota
    is spread into one slot per rank (generate_series), so that every tier's enterprises, numbered with
    ROW_NUMBER() within their pool, meet their cadre in a hash join on (pool, rank). SQLite has no
    generate_series and joins the ranges directly, which is fine at a district's size. Then one
    INSERT … SELECT writes the assignment rows (the history), one upsert moves both current helpers of
    each enterprise (enterprises.Helpers, a narrow table: see there why not the registry row), and (with
    replace) one UPDATE ends the replaced rows.
    """
    rules = cadence()
    cadres = {c.pk: c.user_id for c in Cadre.objects.filter(pk__in={q[2] for q in plan.quotas})}
    on = plan.on
    a_t, h_t = Assignment._meta.db_table, Helpers._meta.db_table
    pg = connection.vendor == "postgresql"
    quotas = [(q[0], q[1], q[2], cadres[q[2]], q[3], q[4]) for q in plan.quotas]
    jmap = [(key, jid, str(pool)) for key, territory in plan.territory.items() for jid, pool in territory.items()]
    with connection.cursor() as cur:
        for table in ("visits_slot", "visits_jmap", "visits_pick"):
            cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute("CREATE TEMP TABLE visits_jmap (tier VARCHAR(20), jid INTEGER, pool VARCHAR(20), "
                    "PRIMARY KEY (tier, jid))")
        cur.execute("CREATE TEMP TABLE visits_slot (tier VARCHAR(20), pool VARCHAR(60), cadre_id INTEGER, "
                    "user_id INTEGER, lo INTEGER, hi INTEGER)")
        if pg:
            cols = list(zip(*jmap, strict=True))
            cur.execute("INSERT INTO visits_jmap SELECT * FROM unnest(%s::text[], %s::int[], %s::text[])",
                        [list(c) for c in cols])
            cols = list(zip(*quotas, strict=True))
            # One row per rank: lo and hi both hold the rank, so the join below is an equality.
            cur.execute("""INSERT INTO visits_slot
                           SELECT tier, pool, cadre_id, user_id, rank, rank FROM (
                               SELECT q.*, generate_series(q.lo + 1, q.hi) AS rank
                               FROM unnest(%s::text[], %s::text[], %s::int[], %s::int[], %s::int[], %s::int[])
                                    AS q(tier, pool, cadre_id, user_id, lo, hi)) s""", [list(c) for c in cols])
            cur.execute("ANALYZE visits_slot")
            cur.execute("ANALYZE visits_jmap")
            # Every join below is set against set, and only a hash join on both keys (pool, rank) costs
            # the same whatever the estimates. A tier's enterprises are often estimated at a handful of
            # rows (several filters and an anti-join): a nested loop over the slots then costs minutes
            # at a province's scale, and so does a merge join, which can only merge on the pool and
            # checks the rank row by row (measured at a million enterprises: 1.2 billion rows, 213 s
            # for one tier). The sorts, hashes and window of a million enterprises spill to disk at the
            # default 4 MB of work memory (measured: 12.8 s → 11.0 s for 200,000 enterprises with 256 MB).
            saved = {}
            for name, value in BULK_SETTINGS.items():
                cur.execute("SELECT current_setting(%s), set_config(%s, %s, true)", [name, name, value])
                saved[name] = cur.fetchone()[0]
            match = "s.pool = r.pool AND s.hi = r.rn"
        else:
            cur.executemany("INSERT INTO visits_jmap VALUES (%s, %s, %s)", jmap)
            cur.executemany("INSERT INTO visits_slot VALUES (%s, %s, %s, %s, %s + 1, %s)", quotas)
            match = "s.pool = r.pool AND r.rn BETWEEN s.lo AND s.hi"
        cur.execute("CREATE TEMP TABLE visits_pick (enterprise_id INTEGER, cadre_id INTEGER, user_id INTEGER, "
                    "duty VARCHAR(20), level VARCHAR(20), rule VARCHAR(60), contact_due DATE, visit_due DATE)")
        for tier, _matched, placed in plan.tiers:
            if not placed:
                continue
            key = "m.pool || ':' || e.sector" if tier.key in plan.sector_tiers else "m.pool"
            ent_sql, ent_params = (_tier_enterprises(tier, plan.jurisdiction, plan.replace)
                                   .values("pk", "jurisdiction_id", "sector").order_by().query.sql_with_params())
            cur.execute(
                f"""INSERT INTO visits_pick
                    SELECT r.pk, s.cadre_id, s.user_id, %s, %s, %s, %s, %s FROM (
                        SELECT e.pk, {key} AS pool, ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY e.pk) AS rn
                        FROM ({ent_sql}) e JOIN visits_jmap m ON m.tier = %s AND m.jid = e.jurisdiction_id) r
                    JOIN visits_slot s ON s.tier = %s AND {match}""",  # noqa: S608 - our own SQL
                [tier.duty, tier.level, tier.label[:60], on + dt.timedelta(days=rules[tier.level][0]),
                 on + dt.timedelta(days=rules[tier.level][1]), *ent_params, tier.key, tier.key])
        if pg:
            cur.execute("ANALYZE visits_pick")
        if plan.replace:
            cur.execute("CREATE INDEX visits_pick_e ON visits_pick (enterprise_id, duty)")
            cur.execute(f"""UPDATE {a_t} SET ended_on = %s WHERE ended_on IS NULL AND EXISTS (
                                SELECT 1 FROM visits_pick p WHERE p.enterprise_id = {a_t}.enterprise_id
                                AND p.duty = {a_t}.duty)""", [on])  # noqa: S608
        cur.execute(
            f"""INSERT INTO {a_t} (enterprise_id, cadre_id, duty, level, started_on, ended_on, assigned_by_id, rule,
                                   batch, last_contact_on, last_visit_on, next_contact_due, next_visit_due)
                SELECT enterprise_id, cadre_id, duty, level, %s, NULL, %s, rule, %s, NULL, NULL, contact_due,
                       visit_due
                FROM visits_pick ORDER BY enterprise_id, duty""",  # noqa: S608 - in index order: fewer pages touched
            [on, user.pk, batch])
        leader, specialist = Duty.CONTACT_LEADER.value, Duty.SPECIALIST.value
        # The WHERE is SQLite's: an upsert's SELECT needs one to parse.
        cur.execute(
            f"""INSERT INTO {h_t} (enterprise_id, contact_leader_id, service_specialist_id)
                SELECT enterprise_id, MAX(CASE WHEN duty = '{leader}' THEN user_id END),
                       MAX(CASE WHEN duty = '{specialist}' THEN user_id END)
                FROM visits_pick WHERE enterprise_id IS NOT NULL GROUP BY enterprise_id ORDER BY enterprise_id
                ON CONFLICT (enterprise_id) DO UPDATE SET
                    contact_leader_id = COALESCE(excluded.contact_leader_id, {h_t}.contact_leader_id),
                    service_specialist_id = COALESCE(excluded.service_specialist_id, {h_t}.service_specialist_id)
            """)  # noqa: S608 - duty values are our own choices
        for table in ("visits_pick", "visits_jmap", "visits_slot"):
            cur.execute(f"DROP TABLE {table}")
        if pg:
            for name, value in saved.items():
                cur.execute("SELECT set_config(%s, %s, true)", [name, value])
    _grant_service_role(list(cadres.values()), user)


# ---------------------------------------------------------------- visits

@dataclass
class Problem:
    """A problem raised during a visit; `solution` set means it was solved on the spot."""

    title: str
    content: str
    solution: str = ""

    def cleaned(self) -> "Problem":
        """The problem as it is stored: without control characters, trimmed."""
        return Problem(*(clean_text(v or "").strip() for v in (self.title, self.content, self.solution)))


def _check_choice(value, choices, label):
    if value and value not in choices.values:
        raise DomainError(f"{label}“{value}”无效。")
    return value or ""


def record_visit(user, *, enterprise, visited_on: dt.date, form: str, visitors=(), discussed: str = "",
                 policies: str = "", production: str = "", orders: str = "", employees=None, hiring_need=None,
                 financing_need=None, campaign=None, problems=()) -> Visit:
    """记录走访: log a contact, move the visitors' deadlines, and turn each problem into a demand (channel 走访)."""
    _require_staff(user)
    if not Enterprise.objects.visible_to(user).filter(pk=enterprise.pk).exists():
        raise NotFoundError("未找到该企业，或您无权为其记录走访。")
    if form not in Form.values:
        raise DomainError(f"走访方式“{form}”无效，应为：{'、'.join(Form.labels)}。")
    if visited_on is None:
        raise DomainError("请填写走访日期。")
    if visited_on > _today():
        raise DomainError("走访日期不能晚于今天。")
    if visited_on < _today() - dt.timedelta(days=366):
        raise DomainError("只能补记一年以内的走访。")
    _check_choice(production, Production, "生产经营情况")
    _check_choice(orders, Trend, "订单情况")
    for value, label in ((employees, "用工人数"), (hiring_need, "用工缺口"), (financing_need, "融资需求")):
        if value is not None and value < 0:
            raise DomainError(f"{label}不能为负数。")
    people = {v.pk: v for v in visitors} | {user.pk: user}
    if any(not p.is_staff_user for p in people.values()):
        raise DomainError("走访人只能是工作人员。")
    problems = [p for p in map(Problem.cleaned, problems) if p.title or p.content]
    if len(problems) > MAX_PROBLEMS:
        raise DomainError(f"一次走访最多记录{MAX_PROBLEMS}个问题，请分次录入。")
    for i, p in enumerate(problems, 1):
        if not p.title.strip():
            raise DomainError(f"第{i}个问题缺少标题。")
    if campaign is not None and not campaign.starts_on <= visited_on <= campaign.ends_on:
        raise DomainError(f"走访日期不在“{campaign.name}”的活动期间内。")
    with transaction.atomic():
        visit = Visit.objects.create(
            enterprise=enterprise, visited_on=visited_on, form=form, campaign=campaign,
            discussed=clean_text(discussed or "").strip(), policies=clean_text(policies or "").strip(),
            production=production, orders=orders,
            employees=employees, hiring_need=hiring_need, financing_need=financing_need, recorded_by=user,
            recorded_at=clock.now())
        visit.visitors.set(people.values())
        _event(DutyEvent.Verb.RECORD_VISIT, user, enterprise=enterprise, visit=visit,
               note=f"{visit.get_form_display()}，{len(people)}人", data={"visitors": sorted(people)})
        for p in problems:
            raise_problem(user, visit, p)
        touch_assignments(enterprise.pk, list(people), visited_on, form)
        _mark_visited(enterprise.pk, visited_on)
    return visit


def raise_problem(user, visit: Visit, problem: Problem) -> Demand:
    """走访问题转诉求: a problem becomes a demand under the 1231 clock, linked to the visit.

    A problem solved on the spot is still received as a demand (seed 000 counts it among those
    collected) and closed at once by the visitor who received it: the solution is its reply, its
    outcome solved, and no 1231 clock runs on.
    """
    problem = problem.cleaned()
    content = problem.content or problem.title
    solution = problem.solution
    demand = demand_services.receive_demand(user, channel=Channel.VISIT, title=problem.title,
                                            content=content, enterprise=visit.enterprise)
    if solution:
        demand = demand_services.close_on_the_spot(user, demand, solution=solution)
    visit.demands.add(demand)
    verb = DutyEvent.Verb.RAISE_PROBLEM
    if solution:
        visit.solved_demands.add(demand)
        verb = DutyEvent.Verb.SOLVE_ON_SPOT
    _event(verb, user, enterprise=visit.enterprise, visit=visit, note=demand.number, data={"demand": demand.pk})
    return demand


def touch_assignments(enterprise_id: int, user_ids, visited_on: dt.date, form: str) -> int:
    """A visitor who holds a duty for the enterprise has made contact (and, on site, a visit)."""
    rules = cadence()
    rows = list(Assignment.objects.current().filter(enterprise_id=enterprise_id, cadre__user_id__in=user_ids))
    for a in rows:
        if a.last_contact_on is None or visited_on > a.last_contact_on:
            a.last_contact_on = visited_on
        if form == Form.ON_SITE and (a.last_visit_on is None or visited_on > a.last_visit_on):
            a.last_visit_on = visited_on
        a.next_contact_due, a.next_visit_due = due_dates(a.level, a.started_on, a.last_contact_on,
                                                         a.last_visit_on, rules)
    Assignment.objects.bulk_update(rows, ["last_contact_on", "last_visit_on", "next_contact_due",
                                          "next_visit_due"])
    return len(rows)


def respond_to_visit(user, visit: Visit, *, confirmed: bool, rating: int | None = None, comment: str = "") -> Visit:
    """企业确认或对走访提出异议, with a 1–5 rating: a visit logged but never made shows up."""
    if not user.is_authenticated or not user.has_role(Role.ENTERPRISE) or user.enterprise_id != visit.enterprise_id:
        raise NotFoundError("未找到该走访记录。")
    if visit.confirmation != Confirmation.PENDING:
        raise DomainError("该走访记录已经确认过，不能重复确认。")
    comment = clean_text(comment or "").strip()
    if confirmed:
        if rating is None or not 1 <= rating <= 5:
            raise DomainError("请为这次走访打分（1至5分）。")
    else:
        if not comment:
            raise DomainError("请说明异议，例如“当天没有人来过”。")
        rating = None
    if len(comment) > 300:
        raise DomainError("意见请控制在300字以内。")
    with transaction.atomic():
        visit.confirmation = Confirmation.CONFIRMED if confirmed else Confirmation.DISPUTED
        visit.rating = rating
        visit.enterprise_comment = comment
        visit.confirmed_at = clock.now()
        visit.confirmed_by = user
        visit.save(update_fields=["confirmation", "rating", "enterprise_comment", "confirmed_at", "confirmed_by"])
        _event(DutyEvent.Verb.CONFIRM_VISIT if confirmed else DutyEvent.Verb.DISPUTE_VISIT, user,
               enterprise=visit.enterprise, visit=visit, note=comment, data={"rating": rating})
    return visit


# ---------------------------------------------------------------- campaigns and seminars

def create_campaign(user, *, name: str, jurisdiction, starts_on: dt.date, ends_on: dt.date,
                    description: str = "") -> Campaign:
    """创建集中走访活动."""
    _require_manager(user, jurisdiction)
    name = clean_text(name or "").strip()
    if not name:
        raise DomainError("请填写活动名称。")
    if ends_on < starts_on:
        raise DomainError("结束日期不能早于开始日期。")
    with transaction.atomic():
        campaign = Campaign.objects.create(name=name[:80], jurisdiction=jurisdiction, starts_on=starts_on,
                                           ends_on=ends_on, description=clean_text(description or "").strip(),
                                           created_by=user)
        _event(DutyEvent.Verb.CREATE_CAMPAIGN, user, campaign=campaign, note=campaign.name)
    return campaign


RULE_FIELDS = {"sector", "is_four_above", "tag", "town"}


def target_by_rule(user, campaign: Campaign, rule: dict) -> int:
    """设定目标企业（按规则）: every enterprise of the campaign's jurisdiction matching the rule."""
    _require_manager(user, campaign.jurisdiction)
    unknown = set(rule) - RULE_FIELDS
    if unknown:
        raise DomainError(f"不支持的条件：{'、'.join(sorted(unknown))}。")
    qs = Enterprise.objects.filter(jurisdiction__path__startswith=campaign.jurisdiction.path)
    if rule.get("sector"):
        sectors = rule["sector"] if isinstance(rule["sector"], list) else [rule["sector"]]
        if any(s not in Sector.values for s in sectors):
            raise DomainError("行业条件无效。")
        qs = qs.filter(sector__in=sectors)
    if rule.get("is_four_above") is not None:
        qs = qs.filter(is_four_above=bool(rule["is_four_above"]))
    if rule.get("tag"):
        qs = qs.filter(tags__has_tag=rule["tag"])
    if rule.get("town"):
        qs = qs.filter(jurisdiction_id=rule["town"])
    with transaction.atomic():
        added = _add_targets(campaign, qs.values_list("pk", flat=True))
        campaign.rule = rule
        campaign.save(update_fields=["rule"])
        _event(DutyEvent.Verb.SET_TARGETS, user, campaign=campaign, note=f"按规则新增目标企业{added}家",
               data={"rule": rule, "added": added})
    return added


def target_enterprises(user, campaign: Campaign, enterprise_ids) -> int:
    """设定目标企业（导入名单）: all of them must lie in the campaign's jurisdiction, or nothing is added."""
    _require_manager(user, campaign.jurisdiction)
    ids = set(enterprise_ids)
    found = set(Enterprise.objects.filter(pk__in=ids, jurisdiction__path__startswith=campaign.jurisdiction.path)
                .values_list("pk", flat=True))
    if ids - found:
        raise DomainError(f"有{len(ids - found)}家企业不在活动区划内，名单未导入。")
    with transaction.atomic():
        added = _add_targets(campaign, sorted(ids))
        _event(DutyEvent.Verb.SET_TARGETS, user, campaign=campaign, note=f"导入目标企业{added}家",
               data={"added": added})
    return added


def _add_targets(campaign, ids) -> int:
    before = CampaignTarget.objects.filter(campaign=campaign).count()
    CampaignTarget.objects.bulk_create([CampaignTarget(campaign=campaign, enterprise_id=pk) for pk in ids],
                                       ignore_conflicts=True, batch_size=2000)
    fill_targets(campaign, CampaignTarget.objects.filter(campaign=campaign, jurisdiction__isnull=True))
    return CampaignTarget.objects.filter(campaign=campaign).count() - before


def fill_targets(campaign, targets=None) -> int:
    """Take each target's sector, place and contact leader, and its first visit in the period (set-based)."""
    targets = targets if targets is not None else CampaignTarget.objects.filter(campaign=campaign)
    enterprise = Enterprise.objects.filter(pk=OuterRef("enterprise_id"))
    first = (Visit.objects.filter(enterprise_id=OuterRef("enterprise_id"), visited_on__gte=campaign.starts_on,
                                  visited_on__lte=campaign.ends_on).order_by("visited_on").values("visited_on")[:1])
    return targets.update(sector=Subquery(enterprise.values("sector")[:1]),
                          jurisdiction_id=Subquery(enterprise.values("jurisdiction_id")[:1]),
                          leader_id=Subquery(Helpers.objects.filter(enterprise_id=OuterRef("enterprise_id"))
                                             .values("contact_leader_id")[:1]),
                          visited_on=Subquery(first))


def _mark_visited(enterprise_id: int, visited_on: dt.date) -> int:
    """The first visit of an enterprise within a campaign's period marks it visited on that campaign's list."""
    return (CampaignTarget.objects.filter(enterprise_id=enterprise_id, campaign__starts_on__lte=visited_on,
                                          campaign__ends_on__gte=visited_on)
            .filter(Q(visited_on__isnull=True) | Q(visited_on__gt=visited_on)).update(visited_on=visited_on))


def form_group(user, campaign: Campaign, *, name: str, leader=None, members=(), enterprise_ids=None):
    """组建走访组: a named group of visitors in a campaign; optionally the targets it covers."""
    _require_manager(user, campaign.jurisdiction)
    name = clean_text(name or "").strip()
    if not name:
        raise DomainError("请填写走访组名称。")
    people = list(members) + ([leader] if leader else [])
    if any(not p.is_staff_user for p in people):
        raise DomainError("走访组成员只能是工作人员。")
    with transaction.atomic():
        group, _ = CampaignGroup.objects.update_or_create(campaign=campaign, name=name[:60],
                                                          defaults={"leader": leader})
        group.members.set(members)
        covered = 0
        if enterprise_ids is not None:
            covered = CampaignTarget.objects.filter(campaign=campaign, enterprise_id__in=enterprise_ids) \
                .update(group=group)
        _event(DutyEvent.Verb.SET_TARGETS, user, campaign=campaign, note=f"走访组“{group.name}”：{len(people)}人",
               data={"group": group.pk, "members": [p.pk for p in people], "covered": covered})
    return group


def record_seminar(user, *, kind: str, title: str, held_on: dt.date, jurisdiction, organiser=None,
                   enterprises=(), campaign=None, notes: str = "") -> Seminar:
    """记录宣讲会/座谈会."""
    _require_staff(user)
    own_unit = (user.unit_id is not None and user.has_role(Role.UNIT_HEAD, Role.HANDLER)
                and jurisdiction.path.startswith(user.unit.jurisdiction.path))
    if not (own_unit or _covers(user, jurisdiction.path)):
        raise PermissionDeniedError("只能记录本单位或本辖区举办的宣讲会、座谈会。")
    if kind not in Seminar.Kind.values:
        raise DomainError("类型应为座谈会或宣讲会。")
    title = clean_text(title or "").strip()
    if not title:
        raise DomainError("请填写主题。")
    if held_on > _today():
        raise DomainError("举办日期不能晚于今天。")
    with transaction.atomic():
        seminar = Seminar.objects.create(kind=kind, title=title[:120], held_on=held_on, jurisdiction=jurisdiction,
                                         organiser=organiser, campaign=campaign, notes=clean_text(notes or "").strip(),
                                         recorded_by=user)
        seminar.enterprises.set(enterprises)
        _event(DutyEvent.Verb.RECORD_SEMINAR, user, campaign=campaign, note=seminar.title,
               data={"seminar": seminar.pk, "enterprises": len(enterprises)})
    return seminar


# ---------------------------------------------------------------- the overdue sweep

def urge_overdue_contacts(today: dt.date | None = None) -> int:
    """催办超期联系/走访: one urging per assignment, kind and deadline; safe to run any number of times."""
    today = today or _today()
    sweep = uuid.uuid4().hex
    now = connection.ops.adapt_datetimefield_value(clock.now())
    a_t, u_t = Assignment._meta.db_table, ContactUrging._meta.db_table
    created = 0
    with transaction.atomic(), connection.cursor() as cur:
        for kind, column in ((ContactUrging.Kind.CONTACT, "next_contact_due"),
                             (ContactUrging.Kind.VISIT, "next_visit_due")):
            cur.execute(
                f"""INSERT INTO {u_t} (assignment_id, kind, due, cadre_id, sweep, created_at)
                    SELECT a.id, %s, a.{column}, a.cadre_id, %s, %s FROM {a_t} a
                    WHERE a.ended_on IS NULL AND a.{column} < %s
                    ON CONFLICT DO NOTHING""",  # noqa: S608 - table and column names are ours
                [kind, sweep, now, today])
            created += cur.rowcount
    if created:
        from .tasks import notify_sweep

        transaction.on_commit(lambda: notify_sweep(sweep))
    return created
