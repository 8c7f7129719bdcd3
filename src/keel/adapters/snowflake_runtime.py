"""Snowflake's runtime capabilities, mixed into :class:`~keel.adapters.snowflake.SnowflakeAdapter`:
what keel's own stores and ``keel serve`` need from the engine.

Documented facts this module builds on:

- snowflake-connector-python binds parameters on the server when the connection's
  ``paramstyle`` is ``qmark`` (markers ``?``) or ``numeric``; with the default
  ``pyformat`` the connector inlines the values client-side (Python Connector API,
  ``paramstyle``). keel connects with ``qmark``, so a webhook body is never SQL text.
- Snowflake has no ``INSERT ... ON CONFLICT`` and no ``RETURNING``; primary keys are
  declared but not enforced (only NOT NULL is), so a plain INSERT of a known key adds a
  second row. Insert-if-absent is therefore ``MERGE INTO t USING (SELECT ? AS k, ...)
  ON t.k = s.k WHEN NOT MATCHED THEN INSERT``; its one-row result is the number of rows
  inserted, so one MERGE per row says whether that row was new.
- ``MERGE`` (like UPDATE and DELETE) holds a lock on its table that keeps other
  UPDATE/DELETE/MERGE statements from running in parallel; inside ``BEGIN ... COMMIT``
  the DML is atomic (Snowflake transactions; read committed isolation).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from keel import ops_tables as ops
from keel.adapters.base import Adapter


class SnowflakeRuntime(Adapter):
    bind_marker: ClassVar[str] = "?"

    @abstractmethod
    def _run(self, sql: str, params: Sequence[object] | None = None) -> Any: ...

    def fetch_bound(
        self, sql: str, params: Sequence[object], kind: str = "data"
    ) -> list[tuple[Any, ...]]:
        self.queries[kind] += 1
        cursor = self._run(sql, list(params))
        try:
            return list(cursor.fetchall()) if cursor.description else []
        finally:
            cursor.close()

    def insert_new_one_sql(
        self, table: ops.OpsTable, row: Mapping[str, object]
    ) -> tuple[str, list[object]]:
        """``MERGE`` inserting ``row`` unless its primary key is present; bound values."""
        src, tgt = self.ident("__KEEL_SRC"), self.ident("__KEEL_TGT")
        marks, params = self.bind_values(row)
        selected = ", ".join(f"{m} AS {self.ident(c)}" for m, c in zip(marks, row, strict=True))
        on = " AND ".join(
            f"{tgt}.{self.ident(k)} = {src}.{self.ident(k)}" for k in table.primary_key
        )
        cols = ", ".join(self.ident(c) for c in row)
        values = ", ".join(f"{src}.{self.ident(c)}" for c in row)
        sql = (
            f"MERGE INTO {self.ops_table(table)} AS {tgt} USING (SELECT {selected}) AS {src} "
            f"ON {on} WHEN NOT MATCHED THEN INSERT ({cols}) VALUES ({values})"
        )
        return sql, params

    def insert_new(
        self, table: ops.OpsTable, rows: Sequence[Mapping[str, object]], kind: str = "ops"
    ) -> set[Any]:
        """One MERGE per row in one transaction; a row is new when its MERGE inserted one."""
        new: set[Any] = set()
        if not rows:
            return new
        key = table.primary_key[0]
        with self.transaction():
            for row in rows:
                sql, params = self.insert_new_one_sql(table, row)
                result = self.fetch_bound(sql, params, kind)
                if result and int(result[0][0] or 0) > 0:
                    new.add(row[key])
        return new
