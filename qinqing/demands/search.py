# ruff: noqa: S608, S611 - identifiers are module constants; user input only ever travels as a parameter
"""Chinese keyword search over demands that stays an index lookup at millions of rows.

`Demand.search_text` holds jieba's search-granularity words between spaces. PostgreSQL
answers "all these words" with a GIN index on the word array; SQLite with an FTS5 table
kept in step by triggers. Both are exact word matches, independent of the database locale
(PostgreSQL's text search parser drops Chinese characters under the C locale).

A demand taken in while a worker delivers notifications is stored with no words (PENDING):
segmenting its text, and on SQLite the FTS5 insert and its segment merges inside the write
lock, were the largest part of an intake's cost. The worker writes the words when it delivers
the intake's notifications (`index_received`), seconds later or at the next catch-up after a
crash; meanwhile the search matches pending demands by substring of their title and content
(`_pending`, over a partial index that holds only them).
"""

from django.db import connection
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

TABLE = "demands_demand"
FTS = "demands_demand_fts"
# The search_text of a demand whose words are still to be written; an indexed one is never empty, since
# search_text frames its words with spaces ("  " for a text without any).
PENDING = ""

_SQLITE_DDL = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS} USING fts5(search_text, content='{TABLE}', content_rowid='id')",
    f"""CREATE TRIGGER IF NOT EXISTS {FTS}_ai AFTER INSERT ON {TABLE} BEGIN
          INSERT INTO {FTS}(rowid, search_text) VALUES (new.id, new.search_text); END""",
    f"""CREATE TRIGGER IF NOT EXISTS {FTS}_ad AFTER DELETE ON {TABLE} BEGIN
          INSERT INTO {FTS}({FTS}, rowid, search_text) VALUES ('delete', old.id, old.search_text); END""",
    f"""CREATE TRIGGER IF NOT EXISTS {FTS}_au AFTER UPDATE OF search_text ON {TABLE} BEGIN
          INSERT INTO {FTS}({FTS}, rowid, search_text) VALUES ('delete', old.id, old.search_text);
          INSERT INTO {FTS}(rowid, search_text) VALUES (new.id, new.search_text); END""",
]
_PG_DDL = [f"CREATE INDEX IF NOT EXISTS demand_search_words ON {TABLE} USING gin "
           f"(string_to_array(btrim(search_text), ' '))"]


def ensure_search_index(conn=connection) -> None:
    """Create the index structures if missing (idempotent).

    On SQLite, Django rebuilds a table to alter it, which drops its triggers: this runs after
    every migrate and rebuilds the FTS content when the triggers had to be recreated.
    """
    with conn.cursor() as cursor:
        if conn.vendor == "sqlite":
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE type='trigger' AND name LIKE %s",
                           [f"{FTS}_a%"])
            had_triggers = cursor.fetchone()[0] == 3
            for statement in _SQLITE_DDL:
                cursor.execute(statement)
            if not had_triggers:
                cursor.execute(f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')")
        elif conn.vendor == "postgresql":
            for statement in _PG_DDL:
                cursor.execute(statement)


def drop_search_index(conn=connection) -> None:
    with conn.cursor() as cursor:
        if conn.vendor == "sqlite":
            for suffix in ("ai", "ad", "au"):
                cursor.execute(f"DROP TRIGGER IF EXISTS {FTS}_{suffix}")
            cursor.execute(f"DROP TABLE IF EXISTS {FTS}")
        elif conn.vendor == "postgresql":
            cursor.execute("DROP INDEX IF EXISTS demand_search_words")


# Above this many matches a word is "common" on SQLite (see _sqlite_words_filter).
SQLITE_FEW_MATCHES = 5000


# At most this many pending demands (words not yet written) join a search: a few seconds of intake.
PENDING_LIMIT = 1000


def _pending_ids(words: list[str]) -> tuple[str, list]:
    """SQL selecting the ids of pending demands with every word in their title or content, and its
    parameters: read through the partial index `demand_search_pending`, which holds only those."""
    from qinqing.demands.models import Demand

    q = Q(search_text=PENDING)
    for w in words:
        q &= Q(title__icontains=w) | Q(content__icontains=w)
    sql, params = Demand.objects.filter(q).values("id").order_by()[:PENDING_LIMIT].query.sql_with_params()
    return sql, list(params)


def _sqlite_words_filter(match: str, words: list[str]):
    """Two plans, chosen by asking FTS5 for at most SQLITE_FEW_MATCHES + 1 matches first.

    A rare word: its few ids (and the matching pending demands', in the same statement) go into the
    query, and SQLite sorts a few thousand rows at most. A common word (贷款 matches a quarter of a
    million demands at a million): building the IN list took seconds, so the ledger walks its own order
    instead and probes FTS5 per row by rowid, stopping as soon as the page is full.
    """
    pending, params = _pending_ids(words)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT rowid FROM (SELECT rowid FROM {FTS} WHERE {FTS} MATCH %s LIMIT %s) "
                       f"UNION ALL SELECT * FROM ({pending})", [match, SQLITE_FEW_MATCHES + 1, *params])
        ids = [row[0] for row in cursor.fetchall()]
    if len(ids) <= SQLITE_FEW_MATCHES:
        return Q(pk__in=ids)
    return RawSQL(f"(EXISTS (SELECT 1 FROM {FTS} WHERE {FTS} MATCH %s AND {FTS}.rowid = {TABLE}.id) "
                  f"OR {TABLE}.id IN ({pending}))", (match, *params), output_field=BooleanField())


def words_filter(words: list[str]):
    """A filter() argument selecting demands whose search_text holds every word, or, for a demand whose
    words the worker has yet to write, whose title or content does."""
    words = [w for w in dict.fromkeys(w.strip().lower() for w in words) if w]
    if not words:
        return Q()
    if connection.vendor == "sqlite":
        return _sqlite_words_filter(" ".join(f'"{w}"' for w in words), words)  # words are \w+ only: no quotes
    pending, params = _pending_ids(words)
    if connection.vendor == "postgresql":
        # `= ANY(ARRAY(…))` is an index condition evaluated once (an InitPlan): PostgreSQL ORs the GIN
        # bitmap with the primary key's, where `IN (subquery)` would have it scan the table.
        return RawSQL(f"(string_to_array(btrim({TABLE}.search_text), ' ') @> %s::text[] "
                      f"OR {TABLE}.id = ANY(ARRAY({pending})))", (words, *params), output_field=BooleanField())
    q = Q()
    for w in words:
        q &= Q(search_text__contains=f" {w} ")
    return q | Q(pk__in=RawSQL(pending, params))


def index_received(demand) -> bool:
    """Write the search words of a demand received without them (the worker, delivering its intake);
    whether this call wrote them. A second delivery of the same intake finds them written and does nothing."""
    if demand.search_text != PENDING:
        return False
    from qinqing.demands.models import Demand
    from qinqing.demands.services import search_words

    text = search_words(demand.title, demand.content, demand.enterprise.name if demand.enterprise_id else "")
    demand.search_text = text
    # Not save(): a bookkeeping column, not an edit of the demand (its version and updated_at stay).
    return Demand.objects.filter(pk=demand.pk, search_text=PENDING).update(search_text=text) == 1
