"""Single-demand intake against its floor: `POST /api/v1/demands` next to a minimal Django + ninja app.

    .venv/bin/python bench/intake.py                        # SQLite, then a throwaway PostgreSQL cluster
    .venv/bin/python bench/intake.py --db sqlite --rounds 5
    .venv/bin/python bench/intake.py --db postgresql --database-url postgresql://postgres@127.0.0.1:5432/x_bench

The floor (bench/floor/) validates the same JSON, authenticates a bearer token and writes one row plus one
event in a transaction. Both servers run under gunicorn with the product's gunicorn.conf.py on loopback
ports, every worker of both is warmed, then rounds alternate floor, product, floor, product… with the same
clients and the same bodies. It prints requests/s, p50/p95 latency, server (and PostgreSQL) CPU per
request and the ratio product/floor. See bench/README.md.
"""

import argparse
import contextlib
import http.client
import json
import os
import platform
import random
import runpy
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from _util import ROOT, VENV_BIN, ThrowawayPostgres, free_port, p50_p95, process_tree_cpu

BENCH = Path(__file__).resolve().parent
PYTHON = str(VENV_BIN / "python")
TARGET_RATIO = 0.70
WARM_PER_WORKER = 30  # 201s each worker must have answered before anything is timed


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--database-url", default="",
                        help="a PostgreSQL URL whose database name contains 'bench' (dropped and recreated, and "
                             "<name>_floor next to it); default: a throwaway cluster")
    parser.add_argument("--rounds", type=int, default=4, help="timed rounds per server (default 4)")
    parser.add_argument("--requests", type=int, default=800, help="requests per round (default 800)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent keep-alive clients (default 4)")
    parser.add_argument("--reconnect-every", type=int, default=25,
                        help="each client opens a new connection after this many requests, so that the "
                             "kernel spreads the clients over the workers evenly on average (default 25)")
    parser.add_argument("--enterprises", type=int, default=500, help="enterprises in the product's registry")
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, SQLite files)")
    parser.add_argument("--prepare-product", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# ---------------------------------------------------------------- the two applications

def prepare_product(args) -> None:
    """(Subprocess, product settings.) Migrate, build a small city and its enterprises, print a token."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qinqing.settings")
    import django

    django.setup()
    import dataset
    from django.core.management import call_command

    from qinqing.accounts.models import ApiToken

    call_command("migrate", verbosity=0)
    org = dataset.build_org(args.enterprises, random.Random(args.seed))
    token = ApiToken.issue(org.city_dispatcher, name="intake benchmark")
    texts = [(title, content) for _, title, content in dataset._texts(random.Random(args.seed + 1), 100)]
    print(json.dumps({"token": token, "codes": [e[3] for e in org.enterprises], "texts": texts},
                     ensure_ascii=False))


def product_fixture(env: dict, args) -> dict:
    out = subprocess.run([PYTHON, str(BENCH / "intake.py"), "--prepare-product", "--enterprises",
                          str(args.enterprises), "--seed", str(args.seed)],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"preparing the product failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def floor_fixture(env: dict) -> str:
    manage = [PYTHON, str(BENCH / "floor" / "manage.py")]
    for cmd in (["migrate", "-v0"], ["issue_floor_token"]):
        out = subprocess.run([*manage, *cmd], cwd=ROOT, env=env, capture_output=True, text=True)
        if out.returncode:
            raise SystemExit(f"floor {cmd[0]} failed:\n{out.stderr[-3000:]}")
    return out.stdout.strip().splitlines()[-1]


def recreate_database(url: str) -> None:
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


def with_database(url: str, name: str) -> str:
    return urlparse(url)._replace(path=f"/{name}").geturl()


# ---------------------------------------------------------------- servers and clients

class Server:
    """gunicorn -c gunicorn.conf.py (the product's settings) serving `app` on a random loopback port."""

    def __init__(self, label: str, app: str, env: dict, log_path: Path):
        self.label, self.app, self.log_path = label, app, log_path
        self.port = free_port()
        self.env = {**env, "QINQING_BIND": f"127.0.0.1:{self.port}"}
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Server":
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in __exit__
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--pythonpath", str(BENCH), self.app],
            cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.label}: gunicorn exited with {self.proc.returncode}; see {self.log_path}")
            with contextlib.suppress(OSError):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/api/v1/demands")
                conn.getresponse().read()
                conn.close()
                return self
            time.sleep(0.2)
        raise SystemExit(f"{self.label}: gunicorn did not answer within 60 s; see {self.log_path}")

    def workers(self) -> set[int]:
        pids = set()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError):
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                    pids.add(int(stat.parent.name))
        return pids

    def cpu_seconds(self) -> float:
        return process_tree_cpu(self.proc.pid)

    def __exit__(self, *exc):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return False


def post(conn: http.client.HTTPConnection, body: bytes, headers: dict) -> tuple[int, bytes, float, int]:
    """(status, body, seconds, worker pid) of one POST /api/v1/demands on a keep-alive connection."""
    start = time.perf_counter()
    conn.request("POST", "/api/v1/demands", body=body, headers=headers)
    response = conn.getresponse()
    payload = response.read()
    elapsed = time.perf_counter() - start
    return response.status, payload, elapsed, int(response.getheader("X-Worker-Pid") or 0)


def bodies(fixture: dict, count: int, seed: int) -> list[bytes]:
    """The same demands for both servers: a registered enterprise, the hotline, the benchmark's texts."""
    rng = random.Random(seed)
    codes, texts = fixture["codes"], fixture["texts"]
    out = []
    for _ in range(count):
        title, content = texts[rng.randrange(len(texts))]
        out.append(json.dumps({"credit_code": rng.choice(codes), "channel": "hotline", "title": title,
                               "content": content}, ensure_ascii=False).encode())
    return out


@dataclass
class Target:
    server: Server
    token: str
    fixture: dict
    rounds: list[dict] = field(default_factory=list)

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}


def warm(target: Target, workers: int, seed: int) -> None:
    """Warm every worker: new connections (so the kernel spreads them) until each worker pid has answered
    WARM_PER_WORKER intakes with 201 — jieba's dictionary, imports and caches all loaded before timing."""
    deadline = time.monotonic() + 180
    while len(target.server.workers()) < workers and time.monotonic() < deadline:
        time.sleep(0.1)
    counts: dict[int, int] = {}
    lock = threading.Lock()
    payloads = bodies(target.fixture, 64, seed)
    failures: list[str] = []

    def done() -> bool:
        return len(counts) >= workers and min(counts.values()) >= WARM_PER_WORKER

    def client(i: int):
        n = i
        while not done() and time.monotonic() < deadline and not failures:
            conn = http.client.HTTPConnection("127.0.0.1", target.server.port, timeout=60)
            for _ in range(4):
                status, payload, _, pid = post(conn, payloads[n % len(payloads)], target.headers)
                n += 4
                with lock:
                    if status != 201:
                        failures.append(f"HTTP {status}: {payload[:300].decode(errors='replace')}")
                        break
                    counts[pid] = counts.get(pid, 0) + 1
            conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(max(4, workers * 2))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise SystemExit(f"{target.server.label}: warm-up failed: {failures[0]}")
    if not done():
        raise SystemExit(f"{target.server.label}: not every worker answered within 180 s: {counts}")
    print(f"    {target.server.label}: warmed {len(counts)} workers "
          f"({', '.join(f'{pid}: {n}' for pid, n in sorted(counts.items()))} requests)", flush=True)


def timed_round(target: Target, args, seed: int, pg: ThrowawayPostgres | None) -> dict:
    """`clients` threads on keep-alive connections, `requests` POSTs in all.

    A keep-alive connection stays with the worker that accepted it; with 4 clients and 2 workers a round
    could land 4/0 by chance and measure one process. Reconnecting every few requests evens that out."""
    payloads = bodies(target.fixture, args.requests, seed)
    shares = [payloads[i::args.clients] for i in range(args.clients)]
    latencies: list[float] = []
    pids: dict[int, int] = {}
    failures: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(args.clients + 1)

    def client(mine: list[bytes]):
        conn = http.client.HTTPConnection("127.0.0.1", target.server.port, timeout=60)
        conn.connect()
        times, seen, bad = [], {}, []
        barrier.wait()
        for i, body in enumerate(mine, start=1):
            status, payload, elapsed, pid = post(conn, body, target.headers)
            if i % args.reconnect_every == 0:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", target.server.port, timeout=60)
            times.append(elapsed)
            seen[pid] = seen.get(pid, 0) + 1
            if status != 201:
                bad.append(f"HTTP {status}: {payload[:300].decode(errors='replace')}")
        conn.close()
        with lock:
            latencies.extend(times)
            failures.extend(bad)
            for pid, n in seen.items():
                pids[pid] = pids.get(pid, 0) + n

    threads = [threading.Thread(target=client, args=(share,)) for share in shares]
    for t in threads:
        t.start()
    cpu0, db0 = target.server.cpu_seconds(), pg.cpu_seconds() if pg else 0.0
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    n = len(latencies)
    result = {"n": n, "wall": wall, "latencies": latencies, "failures": failures,
              "cpu_ms": (target.server.cpu_seconds() - cpu0) * 1000 / n,
              "db_cpu_ms": (pg.cpu_seconds() - db0) * 1000 / n if pg else None,
              "spread": sorted(pids.values(), reverse=True)}
    target.rounds.append(result)
    return result


def describe(label: str, r: dict) -> str:
    p50, p95 = p50_p95(r["latencies"])
    db = f", PostgreSQL CPU {r['db_cpu_ms']:.1f}" if r["db_cpu_ms"] is not None else ""
    bad = f", {len(r['failures'])} non-201" if r["failures"] else ""
    return (f"{label:<8} {r['n'] / r['wall']:7.0f} req/s  p50 {p50:5.1f} ms  p95 {p95:5.1f} ms  "
            f"gunicorn CPU {r['cpu_ms']:5.1f} ms/req{db}  per worker {'/'.join(map(str, r['spread']))}{bad}")


def total(rounds: list[dict]) -> dict:
    latencies = [x for r in rounds for x in r["latencies"]]
    n = sum(r["n"] for r in rounds)
    dbs = [r["db_cpu_ms"] * r["n"] for r in rounds if r["db_cpu_ms"] is not None]
    return {"n": n, "wall": sum(r["wall"] for r in rounds), "latencies": latencies,
            "failures": [f for r in rounds for f in r["failures"]],
            "cpu_ms": sum(r["cpu_ms"] * r["n"] for r in rounds) / n,
            "db_cpu_ms": sum(dbs) / n if dbs else None,
            "spread": [sum(r["spread"][i] for r in rounds if len(r["spread"]) > i)
                       for i in range(max(len(r["spread"]) for r in rounds))]}


# ---------------------------------------------------------------- one backend

def run_backend(args, work: Path, backend: str, pg_url: str, pg: ThrowawayPostgres | None) -> dict:
    print(f"\n==> {backend}: preparing both databases", flush=True)
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    var = work / backend / "var"
    var.mkdir(parents=True)
    product_url = floor_url = ""
    if pg_url:
        product_url = pg_url
        floor_url = with_database(pg_url, urlparse(pg_url).path.lstrip("/") + "_floor")
        recreate_database(product_url)
        recreate_database(floor_url)
    # A key of its own: the product refuses to serve with the development key published in the repository.
    product_env = {**base, "QINQING_VAR_DIR": str(var), "DATABASE_URL": product_url, "DEBUG": "0",
                   "SECRET_KEY": secrets.token_urlsafe(50), "DJANGO_SETTINGS_MODULE": "qinqing.settings",
                   "PYTHONPATH": str(BENCH)}
    floor_env = {**base, "FLOOR_VAR_DIR": str(work / backend / "floor"), "DATABASE_URL": floor_url,
                 "DJANGO_SETTINGS_MODULE": "floor.settings"}
    fixture = product_fixture(product_env, args)
    floor_token = floor_fixture(floor_env)
    workers = int(runpy.run_path(str(ROOT / "gunicorn.conf.py"))["workers"])

    with Server("floor", "floor.wsgi:application", floor_env, work / backend / "floor.log") as floor_server, \
            Server("product", "floor.product_wsgi:application", product_env,
                   work / backend / "product.log") as product_server:
        floor = Target(floor_server, floor_token, fixture)
        product = Target(product_server, fixture["token"], fixture)
        print(f"    both under gunicorn.conf.py: {workers} workers; floor on :{floor_server.port}, "
              f"product on :{product_server.port}", flush=True)
        warm(floor, workers, args.seed)
        warm(product, workers, args.seed)
        print(f"==> {backend}: {args.rounds} interleaved rounds of {args.requests} requests, "
              f"{args.clients} clients", flush=True)
        for i in range(args.rounds):
            for label, target in (("floor", floor), ("product", product)):
                print(f"    round {i + 1} {describe(label, timed_round(target, args, args.seed + 100 + i, pg))}",
                      flush=True)
        f, p = total(floor.rounds), total(product.rounds)
    for label, t in (("floor", f), ("product", p)):
        if t["failures"]:
            print(f"    {label}: first failure: {t['failures'][0]}")
    ratio = (p["n"] / p["wall"]) / (f["n"] / f["wall"])
    print(f"    all rounds: {describe('floor', f)}\n                {describe('product', p)}")
    print(f"    ratio product/floor {ratio:.0%} (target {TARGET_RATIO:.0%})", flush=True)
    return {"floor": f, "product": p, "ratio": ratio}


def machine_facts() -> str:
    model = ""
    with contextlib.suppress(OSError):
        model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), "")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{os.cpu_count()} cores ({model or platform.machine()}), load average {load}, "
            f"Python {platform.python_version()}")


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.prepare_product:
        prepare_product(args)
        return 0
    print(f"==> Intake against the floor: {machine_facts()}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="qinqing-intake."))
    results = {}
    try:
        if args.db in ("sqlite", "both"):
            results["sqlite"] = run_backend(args, work, "sqlite", "", None)
        if args.db in ("postgresql", "both"):
            if args.database_url:
                results["postgresql"] = run_backend(args, work, "postgresql", args.database_url, None)
            else:
                with ThrowawayPostgres(dbname="qinqing_intake_bench") as pg:
                    results["postgresql"] = run_backend(args, work, "postgresql", pg.url, pg)
    finally:
        if args.keep:
            print(f"(kept {work})")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\n==> Summary ({machine_facts()})")
    for backend, r in results.items():
        f, p = r["floor"], r["product"]
        fp, pp = p50_p95(f["latencies"]), p50_p95(p["latencies"])
        flag = "" if r["ratio"] >= TARGET_RATIO else f"  BELOW the {TARGET_RATIO:.0%} target"
        print(f"    {backend:<10} floor {f['n'] / f['wall']:5.0f}/s (p50/p95 {fp[0]:.0f}/{fp[1]:.0f} ms)  "
              f"product {p['n'] / p['wall']:5.0f}/s (p50/p95 {pp[0]:.0f}/{pp[1]:.0f} ms)  "
              f"ratio {r['ratio']:.0%}{flag}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
