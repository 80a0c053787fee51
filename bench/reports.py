"""Benchmark of the statistics: dashboards for a district and for the whole province, and a monthly circular.

Builds a province (10 cities × 10 districts × 10 towns, 20 units per district) and N demands with one
INSERT … SELECT FROM generate_series per million rows (PostgreSQL only: this is province scale), with the
state mix of a real ledger (≈86 % closed, 3.5 % under district study, 1 % transferred, 0.5 % merged, the
rest replied or open, ≈2 % overdue) and 5 % co-units. Then it times:

* the nightly full rebuild of the rollup and its per-demand entries (with --rebuild when reusing);
* the dashboard page (the real view through Django's test client, template included) as a district
  leader and as a province leader, warm, p50/p95 of --requests requests, nothing changed since the last
  refresh;
* the first view right after 15 demands changed (the page catches up itself, as it does with up to
  rollup.SYNC_LIMIT new timeline entries: the changed demands' old and new contributions are applied);
* the worker's refresh after 500 scattered changes (the same deltas, for more demands);
* a monthly overdue circular (snapshot, Word and Excel, stored) for a district and for the province.

It prints the load average at the start and the end: on this 2-core machine, figures taken above ~1.5
are slowed by other work.

    .venv/bin/python bench/reports.py                         # 1,000,000 demands
    .venv/bin/python bench/reports.py --n 10000000            # the target size (about half an hour here)
    .venv/bin/python bench/reports.py --reuse                 # measure again on the database already built

The database is `bench_reports` on the dev server (`--database-url` to change it; its name must contain
"bench", it is dropped and recreated unless --reuse).
"""

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgresql://postgres@127.0.0.1:55432/bench_reports"
CITIES, DISTRICTS, TOWNS, UNITS = 10, 10, 10, 20
ROWS_PER_STATEMENT = 1_000_000


def parse():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="demands to build (default 1,000,000)")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--reuse", action="store_true", help="skip the build, measure the existing database")
    parser.add_argument("--rebuild", action="store_true", help="with --reuse: time a full rollup rebuild first")
    parser.add_argument("--requests", type=int, default=20, help="timed dashboard requests per scope (default 20)")
    return parser.parse_args()


def recreate_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    if "bench" not in name:
        sys.exit("the benchmark database name must contain 'bench'")
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def timed(label: str, fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    print(f"  {label}: {time.perf_counter() - start:.2f} s", flush=True)
    return result, time.perf_counter() - start


def build_org():
    from qinqing.accounts.models import Jurisdiction, Role, RoleGrant, Unit, User

    province = Jurisdiction.objects.create(code="99", name="测试省", level="province")
    cities, districts, towns = [], [], []
    for c in range(CITIES):
        cities.append(Jurisdiction(code=f"99{c:02d}", name=f"第{c + 1}市", level="city", parent=province,
                                   path=f"{province.path}99{c:02d}/"))
    Jurisdiction.objects.bulk_create(cities)
    for city in cities:
        for d in range(DISTRICTS):
            code = f"{city.code}{d:02d}"
            districts.append(Jurisdiction(code=code, name=f"{city.name}{d + 1}区", level="district", parent=city,
                                          path=f"{city.path}{code}/"))
    Jurisdiction.objects.bulk_create(districts)
    for district in districts:
        for t in range(TOWNS):
            code = f"{district.code}{t:03d}"
            towns.append(Jurisdiction(code=code, name=f"{district.name}{t + 1}街道", level="town", parent=district,
                                      path=f"{district.path}{code}/"))
    Jurisdiction.objects.bulk_create(towns)
    units = [Unit(name=f"{district.name}第{u + 1}局", kind="department", jurisdiction=district)
             for district in districts for u in range(UNITS)]
    Unit.objects.bulk_create(units)
    leaders = {}
    for key, node in (("district", districts[0]), ("province", province)):
        user = User.objects.create_user(username=f"leader_{key}", password="x", jurisdiction=node)
        RoleGrant.objects.create(user=user, role=Role.LEADER)
        leaders[key] = user
    return province, districts, towns, units, leaders


DEMANDS_SQL = """
WITH s AS (
  SELECT g, random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5, random() AS r6
  FROM generate_series(%(lo)s, %(hi)s) g
), b AS (
  SELECT g, r2, r5, r6,
         floor(r1 * %(towns)s)::int AS t,
         now() - (r3 * 365) * interval '1 day' AS rec,
         r3 * 365 AS age,
         (%(cats)s::bigint[])[1 + floor(r4 * %(ncats)s)::int] AS cat,
         (ARRAY['visit','hotline','online','wechat','meeting','seminar','officer','other'])[1 + floor(r5 * 8)::int] AS ch,
         CASE WHEN r3 * 365 > 30 THEN
              CASE WHEN r6 < 0.86 THEN 'closed' WHEN r6 < 0.895 THEN 'long_term' WHEN r6 < 0.905 THEN 'transferred'
                   WHEN r6 < 0.91 THEN 'merged' WHEN r6 < 0.92 THEN 'evaluated' WHEN r6 < 0.985 THEN 'closed'
                   ELSE (ARRAY['received','dispatched','accepted','contacted','planned','reopened'])[1 + floor(r2 * 6)::int] END
         ELSE CASE WHEN r6 < 0.4 THEN 'closed' WHEN r6 < 0.5 THEN 'replied'
                   ELSE (ARRAY['received','dispatched','accepted','contacted','planned','planned','planned'])[1 + floor(r2 * 7)::int] END
         END AS st
  FROM s
), c AS (
  SELECT b.*, (rec AT TIME ZONE 'Asia/Shanghai')::date AS d0,
         CASE WHEN st IN ('received','returned') THEN 'dispatch' WHEN st IN ('dispatched','accepted') THEN 'contact'
              WHEN st = 'contacted' THEN 'path' WHEN st IN ('planned','reopened') THEN 'resolve' ELSE '' END AS stage
  FROM b
)
INSERT INTO demands_demand (number, reporter_name, reporter_phone, jurisdiction_id, channel, title, content,
  category_id, received_at, lead_unit_id, tier, state, outcome, reply, solution_path, evaluation,
  evaluation_comment, evaluation_by_callback, dispatch_due, contact_due, path_due, resolve_due, extension_days,
  current_stage, next_due, due_order, dispatched_at, accepted_at, contacted_at, path_at, replied_at,
  evaluated_at, closed_at, reopen_count, return_count, search_text, version, created_at, updated_at, nature)
SELECT 'QB' || lpad(g::text, 9, '0'), '测试企业' || (g %% 50000), '', %(town0)s + t, ch, '测试诉求', '测试诉求内容',
  cat, rec, CASE WHEN st = 'received' THEN NULL ELSE %(unit0)s + (t / %(tpd)s) * %(upd)s + floor(r2 * %(upd)s)::int END,
  1, st,
  CASE st WHEN 'closed' THEN 'solved' WHEN 'long_term' THEN 'long_term' WHEN 'transferred' THEN 'transferred'
          WHEN 'evaluated' THEN 'solved' WHEN 'replied' THEN 'solved' ELSE '' END,
  '', '',
  CASE WHEN st IN ('closed','evaluated') THEN CASE WHEN r5 < 0.93 THEN 'satisfied' ELSE 'basic' END ELSE '' END,
  '', r2 < 0.3,
  d0 + 1, d0 + 2, d0 + 4, d0 + 30, 0, stage,
  CASE stage WHEN 'dispatch' THEN d0 + 1 WHEN 'contact' THEN d0 + 2 WHEN 'path' THEN d0 + 4 WHEN 'resolve' THEN d0 + 30 END,
  CASE stage WHEN 'dispatch' THEN d0 + 1 WHEN 'contact' THEN d0 + 2 WHEN 'path' THEN d0 + 4 WHEN 'resolve' THEN d0 + 30
       ELSE DATE '9999-12-31' END,
  CASE WHEN st = 'received' THEN NULL ELSE rec + r5 * interval '30 hours' END,
  CASE WHEN st IN ('received','dispatched') THEN NULL ELSE rec + r5 * interval '40 hours' END,
  CASE WHEN st IN ('received','dispatched','accepted','merged') THEN NULL ELSE rec + r5 * interval '60 hours' END,
  CASE WHEN st IN ('received','dispatched','accepted','contacted','merged') THEN NULL ELSE rec + r5 * interval '5 days' END,
  CASE WHEN st IN ('closed','evaluated','replied') THEN rec + r6 * interval '40 days' ELSE NULL END,
  CASE WHEN st IN ('closed','evaluated') THEN rec + r6 * interval '42 days' ELSE NULL END,
  CASE WHEN st = 'closed' THEN rec + r6 * interval '43 days' ELSE NULL END,
  CASE WHEN st = 'reopened' THEN 1 ELSE 0 END, 0, '', 1, rec, rec,
  CASE WHEN r2 < 0.1 THEN 'opinion' ELSE 'problem' END
FROM c
"""


@contextlib.contextmanager
def defaults_for_newer_columns():
    """DEMANDS_SQL names the columns of its day; NOT NULL columns the model gained since (a pause's shift…)
    get a neutral default for the build, dropped afterwards, so the builder keeps working as the model grows."""
    from django.db import connection

    zero = {"integer": "0", "smallint": "0", "bigint": "0", "boolean": "false", "text": "''",
            "character varying": "''", "jsonb": "'{}'::jsonb"}
    with connection.cursor() as cursor:
        cursor.execute("""SELECT column_name, data_type FROM information_schema.columns
                          WHERE table_name = 'demands_demand' AND is_nullable = 'NO' AND column_default IS NULL""")
        missing = [(c, zero[t]) for c, t in cursor.fetchall() if t in zero and c not in DEMANDS_SQL]
        for column, value in missing:
            cursor.execute(f'ALTER TABLE demands_demand ALTER COLUMN "{column}" SET DEFAULT {value}')
        try:
            yield
        finally:
            for column, _ in missing:
                cursor.execute(f'ALTER TABLE demands_demand ALTER COLUMN "{column}" DROP DEFAULT')



def build_demands(n, towns, units):
    from django.db import connection

    from qinqing.demands.models import Category

    town_ids = [t.pk for t in towns]
    unit_ids = [u.pk for u in units]
    assert town_ids == list(range(town_ids[0], town_ids[0] + len(town_ids))), "towns must have contiguous ids"
    assert unit_ids == list(range(unit_ids[0], unit_ids[0] + len(unit_ids))), "units must have contiguous ids"
    cats = list(Category.objects.filter(parent=None).order_by("pk").values_list("pk", flat=True))
    params = {"towns": len(town_ids), "town0": town_ids[0], "unit0": unit_ids[0], "tpd": TOWNS, "upd": UNITS,
              "cats": cats, "ncats": len(cats)}
    with connection.cursor() as cursor:
        # A bulk load, the way a DBA does one: secondary indexes dropped and rebuilt afterwards, foreign-key
        # triggers off on this connection (the generated ids are valid by construction).
        cursor.execute("""SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'demands_demand'
                          AND indexdef NOT LIKE 'CREATE UNIQUE%%'""")
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET session_replication_role = replica")
        with defaults_for_newer_columns():
            for lo in range(1, n + 1, ROWS_PER_STATEMENT):
                hi = min(lo + ROWS_PER_STATEMENT - 1, n)
                start = time.perf_counter()
                cursor.execute(DEMANDS_SQL, {**params, "lo": lo, "hi": hi})
                print(f"    demands {hi:,}: {time.perf_counter() - start:.1f} s", flush=True)
        cursor.execute("""INSERT INTO demands_demand_co_units (demand_id, unit_id)
                          SELECT id, %s + ((lead_unit_id - %s) / %s) * %s + ((lead_unit_id - %s + 1) %% %s)
                          FROM demands_demand WHERE id %% 20 = 0 AND lead_unit_id IS NOT NULL""",
                       [unit_ids[0], unit_ids[0], UNITS, UNITS, unit_ids[0], UNITS])
        cursor.execute("SET session_replication_role = DEFAULT")
        start = time.perf_counter()
        for _, definition in indexes:
            cursor.execute(definition)
        print(f"    {len(indexes)} indexes rebuilt: {time.perf_counter() - start:.1f} s", flush=True)


def vacuum():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def change_some_demands(count: int) -> None:
    """What a working day looks like to the rollup: demands change and their timeline grows."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("""WITH picked AS (SELECT id, state FROM demands_demand WHERE state = 'planned'
                                          ORDER BY id DESC LIMIT %s)
                          UPDATE demands_demand d SET state = 'replied', replied_at = now(), current_stage = '',
                                 next_due = NULL, due_order = DATE '9999-12-31'
                          FROM picked WHERE d.id = picked.id RETURNING d.id""", [count])
        ids = [row[0] for row in cursor.fetchall()]
        cursor.executemany("""INSERT INTO demands_demandevent (demand_id, verb, from_state, to_state, note, data,
                                                               internal, created_at)
                              VALUES (%s, 'reply', 'planned', 'replied', '', '{}', false, now())""",
                           [[pk] for pk in ids])


def dashboard_times(client, node, requests: int) -> list[float]:
    from django.urls import reverse

    url = reverse("reports:dashboard") + f"?jurisdiction={node.code}"
    samples = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get(url)
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200, response.status_code
    return samples


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.95 * len(ordered))) - 1)]


def fmt(samples: list[float]) -> str:
    return (f"p50 {statistics.median(samples) * 1000:.0f} ms, p95 {p95(samples) * 1000:.0f} ms, "
            f"max {max(samples) * 1000:.0f} ms")


def main():
    args = parse()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("QINQING_VAR_DIR", tempfile.mkdtemp(prefix="qinqing-bench-reports-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qinqing.settings")
    Path(os.environ["QINQING_VAR_DIR"], "static").mkdir(parents=True, exist_ok=True)
    if not args.reuse:
        recreate_database(args.database_url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    from qinqing.accounts.models import Jurisdiction, User
    from qinqing.demands.models import Demand
    from qinqing.reports import rollup
    from qinqing.reports.circulars import period_for
    from qinqing.reports.models import Circular, CircularKind, DemandRollup, ReportEvent
    from qinqing.reports.services import issue_circular

    setup_test_environment()
    load_at_start = loadavg()
    print(f"load average: {load_at_start} (2 cores; figures above ~1.5 are slowed by other work)", flush=True)
    results = {}
    if not args.reuse:
        print(f"build: {args.n:,} demands on {args.database_url}", flush=True)
        call_command("migrate", verbosity=0)
        province, districts, towns, units, leaders = build_org()
        timed("demands (INSERT … SELECT)", build_demands, args.n, towns, units)
        timed("VACUUM ANALYZE", vacuum)
        _, results["rebuild"] = timed("rollup full rebuild (nightly job)", rollup.rebuild)
        timed("VACUUM ANALYZE", vacuum)
    else:
        call_command("migrate", verbosity=0)
    if args.reuse and args.rebuild:
        _, results["rebuild"] = timed("rollup full rebuild (nightly job)", rollup.rebuild)
    province = Jurisdiction.objects.get(code="99")
    district = Jurisdiction.objects.filter(level="district").order_by("path").first()
    n = Demand.objects.count()
    print(f"data: {n:,} demands, {DemandRollup.objects.count():,} rollup rows, "
          f"{Demand.objects.filter(due_order__lt=timezone.localdate()).count():,} overdue", flush=True)

    for key, node in (("district", district), ("province", province)):
        client = Client()
        client.force_login(User.objects.get(username=f"leader_{key}"))
        dashboard_times(client, node, 2)  # warm the connection, the calendar and the template cache
        samples = dashboard_times(client, node, args.requests)
        results[f"dashboard_{key}"] = statistics.median(samples)
        results[f"dashboard_{key}_p95"] = p95(samples)
        print(f"dashboard {node.name} ({key}), nothing changed: {fmt(samples)}", flush=True)
        change_some_demands(15)
        first = dashboard_times(client, node, 1)
        results[f"dashboard_{key}_after_15_changes"] = first[0]
        print(f"dashboard {node.name} ({key}), first view after 15 demands changed (it catches up itself): "
              f"{first[0] * 1000:.0f} ms", flush=True)
    change_some_demands(500)
    _, results["worker_refresh_after_500_changes"] = timed("worker refresh after 500 demands changed",
                                                           rollup.refresh)

    period = period_for(CircularKind.MONTHLY, timezone.localdate())
    with connection.cursor() as cursor:  # earlier runs' circulars (and their audit rows) go
        cursor.execute(f"TRUNCATE {ReportEvent._meta.db_table}, {Circular._meta.db_table}")
    for key, node in (("district", district), ("province", province)):
        circular, seconds = timed(f"monthly circular {node.name}", issue_circular, None, kind=CircularKind.MONTHLY,
                                  jurisdiction=node, start=period.start, end=period.end)
        results[f"circular_{key}"] = seconds
        print(f"    {circular.number}: {circular.word.size / 1024:.0f} KB Word, {circular.excel.size / 1024:.0f} KB"
              f" Excel, {len(circular.snapshot.get('overdue_rows', []))} overdue rows listed", flush=True)

    print("\nsummary (targets: district p95 < 300 ms, province < 2 s, monthly circular < 30 s, "
          "refresh after 500 changes < 2 s)")
    print(f"  load average at the end: {loadavg()} (at the start: {load_at_start})")
    print(f"  demands: {n:,}")
    for key, value in results.items():
        print(f"  {key}: {value * 1000:.0f} ms")


if __name__ == "__main__":
    main()
