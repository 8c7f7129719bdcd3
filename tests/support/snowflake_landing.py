"""One sync of a demo source landed in a Snowflake _RAW schema as Airbyte would leave it
(the stream's columns plus the _AIRBYTE_* columns), for tests that gate and publish on
Snowflake: the live module (an account) and its offline twin (the stand-in,
tests/support/snowflake_duck). keel ingest does not write Snowflake (Airbyte does), so the
records are ingested into a local DuckDB project and copied over through the adapter."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from keel.adapters.base import Adapter
from keel.context import Context
from keel.project.init import write_project
from keel.sql import DUCKDB, quote

# DuckDB RAW column types (keel's local writer) -> Snowflake's, as Airbyte's Snowflake
# destination types them (shared/reference/snowflake.md: integer -> NUMBER, number -> FLOAT,
# object / array -> VARIANT, timestamps with time zone -> TIMESTAMP_TZ)
SNOWFLAKE_TYPES = {
    "VARCHAR": "VARCHAR",
    "BIGINT": "NUMBER",
    "INTEGER": "NUMBER",
    "DOUBLE": "FLOAT",
    "BOOLEAN": "BOOLEAN",
    "DATE": "DATE",
    "TIMESTAMP WITH TIME ZONE": "TIMESTAMP_TZ",
    "TIMESTAMP": "TIMESTAMP_NTZ",
    "JSON": "VARIANT",
}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def land_one_sync(local: Path, target: Adapter, source: str = "hubspot") -> dict[str, int]:
    """The demo source's first sync, ingested into a DuckDB project written in ``local``,
    then loaded into ``target``'s (a Snowflake adapter's) <SOURCE>_DATA_RAW tables, each
    replaced (CREATE OR REPLACE TABLE). Values travel as bind parameters (qmark) and are
    cast in SQL, a VARIANT through PARSE_JSON in an INSERT ... SELECT: Snowflake does not
    take PARSE_JSON inside a VALUES clause [sql-reference/sql/insert]. Returns rows per
    table."""
    import duckdb

    write_project(local)
    with Context(local) as ctx:
        ctx.apply()
        ctx.ingest([source])
    schema = f"{source.upper()}_DATA_RAW"
    con = duckdb.connect(str(local / ".keel" / "warehouse.duckdb"), read_only=True)
    landed: dict[str, int] = {}
    a = target
    try:
        cols: dict[str, list[tuple[str, str]]] = {}
        for table, column, data_type in con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? ORDER BY table_name, ordinal_position",
            [schema],
        ).fetchall():
            cols.setdefault(table, []).append((column, SNOWFLAKE_TYPES.get(data_type, "VARCHAR")))
        for table, columns in cols.items():
            ddl = ", ".join(f"{a.ident(c)} {t}" for c, t in columns)
            a.execute(f"CREATE OR REPLACE TABLE {a.ident(schema, table)} ({ddl})")
            names = ", ".join(a.ident(c) for c, _ in columns)
            picks = ", ".join(
                "PARSE_JSON(?)" if t == "VARIANT" else f"CAST(? AS {t})" for _, t in columns
            )
            local_names = ", ".join(quote(c, "ident", DUCKDB) for c, _ in columns)
            local_ref = f"{quote(schema, 'ident', DUCKDB)}.{quote(table, 'ident', DUCKDB)}"
            rows = con.execute(f"SELECT {local_names} FROM {local_ref}").fetchall()
            for i in range(0, len(rows), 100):
                chunk = rows[i : i + 100]
                selects = " UNION ALL ".join(f"SELECT {picks}" for _ in chunk)
                a.execute_bound(
                    f"INSERT INTO {a.ident(schema, table)} ({names}) {selects}",
                    [_text(v) for row in chunk for v in row],
                )
            landed[table] = len(rows)
    finally:
        con.close()
    return landed
