"""Bound statements: what keel's own stores (:mod:`keel.batch`) are built on.

A mixin of :class:`keel.adapters.base.Adapter`: values travel as bind parameters (never
inlined into SQL text), insert-if-absent says which rows were new, and row locks let two
``keel serve`` processes share one warehouse. Engines override what they spell differently
(``postgres_runtime``, ``snowflake_runtime``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from keel import ops_tables as ops
from keel.errors import WarehouseError


class _Now:
    def __repr__(self) -> str:
        return "CURRENT_TIMESTAMP"


_NOW: Any = _Now()
NOW: Any = _NOW  # a value that renders as CURRENT_TIMESTAMP in insert_sql / _upsert / bound rows


class BoundStatements:
    """The runtime capabilities every adapter has (see the module docstring)."""

    name: ClassVar[str]
    bind_marker: ClassVar[str] = "?"  # the driver's bind-parameter marker
    row_locks: ClassVar[bool] = False

    if TYPE_CHECKING:  # defined by Adapter

        def ident(self, *parts: str) -> str: ...

        def ops_table(self, table: ops.OpsTable) -> str: ...

    def fetch_bound(
        self, sql: str, params: Sequence[object], kind: str = "data"
    ) -> list[tuple[Any, ...]]:
        """A query whose values travel as bind parameters (``bind_marker`` in ``sql``), never
        inlined into the SQL text: a 1 MiB webhook body stays out of the statement."""
        raise WarehouseError(f"the {self.name} adapter cannot bind parameters")

    def execute_bound(self, sql: str, params: Sequence[object]) -> None:
        self.fetch_bound(sql, params, "write")

    def bind_values(self, row: Mapping[str, object]) -> tuple[list[str], list[object]]:
        """One marker per value (``?``, or ``CURRENT_TIMESTAMP`` for NOW) and the values."""
        marks: list[str] = []
        params: list[object] = []
        for value in row.values():
            if value is _NOW:
                marks.append("CURRENT_TIMESTAMP")
            else:
                marks.append(self.bind_marker)
                params.append(value)
        return marks, params

    def skip_locked(self) -> str:
        """The clause that claims the selected rows for this transaction, skipping rows
        another session holds (engines with ``row_locks``)."""
        if not self.row_locks:
            raise WarehouseError(f"{self.name} has no row locks")
        return " FOR UPDATE SKIP LOCKED"

    def insert_new_sql(
        self, table: ops.OpsTable, rows: Sequence[Mapping[str, object]]
    ) -> tuple[str, list[object]]:
        """Insert-if-absent returning the key of every row that was new: ``INSERT ... ON
        CONFLICT (key) DO NOTHING RETURNING key`` (DuckDB and PostgreSQL both document it).
        Engines without it override this (Snowflake: keel.adapters.snowflake_runtime)."""
        cols = ", ".join(self.ident(c) for c in rows[0])
        values, params = [], []
        for row in rows:
            marks, bound = self.bind_values(row)
            values.append("(" + ", ".join(marks) + ")")
            params += bound
        key = ", ".join(self.ident(c) for c in table.primary_key)
        sql = (
            f"INSERT INTO {self.ops_table(table)} ({cols}) VALUES {', '.join(values)} "
            f"ON CONFLICT ({key}) DO NOTHING RETURNING {key}"
        )
        return sql, params

    def insert_new(
        self, table: ops.OpsTable, rows: Sequence[Mapping[str, object]], kind: str = "ops"
    ) -> set[Any]:
        """Insert the rows whose primary key is absent; the keys of those that were new (the
        first key column). A key repeated within ``rows`` must be removed by the caller."""
        if not rows:
            return set()
        sql, params = self.insert_new_sql(table, rows)
        return {r[0] for r in self.fetch_bound(sql, params, kind)}
