"""PostgreSQL's runtime capabilities, mixed into :class:`~keel.adapters.postgres.PostgresAdapter`.

Row locks: ``SELECT ... FOR UPDATE SKIP LOCKED`` locks the rows it returns until the
transaction ends and skips rows another transaction has locked (PostgreSQL's SELECT,
"The Locking Clause"); a session that dies releases its locks. keel's stores claim
events and alerts this way, so several ``keel serve`` processes share one warehouse.

Bind parameters: psycopg 3 sends ``%s`` placeholders as server-side parameters
(``Connection.execute(query, params)``), so a value never becomes SQL text. With
parameters, a literal ``%`` in the query text must be written ``%%``: keel's store
statements carry only the fixed names of keel's own tables and the markers.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from keel.adapters.base import Adapter
from keel.errors import WarehouseError


class PostgresRuntime(Adapter):
    bind_marker: ClassVar[str] = "%s"
    row_locks: ClassVar[bool] = True
    # READ COMMITTED (the default) gives each statement its own snapshot; a publish must
    # count, MERGE and record the same RAW rows while a loader keeps committing
    # (PostgreSQL "Transaction Isolation": REPEATABLE READ sees one snapshot, taken at the
    # transaction's first statement; SET TRANSACTION must come before any query)
    snapshot_sql: ClassVar[tuple[str, ...]] = ("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",)

    def inserted_sql(self, tables: Sequence[tuple[str, str]]) -> str | None:
        # pg_stat_user_tables.n_tup_ins: cumulative inserted rows, from the statistics
        # system (reported by each backend at most about once a second), never the table
        if not tables:
            return None
        match = " OR ".join(
            f"(schemaname = {self.lit(self.norm(s))} AND relname = {self.lit(self.norm(t))})"
            for s, t in tables
        )
        return f"SELECT schemaname, relname, n_tup_ins FROM pg_stat_user_tables WHERE {match}"

    def meta_changes_sql(self, meta: str) -> str:
        changes = f"(({meta})::jsonb -> 'changes')"
        return (
            f"CASE WHEN jsonb_typeof({changes}) = 'array' THEN jsonb_array_length({changes}) "
            "ELSE 0 END > 0"
        )

    def hash_sql(self, expr: str) -> str:
        return f"hashtextextended({expr}, 0)"  # bigint (PostgreSQL 11+)

    @property
    @abstractmethod
    def conn(self) -> Any: ...

    @abstractmethod
    def _refused(self, exc: Exception, sql: str) -> WarehouseError: ...

    def fetch_bound(
        self, sql: str, params: Sequence[object], kind: str = "data"
    ) -> list[tuple[Any, ...]]:
        import psycopg

        self.queries[kind] += 1
        try:
            cursor = self.conn.execute(sql.encode(), list(params))
            return list(cursor.fetchall()) if cursor.description else []
        except psycopg.Error as exc:
            raise self._refused(exc, sql) from exc
