"""一公开 at scale: the public page at N demands, answered from the pre-aggregate (issue 15: under 300 ms at 1M).

    .venv/bin/python bench/transparency.py --db sqlite --n 100000
    .venv/bin/python bench/transparency.py --db postgresql --n 1000000          # throwaway cluster
    .venv/bin/python bench/transparency.py --db postgresql --database-url postgresql://…/qinqing_bench --n 1000000

Builds the benchmark city with N demands (bench/dataset.py), times the rebuild of the public figures (the
worker's half-hourly GROUP BY over six months), then requests /public/ (the city) and /public/<district>/
anonymously through Django's test client, 5 warm-up then --requests timed each: p50/p95 ms and the queries
per page. Prints the load average with the figures: on a busy machine wall times are inflated.
"""

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _util import ThrowawayPostgres, p50_p95, start_django

TARGET_P95_MS = 300


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--seed", type=int, default=20261203)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="qinqing-bench-public."))
    try:
        if args.db == "postgresql" and not args.database_url:
            with ThrowawayPostgres() as pg:
                return run(args, work, pg.url)
        return run(args, work, args.database_url)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args, work: Path, database_url: str) -> int:
    start_django(work, database_url)
    import dataset
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from qinqing.transparency.services import rebuild_public_figures

    print(f"==> Public page benchmark: {connection.vendor}, N={args.n:,}; load average {os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} cores", flush=True)
    call_command("migrate", verbosity=0)
    rng = random.Random(args.seed)
    org = dataset.build_org(max(50, args.n // 20), rng)
    dataset.build_demands(args.n, org, rng, report=lambda line: None)
    dataset.analyze()
    started = time.perf_counter()
    cells = rebuild_public_figures()
    print(f"    rebuild of the public figures: {time.perf_counter() - started:.2f} s, {cells:,} cells", flush=True)
    client = Client(HTTP_HOST="127.0.0.1")
    missed = []
    for label, url in (("/public/ (city)", "/public/"), ("/public/440305/ (district)", "/public/440305/")):
        for _ in range(5):
            assert client.get(url).status_code == 200
        samples = []
        for _ in range(args.requests):
            started = time.perf_counter()
            response = client.get(url)
            samples.append(time.perf_counter() - started)
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        p50, p95 = p50_p95(samples)
        print(f"    {label}: p50 {p50:.1f} ms, p95 {p95:.1f} ms, {len(queries)} queries, status {response.status_code}")
        if p95 > TARGET_P95_MS:
            missed.append(f"{label} p95 {p95:.0f} ms > {TARGET_P95_MS} ms")
    print("==> targets missed: " + ("; ".join(missed) if missed else "none"))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
