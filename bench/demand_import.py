"""Excel in for demands at scale: a 100,000-row historical ledger through `import_demands` (issue 15).

    .venv/bin/python bench/demand_import.py --db sqlite                     # 100,000 rows (default)
    .venv/bin/python bench/demand_import.py --db postgresql --rows 100000   # throwaway cluster, as bench/demands.py
    .venv/bin/python bench/demand_import.py --db postgresql --database-url postgresql://…/qinqing_bench

Builds the benchmark city (bench/dataset.py: 4 districts, 30 units, 5,000 enterprises), writes a 12345-style
sheet (工单编号, 来电时间, 来电内容, 企业名称, 统一社会信用代码, 承办单位, 办理结果, 答复内容, 办结时间, 满意度)
with openpyxl's write-only mode in a child process, then, as the city dispatcher: the check alone, the whole
import (check + write, one transaction), and the same sheet again (must write nothing). Prints seconds, rows
per second and the process's peak memory (ru_maxrss of the importing process only). 95% of rows are finished
cases (closed with their recorded reply), 3% open with a unit (dispatched through dispatch_demand), 2% open
without one. Target: 100,000 rows under 120 s, memory under 1 GB, on PostgreSQL.
"""

import argparse
import contextlib
import cProfile
import datetime as dt
import multiprocessing
import os
import pstats
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _util import ThrowawayPostgres, start_django

TARGET_S = 120
TARGET_MB = 1024
HEADERS = ["工单编号", "来电时间", "来电内容", "企业名称", "统一社会信用代码", "承办单位", "办理结果", "答复内容",
           "办结时间", "满意度"]
ASKS = ["企业扩产后用工缺口约{n}人，希望协助对接职业院校", "申请的稳岗返还{n}天仍未到账，请帮助查询",
        "厂区门前道路破损，货车通行困难，已持续{n}周", "希望了解首贷贴息政策申报条件，贷款额度约{n}万元",
        "新厂房消防验收排队{n}天，影响投产", "用电增容申请已提交{n}天，尚无答复"]


def write_sheet(path: str, rows: int, enterprises: list, units: dict, seed: int) -> None:
    """The sheet, written in a child process so its memory is not the importer's."""
    from openpyxl import Workbook

    rng = random.Random(seed)
    book = Workbook(write_only=True)
    ws = book.create_sheet("工单")
    ws.append(HEADERS)
    now = dt.datetime(2026, 12, 1, 9, 0)  # noqa: DTZ001 - wall-clock text in a sheet
    for i in range(1, rows + 1):
        ent = enterprises[rng.randrange(len(enterprises))]
        received = now - dt.timedelta(days=rng.uniform(40, 540), minutes=rng.randrange(600))
        ask = ASKS[rng.randrange(len(ASKS))].format(n=rng.randrange(2, 60))
        unit = rng.choice(units[ent[2]])
        fate = rng.random()
        if fate < 0.95:
            replied = received + dt.timedelta(days=rng.uniform(1, 40))
            ws.append([f"GD{i:08d}", received.strftime("%Y-%m-%d %H:%M"), ask, ent[4], ent[3], unit,
                       rng.choice(["已解决", "已解决", "已解释说明"]), f"已协调办理：{ask[:12]}。",
                       replied.strftime("%Y-%m-%d %H:%M"), rng.choice(["满意", "满意", "基本满意", ""])])
        elif fate < 0.98:
            ws.append([f"GD{i:08d}", received.strftime("%Y-%m-%d %H:%M"), ask, ent[4], ent[3], unit])
        else:
            ws.append([f"GD{i:08d}", received.strftime("%Y-%m-%d %H:%M"), ask, ent[4], ent[3]])
    book.save(path)


def backend_cpu() -> float:
    """CPU seconds used so far by this connection's PostgreSQL backend (its /proc entry; the cluster is local), or
    NaN: next to the process's own CPU it says what the import costs whatever else the machine is running."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return float("nan")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="profile the import (cProfile) and print its N costliest functions")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="qinqing-bench-import."))
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
    from django.test.utils import CaptureQueriesContext

    from qinqing.accounts.models import Unit
    from qinqing.demands.importer import DemandImporter, import_demands
    from qinqing.demands.models import Demand

    print(f"==> Demand import benchmark: {connection.vendor}, {args.rows:,} rows; load average "
          f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)
    call_command("migrate", verbosity=0)
    org = dataset.build_org(5000, random.Random(args.seed))
    names = dict(Unit.objects.values_list("pk", "name"))
    units = {code: [names[pk] for pk in ids] for code, ids in org.district_units.items()}
    path = str(work / "ledger.xlsx")
    started = time.perf_counter()
    child = multiprocessing.get_context("fork").Process(
        target=write_sheet, args=(path, args.rows, org.enterprises, units, args.seed))
    child.start()
    child.join()
    print(f"    sheet written in {time.perf_counter() - started:.1f} s ({Path(path).stat().st_size / 1e6:.1f} MB)")
    user = org.city_dispatcher
    user.refresh_from_db()
    connection.close()  # the child shared the connection's socket; start afresh

    started = time.perf_counter()
    importer = DemandImporter(user, path)
    report = importer.check()
    check_s = time.perf_counter() - started
    print(f"    check only: {check_s:.1f} s ({report.total_rows / check_s:,.0f} rows/s); {report.summary()}", flush=True)

    profile = cProfile.Profile() if args.profile else None
    db_cpu = backend_cpu()
    started, cpu = time.perf_counter(), time.process_time()
    with CaptureQueriesContext(connection) if profile else contextlib.nullcontext([]) as queries:
        if profile:
            profile.enable()
        report = import_demands(user, path)
        if profile:
            profile.disable()
    total_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu
    db_cpu = backend_cpu() - db_cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # CPU seconds of this process do not grow with the machine's load, unlike wall time (the database's own
    # work is not in them on PostgreSQL; on SQLite it is).
    print(f"    import (check + write): {total_s:.1f} s wall, CPU {cpu_s:.1f} s this process + {db_cpu:.1f} s its database "
          f"backend ({report.created / total_s:,.0f} rows/s); {report.summary()}; peak memory {peak_mb:,.0f} MB"
          + (f"; {len(queries):,} statements" if profile else ""), flush=True)
    if profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.profile)
    count = Demand.objects.count()

    started = time.perf_counter()
    again = import_demands(user, path)
    again_s = time.perf_counter() - started
    print(f"    same sheet again: {again_s:.1f} s; {again.summary()}; demands {count:,} → {Demand.objects.count():,}")
    missed = []
    if total_s > TARGET_S:
        missed.append(f"import {total_s:.0f} s > {TARGET_S} s")
    if peak_mb > TARGET_MB:
        missed.append(f"memory {peak_mb:.0f} MB > {TARGET_MB} MB")
    if Demand.objects.count() != count:
        missed.append("the second import wrote demands")
    print("==> targets missed: " + ("; ".join(missed) if missed else "none"))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
