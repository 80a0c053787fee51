"""疑似重复诉求 (candidates for 并单): open and recent demands whose text is nearly the same as a new one's.

Each demand's text (title and content, normalized as for the classifier: traditional to simplified, widths
evened out) is reduced to the set of its character trigrams, punctuation and spaces left out, and that set
to a MinHash signature of 64 minima (`signature`, numpy, no per-trigram Python). The share of equal minima
between two signatures estimates the Jaccard similarity of their trigram sets: the similarity shown.

The index is locality-sensitive hashing over the signatures: 16 bands of 4 minima, each band hashed to one
63-bit key in `Band` (indexed). Two demands whose Jaccard similarity is 0.5 share a band with probability
1 − (1 − 0.5⁴)¹⁶ ≈ 0.64, at 0.6 ≈ 0.89, at 0.7 ≈ 0.99; unrelated demands (similarity 0.1) about 1 in 600.
A new demand's candidates are one indexed lookup of its 16 keys, then the signatures of the few demands
found; the demands of the same enterprise are compared too, at half the threshold (the same enterprise
writing about the same matter twice rarely uses the same words).

Signatures are written by the worker delivering the intake (`index_demand`, like the search words) and by
`manage.py textmodel signatures` for demands loaded in bulk; a demand not yet indexed has its signature
computed on the spot when its candidates are asked for.
"""

import hashlib
from dataclasses import dataclass

import numpy as np
from django.db import connection, transaction

from .normalize import normalize

PERMUTATIONS = 64
BANDS, ROWS = 16, 4
_PRIME = np.uint64(4294967311)  # the first prime above 2**32: (a·x + b) mod p is a universal hash of 32-bit x
_rng = np.random.default_rng(20261203)
_A = _rng.integers(1, 2**31, PERMUTATIONS, dtype=np.uint64)
_B = _rng.integers(0, 2**31, PERMUTATIONS, dtype=np.uint64)
_BAND_MIX = _rng.integers(1, 2**62, (BANDS, ROWS), dtype=np.uint64) | np.uint64(1)
_EMPTY = np.full(PERMUTATIONS, 0xFFFFFFFF, dtype=np.uint32)
MAX_CHARS = 3000  # a long content says its matter early; the rest only slows the signature down
BUCKET_LIMIT = 2000  # at most this many demands read from the index for one new demand


def _codes(title: str, content: str) -> np.ndarray:
    text = normalize(f"{title}。{content}")[:MAX_CHARS]
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    # Letters, digits and CJK characters only: punctuation and spaces say nothing about the matter.
    keep = ((codes >= 0x4E00) & (codes <= 0x9FFF)) | ((codes >= 0x30) & (codes <= 0x39)) | (
        ((codes | 0x20) >= 0x61) & ((codes | 0x20) <= 0x7A))
    return codes[keep]


def signature(title: str, content: str) -> np.ndarray:
    """The 64 MinHash minima (uint32) of the text's character trigrams."""
    c = _codes(title, content)
    if len(c) < 3:
        return _EMPTY.copy()
    with np.errstate(over="ignore"):
        trigrams = (c[:-2] * np.uint64(0x9E3779B1) ^ c[1:-1] * np.uint64(0x85EBCA77) ^ c[2:] * np.uint64(0xC2B2AE3D))
        x = np.unique(trigrams & np.uint64(0xFFFFFFFF))
        hashed = (x[:, None] * _A[None, :] + _B[None, :]) % _PRIME
    return (hashed.min(axis=0) & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def band_keys(sig: np.ndarray) -> list[int]:
    """The 16 LSH keys of a signature (signed 63-bit, one per band)."""
    with np.errstate(over="ignore"):
        mixed = (sig.astype(np.uint64).reshape(BANDS, ROWS) * _BAND_MIX).sum(axis=1)
        mixed = mixed + np.arange(BANDS, dtype=np.uint64) * np.uint64(0x632BE59BD9B4E019)
    return [int(k) for k in (mixed >> np.uint64(1))]


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    return float((a == b).mean())


def _from_bytes(blob) -> np.ndarray:
    return np.frombuffer(bytes(blob), dtype="<u4")


# ---------------------------------------------------------------- the index

def index_demands(demands) -> int:
    """Write the signatures and band keys of `demands` (objects with pk, title, content) not yet indexed,
    in bulk; how many were written. Safe to run twice (those already indexed are skipped)."""
    from .models import Band, Signature

    demands = list(demands)
    if not demands:
        return 0
    done = set(Signature.objects.filter(demand_id__in=[d.pk for d in demands]).values_list("demand_id", flat=True))
    signatures, bands = [], []
    for d in demands:
        if d.pk in done:
            continue
        sig = signature(d.title, d.content)
        signatures.append(Signature(demand_id=d.pk, minhash=sig.astype("<u4").tobytes()))
        bands += [Band(key=k, demand_id=d.pk) for k in band_keys(sig)]
    with transaction.atomic():
        Signature.objects.bulk_create(signatures, ignore_conflicts=True, batch_size=2000)
        Band.objects.bulk_create(bands, batch_size=5000)
    return len(signatures)


def index_demand(demand) -> bool:
    """The worker, delivering a demand's intake: index it once."""
    return index_demands([demand]) == 1


# ---------------------------------------------------------------- candidates

@dataclass(frozen=True)
class Candidate:
    demand: object  # a Demand
    similarity: float
    same_enterprise: bool


def _band_hits(keys: list[int], exclude: int) -> list[int]:
    from .models import Band

    table = Band._meta.db_table
    marks = ", ".join(["%s"] * len(keys))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT demand_id FROM {table} WHERE key IN ({marks}) AND demand_id <> %s "  # noqa: S608
                       f"GROUP BY demand_id ORDER BY count(*) DESC LIMIT %s", [*keys, exclude, BUCKET_LIMIT])
        return [row[0] for row in cursor.fetchall()]


def candidates(user, demand, *, limit: int = 10) -> list[Candidate]:
    """Open demands received in the last `duplicate_days` that `user` may see and that are near-duplicates
    of `demand` (similarity at least the threshold; half of it for the same enterprise), most similar first.

    Three queries whatever the size of the index: the band lookup, the demands found (with visibility, state
    and date), their signatures."""
    import datetime as dt

    from qinqing.demands.models import OPEN_STATES, Demand, State
    from qinqing.lib import clock

    from .models import Signature
    from .services import text_settings

    config = text_settings()
    sig = signature(demand.title, demand.content)
    ids = _band_hits(band_keys(sig), demand.pk)
    since = clock.now() - dt.timedelta(days=config.duplicate_days)
    scope = (Demand.objects.visible_to(user).filter(state__in=[*OPEN_STATES, State.LONG_TERM], received_at__gte=since)
             .exclude(pk=demand.pk).order_by())
    q = scope.filter(pk__in=ids)
    if demand.enterprise_id:
        q = q | scope.filter(enterprise_id=demand.enterprise_id)
    found = {d.pk: d for d in q.select_related("enterprise", "lead_unit")[:BUCKET_LIMIT + 50]}
    if not found:
        return []
    stored = dict(Signature.objects.filter(demand_id__in=list(found)).values_list("demand_id", "minhash"))
    out = []
    for pk, other in found.items():
        other_sig = _from_bytes(stored[pk]) if pk in stored else signature(other.title, other.content)
        same = bool(demand.enterprise_id) and other.enterprise_id == demand.enterprise_id
        score = similarity(sig, other_sig)
        if score >= (config.duplicate_threshold / 2 if same else config.duplicate_threshold):
            out.append(Candidate(other, round(score, 3), same))
    out.sort(key=lambda c: (-c.similarity, c.demand.pk))
    return out[:limit]


def text_hash(text: str) -> str:
    """A short stable hash of a text (normalized, digits and punctuation left out)."""
    c = _codes("", text)
    c = c[(c < 0x30) | (c > 0x39)]
    return hashlib.blake2b(c.astype("<u4").tobytes(), digest_size=8).hexdigest()


def index_missing(batch: int = 5000, progress=None) -> int:
    """Index every demand without a signature (loaded in bulk, received before this existed), oldest first,
    `batch` at a time; how many were indexed. Each batch is one read and two bulk inserts."""
    from django.db.models import Exists, OuterRef

    from qinqing.demands.models import Demand

    from .models import Signature

    done, last = 0, 0
    while True:
        rows = list(Demand.objects.filter(pk__gt=last)
                    .exclude(Exists(Signature.objects.filter(demand_id=OuterRef("pk"))))
                    .order_by("pk").only("pk", "title", "content")[:batch])
        if not rows:
            return done
        done += index_demands(rows)
        last = rows[-1].pk
        if progress:
            progress(done)
