"""PostgreSQL masking for tables keel's writers create (publish, ingestion)."""

from __future__ import annotations

from keel import ops
from keel.adapters.postgres_sql import PostgresSql
from keel.adapters.postgres_state import PRIVILEGES
from keel.resources import split_columns_object


class PostgresMasking(PostgresSql):
    """The masking hooks writers call."""

    def masking_sql(self, schema: str, table: str) -> list[str]:
        """SQL that applies the recorded column policies to a table just created: run it in
        the transaction that creates the table, so the default privileges never expose a
        masked column. Two queries; empty when no policy covers the table."""
        policies = [
            (role, priv, shown)
            for role, priv, name in self.fetch(
                f"SELECT {self.ident('ROLE_NAME')}, {self.ident('PRIVILEGE')}, "
                f"{self.ident('OBJECT_NAME')} FROM {self.ops_table(ops.KEEL_GRANTS)} "
                f"WHERE {self.ident('OBJECT_TYPE')} = {self.lit('COLUMNS')}",
                "grants",
            )
            for s, t, shown in [split_columns_object(name)]
            if (s, t) == (schema, table)
        ]
        if not policies:
            return []
        existing = {
            self.canon(c)
            for (c,) in self.fetch(
                "SELECT a.attname FROM pg_catalog.pg_attribute a "
                f"WHERE a.attrelid = to_regclass({self.lit(self.ident(schema, table))}) "
                "AND a.attnum > 0 AND NOT a.attisdropped",
                "columns",
            )
        }
        sql: list[str] = []
        for role, priv, shown in sorted(policies):
            if priv not in PRIVILEGES:
                raise ValueError(f"not a PostgreSQL privilege: {priv!r}")
            to = self._grantee(role)
            sql.append(f"REVOKE {priv} ON TABLE {self.ident(schema, table)} FROM {to}")
            present = [c for c in shown if c in existing]
            if present:
                sql.append(self._column_grant(priv, schema, table, present, to))
        return sql
