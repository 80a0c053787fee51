"""The escalation queue (提级队列) at scale: a leader's 联席办 / 区领导 queue, p50/p95, on PostgreSQL.

    .venv/bin/python bench/cooperation.py --database-url postgresql://postgres@127.0.0.1:55432/bench_coop
    .venv/bin/python bench/cooperation.py --n 200000 …        # a smaller build on a busy machine
    .venv/bin/python bench/cooperation.py --reuse …           # measure again without rebuilding

Builds N demands with bench/reports.py's set-based builder (10 cities × 10 districts × 10 towns, 20 units a
district), then escalates a share of them (every 40th demand to 联席办, every 120th on to 区领导, open or not,
as a ledger's history would hold them) and gives every 3rd escalated open demand a leader's 批示 owed by its
lead unit. Measures, for a district leader and a province-wide leader: the queue's query alone (the first page
of 50 with the unanswered-instruction counts, ORM objects built) and the whole page through Django's test client
(view and template). Target (issue 15): p95 under 100 ms at 1,000,000 demands.
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

DEFAULT_URL = "postgresql://postgres@127.0.0.1:55432/bench_coop"
TARGET_P95_MS = 100


def parse():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="demands to build (default 1,000,000)")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--reuse", action="store_true", help="skip the build, measure the existing database")
    parser.add_argument("--requests", type=int, default=100, help="timed samples per measurement (default 100)")
    return parser.parse_args()


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def fmt(samples: list[float]) -> str:
    return (f"p50 {statistics.median(samples) * 1000:.1f} ms, p95 {p95(samples) * 1000:.1f} ms, "
            f"max {max(samples) * 1000:.1f} ms")


def escalate(cursor) -> None:
    """Tiers and instructions, set-based (a benchmark's fixture, not the product's write path)."""
    cursor.execute("UPDATE demands_demand SET tier = 2 WHERE id % 40 = 0 AND tier = 1")
    cursor.execute("UPDATE demands_demand SET tier = 3 WHERE id % 120 = 0 AND tier = 2")
    cursor.execute("""
        WITH picked AS (
            SELECT d.id, d.tier, d.lead_unit_id, d.received_at FROM demands_demand d
            WHERE d.tier IN (2, 3) AND d.lead_unit_id IS NOT NULL AND d.id % 3 = 0
              AND d.state IN ('dispatched', 'accepted', 'contacted', 'planned', 'reopened', 'long_term')),
        made AS (
            INSERT INTO cooperation_instruction (demand_id, author_id, tier, text, created_at)
            SELECT id, (SELECT id FROM accounts_user WHERE username = 'leader_province'), tier,
                   '请限期解决并反馈', received_at + interval '10 days' FROM picked
            RETURNING id, demand_id)
        INSERT INTO cooperation_instructionanswer (instruction_id, unit_id, lead, text)
        SELECT made.id, picked.lead_unit_id, true, '' FROM made JOIN picked ON picked.id = made.demand_id""")


def main():
    args = parse()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("QINQING_VAR_DIR", tempfile.mkdtemp(prefix="qinqing-bench-coop-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qinqing.settings")
    Path(os.environ["QINQING_VAR_DIR"], "static").mkdir(parents=True, exist_ok=True)
    from reports import build_demands, build_org, recreate_database, timed, vacuum

    if not args.reuse:
        recreate_database(args.database_url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    from qinqing.accounts.models import User
    from qinqing.cooperation.views import _queue_rows
    from qinqing.demands.models import Demand, Tier

    if connection.vendor != "postgresql":
        raise SystemExit("bench/cooperation.py needs PostgreSQL (--database-url).")
    setup_test_environment()
    print(f"load average at the start: {os.getloadavg()} on {os.cpu_count()} cores", flush=True)
    call_command("migrate", verbosity=0)
    if not args.reuse:
        print(f"build: {args.n:,} demands on {args.database_url}", flush=True)
        build_org()
        timed("demands (INSERT … SELECT)", build_demands, args.n, *_towns_units())
    from qinqing.cooperation.models import Instruction

    if not Instruction.objects.exists():  # a fresh build, or one stopped before its escalations
        with connection.cursor() as cursor:
            timed("escalations and instructions", escalate, cursor)
        timed("VACUUM ANALYZE", vacuum)
    n = Demand.objects.count()
    for tier in (Tier.JOINT_OFFICE, Tier.DISTRICT_LEADER):
        print(f"data: {n:,} demands; tier {tier}: {Demand.objects.filter(tier=tier).count():,} "
              f"({Demand.objects.filter(tier=tier, state__in=['dispatched', 'accepted', 'contacted', 'planned', 'reopened', 'long_term']).count():,} open)",
              flush=True)
    results = {}
    for key in ("district", "province"):
        leader = User.objects.get(username=f"leader_{key}")
        for tier in (Tier.JOINT_OFFICE, Tier.DISTRICT_LEADER):
            samples = []
            for i in range(args.requests + 5):
                start = time.perf_counter()
                rows = list(_queue_rows(User.objects.get(pk=leader.pk), tier)[:51])
                if i >= 5:  # warm-up
                    samples.append(time.perf_counter() - start)
            results[f"query {key} tier {tier}"] = samples
            print(f"queue query, {key} leader, tier {tier} ({len(rows)} rows on the first page): {fmt(samples)}",
                  flush=True)
            client = Client()
            client.force_login(leader)
            url = reverse("cooperation:queue") + f"?tier={int(tier)}"
            samples = []
            for i in range(args.requests + 5):
                start = time.perf_counter()
                response = client.get(url)
                if i >= 5:
                    samples.append(time.perf_counter() - start)
            assert response.status_code == 200, response.status_code
            results[f"page {key} tier {tier}"] = samples
            print(f"queue page, {key} leader, tier {tier}: {fmt(samples)}", flush=True)
    sql, params = _queue_rows(User.objects.get(username="leader_district"), Tier.JOINT_OFFICE)[:51].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        print("plan (district leader, 联席办):\n    " + "\n    ".join(r[0] for r in cursor.fetchall()))
    print(f"\nsummary ({n:,} demands; target p95 < {TARGET_P95_MS} ms; load average at the end {os.getloadavg()})")
    for label, samples in results.items():
        flag = "" if p95(samples) * 1000 < TARGET_P95_MS else "  MISSED"
        print(f"  {label}: {fmt(samples)}{flag}")


def _towns_units():
    from qinqing.accounts.models import Jurisdiction, Unit

    towns = list(Jurisdiction.objects.filter(level="town").order_by("pk"))
    units = list(Unit.objects.order_by("pk"))
    return towns, units


if __name__ == "__main__":
    main()
