"""The RAW writer's engine SQL for PostgreSQL (15+, psycopg 3). The shared statements are
:class:`keel.adapters.raw.RawSql`'s; what differs here:

- names are the adapter's: canonical upper case in keel, lower case on the server
  (``GONG_DATA_RAW.CALLS`` is ``gong_data_raw.calls``);
- types: ``text``, ``bigint``, ``double precision``, ``boolean``, ``date``,
  ``timestamp``, ``timestamptz``, ``jsonb``;
- a batch is staged set-based: a temporary table ``keel_ingest_batch`` typed like the
  Arrow batch, filled with one ``COPY ... FROM STDIN``; the typed, deduplicated stage
  uses ``DISTINCT ON`` where DuckDB uses ``QUALIFY``;
- a statement that fails aborts the transaction, so the staging tables are not
  dropped then (the rollback removes them), and the search for values that do not
  cast runs after the rollback with a temporary function (PostgreSQL 15 has no
  ``TRY_CAST``);
- a table the writer creates gets the recorded column policies in the same
  transaction (:meth:`~keel.adapters.postgres_masking.PostgresMasking.masking_sql`), so
  default privileges never expose a masked column.

Temporary tables need the TEMPORARY privilege on the database, which keel's
bootstrap revokes from PUBLIC: keel's user must own the database, be a superuser, or
be granted TEMPORARY (``docs/postgres.md``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from keel.adapters import raw as R
from keel.adapters import role_store
from keel.adapters.raw import BATCH_VIEW, SEQ_COLUMN, STAGE_TABLE, RawSql

if TYPE_CHECKING:
    import pyarrow as pa

    from keel.adapters.postgres import PostgresAdapter

CASTABLE = "keel_castable"  # pg_temp function: does a text value cast to a type?
_ARROW_TYPES = {"int64": "bigint", "double": "double precision", "bool": "boolean"}


class PostgresRaw(RawSql):
    """The RAW writer's SQL on a PostgreSQL adapter's connection."""

    a: PostgresAdapter
    TYPE_NAMES: ClassVar[dict[str, str]] = {
        R.VARCHAR: "text",
        R.BIGINT: "bigint",
        R.DOUBLE: "double precision",
        R.BOOLEAN: "boolean",
        R.DATE: "date",
        R.TIMESTAMP: "timestamp",
        R.TIMESTAMPTZ: "timestamptz",
        R.JSON: "jsonb",
    }
    # format_type() spellings -> portable type; anything else is treated as text
    FROM_CATALOG: ClassVar[dict[str, str]] = {
        "text": R.VARCHAR,
        "character varying": R.VARCHAR,
        "bigint": R.BIGINT,
        "integer": R.BIGINT,
        "smallint": R.BIGINT,
        "double precision": R.DOUBLE,
        "real": R.DOUBLE,
        "boolean": R.BOOLEAN,
        "date": R.DATE,
        "timestamp without time zone": R.TIMESTAMP,
        "timestamp with time zone": R.TIMESTAMPTZ,
        "json": R.JSON,
        "jsonb": R.JSON,
    }

    def __init__(self, adapter: PostgresAdapter) -> None:
        super().__init__(adapter)
        self._policies: bool | None = None

    def _aborted(self) -> bool:
        """Whether the open transaction failed (only ROLLBACK is accepted until it ends)."""
        from psycopg.pq import TransactionStatus

        return bool(self.a.conn.info.transaction_status == TransactionStatus.INERROR)

    def prepare_session(self) -> None:
        self.run(f"SET TimeZone TO {self.lit('UTC')}")

    def stamp_sql(self, now: dt.datetime) -> str:
        return f"CAST({self.lit(now.astimezone(dt.UTC).isoformat())} AS timestamptz)"

    def columns_sql(self, schema: str) -> str:
        return (
            "SELECT c.relname, a.attname, format_type(a.atttypid, NULL) "
            "FROM pg_catalog.pg_attribute a "
            "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE n.nspname = {self.lit(self.a.norm(schema))} AND c.relkind IN ('r', 'p') "
            "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum"
        )

    def create_table(self, schema: str, table: str, columns: Sequence[tuple[str, str]]) -> None:
        """Create the table and apply the recorded column policies, in one transaction."""
        self.begin()
        try:
            super().create_table(schema, table, columns)
            if self._has_policies():
                for sql in self.a.masking_sql(schema, table):
                    self.run(sql)
            self.commit()
        except BaseException:
            self.rollback()
            raise

    def _has_policies(self) -> bool:
        """Whether keel's apply created the table where column policies are recorded."""
        if self._policies is None:
            self._policies = role_store.policies_table_exists(self.a)
        return self._policies

    def widen_column(self, schema: str, table: str, column: str, kind: str) -> None:
        name, type_name = self.ident(column), self.TYPE_NAMES[kind]
        self.run(
            f"ALTER TABLE {self.ident(schema, table)} ALTER COLUMN {name} "
            f"SET DATA TYPE {type_name} USING CAST({name} AS {type_name})"
        )

    def stage(self, batch: pa.Table) -> str:
        """The batch in a temporary table typed like its Arrow columns, by one COPY."""
        names = list(batch.column_names)
        cols = ", ".join(
            f"{self.ident(n)} {_ARROW_TYPES.get(str(batch.schema.field(n).type), 'text')}"
            for n in names
        )
        self.drop_temp(BATCH_VIEW)
        self.run(f"CREATE TEMP TABLE {self.ident(BATCH_VIEW)} ({cols})")
        copy_sql = f"COPY {self.ident(BATCH_VIEW)} ({', '.join(self.ident(n) for n in names)}) "
        copy_sql += "FROM STDIN"
        columns = [batch.column(n).to_pylist() for n in names]
        with (
            self.a.translated(copy_sql),
            self.a.conn.cursor() as cur,
            cur.copy(copy_sql.encode()) as copy,
        ):
            for row in zip(*columns, strict=True):
                copy.write_row(row)
        return self.ident(BATCH_VIEW)

    def unstage(self) -> None:
        self.drop_temp(BATCH_VIEW)

    def drop_temp(self, name: str) -> None:
        """Drop a staging table, unless the transaction failed (its rollback drops it)."""
        if not self._aborted():
            super().drop_temp(name)

    def dedup_stage_sql(
        self, select: Sequence[str], names: Sequence[str], key: Sequence[str], cursor: str | None
    ) -> str:
        keys = [self.ident(k) for k in key]
        order = [*keys]
        if cursor:
            order.append(f"{self.ident(cursor)} DESC NULLS LAST")
        order.append(f"{self.ident(SEQ_COLUMN)} DESC")
        return (
            f"CREATE TEMP TABLE {self.ident(STAGE_TABLE)} AS "
            f"WITH typed AS (SELECT {', '.join(select)}, {self.ident(SEQ_COLUMN)} "
            f"FROM {self.ident(BATCH_VIEW)}) "
            f"SELECT DISTINCT ON ({', '.join(keys)}) {', '.join(self.ident(n) for n in names)} "
            f"FROM typed ORDER BY {', '.join(order)}"
        )

    def uncastable_sql(self, column: str, type_name: str) -> str:
        return (
            f"{column} IS NOT NULL AND NOT pg_temp.{self.ident(CASTABLE)}"
            f"(CAST({column} AS text), {self.lit(type_name)})"
        )

    def bad_values(
        self, sources: Sequence[str], kinds: Sequence[str]
    ) -> list[tuple[int, int, int]]:
        """As on DuckDB, with a temporary function in place of ``TRY_CAST``."""
        self.run(
            f"CREATE OR REPLACE FUNCTION pg_temp.{self.ident(CASTABLE)}(v text, t text) "
            "RETURNS boolean LANGUAGE plpgsql AS "
            + self.lit(
                "BEGIN EXECUTE format('SELECT CAST(%L AS ' || t || ')', v); RETURN true; "
                "EXCEPTION WHEN others THEN RETURN false; END"
            )
        )
        return super().bad_values(sources, kinds)
