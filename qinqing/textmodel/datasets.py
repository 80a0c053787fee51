"""Labelled texts from a file, for `manage.py textmodel evaluate`: CSV (UTF-8, with or without BOM) or .xlsx.

The header names the columns; each of title, content and label may be called what our own exports call
it or what the 2020 Teddy Cup data calls it (留言主题 / 留言详情 / 一级分类).
"""

import csv
from dataclasses import dataclass
from pathlib import Path

TITLE = ("标题", "诉求标题", "留言主题", "title")
CONTENT = ("诉求内容", "内容", "留言详情", "content", "text")
LABEL = ("类别", "诉求类别", "一级分类", "承办单位", "label", "category")


class DatasetError(ValueError):
    """The file cannot be read as labelled texts; the message says why, in Chinese."""


@dataclass(frozen=True)
class Example:
    title: str
    content: str
    label: str


def table_rows(path: Path):
    """The first sheet of an .xlsx, or a UTF-8 CSV, as lists of strings (the message files of the text tools)."""
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
        try:
            for row in book.worksheets[0].iter_rows(values_only=True):
                yield ["" if v is None else str(v) for v in row]
        finally:
            book.close()
        return
    with path.open(encoding="utf-8-sig", newline="") as handle:
        yield from csv.reader(handle)


def _column(header: list[str], names: tuple, what: str, required: bool = True) -> int | None:
    for name in names:
        if name in header:
            return header.index(name)
    if required:
        raise DatasetError(f"文件缺少“{what}”列（可用列名：{'、'.join(names)}）。")
    return None


def read_examples(path: str | Path) -> list[Example]:
    """Every row with a label; rows without one are skipped (an unlabelled test set cannot be scored)."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"找不到文件：{path}")
    rows = table_rows(path)
    try:
        header = [h.strip() for h in next(rows)]
    except StopIteration:
        raise DatasetError(f"文件是空的：{path}") from None
    except UnicodeDecodeError:
        raise DatasetError(f"文件不是 UTF-8 编码的 CSV 或 .xlsx：{path}") from None
    title = _column(header, TITLE, "标题", required=False)
    content = _column(header, CONTENT, "内容")
    label = _column(header, LABEL, "类别")
    examples = []
    try:
        for row in rows:
            if len(row) <= max(content, label):
                continue
            if row[label].strip():
                examples.append(Example(row[title].strip() if title is not None else "", row[content].strip(),
                                        row[label].strip()))
    except UnicodeDecodeError:
        raise DatasetError(f"文件不是 UTF-8 编码的 CSV 或 .xlsx：{path}") from None
    if not examples:
        raise DatasetError(f"文件中没有带类别的行：{path}")
    return examples


REPLY = ("答复意见", "答复", "正式答复", "reply")


def read_replies(path: str | Path) -> list[tuple[str, str, str]]:
    """(title, content, reply) of every row with a reply, for `manage.py textmodel replies` (附件4)."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"找不到文件：{path}")
    rows = table_rows(path)
    try:
        header = [h.strip() for h in next(rows)]
    except StopIteration:
        raise DatasetError(f"文件是空的：{path}") from None
    except UnicodeDecodeError:
        raise DatasetError(f"文件不是 UTF-8 编码的 CSV 或 .xlsx：{path}") from None
    title = _column(header, TITLE, "标题", required=False)
    content = _column(header, CONTENT, "内容")
    reply = _column(header, REPLY, "答复意见")
    out = []
    try:
        for row in rows:
            if len(row) > max(content, reply) and row[reply].strip():
                out.append((row[title].strip() if title is not None else "", row[content].strip(), row[reply].strip()))
    except UnicodeDecodeError:
        raise DatasetError(f"文件不是 UTF-8 编码的 CSV 或 .xlsx：{path}") from None
    if not out:
        raise DatasetError(f"文件中没有带答复的行：{path}")
    return out
