"""A handler's 我的诉求 and a bulk dispatch of 200 demands at scale, on PostgreSQL (qinqing.handling).

    .venv/bin/python bench/handling.py --database-url postgresql://postgres@127.0.0.1:55432/bench_handling
    .venv/bin/python bench/handling.py --n 200000 …        # a smaller build on a busy machine
    .venv/bin/python bench/handling.py --reuse …           # measure again without rebuilding

Builds N demands with bench/reports.py's set-based builder (10 cities × 10 districts × 10 towns, 20 units a
district), gives every unit a handler, a head and every district a dispatcher, and assigns every open demand a unit
holds to its unit's handler (as a head would, set-based: a benchmark's fixture, not the product's write path).
Measures for one handler: the query of 我的诉求 (first page of 50 and its count, ORM objects built) and the whole
page through Django's test client; then, as the district's dispatcher, `bulk_act("dispatch", …)` of 200 received
demands to one unit (each through dispatch_demand in its own transaction), three times on fresh demands.
Targets (issue 15): 我的诉求 p95 under 100 ms, a bulk dispatch of 200 under 5 s, at 1,000,000 demands.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

DEFAULT_URL = "postgresql://postgres@127.0.0.1:55432/bench_handling"
TARGET_MINE_P95_MS = 100
TARGET_BULK_S = 5


def parse():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="demands to build (default 1,000,000)")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--reuse", action="store_true", help="skip the build, measure the existing database")
    parser.add_argument("--requests", type=int, default=100, help="timed samples per measurement (default 100)")
    parser.add_argument("--rounds", type=int, default=3, help="bulk dispatches of 200 to time (default 3)")
    return parser.parse_args()


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def fmt(samples: list[float]) -> str:
    return (f"p50 {statistics.median(samples) * 1000:.1f} ms, p95 {p95(samples) * 1000:.1f} ms, "
            f"max {max(samples) * 1000:.1f} ms")


def people(units, districts):
    """A handler and a head per unit, a dispatcher per district (bulk, the password hashed once)."""
    from django.contrib.auth.hashers import make_password

    from qinqing.accounts.models import Role, RoleGrant, User

    password = make_password("bench-Pw-1")
    users = []
    for unit in units:
        users.append(User(username=f"cbr_{unit.pk}", full_name=f"承办{unit.pk}", unit=unit,
                          jurisdiction_id=unit.jurisdiction_id, password=password))
        users.append(User(username=f"fzr_{unit.pk}", full_name=f"负责{unit.pk}", unit=unit,
                          jurisdiction_id=unit.jurisdiction_id, password=password))
    users += [User(username=f"dd_{d.pk}", full_name=f"调度{d.pk}", jurisdiction=d, password=password)
              for d in districts]
    User.objects.bulk_create(users, batch_size=2000)
    made = {u.username: u.pk for u in User.objects.filter(username__regex=r"^(cbr|fzr|dd)_")}
    role = {"cbr": Role.HANDLER, "fzr": Role.UNIT_HEAD, "dd": Role.DISPATCHER}
    RoleGrant.objects.bulk_create([RoleGrant(user_id=pk, role=role[name.split("_")[0]]) for name, pk in made.items()],
                                  batch_size=5000)


def waiting(cursor, district_path: str, count: int) -> int:
    """`count` closed demands of the district put back to 待交办 (the builder leaves few received ones; a bulk
    dispatch needs 200 a round): no unit, no co-units, only the dispatch clock running."""
    cursor.execute("""
        WITH picked AS (
            SELECT d.id FROM demands_demand d JOIN accounts_jurisdiction j ON j.id = d.jurisdiction_id
            WHERE j.path LIKE %s AND d.state = 'closed' ORDER BY d.id LIMIT %s),
        cleared AS (DELETE FROM demands_demand_co_units WHERE demand_id IN (SELECT id FROM picked))
        UPDATE demands_demand SET state = 'received', lead_unit_id = NULL, outcome = '', evaluation = '',
            dispatched_at = NULL, accepted_at = NULL, contacted_at = NULL, path_at = NULL, replied_at = NULL,
            evaluated_at = NULL, closed_at = NULL, current_stage = 'dispatch', next_due = dispatch_due,
            due_order = dispatch_due
        WHERE id IN (SELECT id FROM picked)""", [district_path + "%", count])
    return cursor.rowcount


def backend_cpu() -> float:
    """CPU seconds the database backend of this connection has used (its /proc entry: the cluster is local)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def assign_all(cursor) -> int:
    """Every open demand a unit holds assigned to that unit's handler by its head."""
    cursor.execute("""
        INSERT INTO handling_assignment (demand_id, assignee_id, unit_id, assigned_by_id, assigned_at)
        SELECT d.id, h.id, d.lead_unit_id, f.id, d.dispatched_at
        FROM demands_demand d
        JOIN accounts_user h ON h.username = 'cbr_' || d.lead_unit_id
        JOIN accounts_user f ON f.username = 'fzr_' || d.lead_unit_id
        WHERE d.state IN ('dispatched', 'accepted', 'contacted', 'planned', 'reopened', 'long_term')
          AND d.dispatched_at IS NOT NULL""")
    return cursor.rowcount


def main():
    args = parse()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("QINQING_VAR_DIR", tempfile.mkdtemp(prefix="qinqing-bench-handling-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qinqing.settings")
    Path(os.environ["QINQING_VAR_DIR"], "static").mkdir(parents=True, exist_ok=True)
    from reports import build_demands, build_org, recreate_database, timed, vacuum

    if not args.reuse:
        recreate_database(args.database_url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.urls import reverse

    from qinqing.accounts.models import Jurisdiction, Unit, User
    from qinqing.demands.models import Demand
    from qinqing.handling import services
    from qinqing.handling.models import Assignment

    if connection.vendor != "postgresql":
        raise SystemExit("bench/handling.py needs PostgreSQL (--database-url).")
    setup_test_environment()
    print(f"load average at the start: {os.getloadavg()} on {os.cpu_count()} cores", flush=True)
    call_command("migrate", verbosity=0)
    if not args.reuse:
        print(f"build: {args.n:,} demands on {args.database_url}", flush=True)
        build_org()
        towns = list(Jurisdiction.objects.filter(level="town").order_by("pk"))
        units = list(Unit.objects.order_by("pk"))
        timed("demands (INSERT … SELECT)", build_demands, args.n, towns, units)
        timed("handlers, heads and dispatchers", people, units, list(Jurisdiction.objects.filter(level="district")))
        with connection.cursor() as cursor:
            count, _ = timed("assignments (INSERT … SELECT)", assign_all, cursor)
        print(f"  {count:,} open demands assigned", flush=True)
        first = Jurisdiction.objects.filter(level="district").order_by("pk").first()
        with connection.cursor() as cursor:
            count, _ = timed("demands put back to 待交办", waiting, cursor, first.path, 200 * args.rounds)
        print(f"  {count:,} demands waiting for the bulk dispatches", flush=True)
        timed("VACUUM ANALYZE", vacuum)
    n = Demand.objects.count()
    print(f"data: {n:,} demands, {Assignment.objects.count():,} assignments", flush=True)

    # The busiest handler of the first district: the one a slow page would hurt first.
    district = Jurisdiction.objects.filter(level="district").order_by("pk").first()
    busiest = (Assignment.objects.filter(unit__jurisdiction=district).values("assignee")
               .annotate(c=Count("pk")).order_by("-c").first())
    handler = User.objects.get(pk=busiest["assignee"])
    results = {}
    samples, cpu = [], []
    for i in range(args.requests + 5):
        start, start_cpu = time.perf_counter(), time.process_time()
        qs = services.my_demands(User.objects.get(pk=handler.pk))
        rows = list(qs.select_related("enterprise", "category", "lead_unit", "jurisdiction")[:51])
        total = qs.count()
        if i >= 5:
            samples.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
    results["我的诉求 query (page + count)"] = samples
    print(f"我的诉求 query, {handler.username} ({total} open assigned, {len(rows)} on the first page): {fmt(samples)}; "
          f"this process's CPU p50 {statistics.median(cpu) * 1000:.1f} ms", flush=True)
    client = Client()
    client.force_login(handler)
    samples, cpu, db = [], [], []
    for i in range(args.requests + 5):
        start, start_cpu, start_db = time.perf_counter(), time.process_time(), backend_cpu()
        response = client.get(reverse("handling:mine"))
        if i >= 5:
            samples.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
            db.append(backend_cpu() - start_db)
    assert response.status_code == 200, response.status_code
    results["我的诉求 page"] = samples
    print(f"我的诉求 page: {fmt(samples)}; CPU p50: this process {statistics.median(cpu) * 1000:.1f} ms, "
          f"its database backend {statistics.mean(db) * 1000:.1f} ms (mean)", flush=True)
    sql, params = services.my_demands(handler).select_related("enterprise", "category", "lead_unit",
                                                               "jurisdiction")[:51].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        print("plan (我的诉求):\n    " + "\n    ".join(r[0] for r in cursor.fetchall()), flush=True)

    dispatcher = User.objects.get(username=f"dd_{district.pk}")
    target = Unit.objects.filter(jurisdiction=district).order_by("pk").first()
    bulk = []
    with connection.cursor() as cursor:  # a rerun (--reuse) finds the earlier rounds' demands dispatched
        short = 200 * args.rounds - Demand.objects.filter(state="received",
                                                         jurisdiction__path__startswith=district.path).count()
        if short > 0:
            print(f"{waiting(cursor, district.path, short)} more demands put back to 待交办", flush=True)
    for round_ in range(args.rounds):
        numbers = list(Demand.objects.filter(state="received", jurisdiction__path__startswith=district.path)
                       .order_by("pk").values_list("number", flat=True)[:200])
        if len(numbers) < 200:
            print(f"bulk dispatch round {round_ + 1}: only {len(numbers)} received demands left, stopped")
            break
        start, start_cpu, start_db = time.perf_counter(), time.process_time(), backend_cpu()
        with CaptureQueriesContext(connection) as statements:
            outcome = services.bulk_act(dispatcher, "dispatch", numbers, unit=target.pk, note="批量交办")
        elapsed, used, db = time.perf_counter() - start, time.process_time() - start_cpu, backend_cpu() - start_db
        failed = [r for r in outcome if not r.ok]
        bulk.append(elapsed)
        print(f"bulk dispatch of {len(numbers)} to {target.name}: {elapsed:.2f} s "
              f"({elapsed / len(numbers) * 1000:.1f} ms a demand; CPU: this process {used:.2f} s, its database backend "
              f"{db:.2f} s), {len(statements) / len(numbers):.1f} statements a demand, {len(failed)} failed"
              + (f" (first: {failed[0].label})" if failed else ""), flush=True)

    print(f"\nsummary ({n:,} demands; load average at the end {os.getloadavg()} on {os.cpu_count()} cores)")
    for label, samples in results.items():
        flag = "" if p95(samples) * 1000 < TARGET_MINE_P95_MS else f"  MISSED (target p95 < {TARGET_MINE_P95_MS} ms)"
        print(f"  {label}: {fmt(samples)}{flag}")
    for i, elapsed in enumerate(bulk, start=1):
        flag = "" if elapsed < TARGET_BULK_S else f"  MISSED (target < {TARGET_BULK_S} s)"
        print(f"  bulk dispatch of 200, round {i}: {elapsed:.2f} s{flag}")


if __name__ == "__main__":
    main()
