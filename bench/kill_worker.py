"""Nothing lost, nothing twice: the Huey worker SIGKILLed in the middle of the overdue sweep and of a large import.

    .venv/bin/python bench/kill_worker.py                       # SQLite
    .venv/bin/python bench/kill_worker.py --db postgresql       # a throwaway PostgreSQL cluster
    .venv/bin/python bench/kill_worker.py --database-url postgresql://postgres@127.0.0.1:5432/x_bench

Builds a generated ledger (bench/dataset.py: a city, its units and staff, --demands demands of which many
are overdue) and a registry workbook of --rows new enterprises, checked and waiting for 确认导入. Then it
starts the real consumer (manage.py run_huey, the product's settings: two worker threads and the periodic
scheduler) and kills its whole process group with SIGKILL four times:

  1. while the overdue sweep runs (its transaction: nothing may remain, the next sweep redoes it);
  2. while the next sweep's notifications are being written (deliver_sweep: the minute catch-up must
     deliver them, once);
  3. while the import checks the file, and 4. while its rerun writes the rows (the import recovery must
     queue it again, and the rows must be written once).

After each kill the consumer is started again. The next ten-minute sweep is queued by the bench instead of
waited for; the import recovery (every five minutes, for jobs silent for ten) is run with its clock eleven
minutes ahead instead of waited for; the minute catch-up of notifications runs on its own schedule in the
restarted consumer. At the end it prints, from the database: urgings and notices expected / present /
duplicated, enterprises expected / present / duplicated, and the time each recovery took. Loopback only;
every process it starts is stopped.
"""

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _util import ROOT, ThrowawayPostgres
from intake import PYTHON, recreate_database

BENCH = Path(__file__).resolve().parent
CODE_BASE = 970_000_000  # the workbook's codes are numbered from here: none is in the generated registry


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--database-url", default="",
                        help="a PostgreSQL URL whose database name contains 'bench' (dropped and recreated)")
    parser.add_argument("--demands", type=int, default=40_000, help="demands in the generated ledger")
    parser.add_argument("--overdue", type=int, default=30_000,
                        help="closed demands of the generated history reopened as dispatched and never contacted")
    parser.add_argument("--rows", type=int, default=20_000, help="rows of the registry workbook")
    parser.add_argument("--deadline", type=int, default=600, help="seconds each recovery may take at most")
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, SQLite files)")
    parser.add_argument("--step", default="", help=argparse.SUPPRESS)  # the helper subprocesses
    parser.add_argument("--job", type=int, default=0, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# ---------------------------------------------------------------- helper steps (subprocess, product settings)

def _django():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qinqing.settings")
    import django

    django.setup()


def step_prepare(args) -> dict:
    """Migrate, generate the ledger, write the workbook and check it (the upload's check, done here)."""
    _django()
    import random

    import dataset
    from django.core.files import File
    from django.core.management import call_command
    from openpyxl import Workbook

    from qinqing.accounts.models import User
    from qinqing.demands.models import Demand
    from qinqing.enterprises import services
    from qinqing.enterprises.models import ImportJob
    from qinqing.lib import clock
    from qinqing.lib.uscc import make_code

    call_command("migrate", verbosity=0)
    rng = random.Random(args.seed)
    org = dataset.build_org(max(50, args.demands // 20), rng)
    dataset.build_demands(args.demands, org, rng, report=lambda line: print(line, file=sys.stderr, flush=True))
    # The generated history is mostly closed: reopen --overdue of its closed demands as dispatched and never
    # contacted (a ledger whose units fell behind), their deadlines recomputed by the product's own clock.
    from qinqing.demands.clock import DEADLINE_FIELDS, refresh_deadlines, rule_for
    from qinqing.demands.models import State
    from qinqing.workdays.calendar import get_calendar

    cal, rule, behind = get_calendar(), rule_for(None), []
    for d in (Demand.objects.filter(state=State.CLOSED, lead_unit__isnull=False).order_by("-received_at")
              .only("id", "received_at", "reopened_at", "extension_days", *DEADLINE_FIELDS)[:args.overdue]):
        d.state, d.accepted_at, d.contacted_at, d.path_at = State.DISPATCHED, None, None, None
        d.replied_at = d.evaluated_at = d.closed_at = None
        d.reply, d.outcome, d.evaluation = "", "", ""
        refresh_deadlines(d, cal, rule)
        behind.append(d)
    Demand.objects.bulk_update(behind, ["state", "accepted_at", "contacted_at", "path_at", "replied_at",
                                        "evaluated_at", "closed_at", "reply", "outcome", "evaluation",
                                        *DEADLINE_FIELDS], batch_size=2000)
    dataset.analyze()
    towns = [t for _, _, names in dataset.DISTRICTS for t in names]
    book = Workbook(write_only=True)
    sheet = book.create_sheet("名单")
    sheet.append(["企业名称", "统一社会信用代码", "国民经济行业代码", "镇街", "从业人员", "营业收入（万元）", "年份"])
    for n in range(args.rows):
        sheet.append([f"深圳市导入测试第{n}号科技有限公司", make_code(f"91440300{CODE_BASE + n:09d}"), "3311",
                      towns[n % len(towns)], 20 + n % 300, 100 + n % 5000, 2025])
    path = Path(tempfile.mkdtemp()) / "名单.xlsx"
    book.save(path)
    admin = User.objects.get(username="admin")
    job = ImportJob(original_name="名单.xlsx", uploaded_by=admin, created_at=clock.now())
    with path.open("rb") as fh:
        job.file.save("kill-worker.xlsx", File(fh), save=False)
    job.save()
    job = services.check_import_job(job.pk)
    if job.status != ImportJob.Status.READY:
        raise SystemExit(f"the workbook did not check clean: {job.status} {job.message}")
    return {"job": job.pk, "overdue": Demand.objects.filter(next_due__lt=clock.today()).count(),
            "rows": job.valid_rows}


def step_enqueue_sweep(args) -> dict:
    _django()
    from qinqing.demands.tasks import sweep_overdue

    sweep_overdue()  # queued as the scheduler queues it
    return {}


def step_confirm(args) -> dict:
    _django()
    from django.contrib.auth import get_user_model

    from qinqing.enterprises import services

    job = services.confirm_import(get_user_model().objects.get(username="admin"), args.job)  # queued on commit
    return {"status": job.status}


def step_recover(args) -> dict:
    """The five-minute import recovery as it runs eleven minutes from now (the job has been silent since)."""
    _django()
    import datetime as dt

    import time_machine

    from qinqing.enterprises import services
    from qinqing.lib import clock

    with time_machine.travel(clock.now() + dt.timedelta(minutes=11), tick=True):
        return {"queued": services.recover_stuck_imports()}


def step_count(args) -> dict:
    _django()
    from django.db import connection

    from qinqing.lib.uscc import make_code

    def one(sql, params=()):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]

    codes = [make_code(f"91440300{CODE_BASE + n:09d}") for n in range(args.rows)]
    present = duplicated = events = 0
    for start in range(0, len(codes), 5000):
        chunk = codes[start:start + 5000]
        marks = ", ".join(["%s"] * len(chunk))
        present += one(f"SELECT count(DISTINCT credit_code) FROM enterprises_enterprise WHERE credit_code IN ({marks})",  # noqa: S608
                       chunk)
        duplicated += one(f"""SELECT count(*) FROM (SELECT credit_code FROM enterprises_enterprise
                              WHERE credit_code IN ({marks}) GROUP BY credit_code HAVING count(*) > 1) x""", chunk)  # noqa: S608
        events += one(f"""SELECT count(*) FROM enterprises_enterpriseevent e JOIN enterprises_enterprise x
                          ON x.id = e.enterprise_id WHERE e.verb = 'import_create' AND x.credit_code IN ({marks})""",  # noqa: S608
                      chunk)
    members = """(SELECT DISTINCT usr.id AS user_id, usr.unit_id FROM accounts_user usr
                  JOIN accounts_rolegrant g ON g.user_id = usr.id AND g.role IN ('handler', 'unit_head')
                  WHERE usr.is_active AND usr.unit_id IS NOT NULL)"""
    with connection.cursor() as cursor:
        cursor.execute("SELECT status, attempts, created_count, message FROM enterprises_importjob WHERE id = %s",
                       [args.job])
        status, attempts, created, message = cursor.fetchone()
    return {
        "rows_present": present, "rows_duplicated": duplicated, "import_events": events,
        "job_status": status, "job_attempts": attempts, "job_created": created, "job_message": message,
        "urgings": one("SELECT count(*) FROM demands_urging"),
        "urgings_duplicated": one("""SELECT count(*) FROM (SELECT demand_id FROM demands_urging
                                     GROUP BY demand_id, stage, due HAVING count(*) > 1) x"""),
        "urge_entries": one("SELECT count(*) FROM demands_demandevent WHERE verb = 'urge'"),
        "notices_expected": one(f"SELECT count(*) FROM demands_urging u JOIN {members} m ON m.unit_id = u.unit_id"),  # noqa: S608
        "notices": one("""SELECT count(*) FROM notifications_notification n
                          JOIN demands_demandevent e ON e.id = n.event_id WHERE e.verb = 'urge'"""),
        # a person told more often about a demand than it was urged
        "notices_duplicated": one("""SELECT count(*) FROM (SELECT n.recipient_id, n.demand_id, count(*) AS c
                                        FROM notifications_notification n JOIN demands_demandevent e
                                        ON e.id = n.event_id AND e.verb = 'urge' GROUP BY 1, 2) x
                                     JOIN (SELECT demand_id, count(*) AS u FROM demands_urging GROUP BY 1) y
                                     ON y.demand_id = x.demand_id WHERE x.c > y.u"""),
        "awaiting_delivery": one("SELECT count(*) FROM demands_demandevent WHERE awaiting_delivery"),
    }


STEPS = {"prepare": step_prepare, "enqueue-sweep": step_enqueue_sweep, "confirm": step_confirm,
         "recover": step_recover, "count": step_count}


def _step_cmd(name: str, args, job: int = 0) -> list[str]:
    return [PYTHON, str(BENCH / "kill_worker.py"), "--step", name, "--rows", str(args.rows), "--demands",
            str(args.demands), "--overdue", str(args.overdue), "--seed", str(args.seed), "--job", str(job)]


def step(env: dict, name: str, args, **extra) -> dict:
    out = subprocess.run(_step_cmd(name, args, extra.get("job", 0)), cwd=ROOT, env=env, capture_output=True,
                         text=True)
    if out.returncode:
        raise SystemExit(f"step {name} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- the consumer

class Consumer:
    """manage.py run_huey in its own process group, its log appended to one file."""

    def __init__(self, env: dict, log: Path):
        self.env, self.log = env, log
        self.proc: subprocess.Popen | None = None
        log.touch()

    def start(self) -> int:
        """Start it; the log offset from which its own lines begin."""
        offset = self.log.stat().st_size
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([PYTHON, "manage.py", "run_huey"], cwd=ROOT, env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_for(r"Huey consumer started", offset, 60)
        return offset

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def wait_for(self, pattern: str, offset: int, timeout: float) -> int:
        """Wait until a line matching `pattern` is logged after `offset`; the offset just past it."""
        regex, deadline = re.compile(pattern), time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log.read_bytes()[offset:].decode(errors="replace")
            if (m := regex.search(text)) is not None:
                return offset + len(text[:m.end()].encode())
            if self.proc is not None and self.proc.poll() is not None:
                raise SystemExit(f"the consumer exited with {self.proc.returncode}; see {self.log}")
            time.sleep(0.02)
        raise SystemExit(f"no {pattern!r} in the consumer's log within {timeout:.0f} s; see {self.log}")


class Reader:
    """Plain SQL reads of the product's database while the consumer runs (no Django in this process)."""

    def __init__(self, var: Path, pg_url: str):
        self.var, self.pg_url = var, pg_url

    def one(self, sql: str, params=()):
        if self.pg_url:
            import psycopg

            with psycopg.connect(self.pg_url, autocommit=True) as conn:
                return conn.execute(sql.replace("?", "%s"), params or None).fetchone()
        conn = sqlite3.connect(f"file:{self.var / 'qinqing.sqlite3'}?mode=ro", uri=True, timeout=30)
        try:
            return conn.execute(sql, params).fetchone()
        finally:
            conn.close()


def until(condition, timeout: float, what: str, every: float = 0.2) -> float:
    """Seconds until `condition()` holds; fails after `timeout`."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise SystemExit(f"{what}: not within {timeout:.0f} s")
        time.sleep(every)
    return time.monotonic() - start


# ---------------------------------------------------------------- the run

def run(args, work: Path, pg_url: str) -> dict:
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    var = work / "var"
    var.mkdir(parents=True)
    if pg_url:
        recreate_database(pg_url)
    env = {**base, "QINQING_VAR_DIR": str(var), "DATABASE_URL": pg_url, "DEBUG": "0",
           "SECRET_KEY": secrets.token_urlsafe(50), "DJANGO_SETTINGS_MODULE": "qinqing.settings",
           "PYTHONPATH": str(BENCH), "LOG_LEVEL": "INFO"}
    print(f"==> generating {args.demands:,} demands and a {args.rows:,}-row workbook (checked)", flush=True)
    start = time.perf_counter()
    fixture = step(env, "prepare", args)
    print(f"    {time.perf_counter() - start:.0f} s; {fixture['overdue']:,} demands overdue, "
          f"{fixture['rows']:,} rows ready to import (job {fixture['job']})", flush=True)
    job, db = fixture["job"], Reader(var, pg_url)
    consumer, kills, timings = Consumer(env, work / "huey.log"), [], {}
    urgings = lambda: db.one("SELECT count(*) FROM demands_urging")[0]  # noqa: E731
    awaiting = lambda: db.one("SELECT count(*) FROM demands_demandevent WHERE awaiting_delivery")[0]  # noqa: E731
    try:
        # 1. killed inside the sweep's transaction
        # (the step that queues the sweep runs alongside: a sweep the scheduler starts meanwhile counts too)
        offset = consumer.start()
        queueing = subprocess.Popen(_step_cmd("enqueue-sweep", args), cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        offset = consumer.wait_for(r"Executing qinqing\.demands\.tasks\.sweep_overdue", offset, 120)
        consumer.kill()
        queueing.wait()
        if urgings():
            raise SystemExit("kill 1 came after the sweep committed: run again (or with more --overdue)")
        kills.append(f"kill 1, during the sweep: {urgings():,} urgings committed")
        print(f"    {kills[-1]}", flush=True)
        # 2. the next sweep commits; killed while its notices are written
        offset = consumer.start()
        restarted = time.monotonic()
        queueing = subprocess.Popen(_step_cmd("enqueue-sweep", args), cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        offset = consumer.wait_for(r"Executing qinqing\.demands\.tasks\.deliver_sweep", offset, 300)
        queueing.wait()
        timings["sweep rerun, until its notices start"] = time.monotonic() - restarted
        time.sleep(0.3)
        consumer.kill()
        told = db.one("SELECT count(*) FROM notifications_notification")[0]
        kills.append(f"kill 2, during the sweep's notices: {urgings():,} urgings, {awaiting():,} entries "
                     f"awaiting delivery, {told:,} notices committed")
        print(f"    {kills[-1]}", flush=True)
        consumer.start()
        restarted = time.monotonic()
        timings["notices (catch-up after restart)"] = until(lambda: awaiting() == 0, args.deadline,
                                                            "the catch-up of the sweep's notices", every=1)
        print(f"    notices delivered {timings['notices (catch-up after restart)']:.0f} s after the restart",
              flush=True)

        # 3. killed while the import checks the file, 4. while the rerun writes it
        status = lambda: db.one("SELECT status, done_rows, total_rows, attempts FROM enterprises_importjob "  # noqa: E731
                                "WHERE id = ?", (job,))
        offset = consumer.log.stat().st_size
        step(env, "confirm", args, job=job)
        offset = consumer.wait_for(r"Executing qinqing\.enterprises\.tasks\.run_import_job", offset, 120)
        until(lambda: status()[1] >= args.rows // 2 and status()[3] == 1, 300, "the check's progress", every=0.05)
        consumer.kill()
        kills.append(f"kill 3, during the import's check: job {status()}")
        print(f"    {kills[-1]}", flush=True)
        offset = consumer.start()
        restarted = time.monotonic()
        step(env, "recover", args)
        offset = consumer.wait_for(r"Executing qinqing\.enterprises\.tasks\.run_import_job", offset, 120)
        # the rerun's check is over when its progress reaches every row (the write's is inside its transaction)
        until(lambda: status()[3] == 2 and status()[1] >= args.rows, 300, "the rerun's check", every=0.05)
        time.sleep(1.0)  # into the write transaction
        consumer.kill()
        present = db.one("SELECT count(*) FROM enterprises_enterprise WHERE name LIKE '深圳市导入测试%'")[0]
        kills.append(f"kill 4, during the import's write: job {status()}, {present:,} rows committed")
        print(f"    {kills[-1]}", flush=True)
        consumer.start()
        restarted = time.monotonic()
        step(env, "recover", args)
        timings["import (recovery and rerun)"] = until(lambda: status()[0] in ("done", "failed"), args.deadline,
                                                       "the import's rerun", every=0.2)
        print(f"    import {status()[0]} {timings['import (recovery and rerun)']:.0f} s after the restart",
              flush=True)
    finally:
        consumer.stop()
    counted = step(env, "count", args, job=job)
    return {**counted, "overdue": fixture["overdue"], "rows": fixture["rows"], "kills": kills, "timings": timings}


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stopped: still stop the consumer and the cluster
    if args.step:
        print(json.dumps(STEPS[args.step](args), ensure_ascii=False, default=str))
        return 0
    work = Path(tempfile.mkdtemp(prefix="qinqing-kill-worker."))
    try:
        if args.database_url:
            r = run(args, work, args.database_url)
        elif args.db == "postgresql":
            with ThrowawayPostgres(dbname="qinqing_kill_worker_bench", shared_buffers="256MB") as pg:
                r = run(args, work, pg.url)
        else:
            r = run(args, work, "")
    finally:
        if args.keep:
            print(f"(kept {work})")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\n==> {'postgresql' if args.database_url or args.db == 'postgresql' else 'sqlite'}: "
          f"{len(r['kills'])} kills of the worker")
    print(f"    urgings  expected {r['overdue']:,}  present {r['urgings']:,}  duplicated {r['urgings_duplicated']}"
          f"  timeline entries {r['urge_entries']:,}")
    print(f"    notices  expected {r['notices_expected']:,}  sent {r['notices']:,}  duplicated "
          f"{r['notices_duplicated']}  still awaiting delivery {r['awaiting_delivery']}")
    print(f"    rows     expected {r['rows']:,}  present {r['rows_present']:,}  duplicated {r['rows_duplicated']}"
          f"  import entries {r['import_events']:,}  job {r['job_status']} after {r['job_attempts']} runs, "
          f"{r['job_created']:,} created")
    for label, seconds in r["timings"].items():
        print(f"    {label}: {seconds:.1f} s")
    ok = (r["urgings"] == r["overdue"] == r["urge_entries"] and not r["urgings_duplicated"]
          and r["notices"] == r["notices_expected"] and not r["notices_duplicated"] and not r["awaiting_delivery"]
          and r["rows_present"] == r["rows"] == r["import_events"] == r["job_created"] and not r["rows_duplicated"]
          and r["job_status"] == "done")
    print("    every urging, notice and row is there exactly once" if ok else "    FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
