"""Benchmark of the audit hash chain (qinqing.audit.chain): sealing and verifying N demand timeline entries.

Builds a fresh database with N timeline entries (Chinese notes of ordinary length, a small JSON detail, an
actor on most), then times:

* the first `seal` of all N (what the minute-ly task does after an outage, or on the upgrade);
* `verify` of the whole chain (what `manage.py audit verify` does after sealing nothing new);
* a `seal` with nothing new (the minute-ly task on a quiet minute).

    .venv/bin/python bench/audit_chain.py                                   # SQLite, 100,000 entries
    .venv/bin/python bench/audit_chain.py --database-url postgresql://postgres@127.0.0.1:PORT/bench_audit

A PostgreSQL database's name must contain "bench": it is dropped and recreated.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="timeline entries (default 100,000)")
    parser.add_argument("--database-url", default="", help="PostgreSQL; SQLite in a temporary directory if empty")
    return parser.parse_args()


def recreate_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    if "bench" not in name:
        sys.exit("the benchmark database name must contain 'bench'")
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def fill(n: int) -> None:
    """N entries in batches of 10,000 (executemany), spread over 2,000 demands and 20 actors."""
    import datetime as dt
    import json

    from django.db import connection, transaction

    from qinqing.accounts.models import User

    actors = [User.objects.create_user(username=f"bench{i}").pk for i in range(20)]
    start = dt.datetime(2026, 1, 5, 1, 0, tzinfo=dt.UTC)
    verbs = ["receive", "dispatch", "accept", "contact", "plan", "reply", "evaluate", "close", "urge"]
    sql = """INSERT INTO demands_demandevent (demand_id, actor_id, verb, from_state, to_state, note, data, internal,
                                               created_at, awaiting_delivery)
             VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"""
    for base in range(0, n, 10_000):
        rows = []
        for i in range(base, min(n, base + 10_000)):
            verb = verbs[i % len(verbs)]
            rows.append([i % 2000 + 1, None if verb == "urge" else actors[i % 20], verb, "received", "dispatched",
                         f"第{i}号记录：已联系企业负责人，约定本周内到现场查看用工缺口并对接职业院校。",
                         json.dumps({"unit": i % 400, "due": "2026-12-10", "days": i % 7}, ensure_ascii=False),
                         i % 5 == 0, connection.ops.adapt_datetimefield_value(start + dt.timedelta(minutes=i)),
                         False])
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, rows)


def main() -> None:
    args = parse()
    tmp = tempfile.mkdtemp(prefix="bench-audit-")
    os.environ["QINQING_VAR_DIR"] = tmp
    os.environ["DJANGO_SETTINGS_MODULE"] = "qinqing.settings"
    if args.database_url:
        recreate_database(args.database_url)
        os.environ["DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from qinqing.audit.chain import seal, verify
    from qinqing.demands.models import DemandEvent

    call_command("migrate", verbosity=0)
    print(f"{connection.vendor}, load {os.getloadavg()[0]:.2f}: filling {args.n:,} timeline entries")
    t = time.perf_counter()
    fill(args.n)
    print(f"  filled in {time.perf_counter() - t:.1f} s")
    table = DemandEvent._meta.db_table
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE demands_demandevent")

    t = time.perf_counter()
    sealed = seal(table)
    print(f"  first seal: {sealed:,} rows in {time.perf_counter() - t:.2f} s")
    t, cpu = time.perf_counter(), time.process_time()
    checked, problems = verify(table)
    took, cpu = time.perf_counter() - t, time.process_time() - cpu
    assert not problems and checked == args.n, (checked, problems[:3])
    print(f"  verify: {checked:,} rows in {took:.2f} s ({checked / took:,.0f} rows/s; {cpu:.2f} s of this "
          "process's CPU, the rest is the database and waiting for a core)")
    t = time.perf_counter()
    assert seal(table) == 0
    print(f"  seal with nothing new: {(time.perf_counter() - t) * 1000:.1f} ms")
    print(f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
