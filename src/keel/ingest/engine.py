"""Every statement the RAW writer sends, for DuckDB.

The writer (:mod:`keel.ingest.writer`) decides *what* happens; this class
decides how it is spelled for one engine. The PostgreSQL variant
(:mod:`keel.ingest.engine_pg`) subclasses it and overrides the few
engine-specific pieces: :meth:`norm` (lower-case names), :attr:`TYPE_NAMES`,
:meth:`stage` (Arrow in; DuckDB scans a registered Arrow table, PostgreSQL
COPYs into a temporary table), :meth:`dedup_stage_sql` (DuckDB's ``QUALIFY``),
:meth:`uncastable_sql` (DuckDB's ``TRY_CAST``) and :meth:`columns` (the
catalog query). Every identifier and literal goes through :mod:`keel.sql`.

The Append + Deduped merge is set-based, one statement each:

1. stage the batch, typed, keeping the newest record per key: cursor
   descending (NULLs last), then arrival order descending;
2. delete target rows of those keys that the staged row beats (the staged
   row wins on a newer or equal cursor, or when the target's cursor is NULL;
   the staged row is always extracted later, which breaks ties as Airbyte's
   "cursor, then _AIRBYTE_EXTRACTED_AT" ordering does);
3. insert the staged rows whose key is no longer in the target.

Keys compare with ``IS NOT DISTINCT FROM``, so rows with a NULL key collapse
into one, as Airbyte's ``ROW_NUMBER() OVER (PARTITION BY pk)`` does.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa

from keel import ops
from keel.errors import WarehouseError
from keel.ingest import schema as S
from keel.sql import DUCKDB, Dialect, literal, qualified

BATCH_VIEW = "keel_ingest_batch"
STAGE_TABLE = "keel_ingest_stage"
SEQ_COLUMN = "keel_seq"


class DuckDBEngine:
    """The RAW writer's SQL for DuckDB (>= 1.2)."""

    dialect: Dialect = DUCKDB
    TYPE_NAMES: dict[str, str] = {
        S.VARCHAR: "VARCHAR",
        S.BIGINT: "BIGINT",
        S.DOUBLE: "DOUBLE",
        S.BOOLEAN: "BOOLEAN",
        S.DATE: "DATE",
        S.TIMESTAMP: "TIMESTAMP",
        S.TIMESTAMPTZ: "TIMESTAMP WITH TIME ZONE",
        S.JSON: "JSON",
    }
    # what the catalog reports -> portable type
    _FROM_CATALOG = {
        "VARCHAR": S.VARCHAR, "BIGINT": S.BIGINT, "DOUBLE": S.DOUBLE, "BOOLEAN": S.BOOLEAN,
        "DATE": S.DATE, "TIMESTAMP": S.TIMESTAMP, "TIMESTAMP WITH TIME ZONE": S.TIMESTAMPTZ,
        "JSON": S.JSON,
    }  # fmt: skip

    OPS_TYPES: dict[str, str] | None = None  # ops-table types (SOPHIA_OPS.KEEL_STATE)

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    # -- spelling -----------------------------------------------------------------
    def norm(self, name: str) -> str:
        """A canonical name as the engine spells it (DuckDB: as is)."""
        return name

    def ident(self, *parts: str) -> str:
        """``"SCHEMA"."TABLE"`` from canonical parts, spelled for the engine and quoted."""
        return qualified(*(self.norm(p) for p in parts), dialect=self.dialect)

    def lit(self, value: object) -> str:
        return literal(value, self.dialect)

    # -- session, schemas, state table ----------------------------------------
    def run(self, sql: str) -> None:
        """Execute one statement; the driver's error becomes a :class:`WarehouseError`."""
        with self._translated(sql):
            self.conn.execute(sql)

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        with self._translated(sql):
            return list(self.conn.execute(sql).fetchall())

    @contextlib.contextmanager
    def _translated(self, sql: str) -> Iterator[None]:
        import duckdb

        try:
            yield
        except duckdb.Error as exc:
            first = (str(exc).splitlines() or [type(exc).__name__])[0]
            raise WarehouseError(f"DuckDB refused: {first}\n  SQL: {sql[:300]}") from exc

    def prepare_session(self) -> None:
        """Timestamps without an offset are UTC, as in Airbyte's destinations."""
        # a hardened connection (keel.adapters.duckdb.harden) is already UTC and locked
        if self.fetch("SELECT current_setting('TimeZone')") != [("UTC",)]:
            self.run(f"SET TimeZone = {self.lit('UTC')}")

    def ensure_schema(self, schema: str) -> None:
        self.run(f"CREATE SCHEMA IF NOT EXISTS {self.ident(schema)}")

    def ensure_state_table(self) -> None:
        self.ensure_schema(ops.OPS_SCHEMA)
        self.run(ops.create_table_sql(ops.KEEL_STATE, self.dialect, self.norm, self.OPS_TYPES))

    def read_state(self, source: str) -> dict[str, tuple[str | None, int]]:
        """Committed STATE JSON and record count per stream of ``source``."""
        table = self.ident(ops.OPS_SCHEMA, ops.KEEL_STATE.name)
        rows = self.fetch(
            f"SELECT {self.ident('STREAM')}, {self.ident('STATE')}, {self.ident('RECORDS')} "
            f"FROM {table} WHERE {self.ident('SOURCE')} = {self.lit(source)}"
        )
        return {stream: (state, int(records or 0)) for stream, state, records in rows}

    def upsert_state(
        self, source: str, stream: str, state: str | None, records: int, now: dt.datetime
    ) -> None:
        """Store ``state`` (None keeps the stored one) and add ``records`` to the count."""
        table = self.ident(ops.OPS_SCHEMA, ops.KEEL_STATE.name)
        names = ops.KEEL_STATE.column_names  # SOURCE, STREAM, STATE, RECORDS, UPDATED_AT
        values = ", ".join(
            [self.lit(source), self.lit(stream), self.lit(state), self.lit(records),
             self.stamp_sql(now)]
        )  # fmt: skip
        old = self.ident(ops.KEEL_STATE.name)
        st, rec, upd = self.ident("STATE"), self.ident("RECORDS"), self.ident("UPDATED_AT")
        self.run(
            f"INSERT INTO {table} ({', '.join(self.ident(n) for n in names)}) VALUES ({values}) "
            f"ON CONFLICT ({self.ident('SOURCE')}, {self.ident('STREAM')}) DO UPDATE SET "
            f"{st} = COALESCE(excluded.{st}, {old}.{st}), "
            f"{rec} = COALESCE({old}.{rec}, 0) + excluded.{rec}, {upd} = excluded.{upd}"
        )

    def stamp_sql(self, now: dt.datetime) -> str:
        """``now`` as a KEEL_STATE.UPDATED_AT value (DuckDB: a UTC TIMESTAMP)."""
        stamp = now.astimezone(dt.UTC).replace(tzinfo=None).isoformat()
        return f"CAST({self.lit(stamp)} AS TIMESTAMP)"

    # -- tables -----------------------------------------------------------------
    def columns(self, schema: str) -> dict[str, dict[str, str]]:
        """Every table of ``schema`` with its columns and portable types, in one query."""
        rows = self.fetch(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            f"WHERE table_catalog = current_database() AND table_schema = {self.lit(schema)} "
            "ORDER BY table_name, ordinal_position"
        )
        tables: dict[str, dict[str, str]] = {}
        for table, column, data_type in rows:
            kind = self._FROM_CATALOG.get(str(data_type).upper(), S.VARCHAR)
            tables.setdefault(table, {})[column] = kind
        return tables

    def max_extracted_at(self, schema: str, tables: Sequence[str]) -> dict[str, dt.datetime]:
        """The newest ``_AIRBYTE_EXTRACTED_AT`` of each table, in one query."""
        if not tables:
            return {}
        parts = [
            f"SELECT {self.lit(t)} AS t, max({self.ident(S.EXTRACTED_AT)}) AS m "
            f"FROM {self.ident(schema, t)}"
            for t in tables
        ]
        rows = self.fetch(" UNION ALL ".join(parts))
        return {t: m for t, m in rows if m is not None}

    def create_table(self, schema: str, table: str, columns: Sequence[tuple[str, str]]) -> None:
        cols = ", ".join(f"{self.ident(n)} {self.TYPE_NAMES[t]}" for n, t in columns)
        self.run(f"CREATE TABLE IF NOT EXISTS {self.ident(schema, table)} ({cols})")

    def add_column(self, schema: str, table: str, column: str, kind: str) -> None:
        self.run(
            f"ALTER TABLE {self.ident(schema, table)} "
            f"ADD COLUMN IF NOT EXISTS {self.ident(column)} {self.TYPE_NAMES[kind]}"
        )

    def widen_column(self, schema: str, table: str, column: str, kind: str) -> None:
        self.run(
            f"ALTER TABLE {self.ident(schema, table)} "
            f"ALTER COLUMN {self.ident(column)} SET DATA TYPE {self.TYPE_NAMES[kind]}"
        )

    # -- transactions -----------------------------------------------------------
    def begin(self) -> None:
        self.run("BEGIN TRANSACTION")

    def commit(self) -> None:
        self.run("COMMIT")

    def rollback(self) -> None:
        """Roll back, quietly when no transaction is open (it failed while committing)."""
        with contextlib.suppress(WarehouseError):
            self.run("ROLLBACK")

    # -- batches ------------------------------------------------------------------
    def stage(self, batch: pa.Table) -> str:
        """Make ``batch`` readable by SQL; returns the relation's quoted name."""
        with self._translated(f"register {BATCH_VIEW}"):
            self.conn.register(BATCH_VIEW, batch)
        return self.ident(BATCH_VIEW)

    def unstage(self) -> None:
        with self._translated(f"unregister {BATCH_VIEW}"):
            self.conn.unregister(BATCH_VIEW)

    def typed_select(
        self,
        sources: Sequence[str],
        columns: Sequence[tuple[str, str]],
        airbyte: dict[str, object],
        per_row: tuple[str, str] | None = None,
    ) -> list[str]:
        """``CAST(src AS type) AS "COLUMN"`` for each column, then Airbyte's columns.
        ``per_row``: staged columns (emit time in epoch seconds, meta JSON) that win over the
        batch's constant extraction time and meta where they are not null."""
        exprs = [
            f"CAST({self.ident(src)} AS {self.TYPE_NAMES[kind]}) AS {self.ident(name)}"
            for src, (name, kind) in zip(sources, columns, strict=True)
        ]
        uuid_text = f"CAST(gen_random_uuid() AS {self.TYPE_NAMES[S.VARCHAR]})"
        exprs.append(f"{uuid_text} AS {self.ident(S.RAW_ID)}")
        for name, kind in S.AIRBYTE_COLUMNS[1:]:
            value = f"CAST({self.lit(airbyte[name])} AS {self.TYPE_NAMES[kind]})"
            if per_row is not None and name == S.EXTRACTED_AT:  # to_timestamp: both engines
                value = f"COALESCE(to_timestamp({self.ident(per_row[0])}), {value})"
            elif per_row is not None and name == S.META:
                typed = f"CAST({self.ident(per_row[1])} AS {self.TYPE_NAMES[kind]})"
                value = f"COALESCE({typed}, {value})"
            exprs.append(f"{value} AS {self.ident(name)}")
        return exprs

    def append(self, schema: str, table: str, names: Sequence[str], select: Sequence[str]) -> None:
        self.run(
            f"INSERT INTO {self.ident(schema, table)} ({', '.join(self.ident(n) for n in names)}) "
            f"SELECT {', '.join(select)} FROM {self.ident(BATCH_VIEW)}"
        )

    def dedup_stage_sql(
        self, select: Sequence[str], names: Sequence[str], key: Sequence[str], cursor: str | None
    ) -> str:
        """The staged batch: typed, one row per key (newest cursor, then latest arrival)."""
        order = [f"{self.ident(cursor)} DESC NULLS LAST"] if cursor else []
        order.append(f"{self.ident(SEQ_COLUMN)} DESC")
        return (
            f"CREATE TEMP TABLE {self.ident(STAGE_TABLE)} AS "
            f"WITH typed AS (SELECT {', '.join(select)}, {self.ident(SEQ_COLUMN)} "
            f"FROM {self.ident(BATCH_VIEW)}) "
            f"SELECT {', '.join(self.ident(n) for n in names)} FROM typed "
            f"QUALIFY row_number() OVER (PARTITION BY {', '.join(self.ident(k) for k in key)} "
            f"ORDER BY {', '.join(order)}) = 1"
        )

    def merge_dedup(
        self,
        schema: str,
        table: str,
        names: Sequence[str],
        key: Sequence[str],
        cursor: str | None,
        select: Sequence[str],
        target_empty: bool,
    ) -> None:
        """Append + Deduped for one batch: stage, delete what it beats, insert the winners."""
        target = self.ident(schema, table)
        stage = self.ident(STAGE_TABLE)
        cols = ", ".join(self.ident(n) for n in names)
        self.run(self.dedup_stage_sql(select, names, key, cursor))
        try:
            if target_empty:
                self.run(f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {stage}")
                return
            same_key = " AND ".join(
                f"t.{self.ident(k)} IS NOT DISTINCT FROM s.{self.ident(k)}" for k in key
            )
            beats = ""
            if cursor:
                c = self.ident(cursor)
                beats = f" AND (t.{c} IS NULL OR (s.{c} IS NOT NULL AND s.{c} >= t.{c}))"
            self.run(f"DELETE FROM {target} AS t USING {stage} AS s WHERE {same_key}{beats}")
            self.run(
                f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {stage} AS s "
                f"WHERE NOT EXISTS (SELECT 1 FROM {target} AS t WHERE {same_key})"
            )
        finally:
            self.drop_temp(STAGE_TABLE)

    def drop_temp(self, name: str) -> None:
        """Drop a staging table of this session."""
        self.run(f"DROP TABLE IF EXISTS {self.ident(name)}")

    def uncastable_sql(self, column: str, type_name: str) -> str:
        """A condition: ``column`` holds a value that does not cast to ``type_name``."""
        return f"{column} IS NOT NULL AND TRY_CAST({column} AS {type_name}) IS NULL"

    def bad_rows(self, source: str, kind: str) -> list[int]:
        """The staged rows (arrival numbers) whose ``source`` value does not cast (after
        :meth:`bad_values`, which prepares what the check needs)."""
        bad = self.uncastable_sql(self.ident(source), self.TYPE_NAMES[kind])
        return [
            int(r[0])
            for r in self.fetch(
                f"SELECT {self.ident(SEQ_COLUMN)} FROM {self.ident(BATCH_VIEW)} WHERE {bad}"
            )
        ]

    def bad_values(
        self, sources: Sequence[str], kinds: Sequence[str]
    ) -> list[tuple[int, int, int]]:
        """For each staged source column that does not cast: (index, bad count, first seq)."""
        checks = []
        for src, kind in zip(sources, kinds, strict=True):
            bad = self.uncastable_sql(self.ident(src), self.TYPE_NAMES[kind])
            checks.append(
                f"count(*) FILTER (WHERE {bad}), min({self.ident(SEQ_COLUMN)}) FILTER (WHERE {bad})"
            )
        if not checks:
            return []
        row = self.fetch(f"SELECT {', '.join(checks)} FROM {self.ident(BATCH_VIEW)}")[0]
        found = []
        for i in range(len(sources)):
            count, first = row[2 * i], row[2 * i + 1]
            if count:
                found.append((i, int(count), int(first)))
        return found
