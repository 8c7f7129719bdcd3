"""The store of SOPHIA_OPS.KEEL_STATE, the only code that touches that table: per
(source, stream) the connector's last committed STATE message and the number of
records landed, written by the RAW writer in the same transaction as the records.

The functions take the RAW writer's engine SQL (:class:`keel.adapters.raw.RawSql`, which
the adapter hands out), which supplies the adapter's quoting and execution and the
engine's timestamp literal. A STREAM of ``*`` holds a GLOBAL (or legacy) state.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from keel import ops_tables as ops

if TYPE_CHECKING:
    from keel.adapters.raw import RawSql

T = ops.KEEL_STATE


def ensure(e: RawSql) -> None:
    """Create the table when a first ingest runs before ``keel apply``."""
    e.ensure_schema(ops.OPS_SCHEMA)
    e.run(ops.create_table_sql(T, e.a.dialect, e.a.norm, e.ops_types))


def read(e: RawSql, source: str) -> dict[str, tuple[str | None, int]]:
    """Committed STATE JSON and record count per stream of ``source`` (one query)."""
    rows = e.fetch(
        f"SELECT {e.ident('STREAM')}, {e.ident('STATE')}, {e.ident('RECORDS')} "
        f"FROM {e.ident(ops.OPS_SCHEMA, T.name)} WHERE {e.ident('SOURCE')} = {e.lit(source)}"
    )
    return {stream: (state, int(records or 0)) for stream, state, records in rows}


def upsert(
    e: RawSql, source: str, stream: str, state: str | None, records: int, now: dt.datetime
) -> None:
    """Store ``state`` (None keeps the stored one) and add ``records`` to the count
    (INSERT ... ON CONFLICT DO UPDATE, on both engines the RAW writer serves)."""
    names = T.column_names  # SOURCE, STREAM, STATE, RECORDS, UPDATED_AT
    values = ", ".join(
        [e.lit(source), e.lit(stream), e.lit(state), e.lit(records), e.stamp_sql(now)]
    )
    old = e.ident(T.name)
    st, rec, upd = e.ident("STATE"), e.ident("RECORDS"), e.ident("UPDATED_AT")
    e.run(
        f"INSERT INTO {e.ident(ops.OPS_SCHEMA, T.name)} "
        f"({', '.join(e.ident(n) for n in names)}) VALUES ({values}) "
        f"ON CONFLICT ({e.ident('SOURCE')}, {e.ident('STREAM')}) DO UPDATE SET "
        f"{st} = COALESCE(excluded.{st}, {old}.{st}), "
        f"{rec} = COALESCE({old}.{rec}, 0) + excluded.{rec}, {upd} = excluded.{upd}"
    )
