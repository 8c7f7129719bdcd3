"""Snowflake table streams for the DuckDB stand-in (tests/support/snowflake_duck.py).

Documented behaviour this encodes (docs.snowflake.com user-guide/streams-intro,
sql-reference/sql/create-stream, sql-reference/functions/system_stream_has_data):
- ``CREATE STREAM [IF NOT EXISTS] s ON TABLE t [APPEND_ONLY = ..] [SHOW_INITIAL_ROWS =
  TRUE|FALSE]`` records an offset; it is DDL (refused inside a transaction by the stand-in,
  as for every DDL); the table must exist; ``IF NOT EXISTS`` keeps an existing offset.
- Selecting from a stream returns the table's change rows since the offset, with
  ``METADATA$ACTION``, ``METADATA$ISUPDATE``, ``METADATA$ROW_ID``; it never moves the
  offset, even inside a transaction.
- The offset moves when a DML statement that reads the stream commits; a rollback leaves
  it. Every statement of one transaction sees the same stream rows (repeatable read): the
  stand-in's DuckDB transaction is a snapshot, so the consumed rows are exactly the ones
  the transaction's statements saw.
- ``SYSTEM$STREAM_HAS_DATA('<db>.<schema>.<stream>')`` is true when the stream has rows.

Model: keel's RAW tables change by INSERT and DELETE only (Airbyte's deduplication replaces
a row with a new ``_AIRBYTE_RAW_ID``), so the net change rows since the offset are the rows
present now whose raw id was not yet consumed: all ``INSERT`` (a row inserted and deleted
since the offset is not a change, as in Snowflake). A DELETE of a row consumed before is a
``DELETE`` change in Snowflake; keel filters on ``METADATA$ACTION = 'INSERT'``, so the
stand-in leaves those out.
"""

from __future__ import annotations

import re
from typing import Any

from keel.sql import DUCKDB, quote

NAME = r'((?:"[^"]+"\.)*"[^"]+")'
CREATE = re.compile(
    rf"^\s*CREATE\s+STREAM\s+(IF\s+NOT\s+EXISTS\s+)?{NAME}\s+ON\s+TABLE\s+{NAME}(.*)$",
    re.I | re.S,
)
HAS_DATA = re.compile(r"SYSTEM\$STREAM_HAS_DATA\('((?:[^']|'')*)'\)", re.I)
DML = re.compile(r"^\s*(INSERT|MERGE|UPDATE|DELETE)\b", re.I)


def _parts(name: str) -> list[str]:
    return re.findall(r'"([^"]+)"', name)


def _offset(parts: list[str]) -> str:
    *schema, name = parts
    return ".".join(quote(p, "ident", DUCKDB) for p in [*schema, f"{name}__OFFSET"])


def _view(parts: list[str]) -> str:
    return ".".join(quote(p, "ident", DUCKDB) for p in parts)


class Streams:
    """The streams of one fake warehouse (their names, as the view text keel sends)."""

    def __init__(self) -> None:
        self.known: dict[str, list[str]] = {}  # stream's quoted text (without db) -> parts

    def _key(self, parts: list[str], database: str) -> str:
        tail = parts[1:] if len(parts) == 3 and parts[0] == database else parts
        return ".".join(f'"{p}"' for p in tail)

    def create(self, duck: Any, sql: str, database: str) -> bool:
        """Run ``CREATE STREAM`` (True), or say it is not one (False)."""
        m = CREATE.match(sql)
        if m is None:
            return False
        exists, stream, table, options = m.groups()
        parts, tparts = _parts(stream), _parts(table)
        key = self._key(parts, database)
        if (
            key not in self.known
            and duck.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? "
                "AND table_name = ?",
                parts[-2:],
            ).fetchone()[0]
        ):
            self.known[key] = parts  # made by an earlier session: streams persist
        if key in self.known:
            if exists:
                return True
            raise ValueError(f"SQL compilation error: Object '{key}' already exists.")
        found = duck.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? "
            "AND table_name = ?",
            tparts[-2:],
        ).fetchone()[0]
        if not found:
            raise ValueError(f"SQL compilation error: Table '{table}' does not exist")
        offset, src = _offset(parts), _view(tparts)
        duck.execute(f'CREATE TABLE {offset} ("RAW_ID" VARCHAR PRIMARY KEY)')
        if not re.search(r"SHOW_INITIAL_ROWS\s*=\s*TRUE", options, re.I):
            duck.execute(f'INSERT INTO {offset} SELECT "_AIRBYTE_RAW_ID" FROM {src}')
        duck.execute(
            f"CREATE VIEW {_view(parts)} AS SELECT *, 'INSERT' AS \"METADATA$ACTION\", "
            f'FALSE AS "METADATA$ISUPDATE", "_AIRBYTE_RAW_ID" AS "METADATA$ROW_ID" '
            f'FROM {src} WHERE "_AIRBYTE_RAW_ID" NOT IN (SELECT "RAW_ID" FROM {offset})'
        )
        self.known[key] = parts
        return True

    def rewrite(self, sql: str) -> str:
        """``SYSTEM$STREAM_HAS_DATA('name')`` -> whether the stream has rows."""

        def has(m: re.Match[str]) -> str:
            parts = _parts(m.group(1).replace("''", "'"))
            key = self._key(parts, parts[0] if len(parts) == 3 else "")
            if key not in self.known:
                raise ValueError(f"SQL compilation error: Stream '{m.group(1)}' does not exist")
            return f"(SELECT count(*) > 0 FROM {_view(self.known[key])})"

        return HAS_DATA.sub(has, sql)

    def consumed(self, duck: Any, sql: str) -> None:
        """After a DML statement ran (in the caller's transaction, if any): the streams it
        read are consumed up to what the transaction sees."""
        if not DML.match(sql):
            return
        for key, parts in self.known.items():
            if key in sql:
                duck.execute(
                    f'INSERT INTO {_offset(parts)} SELECT "_AIRBYTE_RAW_ID" FROM {_view(parts)}'
                )
