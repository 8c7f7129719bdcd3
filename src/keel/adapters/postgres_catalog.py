"""PostgreSQL state reading: the catalogs in a fixed number of queries, whatever the
number of tables. The rules that turn catalog rows into grants are in
:mod:`keel.adapters.postgres_state`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from keel import ops_tables as ops
from keel.adapters import role_store
from keel.adapters.base import Adapter
from keel.adapters.postgres_state import (
    RELKINDS,
    ColKey,
    PrivKey,
    RelKey,
    ServerState,
    data_relation,
    grants_from_catalog,
    pg_type,
    view_note_policies,
)
from keel.resources import ActualState, Membership, TableInfo, split_columns_object

# catalog query fragments (fixed text, no names in them)
_SYSTEM = "n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'"
_GRANTEE = "CASE WHEN {0}.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid({0}.grantee) END"


class PostgresCatalog(Adapter):
    """Reads a PostgreSQL server's state; remembers what it saw in ``seen``."""

    seen: ServerState

    def array_sql(self, items: Sequence[str]) -> str:
        return "ARRAY[" + ", ".join(items) + "]::text[]"

    def sample_sql(self, targets: Sequence[tuple[str, str, tuple[str, ...]]], limit: int) -> str:
        """As every engine's, but a masked table is sampled from its base table: the data
        in clear, every column (the view shows new columns once apply rebuilds it)."""
        parts = []
        for schema, table, columns in targets:
            values = self.array_sql([f"CAST({self.ident(c)} AS VARCHAR)" for c in columns])
            data = data_relation(self.seen, schema, table)
            parts.append(
                f"(SELECT {self.lit(schema)} AS s, {self.lit(table)} AS t, {values} AS v "
                f"FROM {self.ident(*data)} LIMIT {int(limit)})"
            )
        return " UNION ALL ".join(parts)

    def _names(self, names: Iterable[str]) -> str:
        """A ``text[]`` literal of server spellings, for ``= ANY(...)``."""
        return "ARRAY[" + ", ".join(self.lit(self.norm(n)) for n in sorted(names)) + "]::text[]"

    def read_state(self, managed_schemas: set[str], roles: set[str]) -> ActualState:
        """Schemas, tables, columns, roles, memberships, grants and tags, in ten queries
        whatever the number of tables: session 1, roles 3 (names, memberships, recorded
        memberships), schemas 1, tables 1, columns 1, grants 2 (default privileges,
        recorded column policies), tags 1."""
        seen = ServerState(managed_schemas=set(managed_schemas), managed_roles=set(roles))
        state = ActualState()
        self._read_session(seen)
        self._read_roles(seen, state)
        schema_acl = self._read_schemas(seen, state)
        table_acl, estimates = self._read_relations(seen)
        self._read_columns(seen)
        self._read_default_privileges(seen)
        wanted = seen.managed_schemas | {ops.OPS_SCHEMA}
        promoted = {(s, t): "v" for (b, t) in seen.relations if (s := seen.base_schemas.get(b))}
        for (schema, table), relkind in {**promoted, **seen.relations}.items():
            if schema not in wanted:
                continue
            data = data_relation(seen, schema, table)  # a served name reads as its base table
            names = seen.columns.get(data, ())
            types = seen.types.get(data, ())
            cols = tuple(zip(names, types, strict=True))
            if data != (schema, table):
                rows = estimates[data]
                state.tables[(schema, table)] = TableInfo(schema, table, cols, rows, "table")
            elif relkind in ("v", "m"):
                state.tables[(schema, table)] = TableInfo(schema, table, cols, 0, "view")
            else:
                rows = estimates[(schema, table)]
                state.tables[(schema, table)] = TableInfo(schema, table, cols, rows, "table")
        self.mark_ops(state)
        recorded = self._read_recorded(seen, state) if role_store.policies_present(state) else {}
        seen.masked = set(seen.column_grants) | set(recorded)
        seen.recorded = recorded
        state.grants = grants_from_catalog(seen, schema_acl, table_acl, recorded)
        self.seen = seen
        self.read_recorded_tags(state)
        seen.tags = {(k.object_type, k.object_name): v for k, v in state.tags.items()}
        state.queries = dict(self.queries)
        return state

    def _read_session(self, seen: ServerState) -> None:
        user, database, can_revoke = self.fetch(
            "SELECT current_user, current_database(), "
            "(SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) "
            "OR pg_has_role(d.datdba, 'USAGE') "
            "FROM pg_catalog.pg_database d WHERE d.datname = current_database()",
            "session",
        )[0]
        seen.user, seen.database, seen.can_revoke_temp = self.canon(user), database, can_revoke

    def _read_roles(self, seen: ServerState, state: ActualState) -> None:
        names = self.fetch("SELECT rolname FROM pg_catalog.pg_roles", "roles")
        seen.server_roles = {self.canon(n) for (n,) in names}
        state.roles = seen.managed_roles & seen.server_roles
        managed = self._names(seen.managed_roles)
        for role, member in self.fetch(
            "SELECT r.rolname, m.rolname FROM pg_catalog.pg_auth_members a "
            "JOIN pg_catalog.pg_roles r ON r.oid = a.roleid "
            "JOIN pg_catalog.pg_roles m ON m.oid = a.member "
            f"WHERE r.rolname = ANY({managed}) OR m.rolname = ANY({managed})",
            "roles",
        ):
            state.memberships.add(Membership(self.canon(role), self.canon(member)))

    def _read_schemas(self, seen: ServerState, state: ActualState) -> list[tuple[str, str, str]]:
        """Every schema, and its ACL as (grantee, privilege, schema), owners left out."""
        acl: list[tuple[str, str, str]] = []
        for schema, owner, grantee, privilege in self.fetch(
            f"SELECT n.nspname, pg_get_userbyid(n.nspowner), {_GRANTEE.format('a')}, "
            "a.privilege_type FROM pg_catalog.pg_namespace n "
            f"LEFT JOIN LATERAL aclexplode(n.nspacl) a ON true WHERE {_SYSTEM}",
            "schemas",
        ):
            seen.schemas.add(self.canon(schema))
            if grantee is not None and grantee != owner:
                acl.append((self.canon(grantee), privilege, self.canon(schema)))
        state.schemas = set(seen.schemas)
        return acl

    def _read_relations(
        self, seen: ServerState
    ) -> tuple[dict[PrivKey, set[str]], dict[RelKey, int]]:
        """Every relation (kind, owner, row estimate) and its table-level ACL."""
        acl: dict[PrivKey, set[str]] = {}
        estimates: dict[RelKey, int] = {}
        bases = self._names(seen.base_schemas)
        for schema, table, relkind, owner, tuples, live, note, grantee, privilege in self.fetch(
            f"SELECT n.nspname, c.relname, c.relkind, pg_get_userbyid(c.relowner), c.reltuples, "
            "COALESCE(s.n_live_tup, 0), CASE WHEN c.relkind IN ('r', 'p') AND n.nspname = "
            f"ANY({bases}) THEN obj_description(c.oid, 'pg_class') END, "
            f"{_GRANTEE.format('a')}, a.privilege_type "
            "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_catalog.pg_stat_all_tables s ON s.relid = c.oid "
            "LEFT JOIN LATERAL aclexplode(c.relacl) a ON true "
            f"WHERE c.relkind = ANY({self._kinds()}) AND NOT c.relispartition AND {_SYSTEM}",
            "tables",
        ):
            key = (self.canon(schema), self.canon(table))
            seen.relations[key] = relkind
            seen.owners[key] = self.canon(owner)
            policies = view_note_policies(note)
            if policies is not None:
                seen.view_policies[key] = policies
            # reltuples is -1 until the first ANALYZE: unknown counts as "has rows"
            estimates[key] = max(int(tuples), int(live)) if tuples >= 0 else max(1, int(live))
            seen.relation_acl.setdefault(key, set())
            if grantee is not None and grantee != owner:
                acl.setdefault((self.canon(grantee), privilege, key[0]), set()).add(key[1])
                seen.relation_acl[key].add((self.canon(grantee), privilege))
        return acl, estimates

    def _read_columns(self, seen: ServerState) -> None:
        """Columns (and types) of the managed schemas' relations, and every column ACL that
        is not the owner's (in any schema: managed roles' grants are in scope anywhere)."""
        wanted = self._names(seen.managed_schemas | {ops.OPS_SCHEMA} | set(seen.base_schemas))
        columns: dict[RelKey, dict[str, str]] = {}
        for schema, table, column, data_type, grantee, privilege in self.fetch(
            f"SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), "
            f"{_GRANTEE.format('x')}, x.privilege_type FROM pg_catalog.pg_attribute a "
            "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN LATERAL aclexplode(a.attacl) x ON true "
            f"WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind = ANY({self._kinds()}) "
            f"AND NOT c.relispartition AND {_SYSTEM} "
            f"AND (n.nspname = ANY({wanted}) OR a.attacl IS NOT NULL) "
            "ORDER BY n.nspname, c.relname, a.attnum",
            "columns",
        ):
            key = (self.canon(schema), self.canon(table))
            name = self.canon(column)
            columns.setdefault(key, {})[name] = pg_type(data_type)
            if grantee is not None and self.canon(grantee) != seen.owners.get(key):
                ckey = (self.canon(grantee), privilege, *key)
                seen.column_grants.setdefault(ckey, set()).add(name)
        seen.columns = {k: tuple(v) for k, v in columns.items()}
        seen.types = {k: tuple(v.values()) for k, v in columns.items()}

    def _read_default_privileges(self, seen: ServerState) -> None:
        """Per-schema default privileges on tables: (grantee, privilege, schema) -> creators.
        Database-wide defaults (no schema) are not read (docs/postgres.md)."""
        for creator, schema, grantee, privilege in self.fetch(
            f"SELECT pg_get_userbyid(d.defaclrole), n.nspname, {_GRANTEE.format('x')}, "
            "x.privilege_type FROM pg_catalog.pg_default_acl d "
            "JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace "
            "CROSS JOIN LATERAL aclexplode(d.defaclacl) x WHERE d.defaclobjtype = 'r'",
            "grants",
        ):
            if grantee != creator:
                pkey = (self.canon(grantee), privilege, self.canon(schema))
                seen.future_holders.setdefault(pkey, set()).add(self.canon(creator))

    def _read_recorded(
        self, seen: ServerState, state: ActualState
    ) -> dict[ColKey, list[tuple[str, ...]]]:
        """keel's records: column policies, and memberships of members the server lacks."""
        recorded: dict[ColKey, list[tuple[str, ...]]] = {}
        for role, privilege, object_name in role_store.read_policies(self):
            schema, table, shown = split_columns_object(object_name)
            recorded.setdefault((role, privilege, schema, table), []).append(shown)
        for m in role_store.read_memberships(self):
            if m.member not in seen.server_roles:
                state.memberships.add(m)
        return recorded

    def _kinds(self) -> str:
        return "ARRAY[" + ", ".join(self.lit(k) for k in RELKINDS) + ']::"char"[]'
