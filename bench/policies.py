"""惠企政策 benchmark (issue 16): matching at province scale on PostgreSQL, every policy page at district scale.

PostgreSQL (default 2,000,000 enterprises with two years of figures, 500 published policies):
  * the stored match table (PolicyMatch) built by services.rematch_all_policies: the first run writes every
    match; then 1% of the enterprises' 2025 revenue is re-imported and the nightly run (the Huey task's body)
    is timed — target < 10 min — and a third run with nothing changed;
  * eligible list of one policy: the count and the first page of 50 by name, as the API and the policy page
    ask for them (matching.eligible_list + filter_eligible, reading the table) — target < 2 s;
  * all matches of one enterprise: the candidate policies, then matching.policies_for (the table) — target
    < 200 ms;
  * the push run (pushes.push_due_policies) on the same data: its first run writes the publication stage for
    every reachable eligible enterprise (1 in 20 has a registered mobile), its second must write nothing.
SQLite (default 5,000 enterprises, 100 policies): every policy's staff page (/policies/<pk>/, eligible list,
near misses, reach, questions) through the Django test client — target < 300 ms each.

The registry is built with set-based SQL (generate_series on PostgreSQL, a recursive CTE on SQLite), never row
by row; policies go through services.register_policy (their rules validated and explained) and are published
with one UPDATE (publishing through the service would queue a push per policy).

    .venv/bin/python bench/policies.py --db postgresql                      # throwaway cluster, 2M / 500
    .venv/bin/python bench/policies.py --db postgresql --enterprises 500000
    .venv/bin/python bench/policies.py --db sqlite                          # 5,000 / 100, every page
    .venv/bin/python bench/policies.py --db postgresql --database-url postgresql://postgres@127.0.0.1:5433/x_bench
    .venv/bin/python bench/policies.py --db postgresql --database-url … --reuse    # measure again, no rebuild

Timings on a shared machine are inflated by its load; the script prints `uptime`'s load average with them.
"""

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._util import ThrowawayPostgres  # noqa: E402

TOWNS = ["湖塘镇", "牛塘镇", "洛阳镇", "遥观镇", "横林镇", "横山桥镇", "前黄镇", "礼嘉镇", "嘉泽镇", "湟里镇"]
# (industry code, sector) cycled through the registry; real GB/T 4754 codes.
TRADES = [("C3484", "industry"), ("C3670", "industry"), ("C3831", "industry"), ("E4710", "construction"),
          ("F5165", "wholesale_retail"), ("F5212", "wholesale_retail"), ("H6210", "hospitality"),
          ("G5431", "transport"), ("I6513", "services"), ("K7010", "real_estate"), ("L7299", "services"),
          ("A0143", "agriculture")]
TODAY = dt.date(2026, 12, 3)


def load() -> str:
    with open("/proc/loadavg") as f:
        return "load " + " ".join(f.read().split()[:3])


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def summary(samples: list[float]) -> str:
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, int(round(0.95 * (len(samples) - 1))))]
    return f"p50 {ms(statistics.median(samples))}, p95 {ms(p95)}, max {ms(samples[-1])} (n={len(samples)})"


def setup(db: str, url: str | None, work: Path) -> None:
    os.environ["QINQING_VAR_DIR"] = str(work / "var")
    (work / "var").mkdir(parents=True, exist_ok=True)
    os.environ["DATABASE_URL"] = url or f"sqlite:///{work / 'policies.sqlite3'}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "qinqing.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# ---------------------------------------------------------------- the data

def places():
    from qinqing.accounts.models import Jurisdiction

    province = Jurisdiction.objects.create(code="320000", name="江苏省", level="province")
    city = Jurisdiction.objects.create(code="320400", name="常州市", level="city", parent=province)
    district = Jurisdiction.objects.create(code="320412", name="武进区", level="district", parent=city)
    towns = [Jurisdiction.objects.create(code=f"320412{i + 100:03d}", name=t, level="town", parent=district)
             for i, t in enumerate(TOWNS)]
    return district, towns


def _columns(fixed: dict[str, str]) -> tuple[list[str], list[str]]:
    """Every concrete column of Enterprise: `fixed` SQL expressions, the rest NULL or the field's default."""
    from django.db import connection

    from qinqing.enterprises.models import Enterprise

    names, exprs = [], []
    for f in Enterprise._meta.concrete_fields:
        if f.primary_key:
            continue
        names.append(f.column)
        if f.column in fixed:
            exprs.append(fixed[f.column])
        elif f.null:
            exprs.append("NULL")
        elif f.get_internal_type() in ("BooleanField",):
            exprs.append("TRUE" if f.default is True else "FALSE")
        elif f.get_internal_type() in ("DateTimeField",):
            exprs.append("CURRENT_TIMESTAMP")
        elif f.get_internal_type() == "JSONField" or f.__class__.__name__ == "TagListField":
            exprs.append("'[]'")
        elif f.get_internal_type() in ("IntegerField", "PositiveIntegerField", "PositiveSmallIntegerField",
                                       "SmallIntegerField", "BigIntegerField"):
            exprs.append(str(f.default if isinstance(f.default, int) else 0))
        else:
            exprs.append("''")
    if connection.vendor == "sqlite":
        exprs = [e.replace("TRUE", "1").replace("FALSE", "0") for e in exprs]
    return names, exprs


def build_registry(n: int, towns) -> float:
    """n enterprises and their 2024/2025 figures, in a handful of INSERT … SELECT statements."""
    from django.db import connection, transaction

    started = time.perf_counter()
    pg = connection.vendor == "postgresql"
    town_ids = [t.pk for t in towns]
    trades = " ".join(f"WHEN {i} THEN '{code}'" for i, (code, _) in enumerate(TRADES))
    sectors = " ".join(f"WHEN {i} THEN '{sector}'" for i, (_, sector) in enumerate(TRADES))
    towns_case = " ".join(f"WHEN {i} THEN {pk}" for i, pk in enumerate(town_ids))
    h = "((g * 2654435761) % 1000)"  # a deterministic spread of 0..999 per enterprise
    date = ("DATE '2000-01-01' + ((g * 37) % 9000)::int" if pg
            else "date('2000-01-01', '+' || ((g * 37) % 9000) || ' days')")
    cat = "||"
    fixed = {
        "name": f"'武进区' {cat} CASE (g % 12) WHEN 0 THEN '精密机械' ELSE '科技' END {cat} g {cat} '号有限公司'",
        "credit_code": f"'91320412' {cat} substr('0000000000' {cat} g, -10, 10)" if not pg
        else "'91320412' || lpad(g::text, 10, '0')",
        "sector": f"CASE (g % 12) {sectors} END",
        "industry_code": f"CASE (g % 12) {trades} END",
        "jurisdiction_id": f"CASE (g % {len(town_ids)}) {towns_case} END",
        "size": f"CASE WHEN {h} < 10 THEN 'large' WHEN {h} < 80 THEN 'medium' WHEN {h} < 400 THEN 'small' "
                "ELSE 'micro' END",
        "is_four_above": f"({h} < 120)",
        "tags": "(CASE WHEN g % 17 = 0 THEN '[\"专精特新\"]' WHEN g % 29 = 0 THEN '[\"高新技术企业\"]' ELSE '[]' END)"
                + ("::jsonb" if pg else ""),
        "contact_name": "'王经理'",
        "contact_phone": f"CASE WHEN g % 20 = 0 THEN '138' {cat} substr('00000000' {cat} g, -8, 8) ELSE '' END"
        if not pg else "CASE WHEN g % 20 = 0 THEN '138' || lpad((g % 100000000)::text, 8, '0') ELSE '' END",
        "established_on": date,
        # written a month before the run, like a registry kept for years: the night's incremental re-match looks
        # at what was written since the last one
        "created_at": "'2026-11-01 00:00:00'", "updated_at": "'2026-11-01 00:00:00'",
    }
    names, exprs = _columns(fixed)
    series = "generate_series(1, %s) g" if pg else \
        "(WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < %s) SELECT g FROM s)"
    with transaction.atomic(), connection.cursor() as cursor:
        step = 500_000
        for first in range(0, n, step):
            count = min(step, n - first)
            cursor.execute(f"INSERT INTO enterprises_enterprise ({', '.join(names)}) "  # noqa: S608 - ours
                           f"SELECT {', '.join(exprs).replace('%', '%%')} FROM (SELECT g + {first} AS g FROM {series}) t",
                           [count])
            print(f"    enterprises {first + count:,} ({time.perf_counter() - started:.0f} s)", flush=True)
        revenue = "(e.id * 7919 % 50000) + 100"
        for year, factor in ((2024, "1.0"), (2025, "(0.85 + (e.id * 31 % 40) / 100.0)")):
            value = f"round(({revenue}) * {factor}, 2)"
            cursor.execute(
                "INSERT INTO enterprises_yearlyfigures (enterprise_id, year, employees, revenue, assets, tax_paid, "
                "size, is_four_above, four_above_rule, recorded_at) "
                f"SELECT e.id, {year}, (e.id * 13 % 900) + 1, {value}, {value} * 1.3, {value} * 0.03, e.size, "
                "e.is_four_above, '', '2026-11-01 00:00:00' FROM enterprises_enterprise e")
            print(f"    figures {year} ({time.perf_counter() - started:.0f} s)", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


RULES = [  # a believable library: most policies select a few percent of the registry, some far more
    [{"group": 1, "field": "four_above"}, {"group": 1, "field": "industry", "value": "C"}],
    [{"group": 1, "field": "size", "value": "小型 微型"}],
    [{"group": 1, "field": "tag", "value": "专精特新"}],
    [{"group": 1, "field": "growth", "metric": "revenue", "year": 2025, "op": "gte", "value": "10"},
     {"group": 1, "field": "four_above"}],
    [{"group": 1, "field": "figure", "metric": "revenue", "year": 2025, "op": "gte", "value": "20000"}],
    [{"group": 1, "field": "industry", "value": "I"}, {"group": 2, "field": "tag", "value": "高新技术企业"}],
    [{"group": 1, "field": "years", "op": "lt", "value": "3"}, {"group": 1, "field": "size", "value": "微型"}],
    [{"group": 1, "field": "industry", "value": "C38"}, {"group": 1, "field": "figure", "metric": "employees",
                                                         "year": 2025, "op": "gte", "value": "100"}],
    [{"group": 1, "field": "industry", "value": "H"}, {"group": 1, "field": "four_above", "negate": True}],
    [{"group": 1, "field": "size", "value": "大型 中型"}, {"group": 1, "field": "industry", "value": "C"},
     {"group": 2, "field": "tag", "value": "专精特新"}],
]


def build_policies(count: int, district, towns) -> float:
    from qinqing.accounts.models import Role, User
    from qinqing.enterprises.models import Tag
    from qinqing.policies import services
    from qinqing.policies.models import BenefitType, Policy, Status

    started = time.perf_counter()
    for name in ("专精特新", "高新技术企业"):
        Tag.objects.get_or_create(name=name)
    admin = User.objects.create_user(username="bench-admin", password="x", is_superuser=True, is_staff=True)
    from qinqing.accounts.models import RoleGrant

    RoleGrant.objects.create(user=admin, role=Role.ADMIN)
    rng = random.Random(16)
    kinds = [c for c, _ in BenefitType.choices]
    for i in range(count):
        rows = [dict(r) for r in RULES[i % len(RULES)]]
        if i % 4 == 3:  # a town's own policy
            rows.append({"group": 1, "field": "jurisdiction", "value": towns[i % len(towns)].code})
            rows = [r for r in rows if r.get("group", 1) == 1]
        percent = i % 3 == 0
        services.register_policy(admin, {
            "title": f"武进区惠企政策第{i + 1}号", "issuer": "武进区工业和信息化局", "level": "district",
            "jurisdiction": district, "benefit_type": kinds[i % len(kinds)], "valid_from": "2026-01-01",
            "valid_until": "2027-12-31", "apply_opens": "2026-10-01",
            "apply_closes": (TODAY + dt.timedelta(days=rng.randint(5, 90))).isoformat(),
            "amount_kind": "percent" if percent else "fixed", "amount_fixed": "" if percent else "10",
            "amount_percent": "1" if percent else "", "amount_metric": "revenue" if percent else "",
            "amount_year": "2025" if percent else "", "amount_cap": "50" if percent else ""}, rule_rows=rows)
    Policy.objects.update(status=Status.PUBLISHED, published_on=TODAY - dt.timedelta(days=30))
    return time.perf_counter() - started


# ---------------------------------------------------------------- the measurements

def measure_matching(pg: bool, sample: int, push: bool = True) -> dict:
    from django.db import connection

    from qinqing.accounts.models import User
    from qinqing.enterprises.models import Enterprise
    from qinqing.policies import matching, pushes, services
    from qinqing.policies.filters import filter_eligible
    from qinqing.policies.models import Policy

    out = {}
    admin = User.objects.get(username="bench-admin")
    from qinqing.lib import clock
    from qinqing.policies.models import PolicyMatch

    with _today():
        if not PolicyMatch.objects.exists():  # (--reuse: built by an earlier run)
            out["build"] = _rematch_all(services, "first build of the match table (every row written)")
        with connection.cursor() as cursor:  # the night's news: 1% of the registry re-imports its 2025 revenue
            cursor.execute("UPDATE enterprises_yearlyfigures SET revenue = revenue * 1.3, recorded_at = %s "
                           "WHERE year = 2025 AND enterprise_id %% 100 = 7", [clock.now()])
            print(f"  re-imported 2025 revenue of {cursor.rowcount:,} enterprises", flush=True)
            if pg:
                cursor.execute("ANALYZE")
        out["rematch"] = _rematch_all(services, "nightly re-match after the import")
        out["rematch_idle"] = _rematch_all(services, "nightly re-match with nothing changed")
        every = list(Policy.objects.order_by("pk").values_list("pk", flat=True))
        sample_ids = every[::max(1, len(every) // 20)][:20]
        started = time.perf_counter()
        for pk in sample_ids:  # Sunday's run: each policy on the whole registry (a difference, little written)
            services.rematch_policy(pk, TODAY)
        took = time.perf_counter() - started
        out["full"] = took * len(every) / len(sample_ids)
        print(f"  full re-match (Sunday's run) of {len(sample_ids)} policies: {took:.1f} s, so about "
              f"{out['full']:.0f} s for all {len(every)}  [{load()}]", flush=True)
    policies = list(Policy.objects.select_related("jurisdiction").order_by("pk"))
    picks = [policies[(i * 7) % len(policies)] for i in range(sample)]  # 7 is prime to the rules' cycle of 10

    times, counts = [], []
    for policy in picks:
        started = time.perf_counter()
        qs, _ = filter_eligible(matching.eligible_list(policy, Enterprise.objects.visible_to(admin)), {})
        counts.append(qs.order_by().count())
        rows = list(qs.select_related("jurisdiction").order_by("name", "pk")[:50])
        for e in rows:
            matching.reason(policy, e.matched_group)
        times.append(time.perf_counter() - started)
    out["eligible"] = times
    print(f"  eligible list of one policy (count + first 50): {summary(times)}; "
          f"counts {min(counts):,}–{max(counts):,}  [{load()}]", flush=True)
    if pg:
        slowest = picks[times.index(max(times))]
        qs = matching.eligible_list(slowest, Enterprise.objects.visible_to(admin)).order_by()
        sql, params = qs.values("pk").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) SELECT count(*) FROM ({sql}) t", params)  # noqa: S608
            print(f"    plan of the slowest count (policy {slowest.pk}, {slowest.rule_text[:60]}):")
            for (line,) in cursor.fetchall()[:25]:
                print("      " + line)

    n = Enterprise.objects.count()
    ids = [1 + (i * 7919) % n for i in range(sample)]
    first_ids = list(Enterprise.objects.order_by("pk").values_list("pk", flat=True)[:1])
    base = first_ids[0] - 1 if first_ids else 0
    times = []
    found = []
    warm = Enterprise.objects.select_related("jurisdiction").get(pk=base + 1)
    with _today():
        started = time.perf_counter()
        matching.policies_for(warm, Policy.objects.visible_to(admin).current(TODAY).applying_in(warm.jurisdiction),
                              TODAY)
        print(f"  first enterprise in a fresh process: {ms(time.perf_counter() - started)}", flush=True)
        for pk in ids:
            started = time.perf_counter()
            enterprise = Enterprise.objects.select_related("jurisdiction").get(pk=base + pk)
            candidates = list(Policy.objects.visible_to(admin).current(TODAY).applying_in(enterprise.jurisdiction)
                              .order_by("apply_closes", "-pk"))
            found.append(len(matching.policies_for(enterprise, candidates, TODAY)))
            times.append(time.perf_counter() - started)
    out["matches"] = times
    print(f"  all matches of one enterprise ({len(policies)} candidate policies, the stored table): "
          f"{summary(times)}; matches {min(found)}–{max(found)}  [{load()}]", flush=True)

    if not push:
        return out
    started = time.perf_counter()
    with _today():
        told = pushes.push_due_policies(TODAY)
    first = time.perf_counter() - started
    started = time.perf_counter()
    with _today():
        again = pushes.push_due_policies(TODAY)
    out["push"] = (first, time.perf_counter() - started)
    print(f"  push run: first {first:.1f} s ({told:,} enterprises told), second {out['push'][1]:.1f} s "
          f"({again} told)  [{load()}]", flush=True)
    return out


def _rematch_all(services, label: str) -> float:
    from qinqing.policies.models import PolicyMatch

    started = time.perf_counter()
    written = services.rematch_all_policies(TODAY)
    took = time.perf_counter() - started
    print(f"  {label}: {took:.1f} s, {written:,} rows written, {PolicyMatch.objects.count():,} stored  "
          f"[{load()}]", flush=True)
    return took


def _today(hour: int = 10):
    try:
        import time_machine
    except ImportError:  # pragma: no cover - a dev dependency
        return nullcontext()
    return time_machine.travel(dt.datetime(2026, 12, 3, hour, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))),
                               tick=True)


def measure_pages() -> list[float]:
    from django.test import Client

    from qinqing.accounts.models import User
    from qinqing.policies.models import Policy

    client = Client()
    client.force_login(User.objects.get(username="bench-admin"))
    times = []
    with _today():
        for pk in Policy.objects.order_by("pk").values_list("pk", flat=True):
            started = time.perf_counter()
            response = client.get(f"/policies/{pk}/")
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, (pk, response.status_code)
    print(f"  every policy page /policies/<pk>/ as the administrator: {summary(times)}  [{load()}]", flush=True)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--enterprises", type=int)
    parser.add_argument("--policies", type=int)
    parser.add_argument("--sample", type=int, default=10, help="policies and enterprises timed (default 10)")
    parser.add_argument("--database-url", help="an existing PostgreSQL database whose name contains 'bench'")
    parser.add_argument("--reuse", action="store_true", help="measure the data an earlier run left at --database-url")
    parser.add_argument("--no-push", action="store_true", help="skip the push run (it writes a row per match)")
    args = parser.parse_args()
    pg = args.db == "postgresql"
    n = args.enterprises or (2_000_000 if pg else 5_000)
    count = args.policies or (500 if pg else 100)
    work = Path(tempfile.mkdtemp(prefix="qinqing-policies-bench."))
    cluster = ThrowawayPostgres("qinqing_policies_bench") if pg and not args.database_url else nullcontext()
    with cluster as c:
        url = args.database_url or (c.url if pg else None)
        setup(args.db, url, work)
        if args.reuse:
            from qinqing.enterprises.models import Enterprise
            from qinqing.policies.models import Policy

            n, count = Enterprise.objects.count(), Policy.objects.count()
        print(f"==> {args.db}: {n:,} enterprises, {count} policies  [{load()}]", flush=True)
        if not args.reuse:
            district, towns = places()
            print(f"  registry built in {build_registry(n, towns):.0f} s  [{load()}]", flush=True)
            with _today(hour=9):  # the policies' record written on the benchmark's day, before its re-match
                print(f"  policies registered in {build_policies(count, district, towns):.1f} s", flush=True)
        measure_matching(pg, args.sample, push=not args.no_push)
        if not pg:
            measure_pages()


if __name__ == "__main__":
    main()
