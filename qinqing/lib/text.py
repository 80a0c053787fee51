"""Chinese text helpers: segmentation for keyword search."""

import logging
import re

import jieba

jieba.setLogLevel(logging.WARNING)
_WORD = re.compile(r"[\w]+", re.UNICODE)


def tokens(*texts: str) -> list[str]:
    """Search-granularity words (jieba's cut_for_search), lower-cased, de-duplicated, in order."""
    seen: dict[str, None] = {}
    for text in texts:
        for word in jieba.cut_for_search(text or ""):
            word = word.strip().lower()
            if word and _WORD.fullmatch(word):
                seen.setdefault(word, None)
    return list(seen)


def search_text(*texts: str) -> str:
    """The stored search column: words separated by spaces, framed so ' word ' matches whole words."""
    return " " + " ".join(tokens(*texts)) + " "


def query_tokens(keyword: str) -> list[str]:
    """Words of a user's query; a query of one unknown word still matches as a substring."""
    return [w for w in jieba.cut(keyword or "", cut_all=False) if _WORD.fullmatch(w.strip())]
