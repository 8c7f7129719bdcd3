"""PostgreSQL: real roles, grants and default privileges, read back from the catalogs.

Names are canonical upper case in keel and lower case on the server (``norm``/``canon``);
every identifier and literal is quoted by :mod:`keel.sql` through ``ident``/``lit``. A
server name holding upper-case letters cannot be managed. Tags are rows in
``SOPHIA_OPS.KEEL_TAGS`` (the source of truth, as on DuckDB) plus ``COMMENT ON ... IS
'<json>'`` on the object itself, for people browsing the catalog.

How the catalogs become :class:`~keel.resources.Grant` values (the invariants the diff
relies on; ``docs/postgres.md`` explains the choices):

- Owners are not grantees: an owner's privileges are implicit and never reported.
  PUBLIC is reported as the role ``PUBLIC``.
- Scope: every privilege on an object in a managed schema, and privileges of managed
  roles anywhere else (reported per table: never ALL_TABLES outside managed schemas).
- SCHEMA: USAGE and CREATE from ``pg_namespace.nspacl``.
- FUTURE_TABLES(R, P, S) holds iff every *creator* other than R has the default
  privilege in S. The creators are the roles that create tables later: keel's own user
  and every role keel.yml declares. Default privileges of any other creator, or of only
  some creators, are reported as FUTURE_TABLES_OF(``S.CREATOR``).
- ALL_TABLES(R, P, S) holds iff every relation of S that R does not own and that is not
  masked for (R, P) grants P to R; with no such relation the claim is vacuous and holds
  exactly when FUTURE_TABLES(R, P, S) does. Otherwise each relation that grants it is
  reported as a TABLE grant (drift unless declared).
- COLUMNS(``S.T(C1,C2)``): R holds P on exactly those columns of T and not on T itself.
  A table is *masked* for (R, P) when R holds P on some of its columns or keel recorded a
  COLUMNS policy for it; table-level P on a masked table is reported as a TABLE grant (a
  leak). Policies are recorded in ``KEEL_GRANTS`` because they outlive the tables they
  cover: a recorded policy is reported held while the server holds exactly its columns
  that exist (all of them once the table exists, none before).
- Memberships come from ``pg_auth_members``. A member that does not exist on the server
  (SYSADMIN) is recorded in ``KEEL_ROLE_MEMBERS`` and reported held while it is missing.

Rendering consults what the last :meth:`read_state` saw (``self.seen``), so each
change's SQL fits the server the plan was made on; a saved plan is refused by its
fingerprint once that state changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from keel import ops
from keel.adapters.base import NOW, Capabilities
from keel.adapters.postgres_runtime import PostgresRuntime
from keel.errors import WarehouseError
from keel.plan.model import Change
from keel.resources import (
    ActualState,
    Grant,
    Membership,
    TableInfo,
    TagKey,
    columns_object,
    split_columns_object,
)
from keel.sql import POSTGRES, quote

if TYPE_CHECKING:
    import psycopg

# privileges are keywords, not names: only these reach the SQL text
PRIVILEGES = frozenset(
    {
        "SELECT",
        "INSERT",
        "UPDATE",
        "DELETE",
        "TRUNCATE",
        "REFERENCES",
        "TRIGGER",
        "MAINTAIN",
        "USAGE",
        "CREATE",
        "CONNECT",
        "TEMPORARY",
    }
)
RELKINDS = ("r", "p", "v", "m", "f")  # tables, partitioned tables, views, matviews, foreign
COMMENT_KIND = {
    "r": "TABLE",
    "p": "TABLE",
    "v": "VIEW",
    "m": "MATERIALIZED VIEW",
    "f": "FOREIGN TABLE",
}
# format_type() spellings -> the vocabulary the core uses (DuckDB's)
_TYPES = {
    "text": "VARCHAR",
    "character varying": "VARCHAR",
    "bigint": "BIGINT",
    "integer": "INTEGER",
    "smallint": "SMALLINT",
    "double precision": "DOUBLE",
    "real": "FLOAT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp without time zone": "TIMESTAMP",
    "timestamp with time zone": "TIMESTAMP WITH TIME ZONE",
    "json": "JSON",
    "jsonb": "JSON",
    "numeric": "DECIMAL",
    "uuid": "UUID",
}
_SYSTEM = "n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'"
_GRANTEE = "CASE WHEN {0}.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid({0}.grantee) END"

RelKey = tuple[str, str]  # (SCHEMA, TABLE)
PrivKey = tuple[str, str, str]  # (ROLE, PRIVILEGE, SCHEMA)
ColKey = tuple[str, str, str, str]  # (ROLE, PRIVILEGE, SCHEMA, TABLE)


def pg_type(formatted: str) -> str:
    """``character varying(20)`` -> ``VARCHAR``; ``numeric(18,2)`` -> ``DECIMAL(18,2)``."""
    base, paren, rest = formatted.partition("(")
    name = _TYPES.get(base.strip())
    if name is None:
        return formatted.upper()
    if name == "DECIMAL" and paren:
        return f"DECIMAL({rest}"
    return name


@dataclass
class ServerState:
    """What the last ``read_state`` saw, in canonical names; ``render`` consults it."""

    managed_schemas: set[str] = field(default_factory=set)
    managed_roles: set[str] = field(default_factory=set)
    user: str = ""  # keel's own role (current_user)
    database: str | None = None
    can_revoke_temp: bool = True  # superuser or owner of the database
    schemas: set[str] = field(default_factory=set)
    server_roles: set[str] = field(default_factory=set)
    relations: dict[RelKey, str] = field(default_factory=dict)  # -> relkind
    owners: dict[RelKey, str] = field(default_factory=dict)
    columns: dict[RelKey, tuple[str, ...]] = field(default_factory=dict)  # in table order
    types: dict[RelKey, tuple[str, ...]] = field(default_factory=dict)  # same order
    column_grants: dict[ColKey, set[str]] = field(default_factory=dict)
    masked: set[ColKey] = field(default_factory=set)
    future_holders: dict[PrivKey, set[str]] = field(default_factory=dict)  # -> creators

    @property
    def creators(self) -> set[str]:
        """The roles whose future tables keel's default privileges cover."""
        return self.managed_roles | ({self.user} if self.user else set())

    def in_scope(self, role: str, schema: str) -> bool:
        return schema in self.managed_schemas or role in self.managed_roles


class PostgresAdapter(PostgresRuntime):
    """psycopg 3 on one connection (autocommit; ``begin`` opens an explicit transaction).

    The connection opens on first use, so rendering (golden tests) needs no server.
    """

    name = "postgres"
    caps = Capabilities(
        enforces_grants=True,
        native_tags=False,
        transactional_ddl=True,
        merge=True,  # PostgreSQL 15+
        column_privileges=True,
        lower_case_names=True,
    )
    dialect = POSTGRES
    type_map: ClassVar[dict[str, str]] = {
        "VARCHAR": "text",
        "BIGINT": "bigint",
        "DOUBLE": "double precision",
        "BOOLEAN": "boolean",
        "TIMESTAMP": "timestamptz",
    }

    def __init__(self, dsn: str = "", connection: Any = None, **kwargs: Any):
        super().__init__(**kwargs)
        self._dsn = dsn
        self._conn: psycopg.Connection[Any] | None = connection
        self.seen = ServerState()

    def fork(self) -> PostgresAdapter:
        """A second connection to the same database (opened on first use), for a worker."""
        return PostgresAdapter(self._dsn, tag_name=self.tag_name, tag_schema=self.tag_schema)

    # ---- connection and errors ---------------------------------------------------------

    @property
    def conn(self) -> psycopg.Connection[Any]:
        if self._conn is None:
            import psycopg
            from psycopg.conninfo import conninfo_to_dict, make_conninfo

            try:
                given = conninfo_to_dict(self._dsn)
            except psycopg.Error as exc:  # psycopg may quote the DSN, password included
                raise WarehouseError(
                    "warehouse.dsn is not a valid PostgreSQL connection string (not shown: it "
                    "may hold a password); see https://www.postgresql.org/docs/current/"
                    "libpq-connect.html#LIBPQ-CONNSTRING"
                ) from exc
            defaults: dict[str, str | int] = {"application_name": "keel", "connect_timeout": 10}
            extra = {k: v for k, v in defaults.items() if k not in given}
            try:
                self._conn = psycopg.connect(make_conninfo(self._dsn, **extra), autocommit=True)
            except psycopg.Error as exc:
                raise WarehouseError(
                    f"cannot connect to PostgreSQL: {self._scrub(str(exc).strip())} "
                    "(check warehouse.dsn / KEEL_PG_DSN)"
                ) from exc
        return self._conn

    def _scrub(self, text: str) -> str:
        """``text`` with the DSN and its password taken out."""
        from psycopg.conninfo import conninfo_to_dict

        secrets = [self._dsn] if self._dsn else []
        try:
            password = conninfo_to_dict(self._dsn).get("password")
        except Exception:  # unparsable: the whole DSN is already in the list
            password = None
        if password:
            secrets.append(str(password))
        for secret in secrets:
            text = text.replace(secret, "***")
        return text

    def _refused(self, exc: Exception, sql: str) -> WarehouseError:
        import psycopg

        diag = exc.diag if isinstance(exc, psycopg.Error) else None
        message = (diag.message_primary if diag else None) or str(exc).splitlines()[0]
        return WarehouseError(f"PostgreSQL refused: {self._scrub(message)}\n  SQL: {sql[:500]}")

    def execute(self, sql: str) -> None:
        import psycopg

        try:
            self.conn.execute(sql.encode())
        except psycopg.Error as exc:
            raise self._refused(exc, sql) from exc

    def fetch(self, sql: str, kind: str = "data") -> list[tuple[Any, ...]]:
        import psycopg

        self.queries[kind] += 1
        try:
            return list(self.conn.execute(sql.encode()).fetchall())
        except psycopg.Error as exc:
            raise self._refused(exc, sql) from exc

    def begin(self) -> None:
        self.execute("BEGIN")

    def commit(self) -> None:
        self.execute("COMMIT")

    def rollback(self) -> None:
        import psycopg

        if self._conn is None or self._conn.closed:
            return
        try:  # ROLLBACK outside a transaction only warns; a broken connection has none
            self._conn.execute(b"ROLLBACK")
        except psycopg.Error:
            return

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def current_user(self) -> str:
        if not self.seen.user:
            self.seen.user = self.canon(self.fetch("SELECT current_user", "session")[0][0])
        return self.seen.user

    # ---- reading state -----------------------------------------------------------------

    def array_sql(self, items: Sequence[str]) -> str:
        return "ARRAY[" + ", ".join(items) + "]::text[]"

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
        for (schema, table), relkind in seen.relations.items():
            if schema not in wanted:
                continue
            names = seen.columns.get((schema, table), ())
            types = seen.types.get((schema, table), ())
            cols = tuple(zip(names, types, strict=True))
            if relkind in ("v", "m"):
                state.tables[(schema, table)] = TableInfo(schema, table, cols, 0, "view")
            else:
                rows = estimates[(schema, table)]
                state.tables[(schema, table)] = TableInfo(schema, table, cols, rows, "table")
        self.mark_ops(state)
        records = {ops.KEEL_GRANTS.name, ops.KEEL_ROLE_MEMBERS.name}
        recorded = self._read_recorded(seen, state) if records <= state.ops_tables else {}
        seen.masked = set(seen.column_grants) | set(recorded)
        state.grants = grants_from_catalog(seen, schema_acl, table_acl, recorded)
        self.seen = seen
        self.read_recorded_tags(state)
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
        for schema, table, relkind, owner, tuples, live, grantee, privilege in self.fetch(
            f"SELECT n.nspname, c.relname, c.relkind, pg_get_userbyid(c.relowner), c.reltuples, "
            f"COALESCE(s.n_live_tup, 0), {_GRANTEE.format('a')}, a.privilege_type "
            "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_catalog.pg_stat_all_tables s ON s.relid = c.oid "
            "LEFT JOIN LATERAL aclexplode(c.relacl) a ON true "
            f"WHERE c.relkind = ANY({self._kinds()}) AND NOT c.relispartition AND {_SYSTEM}",
            "tables",
        ):
            key = (self.canon(schema), self.canon(table))
            seen.relations[key] = relkind
            seen.owners[key] = self.canon(owner)
            # reltuples is -1 until the first ANALYZE: unknown counts as "has rows"
            estimates[key] = max(int(tuples), int(live)) if tuples >= 0 else max(1, int(live))
            if grantee is not None and grantee != owner:
                acl.setdefault((self.canon(grantee), privilege, key[0]), set()).add(key[1])
        return acl, estimates

    def _read_columns(self, seen: ServerState) -> None:
        """Columns (and types) of the managed schemas' relations, and every column ACL that
        is not the owner's (in any schema: managed roles' grants are in scope anywhere)."""
        wanted = self._names(seen.managed_schemas | {ops.OPS_SCHEMA})
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
        cols = ", ".join(self.ident(c) for c in ("ROLE_NAME", "PRIVILEGE", "OBJECT_NAME"))
        for role, privilege, object_name in self.fetch(
            f"SELECT {cols} FROM {self.ops_table(ops.KEEL_GRANTS)} "
            f"WHERE {self.ident('OBJECT_TYPE')} = {self.lit('COLUMNS')}",
            "grants",
        ):
            schema, table, shown = split_columns_object(object_name)
            recorded.setdefault((role, privilege, schema, table), []).append(shown)
        cols = ", ".join(self.ident(c) for c in ("ROLE_NAME", "MEMBER"))
        for role, member in self.fetch(
            f"SELECT {cols} FROM {self.ops_table(ops.KEEL_ROLE_MEMBERS)}", "roles"
        ):
            if member not in seen.server_roles:
                state.memberships.add(Membership(role, member))
        return recorded

    def _kinds(self) -> str:
        return "ARRAY[" + ", ".join(self.lit(k) for k in RELKINDS) + ']::"char"[]'

    # ---- rendering ---------------------------------------------------------------------

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
        ident = {"ROLE_NAME": role, "MEMBER": member}
        if revoke:
            sql = [self._delete(ops.KEEL_ROLE_MEMBERS, ident)]
            if exists:
                sql.insert(0, f"REVOKE {self.ident(role)} FROM {self.ident(member)}")
            return change.with_sql(sql)
        if exists:
            return change.with_sql([f"GRANT {self.ident(role)} TO {self.ident(member)}"])
        record = self._upsert(ops.KEEL_ROLE_MEMBERS, {**ident, "UPDATED_AT": NOW})
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
        schema, _, rest = grant.object_name.partition(".")
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
        if grant.target == "FUTURE_TABLES_OF":
            return change.with_sql([self._default_sql(rest, schema, verb, priv, prep, to)])
        if grant.target == "COLUMN":
            table, _, column = rest.partition(".")
            cols = self.ident(column)
            return change.with_sql(
                [f"{verb} {priv} ({cols}) ON TABLE {self.ident(schema, table)} {prep} {to}"]
            )
        return self._columns_sql(change, grant, revoke)

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

    def _columns_sql(self, change: Change, grant: Grant, revoke: bool) -> Change:
        """A masked table: the policy is recorded in KEEL_GRANTS; on the server the role
        loses table-level access (which also drops its other column privileges) and gets
        the listed columns that exist. Revoking takes the listed columns away and nothing
        else, so a policy that changes never exposes a column between two changes."""
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
        present = [c for c in shown if c in self.seen.columns.get((schema, table), ())]
        if revoke:  # column privileges only: never widens access, not even for a moment
            sql = [self._delete(ops.KEEL_GRANTS, ident)]
            if present:
                cols = ", ".join(self.ident(c) for c in present)
                sql.append(f"REVOKE {priv} ({cols}) {on} FROM {to}")
            return change.with_sql(sql)
        sql = [self._upsert(ops.KEEL_GRANTS, {**ident, "UPDATED_AT": NOW})]
        if not exists:
            return change.with_sql(
                sql, f"{schema}.{table} does not exist yet: recorded, applied once it does"
            )
        sql.append(f"REVOKE {priv} {on} FROM {to}")
        if present:
            sql.append(self._column_grant(priv, schema, table, present, to))
        return change.with_sql(sql)

    # ---- for writers (publish, ingestion) ----------------------------------------------

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


def grants_from_catalog(
    seen: ServerState,
    schema_acl: list[tuple[str, str, str]],
    table_acl: dict[PrivKey, set[str]],
    recorded: dict[ColKey, list[tuple[str, ...]]],
) -> set[Grant]:
    """Catalog facts -> Grant values, by the rules in the module docstring. Pure."""
    grants = {
        Grant(role, priv, "SCHEMA", schema)
        for role, priv, schema in schema_acl
        if seen.in_scope(role, schema)
    }
    for (role, priv, schema), holders in seen.future_holders.items():
        if not seen.in_scope(role, schema):
            continue
        need = seen.creators - {role}
        full = schema in seen.managed_schemas and need <= holders
        if full:
            grants.add(Grant(role, priv, "FUTURE_TABLES", schema))
        for creator in holders - need if full else holders:
            grants.add(Grant(role, priv, "FUTURE_TABLES_OF", f"{schema}.{creator}"))

    masked = set(seen.column_grants) | set(recorded)
    by_schema: dict[str, list[str]] = {}
    for schema, table in seen.relations:
        by_schema.setdefault(schema, []).append(table)
    combos = set(table_acl) | {
        (g.role, g.privilege, g.object_name) for g in grants if g.target == "FUTURE_TABLES"
    }
    for role, priv, schema in combos:
        if not seen.in_scope(role, schema):
            continue
        has = table_acl.get((role, priv, schema), set())
        if schema not in seen.managed_schemas:
            grants.update(Grant(role, priv, "TABLE", f"{schema}.{t}") for t in has)
            continue
        relevant = [
            t
            for t in by_schema.get(schema, [])
            if seen.owners[(schema, t)] != role and (role, priv, schema, t) not in masked
        ]
        if relevant:
            full = all(t in has for t in relevant)
        else:
            full = Grant(role, priv, "FUTURE_TABLES", schema) in grants
        if full:
            grants.add(Grant(role, priv, "ALL_TABLES", schema))
        for t in has:
            if not full or (role, priv, schema, t) in masked:
                grants.add(Grant(role, priv, "TABLE", f"{schema}.{t}"))

    for key in masked:
        role, priv, schema, table = key
        if not seen.in_scope(role, schema) or table in table_acl.get((role, priv, schema), ()):
            continue  # table-level access on a masked table is reported above, as a leak
        held = seen.column_grants.get(key, set())
        exist = set(seen.columns.get((schema, table), ()))
        matched = [shown for shown in recorded.get(key, []) if held == set(shown) & exist]
        for shown in matched:
            grants.add(Grant(role, priv, "COLUMNS", columns_object(schema, table, shown)))
        if held and not matched:
            grants.add(Grant(role, priv, "COLUMNS", columns_object(schema, table, held)))
    return grants
