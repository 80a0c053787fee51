"""Hot-issue clustering at a month's scale: N synthetic demands (default 100,000) sampled and perturbed from the
2020 Teddy Cup messages (附件3: 4,326 public messages; 附件2 sample: 495 labelled ones), clustered the way the
worker clusters a district's month (qinqing.hotissues.cluster), with the previous month's N for growth.

Prints wall time and CPU time of each step (CPU does not grow when the machine is busy), the peak memory of
the process (ru_maxrss) and the clusters found. Not a test; run by hand:

    .venv/bin/python bench/hotissues.py              # 100,000 this month + 100,000 the month before
    .venv/bin/python bench/hotissues.py --n 20000    # smaller
    .venv/bin/python bench/hotissues.py --file       # also `textmodel hot` on 附件3 (target: under 30 s)

The synthetic demands: a message is picked at random; its title keeps a random 70–100% of its characters in
order, its content a random contiguous 60–100% slice; the sender is one of N/20 enterprises; the day is random
in the month. Picking the same message many times from several senders is what makes hot issues. Nothing is
written to a database but the text model's empty dictionary table in a temporary SQLite file.
"""

import argparse
import csv
import datetime as dt
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "reference-data" / "teddycup2020_c"
SOURCES = [DATA / "full_release" / "附件3.csv", DATA / "sample_release" / "附件2_示例数据.csv"]


def setup(var_dir: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qinqing.settings")
    os.environ["QINQING_VAR_DIR"] = var_dir
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "textmodel", verbosity=0)


def texts() -> list[tuple[str, str]]:
    out = []
    for path in SOURCES:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                if row.get("留言主题") and row.get("留言详情"):
                    out.append((row["留言主题"].strip(), " ".join(row["留言详情"].split())))
    return out


def synthetic(n: int, month_start: dt.date, rng: random.Random, pool: list[tuple[str, str]]):
    from qinqing.hotissues.cluster import Item

    senders = max(50, n // 20)
    items = []
    for i in range(n):
        title, content = rng.choice(pool)
        keep = rng.uniform(0.7, 1.0)
        title = "".join(ch for ch in title if rng.random() < keep) or title
        share = rng.uniform(0.6, 1.0)
        size = max(1, int(len(content) * share))
        start = rng.randint(0, max(0, len(content) - size))
        items.append(Item(i, title, content[start:start + size], rng.randrange(senders),
                          month_start + dt.timedelta(days=rng.randrange(28)), place=f"镇街{rng.randrange(12)}",
                          group=rng.choice(["工业", "建筑业", "批发零售业", "服务业及其他"])))
    return items


class Clock:
    def __init__(self):
        self.rows = []

    def step(self, label, fn, *args):
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn(*args)
        self.rows.append((label, time.perf_counter() - wall, time.process_time() - cpu))
        print(f"{label}: {self.rows[-1][1]:.1f} s wall, {self.rows[-1][2]:.1f} s CPU; "
              f"load {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs", flush=True)
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="demands this month (and as many the month before)")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--file", action="store_true", help="also time `textmodel hot` on 附件3")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qinqing-bench-hot-") as var_dir:
        setup(var_dir)
        from qinqing.hotissues import cluster

        print(f"load: {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} CPUs", flush=True)
        rng = random.Random(args.seed)  # noqa: S311 - synthetic benchmark data
        pool = texts()
        current = synthetic(args.n, dt.date(2026, 11, 1), rng, pool)
        previous = synthetic(args.n, dt.date(2026, 10, 1), rng, pool)
        from qinqing.textmodel.normalize import dictionary

        dictionary.get()  # jieba's dictionary loads once per process (a few seconds): not part of a month's run
        clock = Clock()
        vectors = clock.step("normalise, segment and vectorise", cluster.vectorize, current)
        clusters, _ = clock.step("block and cluster", cluster.cluster, current, vectors)
        shortlist = clock.step("shortlist by heat", cluster.shortlist, clusters, current, dt.date(2026, 11, 22), 90)
        before = clock.step("previous month against the shortlist's centroids", cluster.previous_counts, shortlist,
                            vectors, previous)
        wall = sum(r[1] for r in clock.rows)
        cpu = sum(r[2] for r in clock.rows)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        sizes = sorted((len(c.members) for c in clusters), reverse=True)
        print(f"\n{args.n:,} demands: {len(clusters)} hot issues (largest {sizes[:5]}), "
              f"{sum(1 for b in before if b)} of the {len(shortlist)} shortlisted with last month's counterparts")
        print(f"total: {wall:.1f} s wall, {cpu:.1f} s CPU, peak memory {peak:.0f} MB "
              f"(targets: under 120 s, under 4,096 MB); load now {os.getloadavg()[0]:.2f}")
        if args.file:
            from qinqing.hotissues import hotfile

            items = hotfile.read_messages(SOURCES[0])
            issues = clock.step("附件3: textmodel hot (4,326 messages: read, cluster, rank)", hotfile.ranked, items)
            print(f"附件3: {len(issues)} hot issues; top: {issues[0]['title']} ({issues[0]['count']} 条)")


if __name__ == "__main__":
    main()
