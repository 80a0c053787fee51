# ruff: noqa: S608, S611 - identifiers are module constants; user input only ever travels as a parameter
"""Chinese keyword search over demands that stays an index lookup at millions of rows.

`Demand.search_text` holds jieba's search-granularity words between spaces. PostgreSQL
answers "all these words" with a GIN index on the word array; SQLite with an FTS5 table
kept in step by triggers. Both are exact word matches, independent of the database locale
(PostgreSQL's text search parser drops Chinese characters under the C locale).
"""

from django.db import connection
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

TABLE = "demands_demand"
FTS = "demands_demand_fts"

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


def _sqlite_words_filter(match: str):
    """Two plans, chosen by asking FTS5 for at most SQLITE_FEW_MATCHES + 1 matches first.

    A rare word: its few ids go into the query, and SQLite sorts a few thousand rows at most.
    A common word (贷款 matches a quarter of a million demands at a million): building the IN list
    took seconds, so the ledger walks its own order instead and probes FTS5 per row by rowid,
    stopping as soon as the page is full.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT rowid FROM {FTS} WHERE {FTS} MATCH %s LIMIT %s", [match, SQLITE_FEW_MATCHES + 1])
        ids = [row[0] for row in cursor.fetchall()]
    if len(ids) <= SQLITE_FEW_MATCHES:
        return Q(pk__in=ids)
    return RawSQL(f"EXISTS (SELECT 1 FROM {FTS} WHERE {FTS} MATCH %s AND {FTS}.rowid = {TABLE}.id)", (match,),
                  output_field=BooleanField())


def words_filter(words: list[str]):
    """A filter() argument selecting demands whose search_text holds every word."""
    words = [w for w in dict.fromkeys(w.strip().lower() for w in words) if w]
    if not words:
        return Q()
    if connection.vendor == "postgresql":
        return RawSQL(f"string_to_array(btrim({TABLE}.search_text), ' ') @> %s::text[]", (words,),
                      output_field=BooleanField())
    if connection.vendor == "sqlite":
        return _sqlite_words_filter(" ".join(f'"{w}"' for w in words))  # words are \w+ only: no quotes
    q = Q()
    for w in words:
        q &= Q(search_text__contains=f" {w} ")
    return q
