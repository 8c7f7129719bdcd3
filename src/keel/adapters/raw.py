"""The RAW writer's engine SQL: a capability an adapter hands out (``adapter.raw_writer()``).

The writer (:mod:`keel.ingest.writer`) decides *what* happens; a :class:`RawSql` decides
how it is spelled for one engine. Quoting, execution, error translation and transactions
are the adapter's (``ident``, ``lit``, ``execute``, ``fetch``, ``translated``); what
this base class holds is the set-based SQL both engines share, and each engine's module
(:mod:`keel.adapters.duckdb_raw`, :mod:`keel.adapters.postgres_raw`) fills in the rest:
the session, the type names, the column reader's catalog query, staging an Arrow batch,
the deduplicated stage, the test for values that do not cast, and widening a column.

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

The portable column types and Airbyte's columns are declared here, below the ingest
layer that maps JSON schemas onto them (:mod:`keel.ingest.schema` re-exports them).
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import pyarrow as pa

    from keel.adapters.base import Adapter

VARCHAR = "VARCHAR"
BIGINT = "BIGINT"
DOUBLE = "DOUBLE"
BOOLEAN = "BOOLEAN"
DATE = "DATE"
TIMESTAMP = "TIMESTAMP"
TIMESTAMPTZ = "TIMESTAMPTZ"
JSON = "JSON"
TYPES = (VARCHAR, BIGINT, DOUBLE, BOOLEAN, DATE, TIMESTAMP, TIMESTAMPTZ, JSON)

# Airbyte's own columns, in the order the Snowflake destination creates them.
RAW_ID = "_AIRBYTE_RAW_ID"
EXTRACTED_AT = "_AIRBYTE_EXTRACTED_AT"
META = "_AIRBYTE_META"
GENERATION_ID = "_AIRBYTE_GENERATION_ID"
AIRBYTE_COLUMNS: tuple[tuple[str, str], ...] = (
    (RAW_ID, VARCHAR),
    (EXTRACTED_AT, TIMESTAMPTZ),
    (META, JSON),
    (GENERATION_ID, BIGINT),
)

BATCH_VIEW = "keel_ingest_batch"
STAGE_TABLE = "keel_ingest_stage"
SEQ_COLUMN = "keel_seq"
KIND = "ingest"  # the adapter's query count for the writer's reads


class RawSql(ABC):
    """The RAW writer's statements on one adapter's connection."""

    TYPE_NAMES: ClassVar[dict[str, str]]  # portable type -> the engine's type
    FROM_CATALOG: ClassVar[dict[str, str]]  # the catalog's spelling -> portable type

    def __init__(self, adapter: Adapter) -> None:
        self.a = adapter
        self.ops_types: dict[str, str] | None = dict(adapter.type_map) or None

    # -- spelling and execution: the adapter's -------------------------------------------
    def ident(self, *parts: str) -> str:
        return self.a.ident(*parts)

    def lit(self, value: object) -> str:
        return self.a.lit(value)

    def run(self, sql: str) -> None:
        self.a.execute(sql)

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        return self.a.fetch(sql, KIND)

    # -- engine specifics ----------------------------------------------------------------
    @abstractmethod
    def prepare_session(self) -> None:
        """Timestamps without an offset are UTC, as in Airbyte's destinations."""

    @abstractmethod
    def stamp_sql(self, now: dt.datetime) -> str:
        """``now`` as the engine's timestamp value (the state's UPDATED_AT)."""

    @abstractmethod
    def columns_sql(self, schema: str) -> str:
        """(table, column, type) of every table of ``schema``, in column order."""

    @abstractmethod
    def stage(self, batch: pa.Table) -> str:
        """Make ``batch`` readable by SQL as ``BATCH_VIEW``; returns its quoted name."""

    @abstractmethod
    def unstage(self) -> None: ...

    @abstractmethod
    def dedup_stage_sql(
        self, select: Sequence[str], names: Sequence[str], key: Sequence[str], cursor: str | None
    ) -> str:
        """The staged batch: typed, one row per key (newest cursor, then latest arrival)."""

    @abstractmethod
    def uncastable_sql(self, column: str, type_name: str) -> str:
        """A condition: ``column`` holds a value that does not cast to ``type_name``."""

    @abstractmethod
    def widen_column(self, schema: str, table: str, column: str, kind: str) -> None: ...

    # -- schemas and tables --------------------------------------------------------------
    def ensure_schema(self, schema: str) -> None:
        self.run(f"CREATE SCHEMA IF NOT EXISTS {self.ident(schema)}")

    def columns(self, schema: str) -> dict[str, dict[str, str]]:
        """Every table of ``schema`` with its columns and portable types, in one query."""
        tables: dict[str, dict[str, str]] = {}
        for table, column, data_type in self.fetch(self.columns_sql(schema)):
            text = str(data_type)  # DuckDB's spellings are upper case, PostgreSQL's lower
            kind = self.FROM_CATALOG.get(text) or self.FROM_CATALOG.get(text.upper(), VARCHAR)
            tables.setdefault(table, {})[column] = kind
        return tables

    def max_extracted_at(self, schema: str, tables: Sequence[str]) -> dict[str, dt.datetime]:
        """The newest ``_AIRBYTE_EXTRACTED_AT`` of each table, in one query."""
        if not tables:
            return {}
        parts = [
            f"SELECT {self.lit(t)} AS t, max({self.ident(EXTRACTED_AT)}) AS m "
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

    # -- transactions --------------------------------------------------------------------
    def begin(self) -> None:
        self.run("BEGIN TRANSACTION")

    def commit(self) -> None:
        self.run("COMMIT")

    def rollback(self) -> None:
        """Roll back, quietly when no transaction is open (it failed while committing)."""
        self.a.rollback()

    # -- batches -------------------------------------------------------------------------
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
        uuid_text = f"CAST(gen_random_uuid() AS {self.TYPE_NAMES[VARCHAR]})"
        exprs.append(f"{uuid_text} AS {self.ident(RAW_ID)}")
        for name, kind in AIRBYTE_COLUMNS[1:]:
            value = f"CAST({self.lit(airbyte[name])} AS {self.TYPE_NAMES[kind]})"
            if per_row is not None and name == EXTRACTED_AT:  # to_timestamp: both engines
                value = f"COALESCE(to_timestamp({self.ident(per_row[0])}), {value})"
            elif per_row is not None and name == META:
                typed = f"CAST({self.ident(per_row[1])} AS {self.TYPE_NAMES[kind]})"
                value = f"COALESCE({typed}, {value})"
            exprs.append(f"{value} AS {self.ident(name)}")
        return exprs

    def append(self, schema: str, table: str, names: Sequence[str], select: Sequence[str]) -> None:
        self.run(
            f"INSERT INTO {self.ident(schema, table)} ({', '.join(self.ident(n) for n in names)}) "
            f"SELECT {', '.join(select)} FROM {self.ident(BATCH_VIEW)}"
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

    def bad_rows(self, source: str, kind: str) -> list[int]:
        """The staged rows (arrival numbers) whose ``source`` value does not cast (after
        :meth:`bad_values`, which prepares what the check needs)."""
        bad = self.uncastable_sql(self.ident(source), self.TYPE_NAMES[kind])
        rows = self.fetch(
            f"SELECT {self.ident(SEQ_COLUMN)} FROM {self.ident(BATCH_VIEW)} WHERE {bad}"
        )
        return [int(r[0]) for r in rows]

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
