"""DuckDB: the embedded default. Tags live in SOPHIA_OPS.KEEL_TAGS; roles and
grants are recorded there too and reported as not enforced."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel import ops_tables as ops
from keel.adapters.base import Adapter, Capabilities
from keel.errors import WarehouseError, WarehouseLockedError
from keel.sql import DUCKDB

if TYPE_CHECKING:
    from keel.adapters.duckdb_raw import DuckDBRaw
    from keel.resources import ActualState

# cursors reading in parallel (fetch_many): one per core
WORKERS = max(1, os.cpu_count() or 1)

_LOCK = re.compile(r"Conflicting lock is held in (.+?) \(PID (\d+)\)")


def connect(path: str, read_only: bool = False) -> Any:
    """Open a DuckDB file, turning DuckDB's lock error into a clear keel error."""
    from keel.adapters.duckdb_lib import duckdb

    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        return harden(duckdb.connect(path, read_only=read_only))
    except duckdb.IOException as exc:
        text = str(exc)
        m = _LOCK.search(text)
        if m or "lock" in text.lower():
            who = f" by process {m.group(2)} ({m.group(1)})" if m else ""
            raise WarehouseLockedError(
                f"the warehouse file {path} is in use{who}. Is `keel serve` running? "
                "Stop it, or run the command through the server's API."
            ) from exc
        raise WarehouseError(f"cannot open the warehouse file {path}: {text}") from exc


# DuckDB's "Securing DuckDB" settings: with enable_external_access off no SQL can
# read or write files (read_text, COPY ... TO, ATTACH) or reach the network; the
# extension autoload/install switches stop a query from pulling code in; and
# lock_configuration freezes every setting. Security settings only ever tighten in
# a running process. TimeZone is fixed first: setting it loads the ICU extension,
# which is no longer possible once files are off limits.
HARDENING = (
    "SET TimeZone = 'UTC'",
    "SET enable_external_access = false",
    "SET autoload_known_extensions = false",
    "SET autoinstall_known_extensions = false",
    "SET allow_community_extensions = false",
    "SET lock_configuration = true",
)


def harden(conn: Any) -> Any:
    """``conn`` with file, network and extension access off and its settings locked."""
    for statement in HARDENING:
        conn.execute(statement)
    return conn


class DuckDBAdapter(Adapter):
    name = "duckdb"
    caps = Capabilities(
        enforces_grants=False,
        native_tags=False,
        transactional_ddl=True,
        merge=True,
        column_privileges=False,
        lower_case_names=False,
    )
    dialect = DUCKDB

    def __init__(self, path: str = ":memory:", connection: Any = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.path = path
        self.conn = connection if connection is not None else connect(path)
        self.in_transaction = False  # begin() .. commit() / rollback() (table_columns)

    @contextlib.contextmanager
    def translated(self, sql: str) -> Iterator[None]:
        from keel.adapters.duckdb_lib import duckdb

        try:
            yield
        except duckdb.Error as exc:
            first = (str(exc).splitlines() or [type(exc).__name__])[0]
            raise WarehouseError(f"DuckDB refused: {first}\n  SQL: {sql[:500]}") from exc

    def execute(self, sql: str) -> None:
        with self.translated(sql):
            self.conn.execute(sql)

    def fetch(self, sql: str, kind: str = "data") -> list[tuple[Any, ...]]:
        self.queries[kind] += 1
        with self.translated(sql):
            return list(self.conn.execute(sql).fetchall())

    def fetch_bound(
        self, sql: str, params: Sequence[object], kind: str = "data"
    ) -> list[tuple[Any, ...]]:
        """DuckDB binds ``?`` parameters (its Python API's ``execute(query, parameters)``)."""
        self.queries[kind] += 1
        with self.translated(sql):
            cursor = self.conn.execute(sql, list(params))
            return list(cursor.fetchall()) if cursor.description else []

    def raw_writer(self) -> DuckDBRaw:
        from keel.adapters.duckdb_raw import DuckDBRaw

        return DuckDBRaw(self)

    def fetch_many(self, queries: Sequence[str], kind: str) -> Iterator[list[tuple[Any, ...]]]:
        """Independent reads run on cursors in parallel (DuckDB releases the GIL), one per
        core: more only contend with DuckDB's own threads. Results come back in order, each
        as soon as it and those before it are read, while later ones are still running."""
        from keel.adapters.duckdb_lib import duckdb

        if len(queries) < 2:
            yield from super().fetch_many(queries, kind)
            return

        def run(sql: str) -> list[tuple[Any, ...]]:
            cursor = self.conn.cursor()
            try:
                return list(cursor.execute(sql).fetchall())
            except duckdb.Error as exc:
                raise WarehouseError(f"DuckDB refused: {str(exc).splitlines()[0]}") from exc
            finally:
                cursor.close()

        self.queries[kind] += len(queries)
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(max_workers=WORKERS)
        try:
            yield from pool.map(run, queries)
        finally:  # also when the reader stops early: cancel what has not started
            pool.shutdown(wait=True, cancel_futures=True)

    def sample_chunks(
        self, targets: Sequence[tuple[str, str, tuple[str, ...]]], limit: int, chunk: int = 100
    ) -> Iterator[dict[tuple[str, str, str], list[str]]]:
        """Sampled non-null values per (schema, table, column), ``chunk`` tables a query.

        Each table's rows come back as one JSON document (``to_json`` of the row) tagged
        with the table's place in its chunk: DuckDB binds one expression per table instead
        of a cast per column, and parses a short query (its parser's time grows with the
        text). The document is fetched as DuckDB's JSON type, which the driver returns as
        the same text a cast to VARCHAR would give, without binding and running the cast
        (3-6 % less DuckDB time per table). Text values are the column's text, JSON
        columns their (compact) JSON text.
        """
        import json

        queries = [
            " UNION ALL ".join(
                f"(SELECT {n}, to_json(r) FROM {self.ident(schema, table)} r LIMIT {int(limit)})"
                for n, (schema, table, _) in enumerate(targets[i : i + chunk])
            )
            for i in range(0, len(targets), chunk)
        ]
        loads, dumps = json.loads, json.dumps
        for i, rows in zip(
            range(0, len(targets), chunk), self.fetch_many(queries, "sample"), strict=True
        ):
            part = targets[i : i + chunk]
            out: dict[tuple[str, str, str], list[str]] = {}
            for schema, table, columns in part:
                for c in columns:
                    out[(schema, table, c)] = []
            keys: dict[int, list[tuple[str, list[str]]]] = {}
            for n, doc in rows:
                row = loads(doc)
                pairs = keys.get(n)
                if pairs is None:
                    # DuckDB names are case-insensitive; keel's are canonical upper case
                    schema, table, columns = part[n]
                    stored = {k.upper(): k for k in row}
                    pairs = keys[n] = [
                        (stored[c.upper()], out[(schema, table, c)])
                        for c in columns
                        if c.upper() in stored
                    ]
                for key, bucket in pairs:
                    value = row[key]
                    if value is not None:
                        bucket.append(value if isinstance(value, str) else dumps(value))
            yield out

    def begin(self) -> None:
        self.conn.execute("BEGIN TRANSACTION")
        self.in_transaction = True

    def commit(self) -> None:
        self.conn.execute("COMMIT")
        self.in_transaction = False

    def rollback(self) -> None:
        from keel.adapters.duckdb_lib import duckdb

        self.in_transaction = False
        with contextlib.suppress(duckdb.Error):  # no transaction open: nothing to undo
            self.conn.execute("ROLLBACK")

    def table_columns(
        self, tables: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], list[tuple[str, str]]]:
        """``pragma_table_info`` of each table, in one query. DuckDB's catalog listings
        (information_schema, duckdb_columns) first make and bind its 47 built-in views: 15-20
        ms of every command that reads columns once (bench/README.md, gate). A missing table
        fails the query, which would abort an open transaction: inside one, or when a table
        is missing (before its first sync), the catalog listing answers."""
        from keel.adapters.duckdb_lib import duckdb

        if self.in_transaction or not tables:
            return super().table_columns(tables)
        sql = " UNION ALL ".join(
            f"SELECT {n}, cid, name, type FROM pragma_table_info({self.lit(self.ident(*t))})"
            for n, t in enumerate(tables)
        )
        self.queries["columns"] += 1
        try:
            rows = self.conn.execute(sql + " ORDER BY 1, 2").fetchall()
        except duckdb.CatalogException:
            return super().table_columns(tables)
        out: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for n, _, column, data_type in rows:
            out.setdefault(tables[n], []).append((self.canon(column), str(data_type)))
        return out

    def close(self) -> None:
        self.conn.close()

    def fork(self) -> DuckDBAdapter:
        """A cursor on the same database: its own transactions, safe in another thread."""
        return DuckDBAdapter(
            self.path,
            connection=self.conn.cursor(),
            tag_name=self.tag_name,
            tag_schema=self.tag_schema,
        )

    def read_state(self, managed_schemas: set[str], roles: set[str]) -> ActualState:
        from keel.resources import ActualState, TableInfo

        state = ActualState()
        # DuckDB names are case-insensitive: they are reported in canonical upper case, and
        # filtered to the managed schemas here rather than in SQL (Python's upper() decides)
        wanted = managed_schemas | {ops.OPS_SCHEMA}
        db = "database_name = current_database()"
        for (schema,) in self.fetch(
            "SELECT schema_name FROM information_schema.schemata "
            "WHERE catalog_name = current_database()",
            "schemas",
        ):
            state.schemas.add(self.canon(schema))
        rows = self.fetch(
            f"SELECT schema_name, table_name, estimated_size, 'table' FROM duckdb_tables() "
            f"WHERE {db} "
            f"UNION ALL SELECT schema_name, view_name, 0, 'view' FROM duckdb_views() "
            f"WHERE {db} AND NOT internal",
            "tables",
        )
        columns: dict[tuple[str, str], list[tuple[str, str]]] = {}
        canon = self.canon
        last: tuple[str, str] | None = None
        into: list[tuple[str, str]] | None = None  # the current table's columns, if wanted
        for schema, table, column, data_type in self.fetch(
            f"SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns() "
            f"WHERE {db} "
            f"ORDER BY schema_name, table_name, column_index",
            "columns",
        ):
            if (schema, table) != last:  # rows come table by table
                last = (schema, table)
                key = (canon(schema), canon(table))
                into = columns.setdefault(key, []) if key[0] in wanted else None
            if into is not None:
                into.append((canon(column), data_type))
        for schema, table, size, kind in rows:
            key = (self.canon(schema), self.canon(table))
            if key[0] not in wanted:
                continue
            state.tables[key] = TableInfo(*key, tuple(columns.get(key, ())), int(size or 0), kind)
        self.mark_ops(state)
        self.read_recorded_tags(state)
        self.read_recorded_governance(state, roles)
        return state
