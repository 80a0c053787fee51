"""政策兑现 benchmark (issue 16): a 免申即享 batch of 100,000 enterprises built and approved under 60 s on PostgreSQL.

Builds a registry of N enterprises with their 2025 figures (set-based INSERT … SELECT, never row by row; one in
20 has an enterprise account, so approval writes that many notifications), one published 免申即享 policy whose
rule selects a share of them (default: every enterprise whose 2025 revenue reaches a threshold chosen so that
about `--batch` of them qualify) and whose amount is 0.1% of 2025 revenue capped at 50万元. Then, through the
services the pages call, timed one by one:

  * build_batch   — the eligible query with its amount expression, one INSERT … SELECT into the batch's lines;
  * submit_batch  — by the preparer;
  * approve_batch — by a second person: the ledger rows and the notifications, each one INSERT … SELECT;
  * pay_batch     — the payment date on every ledger row, one UPDATE;
  * the ledger's summary (totals by type, place, month, medians) and seed 002's sentence over the result.

    .venv/bin/python bench/fulfilment.py --db postgresql                      # 2,000,000 enterprises, batch ≈100,000
    .venv/bin/python bench/fulfilment.py --db postgresql --enterprises 500000 --batch 100000
    .venv/bin/python bench/fulfilment.py --db sqlite --enterprises 200000     # the same on SQLite

Timings on a shared machine are inflated by its load; the script prints the load average with them.
"""

import argparse
import os
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._util import ThrowawayPostgres  # noqa: E402

TOWNS = ["湖塘镇", "牛塘镇", "洛阳镇", "遥观镇", "横林镇", "横山桥镇", "前黄镇", "礼嘉镇", "嘉泽镇", "湟里镇"]
REVENUE_SPREAD = 50_000  # 2025 revenue (万元) is spread evenly over 100 … 50,100 by the enterprise id


def load() -> str:
    with open("/proc/loadavg") as f:
        return "load " + " ".join(f.read().split()[:3])


def setup(url: str | None, work: Path) -> None:
    os.environ["QINQING_VAR_DIR"] = str(work / "var")
    (work / "var").mkdir(parents=True, exist_ok=True)
    os.environ["DATABASE_URL"] = url or f"sqlite:///{work / 'fulfilment.sqlite3'}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "qinqing.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _columns(fixed: dict[str, str]) -> tuple[list[str], list[str]]:
    """Every concrete column of Enterprise: `fixed` SQL expressions, the rest NULL or the field's default."""
    from django.db import connection

    from qinqing.enterprises.models import Enterprise

    names, exprs = [], []
    for f in Enterprise._meta.concrete_fields:
        if f.primary_key:
            continue
        names.append(f.column)
        kind = f.get_internal_type()
        if f.column in fixed:
            exprs.append(fixed[f.column])
        elif f.null:
            exprs.append("NULL")
        elif kind == "BooleanField":
            exprs.append("TRUE" if f.default is True else "FALSE")
        elif kind == "DateTimeField":
            exprs.append("CURRENT_TIMESTAMP")
        elif kind == "JSONField" or f.__class__.__name__ == "TagListField":
            exprs.append("'[]'")
        elif "Integer" in kind:
            exprs.append(str(f.default if isinstance(f.default, int) else 0))
        else:
            exprs.append("''")
    if connection.vendor == "sqlite":
        exprs = [e.replace("TRUE", "1").replace("FALSE", "0") for e in exprs]
    return names, exprs


def build(n: int):
    """The places, two dispatchers, n enterprises with 2025 figures, an enterprise account for one in 20."""
    from django.db import connection, transaction

    from qinqing.accounts.models import Jurisdiction, Role, RoleGrant, User

    province = Jurisdiction.objects.create(code="320000", name="江苏省", level="province")
    city = Jurisdiction.objects.create(code="320400", name="常州市", level="city", parent=province)
    district = Jurisdiction.objects.create(code="320412", name="武进区", level="district", parent=city)
    towns = [Jurisdiction.objects.create(code=f"320412{i + 100:03d}", name=t, level="town", parent=district)
             for i, t in enumerate(TOWNS)]
    people = []
    for username in ("preparer", "approver"):
        user = User.objects.create_user(username=username, password="x", jurisdiction=district)
        RoleGrant.objects.create(user=user, role=Role.DISPATCHER)
        people.append(user)
    pg = connection.vendor == "postgresql"
    towns_case = " ".join(f"WHEN {i} THEN {t.pk}" for i, t in enumerate(towns))
    fixed = {
        "name": "'武进区企业' || g || '号有限公司'",
        "credit_code": "'91320412' || lpad(g::text, 10, '0')" if pg else "'91320412' || substr('0000000000' || g, -10, 10)",
        "sector": "'industry'", "industry_code": "'C3484'", "size": "'small'",
        "jurisdiction_id": f"CASE (g %% {len(towns)}) {towns_case} END",  # %% : this statement has parameters
    }
    names, exprs = _columns(fixed)
    series = "generate_series(1, %s) g" if pg else \
        "(WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < %s) SELECT g FROM s)"
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        step = 500_000
        for first in range(0, n, step):
            count = min(step, n - first)
            cursor.execute(f"INSERT INTO enterprises_enterprise ({', '.join(names)}) "  # noqa: S608 - ours
                           f"SELECT {', '.join(exprs)} FROM (SELECT g + {first} AS g FROM {series}) t", [count])
            print(f"    enterprises {first + count:,} ({time.perf_counter() - started:.0f} s)", flush=True)
        revenue = f"((e.id * 7919) % {REVENUE_SPREAD}) + 100"
        cursor.execute(
            "INSERT INTO enterprises_yearlyfigures (enterprise_id, year, employees, revenue, assets, tax_paid, size, "
            "is_four_above, four_above_rule, recorded_at) "
            f"SELECT e.id, 2025, 50, {revenue}, {revenue}, 0, 'small', FALSE, '', CURRENT_TIMESTAMP "
            "FROM enterprises_enterprise e".replace("FALSE", "FALSE" if pg else "0"))
        stamp = "CURRENT_TIMESTAMP"
        cursor.execute(
            "INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name, email, is_staff, "
            "is_active, date_joined, full_name, phone, enterprise_id, must_change_password) "
            f"SELECT '!', FALSE, 'qiye' || e.id, '', '', '', FALSE, TRUE, {stamp}, '', '', e.id, FALSE "
            "FROM enterprises_enterprise e WHERE e.id % 20 = 0".replace("FALSE", "FALSE" if pg else "0")
            .replace("TRUE", "TRUE" if pg else "1"))
        cursor.execute("INSERT INTO accounts_rolegrant (user_id, role) SELECT u.id, 'enterprise' FROM accounts_user u "
                       "WHERE u.enterprise_id IS NOT NULL")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"  registry built in {time.perf_counter() - started:.0f} s  [{load()}]", flush=True)
    return district, people


def policy(district, people, n: int, batch: int):
    """The 免申即享 policy: 2025 revenue ≥ a threshold that about `batch` of the n enterprises reach."""
    from qinqing.policies import services

    threshold = max(100, REVENUE_SPREAD + 100 - REVENUE_SPREAD * min(batch, n) // n)
    p = services.register_policy(people[0], {
        "title": "规上企业营业收入增长奖励（免申即享）", "issuer": "武进区工业和信息化局", "level": "district",
        "jurisdiction": district, "benefit_type": "grant", "no_application": "1", "valid_from": "2026-01-01",
        "valid_until": "2027-12-31", "amount_kind": "percent", "amount_percent": "0.1", "amount_metric": "revenue",
        "amount_year": "2025", "amount_cap": "50"},
        rule_rows=[{"group": 1, "field": "figure", "metric": "revenue", "year": 2025, "op": "gte",
                    "value": str(threshold)}])
    return services.publish_policy(people[0], p)


def timed(label: str, fn):
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    print(f"  {label:<14} {seconds:7.2f} s  [{load()}]", flush=True)
    return result, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--enterprises", type=int, default=2_000_000)
    parser.add_argument("--batch", type=int, default=100_000, help="about how many enterprises qualify")
    parser.add_argument("--database-url", help="an existing PostgreSQL database whose name contains 'bench'")
    args = parser.parse_args()
    pg = args.db == "postgresql"
    work = Path(tempfile.mkdtemp(prefix="qinqing-fulfilment-bench."))
    cluster = ThrowawayPostgres("qinqing_fulfilment_bench") if pg and not args.database_url else nullcontext()
    with cluster as c:
        setup(args.database_url or (c.url if pg else None), work)
        print(f"==> {args.db}: {args.enterprises:,} enterprises, batch ≈{args.batch:,}  [{load()}]", flush=True)
        district, people = build(args.enterprises)
        p = policy(district, people, args.enterprises, args.batch)
        from qinqing.fulfilment import ledger, services
        from qinqing.fulfilment.models import FulfilmentRecord
        from qinqing.lib import clock
        from qinqing.notifications.models import Notification

        preparer, approver = people
        batch, t_build = timed("build_batch", lambda: services.build_batch(preparer, p))
        batch, t_submit = timed("submit_batch", lambda: services.submit_batch(preparer, batch))
        batch, t_approve = timed("approve_batch", lambda: services.approve_batch(approver, batch))
        _, t_pay = timed("pay_batch", lambda: services.pay_batch(preparer, batch, clock.today()))
        records = FulfilmentRecord.objects.all()
        _, t_summary = timed("ledger summary", lambda: ledger.summary(records))
        text, _ = timed("sentence", lambda: ledger.sentence(records))
        print(f"  batch: {batch.enterprise_count:,} enterprises, {batch.total_amount} 万元; "
              f"{records.count():,} ledger rows, {Notification.objects.count():,} notifications")
        print(f"  {text}")
        total = t_build + t_submit + t_approve
        print(f"==> built, submitted and approved in {total:.1f} s (target < 60 s), paid in {t_pay:.1f} s  "
              f"[{load()}]")


if __name__ == "__main__":
    main()
