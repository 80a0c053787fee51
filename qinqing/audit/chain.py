"""Hash chains over the audit tables (等保2.0 三级 安全审计): a changed, slipped-in or removed row shows.

Each row of a chained table carries `chain_prev` (the hash of the row before it, in id order) and `chain_hash`
= SHA-256(chain_prev + the canonical serialization of the row's content columns, id included). Rows are
written with both NULL, so concurrent writers (the intake above all) never wait on a chain head; `seal`
fills them in later, in id order, a chunk per statement, and `ChainHead` remembers where it stopped.

Sealing only rows that can no longer be overtaken matters: a row with a lower id committed after a higher
one was sealed would look slipped in. On SQLite every write transaction holds the database's write lock
(transaction_mode IMMEDIATE), so the sealer sees every row a writer will ever commit below the highest it
sees. On PostgreSQL the sealer notes the id sequence's value and waits (at most WRITER_WAIT, else it tries
again at its next run) until the transactions then writing to the table have ended; every id up to the
noted value is then final (`_settled_bound`).

`verify_all` walks each chain in id order, in chunks, and reports the first problem of each kind it meets:
"altered" (the row's hash does not match its content), "inserted" (an unsealed row below the sealed head,
or a sealed row the next one does not link to) and "deleted" (a row's link does not match the row before
it, or the newest sealed rows are gone).
"""

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import time
from decimal import Decimal

from django.db import connection, models, transaction

from qinqing.lib import clock

from .models import AuditEntry, ChainHead

log = logging.getLogger(__name__)

GENESIS = "0" * 64  # chain_prev of a table's first row
CHUNK = 5000
WRITER_WAIT = 2.0  # seconds the sealer waits for transactions writing when it starts (PostgreSQL)
PROBLEM_LIMIT = 100  # per table: a wholesale rewrite need not be listed row by row


@dataclasses.dataclass(frozen=True)
class Chain:
    """A chained table: its model and the columns its hash covers, in a fixed order."""

    model: type[models.Model]
    content: tuple[str, ...]
    # Columns the code legitimately updates after the INSERT, left out of the hash (each says why).
    excluded: tuple[str, ...] = ()

    @property
    def table(self) -> str:
        return self.model._meta.db_table


def chains() -> dict[str, Chain]:
    """Every chained table by name. DemandEvent is imported here: the demands app must be loaded first."""
    from qinqing.demands.models import DemandEvent

    return {c.table: c for c in (
        Chain(AuditEntry, ("id", "at", "actor_id", "actor_label", "action", "target", "detail", "ip")),
        Chain(DemandEvent, ("id", "demand_id", "actor_id", "verb", "from_state", "to_state", "note", "data",
                            "internal", "created_at"),
              # awaiting_delivery: True from the INSERT until the notifications are written, then set False
              # by notify_for_event (qinqing/notifications/services.py) — delivery state, not the record.
              # It is the only UPDATE of the timeline in the code: merges, returns, urgings and calendar
              # recomputes all append new entries (grep for .update(/save( on DemandEvent).
              excluded=("awaiting_delivery",)),
    )}


@dataclasses.dataclass(frozen=True)
class Problem:
    table: str
    row_id: int
    kind: str  # "altered", "inserted" or "deleted"
    message: str

    def __str__(self):
        return f"{self.table} #{self.row_id} [{self.kind}] {self.message}"


# --- hashing -------------------------------------------------------------------------------------------

def _plain(value):
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, dt.date | dt.time | Decimal):
        return str(value)
    raise TypeError(f"cannot serialize {type(value).__name__} for the audit chain")


# One encoder for every row (json.dumps with options builds a new one per call).
_canonical = json.JSONEncoder(default=_plain, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


def row_hash(prev: str, values) -> str:
    """SHA-256 of the previous hash and the canonical JSON of the row's content values (as the ORM reads
    them, in the chain's column order: the same on SQLite and PostgreSQL)."""
    return hashlib.sha256((prev + _canonical(list(values))).encode()).hexdigest()


# --- sealing -------------------------------------------------------------------------------------------

def _writers(cursor, table: str) -> set[str]:
    """Other transactions holding the table's ROW EXCLUSIVE lock: those that may be inserting into it."""
    cursor.execute("SELECT DISTINCT virtualtransaction FROM pg_locks WHERE relation = %s::regclass "
                   "AND mode = 'RowExclusiveLock' AND pid <> pg_backend_pid()", [table])
    return {row[0] for row in cursor.fetchall()}


def _settled_bound(chain: Chain) -> int | None:
    """The highest id no running transaction can still commit a row at or below; None when there is no
    such risk; -1 when a writer stayed in flight for longer than WRITER_WAIT (seal at the next run).

    PostgreSQL: read the id sequence's last value S, then list the transactions holding the table's ROW
    EXCLUSIVE lock. A transaction that drew an id up to S took that lock before (an INSERT locks its table
    before it draws from the sequence) and keeps it until it ends, so it is on the list; one that locks the
    table later draws an id above S. Once everyone on the list has ended, every id up to S is committed or
    gone for good. The sealer only watches pg_locks and blocks nobody: no table lock of its own, which the
    intake would queue behind and autovacuum's lock would hold up.
    """
    if connection.vendor != "postgresql":
        return None  # SQLite: the seal's own transaction holds the write lock (see the module's docstring)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [chain.table])
        sequence = cursor.fetchone()[0]  # the catalog's quoted name
        cursor.execute(f"SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM {sequence}")  # noqa: S608
        bound = cursor.fetchone()[0]
        writers = _writers(cursor, chain.table)
        deadline = time.monotonic() + WRITER_WAIT
        while writers:
            if time.monotonic() > deadline:
                log.info("audit chain %s: a writer is still in flight, sealing waits for the next run", chain.table)
                return -1
            time.sleep(0.02)
            writers &= _writers(cursor, chain.table)
    return bound


def _head(table: str) -> ChainHead:
    """The chain's head, locked for this transaction (created on first use; two sealers create it once)."""
    ChainHead.objects.bulk_create([ChainHead(table=table, last_hash=GENESIS)], ignore_conflicts=True)
    return ChainHead.objects.select_for_update().get(table=table)


def _write(chain: Chain, sealed: list[tuple[int, str, str]]) -> int:
    """Set the chain columns of a chunk in one statement; only rows still unsealed are touched.

    The id range lets the database find the chunk's rows by the primary key: without it PostgreSQL joined
    the VALUES list to the whole table (a sequential scan per chunk, 18 s to seal 100,000 rows). PostgreSQL
    also expects one unsealed row (its statistics were taken when all were sealed) and picks a nested loop
    that compares every row with every value (5,000 × 5,000); a hash join takes 14 ms."""
    table = connection.ops.quote_name(chain.table)
    if connection.vendor == "postgresql":
        # Three arrays rather than 15,000 parameters: psycopg took 5 s of 18 splitting such statements.
        sql = (f"UPDATE {table} SET chain_prev = v.p, chain_hash = v.h "  # noqa: S608 - our table name
               f"FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS v (i, p, h) WHERE {table}.id = v.i")
        params = [list(column) for column in zip(*sealed, strict=True)]
    else:  # SQLite names a VALUES list's columns column1, column2, …
        values = ", ".join(["(%s, %s, %s)"] * len(sealed))
        sql = (f"UPDATE {table} SET chain_prev = v.column2, chain_hash = v.column3 "  # noqa: S608 - our name
               f"FROM (VALUES {values}) AS v WHERE {table}.id = v.column1")
        params = [x for row in sealed for x in row]
    sql += f" AND {table}.id BETWEEN %s AND %s AND {table}.chain_hash IS NULL"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_nestloop = off")  # this transaction only
        cursor.execute(sql, [*params, sealed[0][0], sealed[-1][0]])
        return cursor.rowcount


def seal(table: str, *, chunk: int = CHUNK) -> int:
    """Chain the table's unsealed rows onto its head, in id order; returns how many were sealed.

    Idempotent and safe to run concurrently: each chunk runs in its own transaction under the head's row
    lock, reads the head afresh and continues from it, so a second sealer only finds what is left.
    """
    chain = chains()[table]
    bound = _settled_bound(chain)
    if bound == -1:
        return 0
    total = 0
    while True:
        with transaction.atomic():
            head = _head(table)
            rows = chain.model.objects.filter(id__gt=head.last_id)
            if bound is not None:
                rows = rows.filter(id__lte=bound)
            rows = list(rows.order_by("id").values_list(*chain.content)[:chunk])
            if not rows:
                if total:  # the head in the log too: a copy outside the database to compare with later
                    log.info("audit chain %s sealed to #%s %s", table, head.last_id, head.last_hash)
                return total
            prev, sealed = head.last_hash or GENESIS, []
            for values in rows:
                digest = row_hash(prev, values)
                sealed.append((values[0], prev, digest))
                prev = digest
            written = _write(chain, sealed)
            if written != len(sealed):  # a row above the head already had chain values: verify will say so
                log.warning("audit chain %s: %d of %d rows were already sealed", table, len(sealed) - written,
                            len(sealed))
            head.last_id, head.last_hash, head.sealed_at = sealed[-1][0], prev, clock.now()
            head.save(update_fields=["last_id", "last_hash", "sealed_at"])
        total += len(rows)


def seal_all() -> dict[str, int]:
    return {table: seal(table) for table in chains()}


# --- verifying -----------------------------------------------------------------------------------------

def verify(table: str, *, chunk: int = CHUNK) -> tuple[int, list[Problem]]:
    """Walk one chain in id order; returns how many sealed rows checked out and the problems found."""
    chain = chains()[table]
    head = ChainHead.objects.filter(table=table).first() or ChainHead(table=table, last_id=0, last_hash=GENESIS)
    problems: list[Problem] = []

    def problem(row_id: int, kind: str, message: str) -> None:
        if len(problems) < PROBLEM_LIMIT:
            problems.append(Problem(table, row_id, kind, message))

    columns = (*chain.content, "chain_prev", "chain_hash")
    prev_hash, prev_prev, prev_id, after, checked = GENESIS, None, None, 0, 0
    while True:
        rows = list(chain.model.objects.filter(id__gt=after, id__lte=head.last_id).order_by("id")
                    .values_list(*columns)[:chunk])
        if not rows:
            break
        for *values, link, digest in rows:
            row_id = values[0]
            if digest is None:
                problem(row_id, "inserted", f"第 {row_id} 号记录在已封存的审计链中间，却没有摘要：是事后插入的。")
                continue
            if link != prev_hash:
                if prev_id is not None and link == prev_prev:
                    problem(prev_id, "inserted", f"第 {prev_id} 号记录不在审计链上（其后一条指向更早的记录）："
                                                 "是事后插入的。")
                else:
                    where = f"第 {prev_id} 号与第 {row_id} 号之间" if prev_id else f"第 {row_id} 号之前"
                    problem(row_id, "deleted", f"{where}的记录被删除：第 {row_id} 号记录的前序摘要对不上。")
            if row_hash(link or "", values) != digest:
                problem(row_id, "altered", f"第 {row_id} 号记录的内容与其摘要不符：封存后被修改过。")
            else:
                checked += 1
            prev_prev, prev_hash, prev_id = prev_hash, digest, row_id
        after = rows[-1][0]
    if head.last_id and (prev_id != head.last_id or prev_hash != head.last_hash):
        problem(head.last_id, "deleted",
                f"审计链应止于第 {head.last_id} 号记录，现在止于第 {prev_id or 0} 号：最新的记录被删除。")
    forged = chain.model.objects.filter(id__gt=head.last_id, chain_hash__isnull=False).order_by("id")
    for row_id in forged.values_list("id", flat=True)[:1]:
        problem(row_id, "inserted", f"第 {row_id} 号记录在封存位置之后却带有摘要：不是封存程序写的。")
    return checked, problems


def verify_all() -> list[Problem]:
    """Every chain's problems, in table and id order; empty when all are intact."""
    return [p for table in chains() for p in verify(table)[1]]
