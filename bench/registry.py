"""Enterprise registry benchmark (issue 4).

1. Import: an .xlsx of 100,000 enterprise rows with valid credit codes is checked and imported through
   services.import_enterprises; prints the time and the peak RSS of the process (target < 60 s, < 1 GB).
2. Search: a registry of 1,000,000 enterprises (bulk insert) answers the list page's query for a name
   prefix and for a credit code (target p95 < 50 ms); "包含" search is measured too, for information.

Each measurement runs in its own process so that the peak RSS is the import's alone.

    .venv/bin/python bench/registry.py                     # both databases, both parts
    .venv/bin/python bench/registry.py import --db sqlite --rows 100000
    .venv/bin/python bench/registry.py search --db postgresql --enterprises 1000000

PostgreSQL: BENCH_PG_URL (default postgresql://postgres@127.0.0.1:55432/postgres) is the server; the
benchmark creates its own database qinqing_registry_bench and drops it afterwards.
"""

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_SERVER = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:55432/postgres")
PG_DB = "qinqing_registry_bench"
WORK = Path(os.environ.get("BENCH_WORK", Path(tempfile.gettempdir()) / "qinqing-registry-bench"))

TOWNS = ["湖塘镇", "牛塘镇", "洛阳镇", "遥观镇", "横林镇", "横山桥镇", "前黄镇", "礼嘉镇", "嘉泽镇", "湟里镇"]
CITIES = ["常州市", "无锡市", "苏州市", "南京市", "镇江市", "扬州市", "南通市", "泰州市", "盐城市", "徐州市"]
WORDS = ["恒锐", "华达", "金城", "宏远", "天成", "新科", "瑞丰", "永信", "博远", "中联", "安泰", "鼎盛", "汇通",
         "嘉禾", "龙腾", "明辉", "晨光", "宝华", "东方", "德润", "锦程", "凯旋", "立新", "茂源", "南风", "鹏程"]
TRADES = [("C3484", "精密机械"), ("C3670", "汽车零部件"), ("C3831", "电线电缆"), ("E4710", "建设工程"),
          ("F5165", "建材贸易"), ("F5212", "超市"), ("H6210", "餐饮管理"), ("G5431", "物流"),
          ("I6513", "软件科技"), ("K7010", "置业"), ("L7299", "企业管理咨询"), ("A0143", "园艺")]
SUFFIX = ["有限公司", "股份有限公司", "有限责任公司"]
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def code_for(i: int) -> str:
    from qinqing.lib.uscc import make_code

    body, n = "", i
    for _ in range(9):
        n, rest = divmod(n, 31)
        body = ALPHABET[rest] + body
    return make_code("91320412" + body)


def name_for(i: int, rng: random.Random) -> tuple[str, str]:
    code, trade = TRADES[i % len(TRADES)]
    name = f"{rng.choice(CITIES)}{rng.choice(WORDS)}{rng.choice(WORDS)}{trade}{i}号{rng.choice(SUFFIX)}"
    return name, code


# ---------------------------------------------------------------- database set-up

def setup_django(db: str) -> None:
    os.environ.setdefault("QINQING_VAR_DIR", str(WORK / "var"))
    (WORK / "var").mkdir(parents=True, exist_ok=True)
    if db == "sqlite":
        os.environ["DATABASE_URL"] = f"sqlite:///{WORK / 'bench.sqlite3'}"
    else:
        os.environ["DATABASE_URL"] = PG_SERVER.rsplit("/", 1)[0] + "/" + PG_DB
    os.environ["DJANGO_SETTINGS_MODULE"] = "qinqing.settings"
    import django

    django.setup()


def fresh_database(db: str) -> None:
    if db == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{WORK / 'bench.sqlite3'}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    with psycopg.connect(PG_SERVER, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_DB}")


def drop_database(db: str) -> None:
    if db == "sqlite":
        fresh_database(db)
        return
    import psycopg

    with psycopg.connect(PG_SERVER, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")


def migrate_and_places():
    from django.core.management import call_command

    from qinqing.accounts.models import Jurisdiction

    call_command("migrate", verbosity=0)
    province = Jurisdiction.objects.create(code="320000", name="江苏省", level="province")
    city = Jurisdiction.objects.create(code="320400", name="常州市", level="city", parent=province)
    district = Jurisdiction.objects.create(code="320412", name="武进区", level="district", parent=city)
    return [Jurisdiction.objects.create(code=f"320412{i + 100:03d}", name=town, level="town", parent=district)
            for i, town in enumerate(TOWNS)]


# ---------------------------------------------------------------- the workbook

def make_workbook(path: Path, rows: int) -> None:
    """An .xlsx as staff send it: Chinese headers, one row per enterprise with the year's figures."""
    from openpyxl import Workbook

    rng = random.Random(4)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("企业名单")
    sheet.append(["企业名称", "统一社会信用代码", "行业代码", "所属镇街", "从业人员", "营业收入（万元）",
                  "资产总额（万元）", "纳税额（万元）", "年份", "联系人", "联系电话", "地址", "标签"])
    for i in range(rows):
        name, industry = name_for(i, rng)
        sheet.append([name, code_for(i), industry, TOWNS[i % len(TOWNS)], rng.randint(1, 2000),
                      round(rng.uniform(10, 80000), 2), round(rng.uniform(10, 90000), 2),
                      round(rng.uniform(0, 500), 2), 2025, "王经理", f"138{i:08d}",
                      f"江苏省常州市武进区{rng.choice(WORDS)}路{i % 999 + 1}号",
                      "专精特新" if i % 17 == 0 else ""])
    book.save(path)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def run_import(db: str, rows: int) -> None:
    path = WORK / f"enterprises_{rows}.xlsx"
    if not path.exists():
        started = time.perf_counter()
        make_workbook(path, rows)
        print(f"  generated {path.name} ({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s")
    fresh_database(db)
    setup_django(db)
    migrate_and_places()
    from qinqing.enterprises import services
    from qinqing.enterprises.models import Enterprise, YearlyFigures

    rss_before = peak_rss_mb()
    started = time.perf_counter()
    importer = services.check_import(None, path)
    checked = time.perf_counter()
    report = services.import_enterprises(None, path, importer=importer)
    finished = time.perf_counter()
    print(f"  [{db}] import of {rows:,} rows: check {checked - started:.1f} s + write {finished - checked:.1f} s "
          f"= {finished - started:.1f} s; peak RSS {peak_rss_mb():.0f} MB (before import {rss_before:.0f} MB)")
    print(f"  [{db}] {report.summary()} enterprises={Enterprise.objects.count():,} "
          f"figures={YearlyFigures.objects.count():,}")
    started = time.perf_counter()
    report = services.import_enterprises(None, path)
    print(f"  [{db}] re-import of the same file (updates, no duplicates): {time.perf_counter() - started:.1f} s; "
          f"enterprises={Enterprise.objects.count():,}")
    drop_database(db)


# ---------------------------------------------------------------- search at a million

def build_registry(n: int, places) -> None:
    from django.db import connection

    from qinqing.enterprises.models import Enterprise, Sector

    rng = random.Random(1)
    sectors = {"C": Sector.INDUSTRY, "E": Sector.CONSTRUCTION, "F": Sector.WHOLESALE_RETAIL,
               "H": Sector.HOSPITALITY, "G": Sector.TRANSPORT, "K": Sector.REAL_ESTATE, "A": Sector.AGRICULTURE}
    batch = []
    for i in range(n):
        name, industry = name_for(i, rng)
        batch.append(Enterprise(name=name, credit_code=code_for(i), industry_code=industry,
                                sector=sectors.get(industry[0], Sector.SERVICES), jurisdiction=places[i % len(places)],
                                size=rng.choice(["large", "medium", "small", "micro"]),
                                is_four_above=rng.random() < 0.2, tags=["专精特新"] if i % 17 == 0 else [],
                                contact_name="王经理", contact_phone=f"138{i:08d}"))
        if len(batch) == 10_000:
            Enterprise.objects.bulk_create(batch)
            batch = []
    Enterprise.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def timed(fn, queries) -> list[float]:
    out = []
    for q in queries:
        started = time.perf_counter()
        fn(q)
        out.append((time.perf_counter() - started) * 1000)
    return out


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def run_search(db: str, n: int, keep: bool = False) -> None:
    reuse = keep and registry_exists(db, n)
    if not reuse:
        fresh_database(db)
    setup_django(db)
    from qinqing.accounts.models import Jurisdiction, Role, RoleGrant, User
    from qinqing.enterprises.filters import filter_enterprises
    from qinqing.enterprises.models import Enterprise

    if reuse:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        print(f"  [{db}] reusing the registry of {Enterprise.objects.count():,} enterprises (--keep)")
    else:
        places = migrate_and_places()
        started = time.perf_counter()
        build_registry(n, places)
        print(f"  [{db}] bulk insert of {n:,} enterprises: {time.perf_counter() - started:.0f} s")
        User.objects.create_user("bench-admin", is_superuser=True)
        dispatcher = User.objects.create_user("bench-dispatcher", jurisdiction=places[0].parent)
        RoleGrant.objects.create(user=dispatcher, role=Role.DISPATCHER)
    admin = User.objects.get(username="bench-admin")
    dispatcher = User.objects.select_related("jurisdiction").get(username="bench-dispatcher")
    assert Jurisdiction.objects.filter(level="town").exists()

    rng = random.Random(7)
    sample = list(Enterprise.objects.filter(pk__in=[rng.randint(1, n) for _ in range(400)])
                  .values_list("name", "credit_code"))

    def page(user, params):
        qs, _ = filter_enterprises(Enterprise.objects.visible_to(user).select_related("jurisdiction"), params)
        return list(qs[:51])  # what the list page fetches: one page of 50 and one row to know there is more

    prefixes = [name[: rng.randint(4, 8)] for name, _ in sample[:200]]
    codes = [code for _, code in sample[:200]]
    code_heads = [code[:12] for _, code in sample[200:400]]
    contains = [name[5:9] for name, _ in sample[:50]]
    for user, who in ((admin, "admin"), (dispatcher, "dispatcher")):
        page(user, {"q": "预热"})
        results = {
            "name prefix": timed(lambda q, u=user: page(u, {"q": q, "match": "prefix"}), prefixes),
            "credit code": timed(lambda q, u=user: page(u, {"q": q}), codes),
            "code prefix (12 chars)": timed(lambda q, u=user: page(u, {"q": q}), code_heads),
            "name contains (info)": timed(lambda q, u=user: page(u, {"q": q, "match": "contains"}), contains),
            "contains, no match (info)": timed(lambda q, u=user: page(u, {"q": q, "match": "contains"}),
                                               [f"无此企业{i}" for i in range(20)]),
        }
        for label, values in results.items():
            print(f"  [{db}] {who:<10} {label:<26} p50 {statistics.median(values):7.1f} ms   "
                  f"p95 {p95(values):7.1f} ms   ({len(values)} queries)")
    if not keep:
        drop_database(db)


def registry_exists(db: str, n: int) -> bool:
    """With --keep, a registry left by an earlier run is reused instead of rebuilt."""
    if db == "sqlite":
        path = WORK / "bench.sqlite3"
        if not path.exists():
            return False
        import sqlite3

        with sqlite3.connect(path) as conn:
            try:
                return conn.execute("SELECT count(*) FROM enterprises_enterprise").fetchone()[0] >= n
            except sqlite3.Error:
                return False
    import psycopg

    try:
        with psycopg.connect(PG_SERVER.rsplit("/", 1)[0] + "/" + PG_DB) as conn:
            return conn.execute("SELECT count(*) FROM enterprises_enterprise").fetchone()[0] >= n
    except psycopg.Error:
        return False


# ---------------------------------------------------------------- entry point

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", nargs="?", choices=["import", "search", "all"], default="all")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--enterprises", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true",
                        help="search: keep the registry afterwards and reuse it next time (drop it yourself)")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    databases = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    parts = ["import", "search"] if args.part == "all" else [args.part]
    if len(databases) * len(parts) > 1:
        # One child process per measurement: peak RSS and caches are the measurement's own.
        for part in parts:
            for db in databases:
                subprocess.run([sys.executable, __file__, part, "--db", db, "--rows", str(args.rows),
                                "--enterprises", str(args.enterprises), *(["--keep"] if args.keep else [])],
                               check=True)
        return
    print(f"== {parts[0]} on {databases[0]}")
    if parts[0] == "import":
        run_import(databases[0], args.rows)
    else:
        run_search(databases[0], args.enterprises, keep=args.keep)


if __name__ == "__main__":
    main()
