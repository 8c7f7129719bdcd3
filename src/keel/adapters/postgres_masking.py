"""PostgreSQL masking: the promoted name is a view keel owns over a base table.

A role with ``masked_pii_levels`` gets a COLUMNS policy per table it reads that has a
masked column. PostgreSQL has no masking policies, and column privileges refuse a whole
statement that names a column the role may not read (``SELECT *`` fails). keel therefore
serves a masked table ``S.T`` through a view at its own name:

- the data lives in ``S_BASE.T`` (:func:`~keel.adapters.postgres_state.base_schema`,
  within 63 bytes), a schema closed to PUBLIC that no role may use: ``ALTER TABLE ... SET
  SCHEMA`` moves an existing table there with its data; its grants are revoked;
- ``S.T`` is a view owned by keel's user with every column of the base table in order; a
  column a policy hides reads ``'***MASKED***'`` (text) or NULL (other types) for members
  of that policy's role, and in clear for everyone else who may read the view (ADMIN) and
  for keel's own user (a view reads its tables with its owner's privileges, while
  ``current_user`` inside it is still the querying role: ``pg_has_role`` sees who asks);
- the policy roles get ``SELECT`` on the view and nothing else on it; other roles keep the
  privileges they held on the name (and the schema's default privileges apply to the view);
- the base table's comment records each policy role's clear columns; the catalog reads it
  back, and a policy is held only while its view matches (same columns, same policies,
  the role holds SELECT), so a stale or missing view, or a plain table at the name, is
  planned and reported, and one apply converts it.

Writers (publish, ingestion) call :meth:`PostgresMasking.masking_sql` in the transaction
that creates or alters a table, so a new table is never exposed and the view follows it.
Rendering keeps ``seen`` as it will be once the changes rendered so far ran (policies,
relations, ACLs), so later changes in the same plan fit the server they will meet.
"""

from __future__ import annotations

from collections.abc import Sequence

from keel.adapters import role_store
from keel.adapters.postgres_sql import PostgresSql
from keel.adapters.postgres_state import (
    MASK_TEXT,
    PRIVILEGES,
    RelKey,
    base_schema,
    data_relation,
    pg_type,
    view_note,
    view_policies,
)
from keel.errors import WarehouseError
from keel.plan.model import Change
from keel.resources import Grant, split_columns_object


class PostgresMasking(PostgresSql):
    """COLUMNS policies and the hooks writers call."""

    def grant_sql(self, change: Change, grant: Grant, revoke: bool) -> Change:
        if grant.target != "COLUMNS":
            rendered = super().grant_sql(change, grant, revoke)
            self._note_acl(grant, revoke)
            return rendered
        if grant.privilege not in PRIVILEGES:
            raise ValueError(f"not a PostgreSQL privilege: {grant.privilege!r}")
        return self._columns_sql(change, grant, revoke)

    def _note_acl(self, grant: Grant, revoke: bool) -> None:
        """Keep ``seen.relation_acl`` as it will be after a TABLE / ALL_TABLES change, so a
        view built later in the same plan carries the grants its name has by then."""
        if grant.target not in ("TABLE", "ALL_TABLES"):
            return
        if grant.target == "TABLE":
            schema, _, table = grant.object_name.partition(".")
            names = [table]
        else:
            schema = grant.object_name
            masked = {
                t
                for (r, p, s, t) in self.seen.masked
                if (r, p, s) == (grant.role, grant.privilege, schema)
            }
            names = [t for s, t in self.seen.relations if s == schema and t not in masked]
        for table in names:
            acl = self.seen.relation_acl.setdefault((schema, table), set())
            if revoke:
                acl.discard((grant.role, grant.privilege))
            else:
                acl.add((grant.role, grant.privilege))

    def _policies(self, role: str, schema: str, table: str) -> dict[str, tuple[str, ...]]:
        """Other roles' recorded SELECT policies on a table: role -> shown columns."""
        cols = self.seen.columns.get(self._data(schema, table), ())
        found = view_policies(cols or (), self.seen.recorded, schema, table)
        found.pop(role, None)
        return found

    def _data(self, schema: str, table: str) -> RelKey:
        return data_relation(self.seen, schema, table)

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
        """The policy is recorded in KEEL_GRANTS; on the server the promoted name becomes
        (or stays) keel's view over the base table, rebuilt for the policies now recorded.
        Revoking the last SELECT policy moves the table back to its name."""
        role, priv = grant.role, grant.privilege
        schema, table, shown = split_columns_object(grant.object_name)
        to = self._grantee(role)
        data = self._data(schema, table)
        exists = data in self.seen.relations
        existing = self.seen.columns.get(data, ())
        present = [c for c in shown if c in existing]
        others = self._policies(role, schema, table) if priv == "SELECT" else {}
        self._note_policy((role, priv, schema, table), tuple(shown), revoke)
        on = f"ON TABLE {self.ident(*data)}"
        if revoke:
            sql = [role_store.grant_sql(self, grant, True, role_store.COLUMNS)]
            if priv != "SELECT" or data == (schema, table):
                if present:  # column privileges (hand-made, or another privilege's policy)
                    names = ", ".join(self.ident(c) for c in present)
                    sql.append(f"REVOKE {priv} ({names}) {on} FROM {to}")
                return change.with_sql(sql)
            if others:
                self.seen.relation_acl.get((schema, table), set()).discard((role, "SELECT"))
                return change.with_sql(sql + self._serve_sql(schema, table, others))
            return change.with_sql(sql + self._unserve_sql(schema, table, role))
        sql = [role_store.grant_sql(self, grant, False, role_store.COLUMNS)]
        if not exists:
            return change.with_sql(
                sql, f"{schema}.{table} does not exist yet: recorded, applied once it does"
            )
        if priv != "SELECT":
            sql.append(f"REVOKE {priv} {on} FROM {to}")
            if present:
                sql.append(self._column_grant(priv, data[0], table, present, to))
            return change.with_sql(sql)
        policies = {**others, role: tuple(c for c in existing if c in shown)}
        return change.with_sql(sql + self._serve_sql(schema, table, policies))

    def _serve_sql(
        self, schema: str, table: str, policies: dict[str, tuple[str, ...]]
    ) -> list[str]:
        """(Re)build the view at ``schema.table`` over its base table for ``policies``
        (role -> clear columns), moving a plain table there first; updates ``seen``."""
        seen, base = self.seen, (base_schema(schema), table)
        name = (schema, table)
        kind = seen.relations.get(name)
        plain = kind is not None and kind != "v"  # a table at the name: moved to the base
        data = name if plain else base
        columns = list(zip(seen.columns.get(data, ()), seen.types.get(data, ()), strict=True))
        acl = set(seen.relation_acl.get(name, set()))
        sql = self._base_schema_sql(schema)
        if plain:
            if base in seen.relations:
                raise WarehouseError(
                    f"{schema}.{table} is a table and {base[0]}.{table} exists too: keel "
                    "keeps the data of a masked table there; drop or rename one"
                )
            sql.append(f"ALTER TABLE {self.ident(*name)} SET SCHEMA {self.ident(base[0])}")
            sql += [
                f"REVOKE ALL ON TABLE {self.ident(*base)} FROM {self._grantee(g)}"
                for g in sorted({g for g, _ in acl})
            ]
            seen.relation_acl[base] = set()
        elif kind is not None:
            sql.append(f"DROP VIEW IF EXISTS {self.ident(*name)}")
        sql += self.view_sql(schema, table, columns, policies)
        sql += self._tag_comments(schema, table, "VIEW", [c for c, _ in columns])
        keep = {(g, p) for g, p in acl if g not in policies}
        sql += [
            f"GRANT {p} ON TABLE {self.ident(*name)} TO {self._grantee(g)}"
            for g, p in sorted(keep)
            if p in PRIVILEGES
        ]
        seen.relations[base] = seen.relations.get(data, "r")
        seen.relations[name] = "v"
        seen.columns[base] = seen.columns.get(data, ())
        seen.types[base] = seen.types.get(data, ())
        seen.columns[name] = seen.columns[base]
        seen.view_policies[base] = dict(policies)
        seen.relation_acl[name] = keep | {(r, "SELECT") for r in policies}
        return sql

    def _unserve_sql(self, schema: str, table: str, role: str) -> list[str]:
        """The last policy on a table revoked: drop the view and move the table back to its
        name with the view's grants (but ``role``'s)."""
        seen, base, name = self.seen, (base_schema(schema), table), (schema, table)
        keep = {(g, p) for g, p in seen.relation_acl.get(name, set()) if g != role}
        sql = [
            f"DROP VIEW IF EXISTS {self.ident(*name)}",
            f"ALTER TABLE {self.ident(*base)} SET SCHEMA {self.ident(schema)}",
            f"COMMENT ON TABLE {self.ident(*name)} IS NULL",
        ]
        sql += self._tag_comments(schema, table, "TABLE", seen.columns.get(base, ()))
        sql += [
            f"GRANT {p} ON TABLE {self.ident(*name)} TO {self._grantee(g)}"
            for g, p in sorted(keep)
            if p in PRIVILEGES
        ]
        seen.relations[name] = seen.relations.pop(base, "r")
        seen.columns[name] = seen.columns.pop(base, ())
        seen.types[name] = seen.types.pop(base, ())
        seen.view_policies.pop(base, None)
        seen.relation_acl[name] = keep
        return sql

    def _tag_comments(
        self, schema: str, table: str, kind: str, columns: Sequence[str]
    ) -> list[str]:
        """The tag comments of a relation keel just (re)created or moved: a new view has
        none, and the moved table's comment became keel's note (KEEL_TAGS is the record)."""
        name = f"{schema}.{table}"
        value = self.seen.tags.get(("table", name))
        sql = (
            [f"COMMENT ON {kind} {self.ident(schema, table)} IS {self.lit(value)}"] if value else []
        )
        for column in columns:
            found = self.seen.tags.get(("column", f"{name}.{column}"))
            if found:
                sql.append(
                    f"COMMENT ON COLUMN {self.ident(schema, table, column)} IS {self.lit(found)}"
                )
        return sql

    def _base_schema_sql(self, schema: str) -> list[str]:
        bs = base_schema(schema)
        if bs in self.seen.managed_schemas:
            raise WarehouseError(
                f"schema {bs} is declared in keel.yml, but keel keeps the masked tables of "
                f"{schema} there; rename it"
            )
        return [
            f"CREATE SCHEMA IF NOT EXISTS {self.ident(bs)}",
            f"REVOKE ALL ON SCHEMA {self.ident(bs)} FROM PUBLIC",
        ]

    def view_sql(
        self,
        schema: str,
        table: str,
        columns: Sequence[tuple[str, str]],
        policies: dict[str, tuple[str, ...]],
    ) -> list[str]:
        """CREATE VIEW ``schema.table`` over its base table: ``columns`` are the table's
        (name, canonical type) in order, ``policies`` role -> clear columns. A column some
        policy hides reads masked for members of those roles (keel's own user excepted);
        the policy roles get SELECT on the view and nothing else."""
        view, base = self.ident(schema, table), self.ident(base_schema(schema), table)
        owner = self.lit(self.norm(self.current_user()))
        exprs = []
        for name, kind in columns:
            col = self.ident(name)
            hiders = sorted(r for r, shown in policies.items() if name not in shown)
            if not hiders:
                exprs.append(col)
                continue
            members = " OR ".join(
                f"pg_has_role(current_user, {self.lit(self.norm(r))}, 'MEMBER')" for r in hiders
            )
            masked = f"({members}) AND NOT pg_has_role(current_user, {owner}, 'MEMBER')"
            if kind == "VARCHAR":  # keeps the column's type: CASE resolves to it
                exprs.append(
                    f"CASE WHEN {masked} THEN {self.lit(MASK_TEXT)} ELSE {col} END AS {col}"
                )
            else:
                exprs.append(f"CASE WHEN NOT ({masked}) THEN {col} END AS {col}")
        sql = [
            f"CREATE VIEW {view} AS SELECT {', '.join(exprs)} FROM {base}",
            f"COMMENT ON TABLE {base} IS {self.lit(view_note(schema, table, policies))}",
        ]
        for reader in sorted(policies):
            to = self._grantee(reader)
            sql.append(f"REVOKE ALL ON TABLE {view} FROM {to}")
            sql.append(f"GRANT SELECT ON TABLE {view} TO {to}")
        return sql

    # ---- for writers (publish, ingestion) ----------------------------------------------

    def published_relation(self, schema: str, table: str) -> tuple[str, str]:
        """The base table ``<SCHEMA>_BASE.T`` when one exists (the promoted name is then
        keel's masking view over it), else ``schema.table`` itself. One query."""
        base = (base_schema(schema), table)
        (found,) = self.fetch(
            f"SELECT to_regclass({self.lit(self.ident(*base))}) IS NOT NULL", "tables"
        )[0]
        return base if found else (schema, table)

    def unmasking_sql(self, schema: str, table: str) -> list[str]:
        """Before keel alters a served table: drop the view at its name, which would make
        PostgreSQL refuse ``ALTER COLUMN ... TYPE``; ``masking_sql`` rebuilds it in the same
        transaction. Nothing for a table that is not served."""
        if self.published_relation(schema, table) == (schema, table):
            return []
        return [f"DROP VIEW IF EXISTS {self.ident(schema, table)}"]

    def masking_sql(self, schema: str, table: str) -> list[str]:
        """SQL that applies the recorded policies to a table just created or altered: run
        it in the same transaction, so the default privileges never expose a masked column
        and the view follows the table. Reads the policies, then the two relations (their
        kind, columns and ACL); empty when no policy covers the table."""
        recorded: dict[tuple[str, str, str, str], list[tuple[str, ...]]] = {}
        for role, priv, name in role_store.read_policies(self):
            s, t, shown = split_columns_object(name)
            if (s, t, priv) == (schema, table, "SELECT"):
                recorded.setdefault((role, priv, s, t), []).append(shown)
        if not recorded:
            return []
        self._read_pair(schema, table)
        seen, name = self.seen, f"{schema}.{table}"
        for key in [k for k in seen.recorded if k[2:] == (schema, table)]:
            del seen.recorded[key]
        seen.recorded.update(recorded)
        for tag in [k for k in seen.tags if k[1] == name or k[1].startswith(name + ".")]:
            del seen.tags[tag]
        seen.tags.update(self._read_tags(schema, table))
        cols = self.seen.columns.get(self._data(schema, table), ())
        return self._serve_sql(schema, table, view_policies(cols, recorded, schema, table))

    def _read_tags(self, schema: str, table: str) -> dict[tuple[str, str], str]:
        """keel's recorded tags on ``schema.table`` and its columns (one query, its store)."""
        from keel.adapters import tag_store

        return tag_store.read_table(self, schema, table)

    def _read_pair(self, schema: str, table: str) -> None:
        """Refresh ``seen`` for ``schema.table`` and its base table: kind, columns, ACL
        (the rest of ``seen`` is kept: later renderings still know the other tables)."""
        seen = self.seen
        for key in ((schema, table), (base_schema(schema), table)):
            for part in (seen.relations, seen.columns, seen.types, seen.relation_acl):
                part.pop(key, None)
        pair = [self.ident(schema, table), self.ident(base_schema(schema), table)]
        for nsp, rel, kind, owner, att, fmt, grantee, privilege in self.fetch(
            "SELECT n.nspname, c.relname, c.relkind, pg_get_userbyid(c.relowner), a.attname, "
            "format_type(a.atttypid, a.atttypmod), CASE WHEN x.grantee = 0 THEN 'PUBLIC' "
            "ELSE pg_get_userbyid(x.grantee) END, x.privilege_type "
            "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
            "AND NOT a.attisdropped LEFT JOIN LATERAL aclexplode(c.relacl) x ON a.attnum = 1 "
            f"WHERE c.oid = ANY(ARRAY[to_regclass({self.lit(pair[0])}), "
            f"to_regclass({self.lit(pair[1])})]) ORDER BY n.nspname, c.relname, a.attnum",
            "columns",
        ):
            key = (self.canon(nsp), self.canon(rel))
            seen.relations[key] = kind
            seen.relation_acl.setdefault(key, set())
            if grantee is not None and grantee != owner:
                seen.relation_acl[key].add((self.canon(grantee), privilege))
            name = self.canon(att)
            if name not in seen.columns.get(key, ()):
                seen.columns[key] = (*seen.columns.get(key, ()), name)
                seen.types[key] = (*seen.types.get(key, ()), pg_type(fmt))
