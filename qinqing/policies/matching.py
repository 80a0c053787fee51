"""Matching policies and enterprises, in SQL: who qualifies, why, for how much, and who misses by one condition.

For a policy: the enterprises of its area (and of the caller's reach) that satisfy its rule, each with the
group of conditions it satisfies and the estimated amount, in one query; the near misses (差一项条件) in one
more, each condition of each group annotated as 0/1 and summed, the first missing one named.
For an enterprise: every candidate policy's rule and amount as columns of one query on that enterprise's row.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Case, DecimalField, ExpressionWrapper, F, IntegerField, Q, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThanOrEqual, IsNull

from qinqing.enterprises.models import Enterprise
from qinqing.lib import clock

from . import rules
from .models import AmountKind, Policy, PolicyMatch, Status

MONEY = DecimalField(max_digits=16, decimal_places=2)
COLUMNS_PER_QUERY = 250  # policies per query when matching one enterprise (a scalar subquery each)


def amount_expression(policy: Policy, outer: str = "pk"):
    """The estimated benefit (万元) for the enterprise row, or NULL (按实际, or the figure not reported)."""
    if policy.amount_kind == AmountKind.FIXED and policy.amount_fixed is not None:
        return Value(policy.amount_fixed, output_field=MONEY)
    if (policy.amount_kind == AmountKind.PERCENT and policy.amount_percent and policy.amount_metric
            and policy.amount_year):
        base = rules.figure_value(policy.amount_metric, policy.amount_year, outer)
        share = ExpressionWrapper(base * Value(policy.amount_percent / 100), output_field=MONEY)
        if policy.amount_cap is None:
            return share
        # The figure above which the cap applies, so that the comparison is on the reported figure itself.
        ceiling = policy.amount_cap * 100 / policy.amount_percent
        return Case(When(IsNull(base, True), then=Value(None, output_field=MONEY)),
                    When(GreaterThanOrEqual(base, Value(ceiling)), then=Value(policy.amount_cap, output_field=MONEY)),
                    default=share, output_field=MONEY)
    return Value(None, output_field=MONEY)


def _with_amount(qs, policy: Policy):
    return qs.annotate(estimate=amount_expression(policy))


def area(policy: Policy, enterprises=None):
    """The enterprises a policy can reach: registered in its area, among `enterprises` (a caller's reach)."""
    qs = enterprises if enterprises is not None else Enterprise.objects.all()
    return qs.filter(jurisdiction__path__startswith=policy.jurisdiction.path)


def eligible(policy: Policy, enterprises=None, today: dt.date | None = None):
    """The eligible enterprises, annotated with `estimate` (万元 or None) and `matched_group` (1-based)."""
    today = today or clock.today()
    qs = area(policy, enterprises).filter(rules.compile_rule(policy.rule, today))
    parts = rules.groups(policy.rule)
    if len(parts) > 1:
        whens = [When(rules.compile_rule(rules.build([rows]), today), then=Value(g))
                 for g, rows in enumerate(parts, start=1)]
        qs = qs.annotate(matched_group=Case(*whens, default=Value(0), output_field=IntegerField()))
    else:
        qs = qs.annotate(matched_group=Value(1, output_field=IntegerField()))
    return _with_amount(qs, policy)


def reason(policy: Policy, group: int) -> str:
    """Why an enterprise qualifies: the conditions of the group it satisfies."""
    parts = rules.groups(policy.rule)
    if not parts:
        return "所有企业均适用"
    rows = parts[max(group, 1) - 1]
    return "满足：" + "，".join(rules.describe_row(r["cond"], r["negate"]) for r in rows)


def near_misses(policy: Policy, enterprises=None, today: dt.date | None = None):
    """Enterprises of the area that do not qualify but satisfy all conditions but one of some group (of two
    conditions or more), annotated with `missing` = "group:row" of the first such missing condition.
    One query: each condition is a 0/1 column, each group's sum compared with its size."""
    today = today or clock.today()
    parts = rules.groups(policy.rule)
    qs = area(policy, enterprises)
    sums, misses, qualifies = {}, [], Q(pk__in=[])
    for g, rows in enumerate(parts):
        names = []
        for i, row in enumerate(rows):
            name = f"_c{g}_{i}"
            qs = qs.alias(**{name: rules.met(row["cond"], row["negate"], today)})
            names.append(name)
        total = F(names[0])
        for name in names[1:]:
            total = total + F(name)
        qs = qs.alias(**{f"_s{g}": ExpressionWrapper(total, output_field=IntegerField())})
        sums[g] = len(rows)
        qualifies |= Q(**{f"_s{g}": len(rows)})
        if len(rows) >= 2:
            misses += [When(Q(**{f"_s{g}": len(rows) - 1, name: 0}), then=Value(f"{g}:{i}"))
                       for i, name in enumerate(names)]
    if not misses:
        return qs.none().annotate(missing=Value(""))
    qs = qs.annotate(missing=Case(*misses, default=Value("")))
    return _with_amount(qs.exclude(qualifies).exclude(missing=""), policy)


def missing_text(policy: Policy, code: str) -> str:
    """The Chinese text of the condition named by `near_misses`' code."""
    g, i = (int(x) for x in code.split(":"))
    row = rules.groups(policy.rule)[g][i]
    return rules.describe_row(row["cond"], row["negate"])


def money(value) -> Decimal | None:
    """An estimate to the fen (SQLite returns what the arithmetic gave, PostgreSQL its own scale)."""
    return None if value is None else Decimal(value).quantize(Decimal("0.01"))


@dataclass
class Match:
    policy: Policy
    estimate: Decimal | None
    reason: str = ""


_SENTINEL = -7_316_054_281  # stands for the enterprise's id in a cached statement (no real id is negative)
_NOT_ESTIMATED = -1  # matched, amount 按实际 or its figure not reported
_ROW_SQL: dict[tuple, tuple[str, list]] = {}
_ROW_SQL_LIMIT = 5000


def _row_sql(policy: Policy, today: dt.date) -> tuple[str, list]:
    """One policy as a scalar subquery on one enterprise row: NULL when the enterprise does not qualify, else
    its estimate (or -1). Compiled by the ORM once per policy version and day in this process: compiling a
    hundred rules' subqueries cost a second of Python for every enterprise asked about; the database's part is
    a few milliseconds."""
    key = (connection.alias, connection.vendor, policy.pk, policy.updated_at, today, policy.jurisdiction_id)
    found = _ROW_SQL.get(key)
    if found is None:
        qs = (Enterprise.objects.filter(pk=_SENTINEL).filter(rules.compile_rule(policy.rule, today))
              .annotate(_v=Coalesce(amount_expression(policy), Value(_NOT_ESTIMATED, output_field=MONEY)))
              .values("_v").order_by())
        sql, params = qs.query.sql_with_params()
        if len(_ROW_SQL) >= _ROW_SQL_LIMIT:
            _ROW_SQL.clear()
        found = _ROW_SQL[key] = (sql, list(params))
    return found


def policies_for(enterprise: Enterprise, policies, today: dt.date | None = None) -> list[Match]:
    """The policies among `policies` the enterprise qualifies for, with their estimates, in the given order.

    Policies whose matches are stored (published, `matched_at` set) are read from the match table: one indexed
    query on (enterprise, policy) whatever the library holds. The others (drafts, or asked about another day
    than today) are evaluated live by `live_policies_for`."""
    today = today or clock.today()
    candidates = list(policies)
    if today != clock.today():
        return live_policies_for(enterprise, candidates, today)
    stored = [p.pk for p in candidates if stores_matches(p)]
    rows = {}
    if stored:
        rows = dict(PolicyMatch.objects.filter(enterprise_id=enterprise.pk, policy_id__in=stored)
                    .values_list("policy_id", "estimate"))
    live = {m.policy.pk: m for m in live_policies_for(
        enterprise, [p for p in candidates if not stores_matches(p)], today)}
    found = []
    for policy in candidates:
        if policy.pk in rows:
            found.append(Match(policy, money(rows[policy.pk])))
        elif policy.pk in live:
            found.append(live[policy.pk])
    return found


def live_policies_for(enterprise: Enterprise, policies, today: dt.date | None = None) -> list[Match]:
    """The policies among `policies` the enterprise qualifies for by their rules as of `today`.

    One query on the enterprise's row per COLUMNS_PER_QUERY policies (one in practice): each policy a scalar
    subquery giving NULL (does not qualify) or its estimate, from statements cached per policy version (see
    _row_sql). The area is checked in the policies' own query (the caller passes policies applying where the
    enterprise is)."""
    today = today or clock.today()
    candidates = list(policies)
    found = []
    for start in range(0, len(candidates), COLUMNS_PER_QUERY):
        chunk = candidates[start:start + COLUMNS_PER_QUERY]
        parts, params = [], []
        for policy in chunk:
            sql, args = _row_sql(policy, today)
            parts.append(f"({sql})")
            params += [enterprise.pk if a == _SENTINEL else a for a in args]
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(parts), params)  # noqa: S608 - the ORM's SQL, values are parameters
            row = cursor.fetchone()
        for policy, value in zip(chunk, row, strict=True):
            if value is not None:
                estimate = None if Decimal(value) == _NOT_ESTIMATED else money(value)
                found.append(Match(policy, estimate))
    return found


# ---------------------------------------------------------------- the stored match table

def stores_matches(policy: Policy) -> bool:
    """Whether the policy's eligible enterprises are read from the match table (published and computed)."""
    return policy.status == Status.PUBLISHED and policy.matched_at is not None


def eligible_list(policy: Policy, enterprises=None):
    """The eligible enterprises as the policy page, its export, the API and reach list them: annotated with
    `estimate` and `matched_group` like `eligible`, read from the match table when the policy's matches are
    stored (an indexed join instead of evaluating the rule on the registry), live for a draft."""
    if not stores_matches(policy):
        return eligible(policy, enterprises)
    # The annotations reuse the filter's join on the match table (one row per enterprise and policy).
    return eligible_only(policy, enterprises).annotate(
        estimate=F("policy_matches__estimate"), matched_group=F("policy_matches__matched_group"))


def eligible_only(policy: Policy, enterprises=None):
    """The eligible enterprises without annotations (to count or aggregate): stored, or live for a draft."""
    qs = enterprises if enterprises is not None else Enterprise.objects.all()
    if not stores_matches(policy):
        return area(policy, qs).filter(rules.compile_rule(policy.rule, clock.today()))
    return qs.filter(policy_matches__policy=policy)


_NEW = "policies_match_new"  # the fresh result of one policy, a temporary table of this connection
CHANGED = "policies_match_changed"  # the enterprises changed since the last run (mark_changed), likewise


def mark_changed(since) -> int:
    """Collect into the temporary table CHANGED the enterprises whose registry row or yearly figures were
    written since `since` (every service and importer stamps updated_at / recorded_at): what an incremental
    re-match needs to look at. Returns their number; drop_changed() when done."""
    from qinqing.enterprises.models import YearlyFigures

    registry, figures = Enterprise._meta.db_table, YearlyFigures._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {CHANGED}")
        cursor.execute(f"CREATE TEMPORARY TABLE {CHANGED} AS SELECT id AS enterprise_id FROM {registry} "  # noqa: S608
                       f"WHERE updated_at >= %s UNION SELECT enterprise_id FROM {figures} WHERE recorded_at >= %s",
                       [since, since])
        cursor.execute(f"CREATE UNIQUE INDEX {CHANGED}_id ON {CHANGED} (enterprise_id)")
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {CHANGED}")
        cursor.execute(f"SELECT COUNT(*) FROM {CHANGED}")  # noqa: S608
        return cursor.fetchone()[0]


def drop_changed() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {CHANGED}")


def ages(policy: Policy) -> bool:
    """Whether the rule depends on the day itself (成立满N年): an enterprise can start or stop qualifying
    without any of its data changing, so such a policy is always re-matched in full."""
    return any(r["cond"]["field"] == "years" for rows in rules.groups(policy.rule) for r in rows)


def refresh(policy: Policy, today: dt.date, *, only_changed: bool = False) -> tuple[int, int]:
    """Bring the stored matches of one policy in line with its rule as of `today`: (rows removed, rows added).

    Set-based and a difference, not a rewrite: the rule's query (`eligible`, the whole registry of the policy's
    area) is evaluated once into a temporary table; one DELETE removes the rows that no longer hold (or whose
    group or estimate changed), one INSERT … SELECT adds the missing ones. A nightly run over a registry where
    little changed writes little. `only_changed`: the same, restricted to the enterprises of mark_changed's
    table (the nightly incremental run). Non-current policies (draft, ended, past their validity) keep no rows.
    The caller holds the policy row locked inside a transaction."""
    table = PolicyMatch._meta.db_table
    current = policy.status == Status.PUBLISHED and not (policy.valid_until and policy.valid_until < today)
    scope, restrict = Enterprise.objects.all(), ""
    if only_changed:
        changed = f"SELECT enterprise_id FROM {CHANGED}"  # noqa: S608 - our temporary table
        scope = scope.filter(pk__in=RawSQL(changed, []))  # noqa: S611 - our table, no values
        restrict = f" AND {table}.enterprise_id IN ({changed})"
    with connection.cursor() as cursor:
        if not current:
            cursor.execute(f"DELETE FROM {table} WHERE policy_id = %s", [policy.pk])  # noqa: S608 - our table
            return cursor.rowcount, 0
        sql, params = (eligible(policy, scope, today)
                       .values(m_enterprise=F("pk"), m_group=F("matched_group"), m_estimate=F("estimate"))
                       .order_by().query.sql_with_params())
        cursor.execute(f"DROP TABLE IF EXISTS {_NEW}")
        # to the fen, as the column stores it (else SQLite's float arithmetic would differ from it every night)
        money_sql = ("CAST(t.m_estimate AS NUMERIC(16, 2))" if connection.vendor == "postgresql"
                     else "ROUND(t.m_estimate, 2)")
        cursor.execute(f"SELECT 1 FROM {table} WHERE policy_id = %s LIMIT 1", [policy.pk])  # noqa: S608
        if cursor.fetchone() is None:  # nothing stored yet (publication): no difference to take, one INSERT
            cursor.execute(f"INSERT INTO {table} (policy_id, enterprise_id, matched_group, estimate, "  # noqa: S608
                           f"matched_on) SELECT %s, t.m_enterprise, t.m_group, {money_sql}, %s FROM ({sql}) t",
                           [policy.pk, today, *params])
            return 0, cursor.rowcount
        cursor.execute(f"CREATE TEMPORARY TABLE {_NEW} AS SELECT t.m_enterprise AS enterprise_id, "  # noqa: S608
                       f"t.m_group AS matched_group, {money_sql} AS estimate FROM ({sql}) t", params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {_NEW}")  # a temporary table has no statistics: plan the joins on its size
        else:  # SQLite probes the fresh result once per stored row: without an index, a scan each time
            cursor.execute(f"CREATE INDEX {_NEW}_id ON {_NEW} (enterprise_id)")
        cursor.execute(
            f"DELETE FROM {table} WHERE policy_id = %s{restrict} AND NOT EXISTS (SELECT 1 FROM {_NEW} n "  # noqa: S608
            f"WHERE n.enterprise_id = {table}.enterprise_id AND n.matched_group = {table}.matched_group "
            f"AND (n.estimate = {table}.estimate OR (n.estimate IS NULL AND {table}.estimate IS NULL)))",
            [policy.pk])
        removed = cursor.rowcount
        cursor.execute(
            f"INSERT INTO {table} (policy_id, enterprise_id, matched_group, estimate, matched_on) "  # noqa: S608
            f"SELECT %s, n.enterprise_id, n.matched_group, n.estimate, %s FROM {_NEW} n WHERE NOT EXISTS "
            f"(SELECT 1 FROM {table} m WHERE m.policy_id = %s AND m.enterprise_id = n.enterprise_id)",
            [policy.pk, today, policy.pk])
        added = cursor.rowcount
        cursor.execute(f"DROP TABLE {_NEW}")
    return removed, added
