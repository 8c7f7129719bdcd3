"""Batch identity that does not trust extraction order: which RAW rows are still pending.

Loaders stamp ``_AIRBYTE_EXTRACTED_AT`` with the record's emit time ("when Airbyte pulled
the event from the data source", docs.airbyte.com understanding-airbyte/
airbyte-metadata-fields), not with the commit time, and commit out of order (retried
attempts, parallel Snowpipe Streaming channels). So a row may commit after a gate with an
extraction time at or below the watermark. Two ways to still judge every row exactly
once and publish it at most once:

- **Judged ids** (DuckDB, PostgreSQL): a scoped window reads the rows extracted after
  ``watermark - lookback`` whose raw id is not in ``SOPHIA_OPS.KEEL_JUDGED``
  (:func:`not_judged_sql`). The publish transaction records the batch's raw ids
  (:func:`record_sql`) in the same snapshot as its MERGE, and prunes ids older than the
  new ``watermark - lookback`` (:func:`prune_sql`): they can never be read again. A
  blocked batch records nothing, so its rows stay pending. The read costs the lookback
  range plus the stream's judged ids, never a scan of the whole table. Rows extracted
  after the watermark were never judged (every judged id is at or below the watermark
  of the batch that took it), so a read that starts at the watermark needs no ids.
- **A settled floor** (DuckDB, PostgreSQL, when the stream promises its loader's lateness
  with ``meta.keel.max_lateness_seconds``: every row commits within that long of its
  extraction, clock skew included): the gate takes only rows extracted at least that long
  ago, so when it runs every row at or below the batch's newest extraction has committed
  and no late row can land there afterwards. Publishing such a batch moves the stream's
  floor (``KEEL_WATERMARKS.SETTLED_AT``) up to that extraction; the next read starts at
  ``max(watermark - lookback, floor)`` and, with the floor at the watermark, needs no
  judged ids at all: a gate after a 10,000,000-row backfill reads the new rows alone.
  Ids are still recorded and pruned by the lookback (transformations read a batch's rows
  through them: keel.publish.transform). Without the promise (the default, because
  Airbyte does not bound how late a row commits) the lookback alone bounds the read: a
  floor recorded under a promise since withdrawn is ignored, and cleared by the next
  publish.
- **Change streams** (Snowflake): ``CREATE STREAM ... ON TABLE <raw> SHOW_INITIAL_ROWS =
  TRUE`` (:func:`create_stream_sql`), a standard stream because Airbyte's Append + Deduped
  table is updated in place (an update is a DELETE and an INSERT row in the stream,
  ``METADATA$ISUPDATE`` true), so the batch is the rows whose ``METADATA$ACTION`` is
  ``INSERT`` (:func:`stream_pending_sql`). Querying a stream does not move its offset; a
  DML statement reading it moves the offset when its transaction commits, and every
  statement of one transaction sees the same stream rows (repeatable read)
  [docs.snowflake.com user-guide/streams-intro, sql-reference/sql/create-stream]. So the
  gate reads the stream, and the publish transaction recounts it, MERGEs from it and
  commits: the offset moves exactly when the batch publishes. ``SYSTEM$STREAM_HAS_DATA``
  (:func:`has_data_sql`) tells cheaply whether anything is pending (it may say true when
  nothing is, never false when something is [sql-reference/functions/system_stream_has_data]).

Gate and publish agree on the rows through :func:`fingerprint_sql`: the row count and the
sum of a hash of the raw ids, taken by the probe and again inside the publish transaction.
A row added, or replaced by Airbyte's deduplication, in between changes it and the publish
rolls back (the next gate takes the rows as they are then).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from keel import ops_tables as ops

if TYPE_CHECKING:
    from keel.adapters.base import Adapter
    from keel.project.loaded import Stream

RAW_ID = "_AIRBYTE_RAW_ID"
EXTRACTED_AT = "_AIRBYTE_EXTRACTED_AT"
STREAM_PREFIX = "KEEL_STREAM__"


@dataclass(frozen=True)
class Scope:
    """Which rows of a stream are still pending, whatever their extraction order.

    Loaders stamp ``_AIRBYTE_EXTRACTED_AT`` with the record's emit time and commit out of
    order, so a window over it is not a batch by itself. With a scope, the window reads
    from ``watermark - lookback`` (not from the watermark) and leaves out the raw ids a
    publish already took (``SOPHIA_OPS.KEEL_JUDGED``); on engines with change streams
    (Snowflake) the pending rows are the stream's inserted rows instead (see below).
    """

    source: str
    stream: str
    raw: tuple[str, str]
    lookback: dt.timedelta
    floor: dt.datetime | None = None  # KEEL_WATERMARKS.SETTLED_AT: no late row lands below
    settles: bool = False  # the stream promises its loader's lateness (max_lateness_seconds)

    @classmethod
    def of(cls, stream: Stream, floor: dt.datetime | None = None) -> Scope:
        """The stream's scope; a recorded ``floor`` counts only while the stream promises
        its lateness (withdrawn, the lookback bounds the read again and the next publish
        clears the floor: the judged ids were recorded all along)."""
        settles = stream.keel.max_lateness_seconds is not None
        return cls(
            stream.source,
            stream.name,
            (stream.raw_schema, stream.table),
            dt.timedelta(hours=stream.keel.lookback_hours),
            floor if settles else None,
            settles,
        )

    def lower(self, after: dt.datetime) -> dt.datetime:
        """Where the read of a batch after watermark ``after`` starts (exclusive)."""
        start = after - self.lookback
        return max(start, self.floor) if self.floor is not None else start

    def next_floor(self, upto: dt.datetime) -> dt.datetime | None:
        """The floor once a batch whose newest extraction is ``upto`` is published: ``upto``
        when the gate took only rows older than the promised lateness (every row at or
        below it had committed; the watermark may be higher: a batch of late rows only),
        else this scope's floor (None from :meth:`of` once the promise is withdrawn: the
        floor is cleared). Under a promise it never moves down."""
        if not self.settles:
            return self.floor
        return max(self.floor, upto) if self.floor is not None else upto


def not_judged_sql(a: Adapter, scope: Scope, alias: str | None = None) -> str:
    """True for a row no publish took yet. ``NOT IN`` rather than a correlated ``NOT
    EXISTS``: the outer raw id needs no qualifier (raw ids are never NULL)."""
    col = a.ident(alias, RAW_ID) if alias else a.ident(RAW_ID)
    return (
        f"{col} NOT IN (SELECT {a.ident('RAW_ID')} FROM {a.ops_table(ops.KEEL_JUDGED)} "
        f"WHERE {a.ident('SOURCE')} = {a.lit(scope.source)} "
        f"AND {a.ident('STREAM')} = {a.lit(scope.stream)})"
    )


def record_sql(
    a: Adapter, scope: Scope, batch_id: str, now: dt.datetime, relation: str, where: str
) -> str:
    """Inside the publish transaction: every row of the batch is judged (promoted,
    quarantined, stale or forced alike). ``relation``/``where``: the batch's window."""
    return (
        f"INSERT INTO {a.ops_table(ops.KEEL_JUDGED)} ({a.ident('SOURCE')}, {a.ident('STREAM')}, "
        f"{a.ident('RAW_ID')}, {a.ident('EXTRACTED_AT')}, {a.ident('BATCH_ID')}, "
        f"{a.ident('JUDGED_AT')}) SELECT {a.lit(scope.source)}, {a.lit(scope.stream)}, "
        f"{a.ident(RAW_ID)}, {a.ident(EXTRACTED_AT)}, {a.lit(batch_id)}, {a.lit(now)} "
        f"FROM {relation} WHERE {where}"
    )


def prune_sql(a: Adapter, scope: Scope, mark: dt.datetime) -> str:
    """Judged ids older than the next ``watermark - lookback`` can never be read again.
    (The floor does not prune: a transformation reads its batch's rows through the ids.)"""
    below = mark - scope.lookback
    return (
        f"DELETE FROM {a.ops_table(ops.KEEL_JUDGED)} WHERE {a.ident('SOURCE')} = "
        f"{a.lit(scope.source)} AND {a.ident('STREAM')} = {a.lit(scope.stream)} "
        f"AND {a.ident('EXTRACTED_AT')} <= {a.lit(below)}"
    )


def fingerprint_sql(a: Adapter, relation: str, where: str) -> str:
    """``(rows, sum of hash(raw id))`` of a batch: equal sets give equal values."""
    return f"SELECT COUNT(*), SUM({a.hash_sql(a.ident(RAW_ID))}) FROM {relation} WHERE {where}"


def fingerprint(row: tuple[object, ...]) -> tuple[int, int]:
    n, h = row
    return int(n or 0), int(h or 0)  # type: ignore[call-overload]


# ---- Snowflake streams ------------------------------------------------------------------


def stream_name(raw: tuple[str, str]) -> tuple[str, str]:
    """The stream on a RAW table lives in SOPHIA_OPS (keel's own objects, not the loader's)."""
    return ops.OPS_SCHEMA, f"{STREAM_PREFIX}{raw[0]}__{raw[1]}"


def create_stream_sql(a: Adapter, scope: Scope) -> str:
    """DDL (auto-commits on Snowflake): run before any transaction. ``IF NOT EXISTS`` keeps
    the offset of an existing stream."""
    return (
        f"CREATE STREAM IF NOT EXISTS {a.ident(*stream_name(scope.raw))} "
        f"ON TABLE {a.ident(*scope.raw)} SHOW_INITIAL_ROWS = TRUE"
    )


def stream_pending_sql(a: Adapter, alias: str | None = None) -> str:
    """The stream rows that are the batch: inserted rows (an update's new version included).
    ``METADATA$ACTION`` is the stream's pseudo-column (upper case, so quoting is neutral:
    unverified against a live account)."""
    col = a.ident(alias, "METADATA$ACTION") if alias else a.ident("METADATA$ACTION")
    return f"{col} = {a.lit('INSERT')}"


def has_data_sql(a: Adapter, scope: Scope) -> str:
    """``SYSTEM$STREAM_HAS_DATA('<db>.<schema>.<stream>')``: the argument is one string
    holding the (double-quoted) qualified name."""
    return f"SELECT SYSTEM$STREAM_HAS_DATA({a.lit(a.qualified(*stream_name(scope.raw)))})"
