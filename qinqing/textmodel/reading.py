"""Each demand's text segmented once and kept (models.Reading), so that training and classifying in bulk
never segment again.

Normalizing and segmenting with jieba cost about 2 ms of CPU a demand — most of classifying 10,000 demands
and a third of retraining on 100,000 if done each time. The worker that delivers a new demand's intake
reads it once (`read_demands`, from services.read_received); training reads the stored rows and segments
only the demands without a current one (`docs_for`), storing them for the next time; `manage.py textmodel
segment` reads the demands loaded in bulk. A row counts only if it was made under the current
`normalize.reading_version()` (the rules, jieba, the administrators' dictionary) and from the demand's
current text (`source`, a hash of title and content): otherwise it is read again and overwritten.
"""

import hashlib

from django.db import transaction

from .classifier import Doc, make_doc
from .normalize import reading_version

BATCH = 5000  # demands read or written in one statement (SQLite's parameter limit, PostgreSQL's packet size)


def source_hash(title: str, content: str) -> str:
    """16 hex characters naming the exact text a reading was made from."""
    return hashlib.blake2b(f"{title}\0{content}".encode(), digest_size=8).hexdigest()


def _doc(title: str, content: str, title_words: str, content_words: str) -> Doc:
    return Doc(title, content, tuple(title_words.split()), tuple(content_words.split()))


def docs_for(rows) -> list[Doc]:
    """The classifier's Doc of each (pk, title, content), in order: the stored reading where it is current,
    else segmented now and stored (one read and one bulk write per BATCH demands)."""
    from .models import Reading

    rows = list(rows)
    version = reading_version()
    out: list[Doc] = []
    for start in range(0, len(rows), BATCH):
        batch = rows[start:start + BATCH]
        stored = {pk: rest for pk, *rest in Reading.objects.filter(
            demand_id__in=[r[0] for r in batch], version=version).values_list(
            "demand_id", "source", "title", "content", "title_words", "content_words")}
        fresh = []
        for pk, title, content in batch:
            source = source_hash(title, content)
            row = stored.get(pk)
            if row is not None and row[0] == source:
                out.append(_doc(*row[1:]))
                continue
            doc = make_doc(title, content)
            out.append(doc)
            fresh.append(Reading(demand_id=pk, version=version, source=source, title=doc.title,
                                 content=doc.content, title_words=" ".join(doc.title_words),
                                 content_words=" ".join(doc.content_words)))
        _store(fresh)
    return out


def _store(readings: list) -> None:
    from .models import Reading

    if readings:
        with transaction.atomic():
            Reading.objects.bulk_create(
                readings, batch_size=1000, update_conflicts=True, unique_fields=["demand"],
                update_fields=["version", "source", "title", "content", "title_words", "content_words"])


def read_demands(demands) -> int:
    """Store the readings of `demands` (objects with pk, title, content) that have no current one; how many
    were read. The worker calls it for each new demand."""
    rows = [(d.pk, d.title, d.content) for d in demands]
    if not rows:
        return 0
    from .models import Reading

    version = reading_version()
    current = dict(Reading.objects.filter(demand_id__in=[r[0] for r in rows], version=version)
                   .values_list("demand_id", "source"))
    stale = [r for r in rows if current.get(r[0]) != source_hash(r[1], r[2])]
    docs_for(stale)
    return len(stale)


def read_missing(batch: int = BATCH, progress=None) -> int:
    """Read every demand without a current reading (loaded in bulk, or the dictionary changed), `batch` at a
    time in order of id; how many were read."""
    from django.db.models import Exists, OuterRef

    from qinqing.demands.models import Demand

    from .models import Reading

    version = reading_version()
    done, last = 0, 0
    while True:
        rows = list(Demand.objects.filter(pk__gt=last)
                    .exclude(Exists(Reading.objects.filter(demand_id=OuterRef("pk"), version=version)))
                    .order_by("pk").values_list("pk", "title", "content")[:batch])
        if not rows:
            return done
        docs_for(rows)
        done += len(rows)
        last = rows[-1][0]
        if progress:
            progress(done)
