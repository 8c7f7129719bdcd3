"""PostgreSQL statement rendering: schemas, roles, memberships, grants and tags.

Rendering consults what the last :meth:`read_state` saw (``self.seen``), so each
change's SQL fits the server the plan was made on; a saved plan is refused by its
fingerprint once that state changes.
"""

from __future__ import annotations

from collections.abc import Sequence

from keel import ops_tables as ops
from keel.adapters import role_store
from keel.adapters.postgres_catalog import PostgresCatalog
from keel.adapters.postgres_state import COMMENT_KIND, PRIVILEGES
from keel.plan.model import Change
from keel.resources import Grant, OnAccountObject, OnAll, OnColumns, OnRelation, TagKey
from keel.sql import quote


class PostgresSql(PostgresCatalog):
    """Renders each kind of change as PostgreSQL statements."""

    def render(self, change: Change) -> Change:
        if change.kind == "create_schema":
            schema = self.ident(change.object)
            return change.with_sql(
                [
                    f"CREATE SCHEMA IF NOT EXISTS {schema}",
                    f"REVOKE ALL ON SCHEMA {schema} FROM PUBLIC",
                ]
            )
        rendered = super().render(change)
        if change.kind == "bootstrap_ops" and not self._temp_revocable():
            return rendered.with_sql(
                list(rendered.sql),
                f"{self.seen.user} cannot revoke TEMPORARY on database {self.seen.database} "
                "from PUBLIC; ask its owner to run: REVOKE TEMPORARY ON DATABASE "
                f"{self._database()} FROM PUBLIC",
            )
        return rendered

    def _database(self) -> str:
        """The database's name as the server spells it (not a canonical name)."""
        return quote(self.seen.database or "", "ident", self.dialect)

    def _temp_revocable(self) -> bool:
        return bool(self.seen.database) and self.seen.can_revoke_temp

    def bootstrap_sql(self) -> list[str]:
        """SOPHIA_OPS and keel's tables, closed to PUBLIC, and the database defaults that
        leak to PUBLIC revoked: CREATE on schema public, TEMPORARY on the database."""
        sql = super().bootstrap_sql()
        sql.insert(1, f"REVOKE ALL ON SCHEMA {self.ident(ops.OPS_SCHEMA)} FROM PUBLIC")
        if "PUBLIC" in self.seen.schemas:
            sql.append(f"REVOKE CREATE ON SCHEMA {self.ident('PUBLIC')} FROM PUBLIC")
        if self._temp_revocable():
            sql.append(f"REVOKE TEMPORARY ON DATABASE {self._database()} FROM PUBLIC")
        return sql

    def tag_sql(self, key: TagKey, value: str | None) -> list[str]:
        """The KEEL_TAGS row, plus the JSON as the object's comment when it exists."""
        sql = super().tag_sql(key, value)
        target = self._comment_target(key)
        if target:
            sql.append(f"COMMENT ON {target} IS {self.lit(value)}")
        return sql

    def _comment_target(self, key: TagKey) -> str | None:
        parts = key.parts
        if key.object_type == "schema":
            known = self.seen.schemas | self.seen.managed_schemas
            return f"SCHEMA {self.ident(parts[0])}" if parts[0] in known else None
        if len(parts) < 2 or (parts[0], parts[1]) not in self.seen.relations:
            return None
        rel = (parts[0], parts[1])
        if key.object_type == "table":
            return f"{COMMENT_KIND[self.seen.relations[rel]]} {self.ident(*rel)}"
        if len(parts) == 3 and parts[2] in self.seen.columns.get(rel, ()):
            return f"COLUMN {self.ident(*parts)}"
        return None

    def role_sql(self, change: Change) -> Change:
        role = self.ident(change.object)
        sql = [f"CREATE ROLE {role} NOLOGIN"]
        if change.after:
            sql.append(f"COMMENT ON ROLE {role} IS {self.lit(change.after)}")
        return change.with_sql(sql)

    def membership_sql(self, change: Change, role: str, member: str, revoke: bool) -> Change:
        """GRANT/REVOKE role TO member; a member missing on the server (SYSADMIN) is
        recorded in KEEL_ROLE_MEMBERS instead, and the note says so."""
        exists = member in self.seen.server_roles or member in self.seen.managed_roles
        if revoke:
            sql = [role_store.membership_sql(self, role, member, revoke=True)]
            if exists:
                sql.insert(0, f"REVOKE {self.ident(role)} FROM {self.ident(member)}")
            return change.with_sql(sql)
        if exists:
            return change.with_sql([f"GRANT {self.ident(role)} TO {self.ident(member)}"])
        record = role_store.membership_sql(self, role, member, revoke=False)
        return change.with_sql(
            [record],
            f"role {member} does not exist on this server: skipped, recorded in SOPHIA_OPS "
            "(granted once the role exists)",
        )

    def _grantee(self, role: str) -> str:
        return "PUBLIC" if role == "PUBLIC" else self.ident(role)

    def grant_sql(self, change: Change, grant: Grant, revoke: bool) -> Change:
        """GRANT or REVOKE ``grant`` for real; see the module docstring for each target."""
        if grant.privilege not in PRIVILEGES:
            raise ValueError(f"not a PostgreSQL privilege: {grant.privilege!r}")
        verb, prep = ("REVOKE", "FROM") if revoke else ("GRANT", "TO")
        priv, to, role = grant.privilege, self._grantee(grant.role), grant.role
        on = grant.on  # the typed object (keel.resources), decoded in one place
        schema = "" if isinstance(on, OnAccountObject) else on.schema
        rest = on.name if isinstance(on, OnRelation) else ""
        if grant.target == "SCHEMA":
            return change.with_sql([f"{verb} {priv} ON SCHEMA {self.ident(schema)} {prep} {to}"])
        if grant.target == "TABLE":
            sql = [f"{verb} {priv} ON TABLE {self.ident(schema, rest)} {prep} {to}"]
            kept = self.seen.column_grants.get((role, priv, schema, rest))
            if revoke and kept:  # revoking the table also revokes its columns: keep them
                sql.append(self._column_grant(priv, schema, rest, sorted(kept), to))
            return change.with_sql(sql)
        if grant.target == "ALL_TABLES":
            return self._all_tables_sql(change, grant, verb, prep)
        if grant.target == "FUTURE_TABLES":
            creators = set(self.seen.creators)
            if revoke:
                creators |= self.seen.future_holders.get((role, priv, schema), set())
            return change.with_sql(
                [
                    self._default_sql(c, schema, verb, priv, prep, to)
                    for c in sorted(creators - {role})
                ]
            )
        if isinstance(on, OnAll) and on.creator is not None:  # FUTURE_TABLES_OF
            return change.with_sql([self._default_sql(on.creator, schema, verb, priv, prep, to)])
        if isinstance(on, OnColumns) and on.single:  # COLUMN
            table, cols = on.table, self.ident(on.columns[0])
            return change.with_sql(
                [f"{verb} {priv} ({cols}) ON TABLE {self.ident(schema, table)} {prep} {to}"]
            )
        raise ValueError(f"not a target this module renders: {grant.target!r}")  # COLUMNS: masking

    def _default_sql(
        self, creator: str, schema: str, verb: str, priv: str, prep: str, to: str
    ) -> str:
        return (
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {self.ident(creator)} IN SCHEMA "
            f"{self.ident(schema)} {verb} {priv} ON TABLES {prep} {to}"
        )

    def _column_grant(
        self, priv: str, schema: str, table: str, cols: Sequence[str], to: str
    ) -> str:
        names = ", ".join(self.ident(c) for c in cols)
        return f"GRANT {priv} ({names}) ON TABLE {self.ident(schema, table)} TO {to}"

    def _all_tables_sql(self, change: Change, grant: Grant, verb: str, prep: str) -> Change:
        """ON ALL TABLES IN SCHEMA, unless some tables are masked for this role: then the
        other tables by name, so masked tables keep their column privileges only."""
        role, priv, schema = grant.role, grant.privilege, grant.object_name
        to = self._grantee(role)
        masked = {t for (r, p, s, t) in self.seen.masked if (r, p, s) == (role, priv, schema)}
        if not masked:
            return change.with_sql(
                [f"{verb} {priv} ON ALL TABLES IN SCHEMA {self.ident(schema)} {prep} {to}"]
            )
        others = sorted(t for s, t in self.seen.relations if s == schema and t not in masked)
        note = f"{len(masked)} masked table(s) keep column privileges only"
        if not others:
            return change.with_sql([], note)
        tables = ", ".join(self.ident(schema, t) for t in others)
        return change.with_sql([f"{verb} {priv} ON TABLE {tables} {prep} {to}"], note)
