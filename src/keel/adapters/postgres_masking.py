"""PostgreSQL masking: column privileges on the table, and a masking view keel owns.

A role with ``masked_pii_levels`` gets a COLUMNS policy per table it reads that has a
masked column. PostgreSQL refuses a whole statement that names a column the role may not
read, so column privileges alone break ``SELECT *``. keel therefore realises a policy on
``S.T`` twice:

- on the table: no table-level SELECT, SELECT on the shown columns only (explicit column
  lists keep working, a masked column stays unreadable);
- as a view ``S_MASKED.T`` (:func:`~keel.adapters.postgres_state.masked_schema`, within
  63 bytes) with every column of ``S.T`` in table order, the masked ones replaced by
  ``'***MASKED***'`` (text) or NULL (other types), owned by keel's user and selectable
  by the policy's roles only: ``SELECT * FROM s_masked.t`` works and shows masked values.
  Its comment records the columns it shows; the catalog reads it back, and a policy is
  held only while its view matches (same columns and types, same shown set, the role
  holds USAGE and SELECT), so a stale or missing view is planned and reported.

Writers (publish, ingestion) call :meth:`PostgresMasking.masking_sql` in the transaction
that creates a table, so a new table is never exposed and its view exists at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from keel import ops_tables as ops
from keel.adapters.base import NOW
from keel.adapters.postgres_sql import PostgresSql
from keel.adapters.postgres_state import (
    MASK_TEXT,
    PRIVILEGES,
    masked_schema,
    pg_type,
    view_note,
)
from keel.errors import WarehouseError
from keel.plan.model import Change
from keel.resources import Grant, split_columns_object


class PostgresMasking(PostgresSql):
    """COLUMNS policies and the hooks writers call."""

    def grant_sql(self, change: Change, grant: Grant, revoke: bool) -> Change:
        if grant.target != "COLUMNS":
            return super().grant_sql(change, grant, revoke)
        if grant.privilege not in PRIVILEGES:
            raise ValueError(f"not a PostgreSQL privilege: {grant.privilege!r}")
        return self._columns_sql(change, grant, revoke)

    def _others(self, role: str, schema: str, table: str) -> dict[str, tuple[str, ...]]:
        """Other roles' recorded SELECT policies on a table: role -> shown columns (the
        intersection when a role has several, as while its policy changes)."""
        out: dict[str, set[str]] = {}
        for (r, p, s, t), policies in self.seen.recorded.items():
            if (p, s, t) == ("SELECT", schema, table) and r != role:
                for shown in policies:
                    out[r] = out[r] & set(shown) if r in out else set(shown)
        return {r: tuple(sorted(cols)) for r, cols in out.items()}

    def _note_policy(
        self, key: tuple[str, str, str, str], shown: tuple[str, ...], revoke: bool
    ) -> None:
        """Keep ``seen.recorded`` as it will be once the changes rendered so far ran, so a
        view rendered later in the same plan serves every role whose policy comes before
        it (two roles' new policies on one table converge in one apply)."""
        policies = self.seen.recorded.setdefault(key, [])
        if revoke and shown in policies:
            policies.remove(shown)
        elif not revoke and shown not in policies:
            policies.append(shown)
        if not policies:
            del self.seen.recorded[key]

    def _columns_sql(self, change: Change, grant: Grant, revoke: bool) -> Change:
        """The policy is recorded in KEEL_GRANTS; on the server the role loses table-level
        access (which also drops its other column privileges), gets the listed columns that
        exist, and its masking view is rebuilt. Revoking takes the listed columns and the
        view away and nothing else, so a changing policy never exposes a column."""
        role, priv = grant.role, grant.privilege
        schema, table, shown = split_columns_object(grant.object_name)
        to = self._grantee(role)
        ident = {
            "ROLE_NAME": role,
            "PRIVILEGE": priv,
            "OBJECT_TYPE": "COLUMNS",
            "OBJECT_NAME": grant.object_name,
        }
        exists = (schema, table) in self.seen.relations
        on = f"ON TABLE {self.ident(schema, table)}"
        existing = self.seen.columns.get((schema, table), ())
        present = [c for c in shown if c in existing]
        others = self._others(role, schema, table) if priv == "SELECT" else {}
        self._note_policy((role, priv, schema, table), tuple(shown), revoke)
        if revoke:  # column privileges only: never widens access, not even for a moment
            sql = [self._delete(ops.KEEL_GRANTS, ident)]
            if present:
                names = ", ".join(self.ident(c) for c in present)
                sql.append(f"REVOKE {priv} ({names}) {on} FROM {to}")
            if priv == "SELECT":
                sql.extend(self._drop_view_sql(role, schema, table, bool(others)))
            return change.with_sql(sql)
        sql = [self._upsert(ops.KEEL_GRANTS, {**ident, "UPDATED_AT": NOW})]
        if not exists:
            return change.with_sql(
                sql, f"{schema}.{table} does not exist yet: recorded, applied once it does"
            )
        sql.append(f"REVOKE {priv} {on} FROM {to}")
        if present:
            sql.append(self._column_grant(priv, schema, table, present, to))
        if priv == "SELECT":
            policies = [*others.values(), tuple(shown)]
            types = self.seen.types.get((schema, table), ())
            cols = list(zip(existing, types, strict=True))
            sql.extend(self.view_sql(schema, table, cols, policies, {role, *others}))
        return change.with_sql(sql)

    def _drop_view_sql(self, role: str, schema: str, table: str, shared: bool) -> list[str]:
        """A role's policy on a table revoked: it loses its view (and the view schema's
        USAGE once it has no other policy there); the view goes when no role is left."""
        vs = masked_schema(schema)
        if (vs, table) not in self.seen.relations:
            return []
        to = self._grantee(role)
        sql = [f"REVOKE SELECT ON TABLE {self.ident(vs, table)} FROM {to}"]
        if not shared:
            sql = [f"DROP VIEW IF EXISTS {self.ident(vs, table)}"]
        elsewhere = any(
            r == role and p == "SELECT" and s == schema and t != table
            for (r, p, s, t) in self.seen.recorded
        )
        if not elsewhere:
            sql.append(f"REVOKE USAGE ON SCHEMA {self.ident(vs)} FROM {to}")
        return sql

    def view_sql(
        self,
        schema: str,
        table: str,
        columns: Sequence[tuple[str, str]],
        policies: Iterable[Sequence[str]],
        readers: Iterable[str],
    ) -> list[str]:
        """(Re)build the masking view of ``schema.table``: ``columns`` are the table's
        (name, canonical type) in order; a column is shown in clear only when every policy
        shows it; ``readers`` get USAGE on the view schema and SELECT on the view."""
        vs = masked_schema(schema)
        if vs in self.seen.managed_schemas:
            raise WarehouseError(
                f"schema {vs} is declared in keel.yml, but keel keeps the masking views of "
                f"{schema} there; rename it"
            )
        clear = {name for name, _ in columns}
        for shown in policies:
            clear &= set(shown)
        exprs = []
        for name, kind in columns:
            col = self.ident(name)
            if name in clear:
                exprs.append(col)
            elif kind == "VARCHAR":  # keeps the column's type: CASE resolves to it
                exprs.append(f"CASE WHEN FALSE THEN {col} ELSE {self.lit(MASK_TEXT)} END AS {col}")
            else:
                exprs.append(f"CASE WHEN FALSE THEN {col} END AS {col}")
        view = self.ident(vs, table)
        shown = tuple(name for name, _ in columns if name in clear)
        sql = [
            f"CREATE SCHEMA IF NOT EXISTS {self.ident(vs)}",
            f"REVOKE ALL ON SCHEMA {self.ident(vs)} FROM PUBLIC",
            f"DROP VIEW IF EXISTS {view}",
            f"CREATE VIEW {view} AS SELECT {', '.join(exprs)} FROM {self.ident(schema, table)}",
            f"COMMENT ON VIEW {view} IS {self.lit(view_note(schema, table, shown))}",
        ]
        for reader in sorted(set(readers)):
            to = self._grantee(reader)
            sql.append(f"GRANT USAGE ON SCHEMA {self.ident(vs)} TO {to}")
            sql.append(f"GRANT SELECT ON TABLE {view} TO {to}")
        return sql

    # ---- for writers (publish, ingestion) ----------------------------------------------

    def unmasking_sql(self, schema: str, table: str) -> list[str]:
        """Before keel alters a table: drop its masking view, which would make PostgreSQL
        refuse ``ALTER COLUMN ... TYPE``; ``masking_sql`` rebuilds it in the same
        transaction (``IF EXISTS``: no view, or no view schema, is a no-op)."""
        return [f"DROP VIEW IF EXISTS {self.ident(masked_schema(schema), table)}"]

    def masking_sql(self, schema: str, table: str) -> list[str]:
        """SQL that applies the recorded column policies to a table just created: run it in
        the transaction that creates the table, so the default privileges never expose a
        masked column, and the masking view exists as soon as the table does. Two queries;
        empty when no policy covers the table."""
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
        columns = [
            (self.canon(c), pg_type(kind))
            for c, kind in self.fetch(
                "SELECT a.attname, format_type(a.atttypid, a.atttypmod) "
                "FROM pg_catalog.pg_attribute a "
                f"WHERE a.attrelid = to_regclass({self.lit(self.ident(schema, table))}) "
                "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                "columns",
            )
        ]
        existing = {name for name, _ in columns}
        sql: list[str] = []
        for role, priv, shown in sorted(policies):
            if priv not in PRIVILEGES:
                raise ValueError(f"not a PostgreSQL privilege: {priv!r}")
            to = self._grantee(role)
            sql.append(f"REVOKE {priv} ON TABLE {self.ident(schema, table)} FROM {to}")
            present = [c for c in shown if c in existing]
            if present:
                sql.append(self._column_grant(priv, schema, table, present, to))
        selects = [(role, shown) for role, priv, shown in policies if priv == "SELECT"]
        if selects:
            readers = {role for role, _ in selects}
            sql.extend(self.view_sql(schema, table, columns, [s for _, s in selects], readers))
        return sql
