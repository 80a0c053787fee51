"""The foundation benchmark: intake rate, ledger pages, the overdue sweep, on SQLite or PostgreSQL.

    .venv/bin/python bench/demands.py --db sqlite                      # 100k demands
    .venv/bin/python bench/demands.py --db postgresql --n 1000000      # throwaway cluster, 1M demands

See bench/README.md for what is measured and the targets.
"""

import argparse
import os
import random
import re
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlparse

from _util import ROOT, Client, Gunicorn, ThrowawayPostgres, p50_p95, stopwatch

TARGET_PAGE_P95_MS = 100
TARGET_SWEEP_S = 2.0
TARGET_INTAKE_PG = 200


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--n", type=int, default=100_000, help="demands to build (default 100000)")
    parser.add_argument("--database-url", default="",
                        help="PostgreSQL database to drop and rebuild (its name must contain 'bench'), or "
                             "sqlite:////path/file.sqlite3 to build a file that --reuse can measure again; "
                             "default: a throwaway cluster or a temporary SQLite file")
    parser.add_argument("--intake", type=int, default=2000, help="demands POSTed to the API (default 2000)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent intake clients (default 4)")
    parser.add_argument("--batch", type=int, default=50,
                        help="demands per request in the batch intake run (POST /api/v1/demands/batch; 0 skips it)")
    parser.add_argument("--reuse", action="store_true",
                        help="with --database-url: keep a database built by an earlier run instead of rebuilding")
    parser.add_argument("--requests", type=int, default=50, help="timed GETs per ledger page (default 50)")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--explain", action="store_true",
                        help="print every ledger query's plan, not only those slower than 20 ms at p95")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite temp dir (path is printed)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="qinqing-bench."))
    try:
        if args.db == "postgresql" and not args.database_url:
            with ThrowawayPostgres() as pg:
                return run(args, work, pg.url, pg)
        if args.db == "postgresql":
            return run(args, work, args.database_url)
        if args.database_url:  # sqlite:////path/bench.sqlite3, kept between runs for --reuse
            path = Path(urlparse(args.database_url).path)
            if not args.reuse:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
            return run(args, work, args.database_url)
        return run(args, work, "")
    finally:
        if args.keep:
            print(f"(kept {work})")
        else:
            shutil.rmtree(work, ignore_errors=True)


def run(args, work: Path, database_url: str, pg: ThrowawayPostgres | None = None) -> int:
    var = work / "var"
    var.mkdir()
    os.environ["QINQING_VAR_DIR"] = str(var)  # never the developer's var/ or database
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qinqing.settings")
    os.environ["DEBUG"] = "0"
    os.environ.pop("REDIS_URL", None)
    if database_url.startswith("postgres") and not args.reuse:
        recreate_database(database_url)

    import django

    django.setup()
    import dataset
    from django.core.management import call_command
    from django.db import connection

    backend = connection.vendor
    print(f"==> Qinqing benchmark: {backend}, N={args.n:,}, load average {os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} cores")
    results: dict = {"backend": backend, "n": args.n, "batch_size": args.batch}
    rng = random.Random(args.seed)

    build_start = time.perf_counter()
    if args.reuse and database_url:
        print("==> Reusing the data of an earlier run")
        call_command("migrate", verbosity=0)
        org = dataset.load_org()
        with connection.cursor() as cursor:  # earlier runs' urgings and intake would skew this one
            cursor.execute("DELETE FROM demands_demandevent WHERE verb = 'urge'")
            cursor.execute("DELETE FROM demands_urging")
            cursor.execute("DELETE FROM notifications_notification")
            if backend == "postgresql":  # dead index entries would slow the first sweep's inserts
                cursor.execute("VACUUM ANALYZE demands_urging, demands_demandevent, notifications_notification")
        results["build"] = 0.0
    else:
        print("==> Building the data")
        with stopwatch("migrate"):
            call_command("migrate", verbosity=0)
        with stopwatch("organisation and enterprises"):
            org = dataset.build_org(max(50, args.n // 20), rng)
        with stopwatch("demands"):
            by_state = dataset.build_demands(args.n, org, rng, report=lambda line: print(line, flush=True))
        with stopwatch("ANALYZE" if backend == "postgresql" else "ANALYZE + PRAGMA optimize"):
            dataset.analyze()
        results["build"] = time.perf_counter() - build_start
        print(f"    build total: {results['build']:.1f} s; enterprises {len(org.enterprises):,}; by state: "
              + ", ".join(f"{k} {v:,}" for k, v in sorted(by_state.items(), key=lambda kv: -kv[1])))
    from django.utils import timezone

    today = timezone.localdate()
    print(f"    open {dataset.open_count():,}, overdue (next_due < {today}) {dataset.overdue_count(today):,}")
    if backend == "sqlite":
        size = Path(connection.settings_dict["NAME"]).stat().st_size
    else:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            size = cursor.fetchone()[0]
    print(f"    database size {size / 2**20:,.0f} MiB")

    token, cookie = credentials(org.city_dispatcher)
    connection.close()  # the server gets the database to itself while it is measured

    with Gunicorn({"DATABASE_URL": database_url, "QINQING_VAR_DIR": str(var)}, work / "gunicorn.log") as server:
        results["intake"] = intake(server, pg, token, org, args, rng)
        if args.batch > 1:
            results["batch"] = intake(server, pg, token, org, args, rng, batch=args.batch)
        results["pages"] = ledger_pages(server, token, cookie, org, args)
    results["queries"] = ledger_queries(org, args)

    print("==> Overdue sweep (qinqing.demands.services.urge_overdue)")
    from qinqing.demands.services import urge_overdue

    for key in ("sweep1", "sweep2"):
        start = time.perf_counter()
        created = urge_overdue()
        results[key] = (time.perf_counter() - start, created)
        print(f"    {'first' if key == 'sweep1' else 'second'} run: {results[key][0]:.2f} s, "
              f"{created:,} urgings issued", flush=True)

    # Only now: auto_explain with log_analyze instruments every statement, which slowed the timed runs.
    explain_slow_statements()
    sweep_breakdown()
    summary(results)
    return 0


def explain_slow_statements() -> None:
    """On PostgreSQL, print the plan of any statement slower than 500 ms (auto_explain, superuser only)."""
    from django.db import DatabaseError, connection

    if connection.vendor != "postgresql":
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("LOAD 'auto_explain'")
            cursor.execute("SET auto_explain.log_min_duration = '500ms'")
            cursor.execute("SET auto_explain.log_analyze = on")
            cursor.execute("SET auto_explain.log_buffers = on")
            cursor.execute("SET client_min_messages = log")  # the plans come back as notices
    except DatabaseError as exc:
        print(f"    (auto_explain not available: {exc})")
        return
    connection.connection.add_notice_handler(
        lambda diag: print("      " + (diag.message_primary or "").replace("\n", "\n      "), flush=True))


def sweep_breakdown() -> None:
    """Where the first sweep's time goes: its statements again on the same data, rolled back.

    The SQL mirrors qinqing.demands.services.urge_overdue; the urgings just issued are deleted inside
    the transaction first, so the statements do the first run's work once more.
    """
    from django.db import connection, transaction
    from django.utils import timezone

    pg = connection.vendor == "postgresql"
    explain = "EXPLAIN (ANALYZE, BUFFERS) " if pg else ""
    overdue = "SELECT id, current_stage, next_due, lead_unit_id, state FROM demands_demand WHERE next_due < %s"
    issue = """INSERT INTO demands_urging (demand_id, stage, due, unit_id, sweep, created_at)
            SELECT d.id, d.current_stage, d.next_due, d.lead_unit_id, 'bench', %s FROM :overdue d WHERE true
            ON CONFLICT DO NOTHING"""
    log = """INSERT INTO demands_demandevent (demand_id, actor_id, verb, from_state, to_state, note, data,
                internal, created_at)
            SELECT u.demand_id, NULL, 'urge', d.state, d.state, '超期', '{}', %s, %s
            FROM :urgings u JOIN :overdue d ON d.id = u.demand_id"""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    if pg:  # one statement, as the service runs it
        issued = issue.replace(":overdue", "overdue")
        logged = log.replace(":urgings", "issued").replace(":overdue", "overdue")
        statements = [("issue urgings and log them", f"""{explain}WITH overdue AS MATERIALIZED ({overdue}),
            issued AS ({issued} RETURNING demand_id, stage),
            logged AS ({logged} RETURNING 1) SELECT count(*) FROM logged""")]
        params = [[timezone.localdate(), now, False, now]]
    else:
        statements = [("insert urgings", issue.replace(":overdue", f"({overdue})")),
                      ("insert events", log.replace(":urgings", "(SELECT * FROM demands_urging WHERE sweep = 'bench')")
                       .replace(":overdue", "demands_demand"))]
        params = [[now, timezone.localdate()], [False, now]]
    print("==> Sweep breakdown (the first run's statements again, rolled back)")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM demands_demandevent WHERE verb = 'urge'")
        cursor.execute("DELETE FROM demands_urging")
        if pg:  # settle the deletes' own key checks now, so that the figure below is the inserts' alone
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            cursor.execute("SET LOCAL jit = off")  # as the service does
        for (label, sql), values in zip(statements, params, strict=True):
            start = time.perf_counter()
            cursor.execute(sql, values)
            elapsed = time.perf_counter() - start
            print(f"    {label}: {elapsed:.2f} s")
            if pg:
                for (line,) in cursor.fetchall():
                    print(f"      {line}")
        if pg:  # the foreign keys are DEFERRABLE INITIALLY DEFERRED: their checks run at commit
            start = time.perf_counter()
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            print(f"    deferred foreign-key checks: {time.perf_counter() - start:.2f} s")
        transaction.set_rollback(True)


def recreate_database(url: str) -> None:
    """Drop and recreate the PostgreSQL database named in `url`, refusing anything not meant for this."""
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(f"--database-url names database {name!r}: the benchmark drops and recreates it, "
                         "so its name must contain 'bench'.")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def credentials(user) -> tuple[str, str]:
    """An API token and a logged-in session cookie for `user`, as the login form would create them."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from qinqing.accounts.models import ApiToken

    token = ApiToken.issue(user, name="benchmark")
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return token, f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


# ---------------------------------------------------------------- intake

def intake(server, pg, token: str, org, args, rng: random.Random, batch: int = 1) -> dict:
    """POST /api/v1/demands from `clients` threads with keep-alive connections, `intake` demands in all.

    With `batch` > 1 each request carries `batch` demands to /api/v1/demands/batch (how an integration
    such as the 12345 hotline hands over its new work orders); rates are still demands per second.
    """
    import dataset

    path = "/api/v1/demands/batch" if batch > 1 else "/api/v1/demands"
    what = f"POST {path} ({batch} demands each)" if batch > 1 else f"POST {path}"
    print(f"==> Intake: {args.intake:,} demands by {what} from {args.clients} concurrent clients")
    texts = dataset._texts(random.Random(args.seed + 1), 100)
    codes = [e[3] for e in org.enterprises]

    def one(r: random.Random) -> dict:
        _, title, content = texts[r.randrange(len(texts))]
        return {"credit_code": r.choice(codes), "channel": "hotline", "title": title, "content": content}

    def body(r: random.Random) -> dict:
        return {"items": [one(r) for _ in range(batch)]} if batch > 1 else one(r)

    port = server.port
    headers = {"Authorization": f"Bearer {token}"}
    # Warm-up: each worker process loads jieba's dictionary on its first request.
    warm = Client(port, headers)
    for _ in range(8):
        warm.request("POST", path, body(rng))
    warm.close()

    latencies: list[float] = []
    failures: list[tuple[int, bytes]] = []
    lock = threading.Lock()
    requests = max(args.clients, args.intake // batch)
    per_client = [requests // args.clients + (i < requests % args.clients) for i in range(args.clients)]

    def worker(count: int, seed: int):
        r = random.Random(seed)
        client = Client(port, headers)
        mine, bad = [], []
        deadline = time.monotonic() + 600  # bounded: never more than ten minutes
        for _ in range(count):
            if time.monotonic() > deadline:
                break
            status, payload, elapsed = client.request("POST", path, body(r))
            mine.append(elapsed)
            if status != 201:
                bad.append((status, payload))
        client.close()
        with lock:
            latencies.extend(mine)
            failures.extend(bad)

    threads = [threading.Thread(target=worker, args=(count, args.seed + 10 + i)) for i, count in
               enumerate(per_client)]
    cpu_before = server.cpu_seconds()
    db_cpu_before = pg.cpu_seconds() if pg else 0.0
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    demands = len(latencies) * batch
    cpu_ms = (server.cpu_seconds() - cpu_before) * 1000 / max(1, demands)
    db_cpu_ms = (pg.cpu_seconds() - db_cpu_before) * 1000 / max(1, demands) if pg else None
    p50, p95 = p50_p95(latencies)
    rate = demands / wall
    print(f"    {len(latencies):,} requests ({demands:,} demands) in {wall:.1f} s: {rate:,.0f} demands/s, "
          f"latency p50 {p50:.0f} ms, p95 {p95:.0f} ms, non-201: {len(failures)}; "
          f"gunicorn CPU {cpu_ms:.1f} ms/demand"
          + (f", PostgreSQL CPU {db_cpu_ms:.1f} ms/demand" if pg else ""))
    if failures:
        status, payload = failures[0]
        print(f"    first failure: HTTP {status}: {payload[:500].decode(errors='replace')}")
    return {"rate": rate, "p50": p50, "p95": p95, "errors": len(failures), "cpu_ms": cpu_ms}


# ---------------------------------------------------------------- reading

def ledger_pages(server, token: str, cookie: str, org, args) -> dict:
    """Each page: a few warm-up GETs, then `requests` timed GETs one after another."""
    money = org.categories["融资难"][0]
    pages = [
        ("ledger first page", "/demands/", "cookie"),
        ("filtered: category+open", "/demands/?" + urlencode({"category": money, "group": "open"}), "cookie"),
        ("filtered: overdue=any", "/demands/?overdue=any", "cookie"),
        ("filtered: keyword q=贷款", "/demands/?" + urlencode({"q": "贷款"}), "cookie"),
        ("api list limit=50", "/api/v1/demands?limit=50", "token"),
        ("api filtered category+open", "/api/v1/demands?" + urlencode(
            {"limit": 50, "category": money, "group": "open"}), "token"),
    ]
    print(f"==> Reading as the city dispatcher: {args.requests} timed GETs per page after 5 warm-ups")
    out = {}
    for label, path, auth in pages:
        headers = {"Cookie": cookie} if auth == "cookie" else {"Authorization": f"Bearer {token}"}
        client = Client(server.port, headers)
        status, payload, _ = client.request("GET", path)
        if status != 200:
            note = f"skipped ({status})"
            print(f"    {label:<28} {path}: {note} {payload[:200].decode(errors='replace')!r}")
            out[label] = note
            client.close()
            continue
        for _ in range(4):
            client.request("GET", path)
        samples = []
        cpu_before = server.cpu_seconds()
        for _ in range(args.requests):
            status, payload, elapsed = client.request("GET", path)
            samples.append(elapsed)
        cpu_ms = (server.cpu_seconds() - cpu_before) * 1000 / args.requests
        client.close()
        p50, p95 = p50_p95(samples)
        flag = "" if p95 < TARGET_PAGE_P95_MS else f"  MISSES the {TARGET_PAGE_P95_MS} ms target"
        print(f"    {label:<28} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  gunicorn CPU {cpu_ms:5.1f} ms/request "
              f"({len(payload):,} bytes){flag}")
        out[label] = (p50, p95)
    return out


LEDGER_QUERIES = [
    ("ledger first page", {}),
    ("filtered: category+open", {"group": "open"}),  # the category is filled in below
    ("filtered: overdue=any", {"overdue": "any"}),
    ("filtered: keyword q=贷款", {"q": "贷款"}),
]
QUERY_PLAN_MS = 20


def ledger_queries(org, args) -> dict:
    """The ledger's SQL alone, timed in this process: what an index can fix, apart from rendering."""
    from django.db import connection
    from django.http import QueryDict

    from qinqing.accounts.models import User
    from qinqing.demands.filters import LEDGER_ORDER, filter_demands
    from qinqing.demands.views.common import PAGE_SIZE, visible_demands

    user = User.objects.get(pk=org.city_dispatcher.pk)
    print(f"==> The ledger query alone, ORM rows included (visible_to + filter_demands + LEDGER_ORDER, "
          f"{PAGE_SIZE + 1} rows), {args.requests} runs each")
    out = {}
    for label, params in LEDGER_QUERIES:
        if label.startswith("filtered: category"):
            params = {**params, "category": org.categories["融资难"][0]}
        qs, _ = filter_demands(visible_demands(user), QueryDict(urlencode(params)) if params else None)
        qs = qs.order_by(*LEDGER_ORDER)[:PAGE_SIZE + 1]
        list(qs.all())
        samples = []
        for _ in range(args.requests):
            start = time.perf_counter()
            list(qs.all())
            samples.append(time.perf_counter() - start)
        p50, p95 = p50_p95(samples)
        out[label] = (p50, p95)
        print(f"    {label:<28} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms")
        if args.explain or p95 >= QUERY_PLAN_MS:
            sql, sql_params = qs.query.sql_with_params()
            plan = qs.explain(analyze=True) if connection.vendor == "postgresql" else qs.explain()
            sql = re.sub(r"^SELECT .*? FROM ", "SELECT … FROM ", sql % tuple(f"'{p}'" for p in sql_params))
            print(f"      SQL: {sql}")
            print("      " + plan.replace("\n", "\n      "))
    return out


# ---------------------------------------------------------------- summary

def summary(r: dict) -> None:
    def pair(value) -> str:
        return value if isinstance(value, str) else f"{value[0]:.0f}/{value[1]:.0f}"

    i, pages = r["intake"], r["pages"]
    rows = [
        ("backend", r["backend"]),
        ("N demands", f"{r['n']:,}"),
        ("build s", f"{r['build']:.1f}"),
        ("intake demands/s (p50/p95 ms)", f"{i['rate']:.0f} ({i['p50']:.0f}/{i['p95']:.0f})"
         + (f", {i['errors']} errors" if i["errors"] else "") + f", server CPU {i['cpu_ms']:.0f} ms/demand"),
    ]
    if "batch" in r:
        b = r["batch"]
        rows.append((f"batch intake ({r['batch_size']}/request) demands/s", f"{b['rate']:.0f} (request p50/p95 "
                     f"{b['p50']:.0f}/{b['p95']:.0f} ms)" + (f", {b['errors']} errors" if b["errors"] else "")
                     + f", server CPU {b['cpu_ms']:.1f} ms/demand"))
    rows += [(f"{label} p50/p95 ms", pair(value)) for label, value in pages.items()]
    rows += [(f"query only: {label} p50/p95 ms", pair(value)) for label, value in r["queries"].items()]
    rows.append(("sweep first/second s", f"{r['sweep1'][0]:.2f}/{r['sweep2'][0]:.2f} "
                                         f"({r['sweep1'][1]:,}/{r['sweep2'][1]:,} urgings)"))
    width = max(len(k) for k, _ in rows)
    print("\n==> Summary")
    for key, value in rows:
        print(f"    {key:<{width}}  {value}")
    misses = []
    if r["backend"] == "postgresql" and i["rate"] < TARGET_INTAKE_PG:
        misses.append(f"single-demand intake below {TARGET_INTAKE_PG}/s")
    if r["backend"] == "postgresql" and "batch" in r and r["batch"]["rate"] < TARGET_INTAKE_PG:
        misses.append(f"batch intake below {TARGET_INTAKE_PG}/s")
    misses += [label for label, v in pages.items() if not isinstance(v, str) and v[1] >= TARGET_PAGE_P95_MS]
    if r["sweep1"][0] >= TARGET_SWEEP_S:
        misses.append(f"sweep over {TARGET_SWEEP_S:.0f} s")
    targets = "(targets are for N=1,000,000)" if r["n"] < 1_000_000 else ""
    print(f"    misses: {', '.join(misses) if misses else 'none'} {targets}".rstrip())


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
