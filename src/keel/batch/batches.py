"""The store of SOPHIA_OPS.KEEL_BATCHES, the only code that touches that table: one row
per gated batch, its verdict and what its publish did.

- :func:`created_at` and :func:`replace`: the gate's record (:mod:`keel.quality.record`)
  re-reads the ``CREATED_AT`` of an earlier gate of the same batch id and replaces the
  row, inside the caller's transaction (with the batch's checks and samples);
- :func:`decide_sql`: the publish transaction's statements (:mod:`keel.publish.promote`):
  the batch's decision, and earlier gates of the same pending rows marked as riding on it;
- :func:`recent`: the batches newest first, the one listing ``keel batches``, the status
  page and ``/api/batches`` read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import astuple, dataclass, fields
from typing import Any

from keel import ops_tables as ops
from keel.adapters.base import Adapter

T = ops.KEEL_BATCHES


@dataclass(frozen=True)
class BatchRow:
    """A row of KEEL_BATCHES (fields are its columns in order, lower case). Read back,
    timestamps are what the engine returns (naive ones are UTC)."""

    batch_id: str
    source: str
    stream: str
    status: str
    rows: int | None
    min_extracted_at: dt.datetime | None
    max_extracted_at: dt.datetime | None
    created_at: dt.datetime | None
    decided_at: dt.datetime | None
    forced_by: str | None = None
    reason: str | None = None
    watermark: dt.datetime | None = None  # the window is (WATERMARK, MAX_EXTRACTED_AT]
    published_rows: int | None = None
    quarantined_rows: int | None = None
    deleted_rows: int | None = None
    superseded_by: str | None = None
    message: str | None = None

    def values(self) -> dict[str, object]:
        """Column -> value, in the table's column order."""
        return dict(zip(COLUMNS, astuple(self), strict=True))

    def pick(self, names: Iterable[str]) -> dict[str, Any]:
        """The named fields, in the order given (a listing's view of the row)."""
        mine = vars(self)
        return {n: mine[n] for n in names}


COLUMNS = tuple(f.name.upper() for f in fields(BatchRow))  # a test keeps them T's columns


@dataclass(frozen=True)
class Decision:
    """What a publish decided for its batch (the columns the publish transaction sets)."""

    status: str  # promoted, quarantined or forced
    decided_at: dt.datetime
    published_rows: int
    quarantined_rows: int
    deleted_rows: int
    forced_by: str | None = None
    reason: str | None = None


def _where_id(a: Adapter, batch_id: str) -> str:
    return f"{a.ident('BATCH_ID')} = {a.lit(batch_id)}"


def created_at(a: Adapter, batch_id: str) -> dt.datetime | None:
    """When the batch was first gated (None: never); read inside the gate's transaction."""
    found = a.fetch(
        f"SELECT {a.ident('CREATED_AT')} FROM {a.ops_table(T)} WHERE {_where_id(a, batch_id)}",
        "batches",
    )
    value = found[0][0] if found else None
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def replace(a: Adapter, row: BatchRow) -> None:
    """Store ``row`` in place of the batch's earlier row (run it inside a transaction)."""
    a.execute(a.delete_sql(T, {"BATCH_ID": row.batch_id}))
    a.execute(a.insert_sql(T, [row.values()]))


def decide_sql(
    a: Adapter,
    batch_id: str,
    source: str,
    stream: str,
    decision: Decision,
    superseded_after: dt.datetime | None,
) -> list[str]:
    """The publish transaction's statements: set the batch's decision, and mark the earlier
    gates of the same pending rows (blocked, then fixed: same ``WATERMARK``, still
    ``blocked`` or ``passed``) as superseded by this batch."""
    table = a.ops_table(T)
    values = {
        "STATUS": decision.status,
        "DECIDED_AT": decision.decided_at,
        "PUBLISHED_ROWS": decision.published_rows,
        "QUARANTINED_ROWS": decision.quarantined_rows,
        "DELETED_ROWS": decision.deleted_rows,
        "FORCED_BY": decision.forced_by,
        "REASON": decision.reason,
    }
    sets = ", ".join(f"{a.ident(k)} = {a.lit(v)}" for k, v in values.items())
    mark = (
        f"{a.ident('WATERMARK')} = {a.lit(superseded_after)}"
        if superseded_after is not None
        else f"{a.ident('WATERMARK')} IS NULL"
    )
    return [
        f"UPDATE {table} SET {sets} WHERE {_where_id(a, batch_id)}",
        f"UPDATE {table} SET {a.ident('SUPERSEDED_BY')} = {a.lit(batch_id)} WHERE "
        f"{a.ident('SOURCE')} = {a.lit(source)} AND {a.ident('STREAM')} = "
        f"{a.lit(stream)} AND {mark} AND {a.ident('BATCH_ID')} <> {a.lit(batch_id)} "
        f"AND {a.ident('STATUS')} IN ({a.lit('blocked')}, {a.lit('passed')})",
    ]


def recent(a: Adapter, source: str | None = None, limit: int = 200) -> list[BatchRow]:
    """The newest ``limit`` batches (of ``source``, or of every source), newest first."""
    where = f" WHERE {a.ident('SOURCE')} = {a.lit(source)}" if source is not None else ""
    rows = a.fetch(
        f"SELECT {', '.join(a.ident(c) for c in COLUMNS)} FROM {a.ops_table(T)}{where} "
        f"ORDER BY {a.ident('CREATED_AT')} DESC LIMIT {int(limit)}",
        "batches",
    )
    return [BatchRow(*row) for row in rows]
