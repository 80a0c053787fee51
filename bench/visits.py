"""Contact duties and visits at scale: a cadre's "due this week", a campaign's coverage, bulk assignment by rule.

    .venv/bin/python bench/visits.py                                   # 1% of a province (default)
    .venv/bin/python bench/visits.py --scale 0.1                       # 10%
    .venv/bin/python bench/visits.py --full                            # 100k cadres, 2M enterprises, 10M visits
    .venv/bin/python bench/visits.py --cadres 5000 --enterprises 100000 --visits 500000
    .venv/bin/python bench/visits.py --reuse --database-url …            # the pages again, on a built database

PostgreSQL only (the data is generated with generate_series). The database named in --database-url is
dropped and rebuilt; its name must contain 'bench'. Targets (issue 5): p95 under 200 ms for the week list
and the coverage page, bulk assignment of 1,000,000 enterprises by rule under 60 s.
"""

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from _util import ROOT, p50_p95, stopwatch

TARGET_P95_MS = 200
TARGET_ASSIGN_PER_MILLION_S = 60
PROVINCE = {"cadres": 100_000, "enterprises": 2_000_000, "visits": 10_000_000}
TOWNS_PER_DISTRICT = 12
ENTERPRISES_PER_DISTRICT = 20_000  # a province of 2M enterprises has about 100 districts
SECTORS = ["industry", "construction", "agriculture", "wholesale_retail", "hospitality", "transport",
           "real_estate", "services"]
# Share of each district's cadres per level and their capacity (enterprises per cadre at most).
LEVELS = [("district_leader", 0.02, 150), ("division_leader", 0.13, 80), ("section_chief", 0.25, 120),
          ("specialist", 0.60, 80)]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:55432/bench_visits")
    parser.add_argument("--scale", type=float, default=0.01, help="fraction of a province (default 0.01)")
    parser.add_argument("--full", action="store_true", help="the whole province: 100k/2M/10M")
    parser.add_argument("--cadres", type=int, default=0)
    parser.add_argument("--enterprises", type=int, default=0)
    parser.add_argument("--visits", type=int, default=0)
    parser.add_argument("--requests", type=int, default=200, help="timed samples per measurement (default 200)")
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--no-sweep", action="store_true", help="skip timing the overdue sweep")
    parser.add_argument("--reuse", action="store_true",
                        help="measure the pages again on the data of an earlier run (migrated first; no rebuild, "
                             "no bulk assignment)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    scale = 1.0 if args.full else args.scale
    sizes = {k: getattr(args, k) or max(1, round(v * scale)) for k, v in PROVINCE.items()}
    var = Path(tempfile.mkdtemp(prefix="qinqing-bench-visits."))
    os.environ["QINQING_VAR_DIR"] = str(var)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qinqing.settings")
    os.environ["DEBUG"] = "0"
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    from demands import recreate_database

    if not args.reuse:
        recreate_database(args.database_url)
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("bench/visits.py needs PostgreSQL (--database-url).")
    what = "an earlier run's data" if args.reuse else (f"{sizes['cadres']:,} cadres, {sizes['enterprises']:,} "
                                                        f"enterprises, {sizes['visits']:,} visits")
    print(f"==> Visits benchmark: {what}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)
    results: dict = {}
    world = reuse(sizes, results) if args.reuse else build(sizes, results)
    measure(world, args, results)
    summary(sizes, results)
    return 0


def reuse(sizes: dict, results: dict) -> dict:
    """The world of an earlier run, migrated to the current schema; its sizes are counted, not assumed."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor
    from django.utils import timezone

    from qinqing.accounts.models import Jurisdiction, User
    from qinqing.visits.models import Campaign

    print("==> Reusing the data of an earlier run", flush=True)
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        with stopwatch(f"migrate ({len(pending)} migrations)"):
            call_command("migrate", verbosity=0)
        with stopwatch("VACUUM ANALYZE"):
            _execute("VACUUM ANALYZE")
    for key, table in (("cadres", "visits_cadre"), ("enterprises", "enterprises_enterprise"),
                       ("visits", "visits_visit")):
        sizes[key] = _execute_one(f"SELECT count(*) FROM {table}")[0]  # noqa: S608 - our own table names
    print(f"    {sizes['cadres']:,} cadres, {sizes['enterprises']:,} enterprises, {sizes['visits']:,} visits",
          flush=True)
    return {"admin": User.objects.get(username="bench_admin"), "campaign": Campaign.objects.order_by("pk").first(),
            "today": timezone.localdate(), "province": Jurisdiction.objects.get(code="32")}


# ---------------------------------------------------------------- the data

def _execute(sql: str, params=None) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.rowcount


def build(sizes: dict, results: dict) -> dict:
    from django.core.management import call_command
    from django.utils import timezone

    from qinqing.accounts.models import Jurisdiction, Role, RoleGrant, User

    today = timezone.localdate()
    n_ent, n_cad, n_vis = sizes["enterprises"], sizes["cadres"], sizes["visits"]
    districts = max(2, round(n_ent / ENTERPRISES_PER_DISTRICT))
    start = time.perf_counter()
    print("==> Building the data", flush=True)
    with stopwatch("migrate"):
        call_command("migrate", verbosity=0)
    with stopwatch(f"jurisdictions ({districts} districts × {TOWNS_PER_DISTRICT} towns)"):
        province = Jurisdiction.objects.create(code="32", name="江苏省", level="province")
        cities = [Jurisdiction.objects.create(code=f"32{c:02d}", name=f"第{c}市", level="city", parent=province)
                  for c in range(1, 14)]
        district_rows, town_rows = [], []
        for d in range(districts):
            city = cities[d % len(cities)]
            code = f"{city.code}{d:04d}"
            district_rows.append(Jurisdiction(code=code, name=f"第{d}区", level="district", parent=city,
                                              path=f"{city.path}{code}/"))
        Jurisdiction.objects.bulk_create(district_rows)
        district_rows = list(Jurisdiction.objects.filter(level="district").order_by("pk"))
        for d in district_rows:
            for t in range(TOWNS_PER_DISTRICT):
                code = f"{d.code}{t:03d}"
                town_rows.append(Jurisdiction(code=code, name=f"{d.name}{t}镇", level="town", parent=d,
                                              path=f"{d.path}{code}/"))
        Jurisdiction.objects.bulk_create(town_rows)
    district_ids = [d.pk for d in district_rows]
    town_ids = list(Jurisdiction.objects.filter(level="town").order_by("parent_id", "pk").values_list("pk", flat=True))
    admin = User.objects.create_superuser("bench_admin", password="x", full_name="管理员")  # noqa: S106
    RoleGrant.objects.create(user=admin, role=Role.ADMIN)

    with stopwatch(f"cadres ({n_cad:,} users)"):
        _execute("""INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name, email,
                        is_staff, is_active, date_joined, full_name, phone, jurisdiction_id)
                    SELECT '!', false, 'c' || i, '', '', '', false, true, now(), '干部' || i,
                           '138' || lpad(i::text, 8, '0'), (%s::int[])[(i - 1) %% %s + 1]
                    FROM generate_series(1, %s) i""", [district_ids, districts, n_cad])
        _execute("INSERT INTO accounts_rolegrant (user_id, role) SELECT id, 'specialist' FROM accounts_user "
                 "WHERE username LIKE 'c%%'")
        per_district = max(1, n_cad // districts)
        case, bound = [], 0.0
        for level, share, capacity in LEVELS:
            bound += share
            case.append((level, bound, capacity))
        level_sql = " ".join(f"WHEN k < {int(b * per_district)} THEN '{lv}'" for lv, b, _ in case[:-1])
        cap_sql = " ".join(f"WHEN k < {int(b * per_district)} THEN {c}" for _, b, c in case[:-1])
        first_bound = int(case[0][1] * per_district)
        _execute(f"""INSERT INTO visits_cadre (user_id, level, jurisdiction_id, unit_id, capacity, sectors, active)
                     SELECT id, CASE {level_sql} ELSE '{case[-1][0]}' END,
                            CASE WHEN k < {first_bound} THEN (%s::int[])[d + 1]
                                 ELSE (%s::int[])[d * {TOWNS_PER_DISTRICT} + k %% {TOWNS_PER_DISTRICT} + 1] END,
                            NULL, CASE {cap_sql} ELSE {case[-1][2]} END, '[]'::jsonb, true
                     FROM (SELECT id, (n - 1) %% {districts} AS d, (n - 1) / {districts} AS k
                           FROM (SELECT id, substr(username, 2)::int AS n FROM accounts_user
                                 WHERE username LIKE 'c%%') u) x""",  # noqa: S608 - numbers only
                 [district_ids, town_ids])

    with stopwatch(f"enterprises ({n_ent:,})"):
        _execute(f"""INSERT INTO enterprises_enterprise (name, credit_code, sector, industry_code, jurisdiction_id,
                        size, is_four_above, qualification, tags, legal_representative, contact_name, contact_phone,
                        address, created_at, updated_at)
                     SELECT '企业' || i, 'B' || lpad(i::text, 17, '0'), (%s::text[])[i %% 8 + 1], '',
                            (%s::int[])[((i - 1) %% {districts}) * {TOWNS_PER_DISTRICT}
                                        + ((i - 1) / {districts}) %% {TOWNS_PER_DISTRICT} + 1],
                            '', (i * 7) %% 10 < 3, '', '[]'::jsonb, '', '', '', '', now(), now()
                     FROM generate_series(1, %s) i""",  # noqa: S608 - numbers only
                 [SECTORS, town_ids, n_ent])
    _execute("ANALYZE")

    print(f"==> Bulk assignment by rule over the province ({n_ent:,} enterprises, 4 tiers)", flush=True)
    from qinqing.visits import services

    t0 = time.perf_counter()
    plan = services.plan_bulk_assignment(admin, province)
    results["plan_s"] = time.perf_counter() - t0
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    t1 = time.perf_counter()
    with CaptureQueriesContext(connection) as statements:
        plan = services.apply_bulk_assignment(admin, province)
    results["assign_s"] = time.perf_counter() - t1
    results["assigned"] = plan.placed
    results["unplaced"] = plan.unplaced
    print(f"    preview {results['plan_s']:.2f} s; preview + apply {results['assign_s']:.2f} s: "
          f"{plan.placed:,} assignments written, {plan.unplaced:,} left over (cadres full), "
          f"fullest cadre {plan.max_load}; load average {os.getloadavg()[0]:.2f}", flush=True)
    for tier, matched, placed in plan.tiers:
        print(f"      {tier.label}: {matched:,} matched, {placed:,} placed")
    print("    slowest statements (the rest is the preview, small statements and the commit):")
    for q in sorted(statements.captured_queries, key=lambda q: -float(q["time"]))[:6]:
        print(f"      {float(q['time']):7.2f} s  {' '.join(q['sql'].split())[:110]}")

    with stopwatch(f"visits ({n_vis:,}) and their visitors"):
        lo, hi = _execute_one("SELECT min(id), max(id) FROM enterprises_enterprise")
        span = hi - lo + 1
        # Enterprise k gets visits spread over the last year; the stride scatters them across the table.
        _execute("""INSERT INTO visits_visit (enterprise_id, visited_on, form, campaign_id, discussed, policies,
                        production, orders, employees, hiring_need, financing_need, recorded_by_id, recorded_at,
                        confirmation, rating, enterprise_comment, confirmed_at, confirmed_by_id)
                    SELECT %s + (i::bigint * 7919) %% %s, %s::date - (i %% 365),
                           (ARRAY['phone','phone','on_site','video','phone','meeting'])[i %% 6 + 1], NULL,
                           CASE WHEN i %% 40 = 0 THEN '' ELSE '了解企业生产经营情况' END, '', '', '', NULL, NULL,
                           NULL, NULL, now(), CASE WHEN i %% 90 = 0 THEN 'disputed' WHEN i %% 3 = 0 THEN 'confirmed'
                           ELSE 'pending' END, NULL, '', NULL, NULL
                    FROM generate_series(1, %s) i""", [lo, span, today, n_vis])
        _execute("""INSERT INTO visits_visit_visitors (visit_id, user_id)
                    SELECT v.id, h.service_specialist_id FROM visits_visit v
                    JOIN enterprises_helpers h ON h.enterprise_id = v.enterprise_id
                    WHERE h.service_specialist_id IS NOT NULL""")
    with stopwatch("assignments' last contact and next deadlines from the visits"):
        _execute("""UPDATE visits_assignment a SET last_contact_on = x.last_contact, last_visit_on = x.last_visit,
                        next_contact_due = COALESCE(x.last_contact, a.started_on) + 30,
                        next_visit_due = COALESCE(x.last_visit, a.started_on) + 90
                    FROM (SELECT enterprise_id, max(visited_on) AS last_contact,
                                 max(visited_on) FILTER (WHERE form = 'on_site') AS last_visit
                          FROM visits_visit GROUP BY enterprise_id) x
                    WHERE x.enterprise_id = a.enterprise_id AND a.ended_on IS NULL AND a.duty = 'specialist'""")
    with stopwatch("a campaign: one district's enterprises, the last 60 days"):
        from qinqing.visits.models import Campaign

        district = district_rows[0]
        campaign = Campaign.objects.create(name="集中走访", jurisdiction=district, starts_on=today - dt.timedelta(60),
                                           ends_on=today, created_by=admin)
        targets = _execute("""INSERT INTO visits_campaigntarget (campaign_id, enterprise_id, group_id, sector,
                                                                    jurisdiction_id, leader_id, visited_on)
                              SELECT %s, e.id, NULL, e.sector, e.jurisdiction_id, h.contact_leader_id, NULL
                              FROM enterprises_enterprise e
                              LEFT JOIN enterprises_helpers h ON h.enterprise_id = e.id
                              JOIN accounts_jurisdiction j ON j.id = e.jurisdiction_id WHERE j.path LIKE %s""",
                           [campaign.pk, district.path + "%"])
        _execute("""UPDATE visits_visit SET campaign_id = %s WHERE visited_on >= %s AND enterprise_id IN
                    (SELECT enterprise_id FROM visits_campaigntarget WHERE campaign_id = %s)""",
                 [campaign.pk, campaign.starts_on, campaign.pk])
        from qinqing.visits.services import fill_targets

        fill_targets(campaign)
        print(f"    {targets:,} target enterprises")
    with stopwatch("VACUUM ANALYZE"):
        _execute("VACUUM ANALYZE")
    size = _execute_one("SELECT pg_database_size(current_database())")[0]
    results["build_s"] = time.perf_counter() - start
    print(f"    build total {results['build_s']:.0f} s; database {size / 2**20:,.0f} MiB", flush=True)
    return {"admin": admin, "campaign": campaign, "today": today, "province": province}


def _execute_one(sql: str, params=None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()


# ---------------------------------------------------------------- measurements

def _timed(fn, n: int) -> tuple[float, float]:
    for _ in range(min(5, n)):
        fn()
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return p50_p95(samples)


def measure(world: dict, args, results: dict) -> None:
    from django.test import Client
    from django.test.utils import setup_test_environment

    from qinqing.accounts.models import User
    from qinqing.visits import queries
    from qinqing.visits.models import Cadre

    setup_test_environment()
    rng = random.Random(args.seed)
    today = world["today"]
    cadres = list(Cadre.objects.filter(level="specialist").values_list("pk", "user_id")[:5000])
    picks = [rng.choice(cadres) for _ in range(args.requests + 5)]
    it = iter(picks)

    print(f"==> A cadre's week ({args.requests} random specialists)", flush=True)
    sizes = [len(queries.due_this_week(c, today)) for c, _ in picks[:50]]
    print(f"    rows per cadre: {min(sizes)}–{max(sizes)} (mean {sum(sizes) / len(sizes):.0f})")
    results["week_query"] = _timed(lambda: list(queries.due_this_week(next(it)[0], today)), args.requests)
    print(f"    query: p50 {results['week_query'][0]:.1f} ms, p95 {results['week_query'][1]:.1f} ms")
    clients = {}

    def page():
        _, user_id = rng.choice(picks)
        client = clients.get(user_id)
        if client is None:
            client = clients[user_id] = Client()
            client.force_login(User.objects.get(pk=user_id))
        response = client.get("/visits/")
        assert response.status_code == 200, response.status_code

    results["week_page"] = _timed(page, min(args.requests, 100))
    print(f"    page /visits/ (in-process, template included): p50 {results['week_page'][0]:.1f} ms, "
          f"p95 {results['week_page'][1]:.1f} ms", flush=True)

    campaign = world["campaign"]
    print(f"==> Campaign coverage ({campaign.target_rows.count():,} targets)", flush=True)
    results["coverage_query"] = _timed(lambda: (queries.coverage(campaign), list(queries.not_visited(campaign)[:51])),
                                       max(20, args.requests // 5))
    cov = queries.coverage(campaign)
    print(f"    visited {cov.visited:,} of {cov.targets:,}; coverage + first page of the not-visited list: "
          f"p50 {results['coverage_query'][0]:.1f} ms, p95 {results['coverage_query'][1]:.1f} ms")
    admin_client = Client()
    admin_client.force_login(world["admin"])
    results["coverage_page"] = _timed(lambda: admin_client.get(f"/visits/campaigns/{campaign.pk}/"),
                                      max(20, args.requests // 5))
    print(f"    page (in-process): p50 {results['coverage_page'][0]:.1f} ms, p95 {results['coverage_page'][1]:.1f} ms")

    if args.no_sweep:
        return
    print("==> Overdue sweep (urge_overdue_contacts)", flush=True)
    from qinqing.visits.services import urge_overdue_contacts

    for label in ("first", "second"):
        t = time.perf_counter()
        n = urge_overdue_contacts(today)
        results[f"sweep_{label}"] = (time.perf_counter() - t, n)
        print(f"    {label} run: {results[f'sweep_{label}'][0]:.2f} s, {n:,} urgings")


def summary(sizes: dict, results: dict) -> None:
    print("==> Summary")
    print(f"    scale: {sizes['cadres']:,} cadres, {sizes['enterprises']:,} enterprises, {sizes['visits']:,} visits")
    rows = [
        ("due this week, query p95", results["week_query"][1], TARGET_P95_MS),
        ("due this week, page p95", results["week_page"][1], TARGET_P95_MS),
        ("campaign coverage, queries p95", results["coverage_query"][1], TARGET_P95_MS),
        ("campaign coverage, page p95", results["coverage_page"][1], TARGET_P95_MS),
    ]
    for label, value, target in rows:
        print(f"    {label:34} {value:8.1f} ms   target < {target} ms  {'ok' if value < target else 'MISSED'}")
    if "assign_s" not in results:
        print("    bulk assignment by rule            not measured (--reuse)")
        return
    per_million = results["assign_s"] / sizes["enterprises"] * 1_000_000  # linear: set-based, no per-row work
    print(f"    bulk assignment by rule            {results['assign_s']:8.1f} s for {sizes['enterprises']:,} "
          f"enterprises ({results['assigned']:,} assignments, {sizes['enterprises'] / results['assign_s']:,.0f} "
          f"enterprises/s); ≈ {per_million:.1f} s per 1,000,000 enterprises "
          f"(target < {TARGET_ASSIGN_PER_MILLION_S} s)  {'ok' if per_million < TARGET_ASSIGN_PER_MILLION_S else 'MISSED'}")
    print(f"    load average at the end            {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    sys.exit(main())
