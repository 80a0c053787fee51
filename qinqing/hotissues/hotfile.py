"""`manage.py textmodel hot FILE [--top N]`: the top hot issues of a file of public messages (the 2020 Teddy Cup
附件3 format: 留言编号, 留言用户, 留言主题, 留言时间, 留言详情, 反对数, 点赞数; CSV in UTF-8 or .xlsx).

The messages are clustered like a month's demands (qinqing.hotissues.cluster); a sender is a 留言用户 and the
likes count. There is no previous period in a file, so growth is 0 and recency is the share of a class's
messages in the 30 days before the file's latest message. Dispatched to from the textmodel command.
"""

import datetime as dt
import re
import time
from pathlib import Path

from django.core.management.base import CommandError

from qinqing.textmodel.datasets import table_rows

from . import cluster as engine

RECENT_DAYS = 30
_DATE = re.compile(r"(\d{4})[/-](\d{1,2})[/-](\d{1,2})")
COLUMNS = {"key": "留言编号", "sender": "留言用户", "title": "留言主题", "at": "留言时间", "content": "留言详情",
           "likes": "点赞数"}


def add_parser(sub) -> None:
    parser = sub.add_parser("hot", help="热点问题：归类留言文件（如泰迪杯附件3），按热度列出前几个热点")
    parser.add_argument("file", help="CSV 或 .xlsx，列：留言编号、留言用户、留言主题、留言时间、留言详情、点赞数")
    parser.add_argument("--top", type=int, default=5, help="列出前几个热点（默认 5）")


def _day(text: str) -> dt.date | None:
    match = _DATE.search(text or "")
    if not match:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _int(text: str) -> int:
    try:
        return max(0, int(float(text or 0)))
    except ValueError:
        return 0


def read_messages(path: str | Path) -> list[engine.Item]:
    """The file's messages as engine items; a message without a readable date keeps none (not counted recent)."""
    path = Path(path)
    if not path.is_file():
        raise CommandError(f"找不到文件：{path}")
    rows = table_rows(path)
    try:
        header = [h.strip() for h in next(rows)]
    except StopIteration:
        raise CommandError(f"文件是空的：{path}") from None
    except UnicodeDecodeError:
        raise CommandError(f"文件不是 UTF-8 编码的 CSV 或 .xlsx：{path}") from None
    missing = [name for field, name in COLUMNS.items() if field in ("title", "content") and name not in header]
    if missing:
        raise CommandError(f"文件缺少列：{'、'.join(missing)}（需要 {'、'.join(COLUMNS.values())}）。")
    at = {field: header.index(name) if name in header else None for field, name in COLUMNS.items()}

    def cell(row, field):
        i = at[field]
        return row[i] if i is not None and i < len(row) else ""

    items = []
    try:
        for number, row in enumerate(rows, start=2):
            if not any(c.strip() for c in row):
                continue
            items.append(engine.Item(cell(row, "key") or number, cell(row, "title").strip(),
                                     cell(row, "content").strip(), cell(row, "sender") or f"第{number}行",
                                     _day(cell(row, "at")), likes=_int(cell(row, "likes"))))
    except UnicodeDecodeError:
        raise CommandError(f"文件不是 UTF-8 编码的 CSV 或 .xlsx：{path}") from None
    return items


def ranked(items: list[engine.Item]) -> list[dict]:
    """Every hot issue of the messages, hottest first, as plain dicts."""
    clusters, _ = engine.cluster(items)
    days = [i.day for i in items if i.day]
    latest = max(days) if days else None
    out = []
    for c in clusters:
        members = [items[i] for i in c.members]
        dated = sorted(m.day for m in members if m.day)
        recent = sum(1 for d in dated if latest and (latest - d).days < RECENT_DAYS)
        senders = len({m.sender for m in members})
        likes = sum(m.likes for m in members)
        out.append({
            "heat": engine.heat(senders=senders, count=len(members), recent_share=recent / len(members), growth=0,
                                likes=likes),
            "title": engine.label(c.terms, c.text_place, c.text_group, anyone="群众"),
            "place": c.text_place, "group": c.text_group, "terms": c.terms, "count": len(members),
            "senders": senders, "likes": likes, "first": dated[0] if dated else None,
            "last": dated[-1] if dated else None, "examples": [m.title for m in members[:engine.REPRESENTATIVES]]})
    out.sort(key=lambda r: (-r["heat"], -r["count"], r["title"]))
    return out


def run(command, file: str, top: int = 5) -> None:
    """Print the top hot issues of the file with their counts and how long each step took."""
    if top < 1:
        raise CommandError("--top 至少为 1。")
    started = time.perf_counter()
    items = read_messages(file)
    read = time.perf_counter() - started
    issues = ranked(items)
    took = time.perf_counter() - started - read
    write = command.stdout.write
    write(f"留言 {len(items)} 条：读取 {read:.1f} 秒，归类 {took:.1f} 秒；热点问题 {len(issues)} 个"
          f"（至少{engine.MIN_SIZE}条、来自至少{engine.MIN_SENDERS}个用户的同类留言）。")
    write(engine.HEAT_FORMULA.split("企业数：")[0] + f"其中企业数为不同留言用户数、诉求数为留言条数；文件中没有上期，"
          f"增长记为0；近期占比为文件最后一条留言前{RECENT_DAYS}天内的留言所占比例。")
    for rank, issue in enumerate(issues[:top], start=1):
        span = f"{issue['first']:%Y/%m/%d} 至 {issue['last']:%Y/%m/%d}" if issue["first"] else "时间不详"
        write(f"\n{rank}. 热度 {issue['heat']}  {issue['title']}")
        write(f"   时间范围 {span} · 地点/人群 {issue['place'] or '—'}/{issue['group'] or '—'} · "
              f"留言 {issue['count']} 条 · 用户 {issue['senders']} 个 · 点赞 {issue['likes']}")
        for example in issue["examples"]:
            write(f"   - {example}")
