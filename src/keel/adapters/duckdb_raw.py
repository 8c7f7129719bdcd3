"""The RAW writer's engine SQL for DuckDB (>= 1.2): a batch is an Arrow table registered
as a view, the deduplicated stage uses ``QUALIFY``, and ``TRY_CAST`` finds the values
that do not cast. The shared statements are :class:`keel.adapters.raw.RawSql`'s."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from keel.adapters import raw as R
from keel.adapters.raw import BATCH_VIEW, SEQ_COLUMN, STAGE_TABLE, RawSql

if TYPE_CHECKING:
    import pyarrow as pa

    from keel.adapters.duckdb import DuckDBAdapter


class DuckDBRaw(RawSql):
    """The RAW writer's SQL on a DuckDB adapter's connection."""

    a: DuckDBAdapter

    TYPE_NAMES: ClassVar[dict[str, str]] = {
        R.VARCHAR: "VARCHAR",
        R.BIGINT: "BIGINT",
        R.DOUBLE: "DOUBLE",
        R.BOOLEAN: "BOOLEAN",
        R.DATE: "DATE",
        R.TIMESTAMP: "TIMESTAMP",
        R.TIMESTAMPTZ: "TIMESTAMP WITH TIME ZONE",
        R.JSON: "JSON",
    }
    FROM_CATALOG: ClassVar[dict[str, str]] = {
        "VARCHAR": R.VARCHAR, "BIGINT": R.BIGINT, "DOUBLE": R.DOUBLE, "BOOLEAN": R.BOOLEAN,
        "DATE": R.DATE, "TIMESTAMP": R.TIMESTAMP, "TIMESTAMP WITH TIME ZONE": R.TIMESTAMPTZ,
        "JSON": R.JSON,
    }  # fmt: skip

    def prepare_session(self) -> None:
        # a hardened connection (keel.adapters.duckdb.harden) is already UTC and locked
        if self.fetch("SELECT current_setting('TimeZone')") != [("UTC",)]:
            self.run(f"SET TimeZone = {self.lit('UTC')}")

    def stamp_sql(self, now: dt.datetime) -> str:
        """A UTC TIMESTAMP."""
        stamp = now.astimezone(dt.UTC).replace(tzinfo=None).isoformat()
        return f"CAST({self.lit(stamp)} AS TIMESTAMP)"

    def columns_sql(self, schema: str) -> str:
        return (
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            f"WHERE table_catalog = current_database() AND table_schema = {self.lit(schema)} "
            "ORDER BY table_name, ordinal_position"
        )

    def begin(self) -> None:  # the adapter's (the same statement): it knows one is open
        self.a.begin()

    def commit(self) -> None:
        self.a.commit()

    def stage(self, batch: pa.Table) -> str:
        """DuckDB scans the registered Arrow table."""
        from keel.adapters.duckdb_lib import python_scans

        python_scans()
        with self.a.translated(f"register {BATCH_VIEW}"):
            self.a.conn.register(BATCH_VIEW, batch)
        return self.ident(BATCH_VIEW)

    def unstage(self) -> None:
        with self.a.translated(f"unregister {BATCH_VIEW}"):
            self.a.conn.unregister(BATCH_VIEW)

    def dedup_stage_sql(
        self, select: Sequence[str], names: Sequence[str], key: Sequence[str], cursor: str | None
    ) -> str:
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

    def uncastable_sql(self, column: str, type_name: str) -> str:
        return f"{column} IS NOT NULL AND TRY_CAST({column} AS {type_name}) IS NULL"

    def widen_column(self, schema: str, table: str, column: str, kind: str) -> None:
        self.run(
            f"ALTER TABLE {self.ident(schema, table)} "
            f"ALTER COLUMN {self.ident(column)} SET DATA TYPE {self.TYPE_NAMES[kind]}"
        )
