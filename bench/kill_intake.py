"""Nothing lost, nothing twice: intake while gunicorn is killed outright, clients retrying with their key.

    .venv/bin/python bench/kill_intake.py                       # SQLite
    .venv/bin/python bench/kill_intake.py --db postgresql       # a throwaway PostgreSQL cluster
    .venv/bin/python bench/kill_intake.py --database-url postgresql://postgres@127.0.0.1:5432/x_bench

Starts the product under gunicorn (the product's gunicorn.conf.py) on a loopback port, issues a token,
then 16 client threads send 10,000 demands in all, each with its own Idempotency-Key and a marker in its
title. Meanwhile a killer thread SIGKILLs gunicorn's master and every worker at once (the whole process
group) twice, at random moments, and starts gunicorn again. A client retries a demand with the same key
on a connection error, a timeout or a 5xx until it is acknowledged with 201 (bounded: attempts per
demand and a deadline for the run). At the end it reads the database and prints: sent, acknowledged,
in the database, duplicates (a marker on more than one demand) and lost (acknowledged, not in the
database). Only loopback; every process it starts is stopped.
"""

import argparse
import contextlib
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _util import ROOT, VENV_BIN, ThrowawayPostgres, free_port
from intake import PYTHON, product_fixture, recreate_database

BENCH = Path(__file__).resolve().parent
MARK = "[KI"  # every title starts with [KI<run>-<n>]: the count finds this run's demands by it


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--database-url", default="",
                        help="a PostgreSQL URL whose database name contains 'bench' (dropped and recreated)")
    parser.add_argument("--demands", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--kills", type=int, default=2, help="times gunicorn is killed and restarted (default 2)")
    parser.add_argument("--attempts", type=int, default=60, help="attempts per demand before giving up")
    parser.add_argument("--deadline", type=int, default=1800, help="seconds before the clients give up")
    parser.add_argument("--enterprises", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, SQLite files)")
    parser.add_argument("--count", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def count_in_database() -> None:
    """(Subprocess, product settings.) Print how many demands carry each marker, and their timeline entries."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qinqing.settings")
    import django

    django.setup()
    from django.db.models import Count

    from qinqing.demands.models import Demand, DemandEvent

    markers: dict[str, int] = {}
    for title in Demand.objects.filter(title__startswith=MARK).values_list("title", flat=True).iterator():
        marker = title[:title.index("]") + 1]
        markers[marker] = markers.get(marker, 0) + 1
    receipts = (DemandEvent.objects.filter(verb="receive", demand__title__startswith=MARK)
                .values("demand_id").annotate(n=Count("id")).filter(n__gt=1).count())
    print(json.dumps({"markers": markers, "demands_with_two_receipts": receipts,
                      "numbers": Demand.objects.filter(title__startswith=MARK).values("number").distinct().count()}))


class Gunicorn:
    """The product under gunicorn in its own process group, so that one SIGKILL takes master and workers."""

    def __init__(self, env: dict, port: int, log: Path):
        self.env, self.port, self.log = {**env, "QINQING_BIND": f"127.0.0.1:{port}"}, port, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py", "qinqing.wsgi:application"],
                                         cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.proc.returncode}; see {self.log}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/api/v1/demands?limit=1")
                conn.getresponse().read()
                conn.close()
                return
            time.sleep(0.1)
        raise SystemExit(f"gunicorn did not answer within 90 s; see {self.log}")

    def kill(self) -> int:
        """SIGKILL the master and its workers together; how many processes there were."""
        pgid = self.proc.pid  # start_new_session: the master leads its own group
        members = [p for p in Path("/proc").glob("[0-9]*") if _pgid(p) == pgid]
        os.killpg(pgid, signal.SIGKILL)
        self.proc.wait()
        return len(members)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def _pgid(proc_dir: Path) -> int:
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int((proc_dir / "stat").read_text().rsplit(")", 1)[1].split()[3])
    return -1


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.acked: set[str] = set()
        self.given_up: list[str] = []
        self.refused: list[str] = []
        self.retries = 0
        self.replayed = 0


def client(port: int, token: str, work: list[tuple[str, str, bytes]], tally: Tally, args, stop_at: float) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn = None
    for marker, key, body in work:
        for attempt in range(args.attempts):
            if time.monotonic() > stop_at:
                with tally.lock:
                    tally.given_up.append(marker)
                break
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("POST", "/api/v1/demands", body=body, headers={**headers, "Idempotency-Key": key})
                response = conn.getresponse()
                payload = response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                status, payload = 0, b""
            if status == 201:
                with tally.lock:
                    tally.acked.add(marker)
                    tally.retries += attempt
                    tally.replayed += response.getheader("Idempotent-Replayed") == "true"
                break
            if status and status < 500:
                with tally.lock:
                    tally.refused.append(f"{marker} HTTP {status}: {payload[:200].decode(errors='replace')}")
                break
            if conn is not None:  # a dead server or a 5xx: a new connection, a short pause, the same key
                conn.close()
                conn = None
            time.sleep(min(0.05 * (attempt + 1), 1.0))
        else:
            with tally.lock:
                tally.given_up.append(marker)
    if conn is not None:
        conn.close()


def killer(server: Gunicorn, tally: Tally, args, rng: random.Random, log: list[str]) -> None:
    """Kill at random points of the run (between 10 % and 90 % of the demands acknowledged), then restart."""
    points = sorted(rng.uniform(0.1, 0.9) * args.demands for _ in range(args.kills))
    for point in points:
        while len(tally.acked) < point:
            if not any(t.is_alive() for t in threading.enumerate() if t.name.startswith("client")):
                return
            time.sleep(0.01)
        at = len(tally.acked)
        n = server.kill()
        down = time.perf_counter()
        server.start()
        log.append(f"killed {n} gunicorn processes after {at} acknowledgements; "
                   f"answering again after {time.perf_counter() - down:.1f} s")
        print(f"    {log[-1]}", flush=True)


def run(args, work: Path, pg_url: str) -> dict:
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    var = work / "var"
    var.mkdir(parents=True)
    if pg_url:
        recreate_database(pg_url)
    env = {**base, "QINQING_VAR_DIR": str(var), "DATABASE_URL": pg_url, "DEBUG": "0",
           "SECRET_KEY": secrets.token_urlsafe(50),  # a served product refuses the repository's key
           "DJANGO_SETTINGS_MODULE": "qinqing.settings", "PYTHONPATH": str(BENCH)}
    print("==> preparing the database", flush=True)
    fixture = product_fixture(env, args)
    rng = random.Random(args.seed)
    run_id = f"{rng.randrange(36 ** 4):04x}"
    codes, texts = fixture["codes"], fixture["texts"]
    demands = []
    for n in range(args.demands):
        marker = f"{MARK}{run_id}-{n:05d}]"
        title, content = texts[rng.randrange(len(texts))]
        body = json.dumps({"credit_code": rng.choice(codes), "channel": "hotline", "title": f"{marker}{title}"[:100],
                           "content": content}, ensure_ascii=False).encode()
        demands.append((marker, f"kill-intake-{run_id}-{n}", body))
    server = Gunicorn(env, free_port(), work / "gunicorn.log")
    tally, kills = Tally(), []
    server.start()
    try:
        print(f"==> {args.demands} demands, {args.clients} clients, gunicorn killed {args.kills} times", flush=True)
        start = time.perf_counter()
        stop_at = time.monotonic() + args.deadline
        threads = [threading.Thread(target=client, name=f"client-{i}", args=(
            server.port, fixture["token"], demands[i::args.clients], tally, args, stop_at))
            for i in range(args.clients)]
        for t in threads:
            t.start()
        kill_thread = threading.Thread(target=killer, args=(server, tally, args, rng, kills))
        kill_thread.start()
        for t in threads:
            t.join()
        kill_thread.join()
        wall = time.perf_counter() - start
    finally:
        server.stop()
    out = subprocess.run([PYTHON, str(BENCH / "kill_intake.py"), "--count"], cwd=ROOT, env=env,
                         capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"counting failed:\n{out.stderr[-3000:]}")
    counted = json.loads(out.stdout.strip().splitlines()[-1])
    markers = counted["markers"]
    return {
        "sent": len(demands), "acknowledged": len(tally.acked), "in_database": len(markers),
        "duplicates": sum(1 for n in markers.values() if n > 1),
        "lost": len(tally.acked - markers.keys()),
        "written_not_acknowledged": len(markers.keys() - tally.acked),
        "given_up": len(tally.given_up), "refused": tally.refused[:5], "refused_count": len(tally.refused),
        "retries": tally.retries, "replayed": tally.replayed, "kills": kills, "wall": wall,
        "two_receipts": counted["demands_with_two_receipts"],
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.count:
        count_in_database()
        return 0
    work = Path(tempfile.mkdtemp(prefix="qinqing-kill-intake."))
    try:
        if args.database_url:
            result = run(args, work, args.database_url)
        elif args.db == "postgresql":
            with ThrowawayPostgres(dbname="qinqing_kill_bench") as pg:
                result = run(args, work, pg.url)
        else:
            result = run(args, work, "")
    finally:
        if args.keep:
            print(f"(kept {work})")
        else:
            shutil.rmtree(work, ignore_errors=True)
    r = result
    print(f"\n==> {args.db if not args.database_url else 'postgresql'}: {r['wall']:.0f} s, "
          f"{len(r['kills'])} kills, {r['retries']} retries ({r['replayed']} answered from a stored key)")
    print(f"    sent {r['sent']}  acknowledged {r['acknowledged']}  in database {r['in_database']}  "
          f"duplicates {r['duplicates']}  lost {r['lost']}  written but not acknowledged "
          f"{r['written_not_acknowledged']}  given up {r['given_up']}  refused {r['refused_count']}")
    for line in r["refused"]:
        print(f"    refused: {line}")
    ok = r["duplicates"] == 0 and r["lost"] == 0 and r["two_receipts"] == 0 and r["acknowledged"] == r["sent"]
    print("    every demand acknowledged is in the database exactly once" if ok else "    FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
