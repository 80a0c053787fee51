"""Chinese text as the text model sees it: one normal form, then words.

`normalize` runs before anything else: traditional characters become simplified (OpenCC's t2s, so a report
typed in Hong Kong or Taiwan reads like one typed here; seed 004 is such a text), full-width letters and
digits become half-width (NFKC), control characters go (lib.text.clean_text), the pinyin some sites print
after each character ("聯(lián)") and the letters that stand for anonymised places ("A市", "A3区") go, and
runs of white space become one space.

`words` segments with jieba plus the user dictionary administrators keep in the admin (`Term`): "营商环境",
"专精特新" or "留抵退税" stay one word instead of two or three. The dictionary lives in a tokenizer of its
own (the keyword search's segmentation, qinqing.lib.text, is not touched: its stored words must not change
under it), loaded once per process and reloaded when a term is saved or deleted in this process, or a
minute later for changes made by another process.

`reading_version()` names this normal form and the dictionary in 16 characters: the stored segmentations
(models.Reading) made under another one are read again.
"""

import hashlib
import logging
import re
import threading
import time
import unicodedata
from functools import lru_cache

import jieba

from qinqing.lib.text import clean_text

jieba.setLogLevel(logging.WARNING)

_TTL_SECONDS = 60
# Raise when normalize() or words() change what they return: every stored segmentation is then read again.
RULES = "1"
# Pinyin with tone marks in brackets straight after a Chinese character: "工商聯(lián)" -> "工商联".
_PINYIN = re.compile(r"(?<=[\u4e00-\u9fff])\((?:[a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+)\)")
# Anonymised places in public data ("A市", "A3区", "B1县"): a letter says nothing about the demand.
_PLACEHOLDER = re.compile(r"(?<![A-Za-z])[A-Z]\d{0,3}(?=[省市区县镇乡村])")
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+")
_DIGITS = re.compile(r"[\d.]+")


@lru_cache(maxsize=1)
def _converter():
    import opencc  # a compiled extension with its dictionaries inside the wheel: nothing is downloaded

    return opencc.OpenCC("t2s")


def normalize(text: str) -> str:
    """The normal form every other step works on (see the module docstring)."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", clean_text(text))
    text = _converter().convert(text)
    text = _PINYIN.sub("", text)
    text = _PLACEHOLDER.sub("", text)
    return _SPACE.sub(" ", text).strip()


class _Dictionary:
    """This process's tokenizer with the administrators' terms, rebuilt when they change."""

    def __init__(self):
        self.lock = threading.Lock()
        self.tokenizer: jieba.Tokenizer | None = None
        self.loaded_at = 0.0
        self.stale = True
        self.taxonomy = None
        self.version = ""

    def invalidate(self) -> None:
        self.stale = True

    def _fresh(self, taxonomy) -> bool:
        return (not self.stale and self.taxonomy is taxonomy
                and time.monotonic() - self.loaded_at <= _TTL_SECONDS)

    def get(self) -> jieba.Tokenizer:
        # Rebuilt with the taxonomy snapshot too (reloaded every minute, and at the start of every test).
        from qinqing.demands.taxonomy import get_taxonomy

        taxonomy = get_taxonomy()
        if self._fresh(taxonomy):
            return self.tokenizer
        with self.lock:
            if not self._fresh(taxonomy):
                self.stale = False  # before the build: a change made while it reads marks it stale again
                self.tokenizer, self.version = self._build()
                self.taxonomy = taxonomy
                self.loaded_at = time.monotonic()
            return self.tokenizer

    @staticmethod
    def _build() -> tuple[jieba.Tokenizer, str]:
        from .models import Term

        # A copy of the default dictionary's frequencies (tens of milliseconds) instead of loading it again.
        jieba.dt.check_initialized()
        tokenizer = jieba.Tokenizer()
        tokenizer.FREQ = dict(jieba.dt.FREQ)
        tokenizer.total = jieba.dt.total
        tokenizer.initialized = True
        terms = list(Term.objects.order_by("word").values_list("word", "weight"))
        digest = hashlib.blake2b(f"{RULES}|{jieba.__version__}|{terms!r}".encode(), digest_size=8).hexdigest()
        for word, weight in terms:
            word = normalize(word)
            if word:
                # Without a weight, jieba's suggest_freq picks one just high enough to keep the term whole.
                if weight:
                    tokenizer.add_word(word, weight)
                else:
                    tokenizer.add_word(word, tokenizer.suggest_freq(word, tune=False))
        return tokenizer, digest


dictionary = _Dictionary()


def reading_version() -> str:
    """The normal form's rules, jieba's version and the user dictionary, as 16 hex characters."""
    dictionary.get()
    return dictionary.version


def words(text: str) -> list[str]:
    """The words of normalized text, in order: letters lower-cased, punctuation and bare numbers dropped."""
    out = []
    for word in dictionary.get().cut(text, HMM=True):
        word = word.strip().lower()
        if word and _WORD.fullmatch(word) and not _DIGITS.fullmatch(word):
            out.append(word)
    return out


def tokenize(text: str) -> list[str]:
    """`words(normalize(text))`: the one call for text as people typed it."""
    return words(normalize(text))
