"""Chinese text helpers: segmentation for keyword search, and text cleaned of control characters."""

import logging
import re

import jieba

jieba.setLogLevel(logging.WARNING)
_WORD = re.compile(r"[\w]+", re.UNICODE)


# C0 controls but tab and newline, DEL, and C1 controls: a bell (\x07) pasted into a title once made every
# export that met it fail (openpyxl refuses such characters), and PostgreSQL refuses NUL outright.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# What XML 1.0 (so .xlsx and .docx) cannot hold at all: openpyxl's ILLEGAL_CHARACTERS_RE, and lone surrogates.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean_text(value: str) -> str:
    """Text as people typed it, without control characters: line breaks become "\n", tabs stay.

    Applied where text comes in (intake, replies, notes, the registry's fields), so what is stored can be
    shown, searched and exported anywhere."""
    if not value or value.isprintable():
        return value
    return _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def xml_text(value):
    """`value` safe to write into an .xlsx or .docx: strings lose what XML cannot hold, other values pass.

    Exporters apply it to every cell, so that text stored before clean_text existed never breaks a file."""
    if value.__class__ is str and not value.isprintable():
        return _NOT_XML.sub("", value)
    return value


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
