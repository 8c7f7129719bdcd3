"""A Snowflake connection for tests, without an account: every statement is recorded
(text and bound values) and then run on DuckDB, with the DuckDB database attached under
the Snowflake database's name so that keel's fully qualified names resolve.

The stand-in is at least as strict as Snowflake where keel could go wrong, and refuses
(documented Snowflake behaviour, sql-reference):
- ``INSERT ... ON CONFLICT`` and ``RETURNING``: Snowflake has neither clause;
- pyformat markers (``%s``): keel connects with ``paramstyle="qmark"`` (``?``);
- ``FILTER (WHERE ...)`` aggregates: not Snowflake SQL;
- DDL while a transaction is open: Snowflake commits the open transaction before any
  DDL, so keel must run its DDL before ``BEGIN``.
String literals use Snowflake's escapes (a backslash escapes the next character, so
keel doubles every backslash: keel.sql's SNOWFLAKE dialect); they are read back as
Snowflake reads them before DuckDB (no backslash escapes) sees them.
Statements DuckDB cannot run but Snowflake documents (``CREATE TAG``, ``SET TAG`` /
``UNSET TAG``,
``WITH MANAGED ACCESS``) are recorded and accepted without effect; Snowflake type names
are mapped to DuckDB's (TIMESTAMP_TZ, VARIANT, NUMBER), as are three spellings DuckDB
lacks (``CURRENT_TIMESTAMP()``; ``PARSE_JSON(text)``; a MERGE's ``UPDATE SET "T"."X" =``).
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import duckdb
from tests.support.snowflake_streams import Streams

from keel.sql import DUCKDB, quote

REFUSED = (
    (re.compile(r"\bON\s+CONFLICT\b", re.I), "syntax error: unexpected 'ON' (no ON CONFLICT)"),
    (re.compile(r"\bRETURNING\b", re.I), "syntax error: unexpected 'RETURNING'"),
    (re.compile(r"%s"), "pyformat marker %s with paramstyle qmark"),
    (re.compile(r"\bFILTER\s*\(\s*WHERE\b", re.I), "syntax error: unexpected 'FILTER'"),
)
DDL = re.compile(r"^\s*(CREATE|ALTER|DROP)\b", re.I)
TAGS = re.compile(r"\b(SET|UNSET)\s+TAG\b|^\s*CREATE\s+TAG\b", re.I)
TYPES = (("TIMESTAMP_TZ", "TIMESTAMPTZ"), ("VARIANT", "JSON"), ("NUMBER", "BIGINT"))
# Snowflake functions keel uses, spelled in DuckDB (same results on the values keel stores)
FUNCTIONS = (
    (
        re.compile(r"ARRAY_SIZE\(GET\(([^()]+), 'changes'\)\)"),
        r"json_array_length(\1, '$.changes')",
    ),
)


# [sql-reference/info-schema/columns]: DATA_TYPE is the standard Snowflake type, so a
# BIGINT column reads NUMBER (precision and scale in NUMERIC_PRECISION / NUMERIC_SCALE),
# VARCHAR reads TEXT, DOUBLE FLOAT, a JSON column VARIANT. The stand-in answers
# information_schema.columns the same way, from DuckDB's own view.
_INTS = "('BIGINT', 'INTEGER', 'SMALLINT', 'TINYINT', 'HUGEINT')"
SNOWFLAKE_COLUMNS = (
    "(SELECT table_catalog, table_schema, table_name, column_name, ordinal_position, "
    f"CASE WHEN data_type IN {_INTS} OR data_type LIKE 'DECIMAL%' THEN 'NUMBER' "
    "WHEN data_type = 'VARCHAR' THEN 'TEXT' "
    "WHEN data_type IN ('DOUBLE', 'FLOAT', 'REAL') THEN 'FLOAT' "
    "WHEN data_type = 'TIMESTAMP WITH TIME ZONE' THEN 'TIMESTAMP_TZ' "
    "WHEN data_type = 'TIMESTAMP' THEN 'TIMESTAMP_NTZ' "
    "WHEN data_type = 'JSON' THEN 'VARIANT' ELSE data_type END AS data_type, "
    f"CASE WHEN data_type IN {_INTS} THEN 38 ELSE numeric_precision END AS numeric_precision, "
    f"CASE WHEN data_type IN {_INTS} THEN 0 ELSE numeric_scale END AS numeric_scale "
    "FROM information_schema.columns) AS columns"
)


def _types(code: str) -> str:
    for theirs, ours in TYPES:
        code = re.sub(rf"\b{theirs}\b", ours, code)
    return code


def outside_literals(sql: str, change: Any) -> str:
    """``change`` applied to the SQL between string literals (a literal 'NUMBER' stays)."""
    pieces = re.split(r"('(?:[^']|'')*')", sql)
    return "".join(p if i % 2 else change(p) for i, p in enumerate(pieces))


def unescape(sql: str) -> str:
    """Snowflake string literals -> DuckDB's: ``\\`` is one backslash; any other backslash
    escape is refused (keel writes none)."""
    out, i, quoted, named = [], 0, False, False
    while i < len(sql):
        ch = sql[i]
        if ch == '"' and not quoted:
            named = not named
        elif ch == "'" and not named:
            quoted = not quoted
        elif ch == "\\" and quoted:
            nxt = sql[i + 1 : i + 2]
            if nxt != "\\":
                raise SnowflakeError(f"keel wrote the Snowflake escape \\{nxt} in a literal")
            out.append("\\")
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


_TARGET = re.compile(r'^\s*MERGE\s+INTO\s+\S+\s+AS\s+("[^"]+")', re.I)


def unqualified_sets(sql: str) -> str:
    """``UPDATE SET "T"."X" = ...`` in a MERGE -> ``SET "X" = ...``: Snowflake takes the
    target's alias on an assigned column, DuckDB does not (a DuckDB limit, not keel's)."""
    target = _TARGET.match(sql)
    if not target:
        return sql
    alias = re.escape(target.group(1))
    return re.sub(rf'(UPDATE\s+SET\s+|,\s*){alias}\.("[^"]+"\s*=)', r"\1\2", sql)


class SnowflakeError(Exception):
    def __init__(self, msg: str):
        super().__init__(msg)
        self.msg = msg


class Log:
    """What every connection of one fake warehouse sent, in order."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: list[tuple[str, tuple[Any, ...]]] = []
        self.threads: list[int] = []  # the thread that sent each entry

    @property
    def statements(self) -> list[str]:
        with self.lock:
            return [sql for sql, _ in self.entries]

    def statements_of(self, thread: int) -> list[str]:
        """What one thread sent (``keel serve`` runs its alert outbox beside the workers)."""
        with self.lock:
            return [
                sql for (sql, _), t in zip(self.entries, self.threads, strict=True) if t == thread
            ]

    def thread_of(self, index: int) -> int:
        with self.lock:
            return self.threads[index]


class Cursor:
    def __init__(self, conn: Connection):
        self.conn = conn
        self.description: list[tuple[str, ...]] | None = None
        self._rows: list[tuple[Any, ...]] = []

    def execute(self, sql: str, params: Any = None) -> Cursor:
        with self.conn.log.lock:
            self.conn.log.entries.append((sql, tuple(params or ())))
            self.conn.log.threads.append(threading.get_ident())
        if self.conn.refuse is not None and self.conn.refuse.search(sql):
            raise SnowflakeError("Statement reached its statement or warehouse timeout")
        for pattern, message in REFUSED:
            if pattern.search(sql):
                raise SnowflakeError(f"SQL compilation error: {message}")
        word = sql.strip().split()[0].upper()
        if DDL.match(sql) and self.conn.in_transaction:
            raise SnowflakeError("keel sent DDL inside an open transaction (it would commit it)")
        if word in ("BEGIN", "START"):
            self.conn.in_transaction = True
        elif word in ("COMMIT", "ROLLBACK"):
            self.conn.in_transaction = False
        if TAGS.search(sql):
            self.description, self._rows = [("status",)], [("Statement executed successfully.",)]
            return self
        text = unqualified_sets(unescape(sql.replace(" WITH MANAGED ACCESS", "")))
        text = re.sub(r"\bCURRENT_TIMESTAMP\(\)", "CURRENT_TIMESTAMP", text)
        text = re.sub(r"\bPARSE_JSON\(", "json(", text)  # [functions/parse_json]: text -> VARIANT
        text = outside_literals(text, _types)
        text = re.sub(r"\binformation_schema\.columns\b", SNOWFLAKE_COLUMNS, text, flags=re.I)
        for pattern, spelled in FUNCTIONS:
            text = pattern.sub(spelled, text)
        streams = self.conn.streams  # table streams: tests/support/snowflake_streams.py
        try:
            if streams.create(self.conn.duck, text, self.conn.database):
                self.description, self._rows = [("status",)], [("Stream created.",)]
                return self
            result = self.conn.duck.execute(streams.rewrite(text), list(params) if params else None)
            description = result.description
            rows = result.fetchall() if description else []
            streams.consumed(self.conn.duck, text)
        except (duckdb.Error, ValueError) as exc:
            raise SnowflakeError(str(exc).splitlines()[0]) from exc
        self.description, self._rows = description, rows
        return self

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows

    def close(self) -> None:
        pass


class Connection:
    def __init__(
        self,
        duck: Any,
        log: Log,
        database: str,
        refuse: re.Pattern[str] | None,
        streams: Streams | None = None,
    ):
        self.duck = duck
        self.log = log
        self.refuse = refuse
        self.database = database
        self.streams = streams or Streams()
        self.in_transaction = False
        duck.execute(f"USE {quote(database, 'ident', DUCKDB)}")

    def cursor(self) -> Cursor:
        return Cursor(self)

    def close(self) -> None:
        self.duck.close()


class Warehouse:
    """One DuckDB file seen as Snowflake database ``database``; connect() opens sessions."""

    def __init__(self, path: Path, database: str = "SOPHIA", refuse: str | None = None):
        """``refuse``: a pattern; statements matching it fail as Snowflake errors would."""
        self.database = database
        self.refuse = re.compile(refuse) if refuse else None
        self.root = duckdb.connect()
        target = quote(str(path), "literal", DUCKDB)
        self.root.execute(f"ATTACH {target} AS {quote(database, 'ident', DUCKDB)}")
        self.log = Log()
        self.streams = Streams()

    def connect(self) -> Connection:
        return Connection(self.root.cursor(), self.log, self.database, self.refuse, self.streams)

    def close(self) -> None:
        self.root.close()
