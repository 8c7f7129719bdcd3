"""Snowflake: native TAG, schemas WITH MANAGED ACCESS, real roles and grants.

Not reachable from keel's development machines: this adapter is checked with
golden SQL and a recording connection that replays ``SHOW`` output
(tests/golden/test_snowflake_sql.py), following reference/snowflake.md.
Statements that could not be run against a live account are marked
"unverified" below.

Reading state in bulk (a fixed number of queries, whatever the table count):
- schemas, tables, columns: one INFORMATION_SCHEMA query each;
- tags: one query on SNOWFLAKE.ACCOUNT_USAGE.TAG_REFERENCES (direct assignments,
  up to two hours behind) overlaid with keel's own apply log for the last two
  hours, so a tag keel just set is not re-planned;
- grants: ``SHOW GRANTS TO ROLE`` per managed role and ``SHOW FUTURE GRANTS IN
  SCHEMA`` per managed schema (fixed by the project, not by the table count);
  per-table grants fold into ALL_TABLES when every table of the schema has them.
DDL auto-commits on Snowflake, so every statement keel emits is idempotent.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from typing import Any

from keel import ops
from keel.adapters.base import Capabilities
from keel.adapters.snowflake_runtime import SnowflakeRuntime
from keel.errors import WarehouseError
from keel.plan.model import Change
from keel.project.models import Warehouse
from keel.resources import ActualState, Grant, Membership, TableInfo, TagKey
from keel.sql import SNOWFLAKE

# keel's privilege words -> Snowflake's (schema-level CREATE is per object type)
SCHEMA_PRIVILEGES = {"USAGE": ["USAGE"], "CREATE": ["CREATE TABLE", "CREATE VIEW"]}
TYPE_MAP = {"TIMESTAMP": "TIMESTAMP_TZ"}
APPLY_LOG_LAG_HOURS = 2  # ACCOUNT_USAGE.TAG_REFERENCES latency


class SnowflakeAdapter(SnowflakeRuntime):
    name = "snowflake"
    caps = Capabilities(
        enforces_grants=True,
        native_tags=True,
        transactional_ddl=False,
        merge=True,
        column_privileges=False,
        lower_case_names=False,
    )
    dialect = SNOWFLAKE
    type_map = TYPE_MAP

    def __init__(self, connection: Any, database: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.conn = connection
        self.database = database.upper()

    @classmethod
    def from_spec(cls, spec: Warehouse, **kwargs: Any) -> SnowflakeAdapter:
        if not spec.database:
            raise WarehouseError("warehouse.database is required for Snowflake")
        try:
            import snowflake.connector
        except ImportError as exc:  # pragma: no cover - a dependency of keel
            raise WarehouseError("snowflake-connector-python is not installed") from exc
        params: dict[str, Any] = {
            "account": spec.account,
            "user": spec.user,
            "role": spec.role,
            "warehouse": spec.warehouse,
            "database": spec.database,
            "autocommit": True,
            "paramstyle": "qmark",  # server-side binding (keel.adapters.snowflake_runtime)
            "application": "keel",
        }
        if spec.password is not None:
            params["password"] = spec.password.get_secret_value()
        if spec.private_key_path:
            params["private_key_file"] = spec.private_key_path
        if spec.authenticator:
            params["authenticator"] = spec.authenticator
        try:
            conn = snowflake.connector.connect(**{k: v for k, v in params.items() if v is not None})
        except snowflake.connector.errors.Error as exc:
            # the connector's message names the account, never the password
            raise WarehouseError(f"cannot connect to Snowflake: {exc.msg}") from exc
        return cls(conn, spec.database, **kwargs)

    # ---- names ----------------------------------------------------------------------------

    def fq(self, *parts: str) -> str:
        """Fully qualified: "DB"."SCHEMA"[."TABLE"]."""
        return self.ident(self.database, *parts)

    def ops_table(self, table: ops.OpsTable) -> str:
        return self.fq(ops.OPS_SCHEMA, table.name)

    @property
    def tag_ref(self) -> str:
        return self.fq(self.tag_schema, self.tag_name)

    # ---- execution ------------------------------------------------------------------------

    def _run(self, sql: str, params: Sequence[object] | None = None) -> Any:
        cursor = self.conn.cursor()
        try:
            cursor.execute(sql) if params is None else cursor.execute(sql, params)
        except Exception as exc:  # the connector's ProgrammingError and friends
            message = getattr(exc, "msg", None) or str(exc)
            raise WarehouseError(f"Snowflake refused: {message}\n  SQL: {sql[:500]}") from exc
        return cursor

    def execute(self, sql: str) -> None:
        self._run(sql).close()

    def fetch(self, sql: str, kind: str = "data") -> list[tuple[Any, ...]]:
        self.queries[kind] += 1
        cursor = self._run(sql)
        try:
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def fetch_dicts(self, sql: str, kind: str) -> list[dict[str, Any]]:
        """SHOW output as dicts keyed by lower-case column name."""
        self.queries[kind] += 1
        cursor = self._run(sql)
        try:
            names = [d[0].lower() for d in cursor.description]
            return [dict(zip(names, row, strict=False)) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def begin(self) -> None:
        self.execute("BEGIN")

    def commit(self) -> None:
        self.execute("COMMIT")

    def rollback(self) -> None:
        with contextlib.suppress(WarehouseError):
            self.execute("ROLLBACK")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()

    def array_sql(self, items: Sequence[str]) -> str:
        return "ARRAY_CONSTRUCT(" + ", ".join(items) + ")"

    # ---- rendering ------------------------------------------------------------------------

    def bootstrap_sql(self) -> list[str]:
        return [
            f"CREATE SCHEMA IF NOT EXISTS {self.fq(ops.OPS_SCHEMA)} WITH MANAGED ACCESS",
            *self.ops_ddl(),
            f"CREATE TAG IF NOT EXISTS {self.tag_ref} COMMENT = "
            f"{self.lit('keel: JSON metadata for AI discovery (SOPHIA_AI_METADATA)')}",
        ]

    def render(self, change: Change) -> Change:
        if change.kind == "create_schema":
            return change.with_sql(
                [f"CREATE SCHEMA IF NOT EXISTS {self.fq(change.object)} WITH MANAGED ACCESS"]
            )
        return super().render(change)

    def tag_sql(self, key: TagKey, value: str | None) -> list[str]:
        parts = key.parts
        action = (
            f"SET TAG {self.tag_ref} = {self.lit(value)}"
            if value is not None
            else (f"UNSET TAG {self.tag_ref}")
        )
        if key.object_type == "schema":
            return [f"ALTER SCHEMA {self.fq(parts[0])} {action}"]
        if key.object_type == "table":
            return [f"ALTER TABLE {self.fq(parts[0], parts[1])} {action}"]
        return [
            f"ALTER TABLE {self.fq(parts[0], parts[1])} MODIFY COLUMN "
            f"{self.ident(parts[2])} {action}"
        ]

    def role_sql(self, change: Change) -> Change:
        comment = f" COMMENT = {self.lit(change.after)}" if change.after else ""
        return change.with_sql([f"CREATE ROLE IF NOT EXISTS {self.ident(change.object)}{comment}"])

    def membership_sql(self, change: Change, role: str, member: str, revoke: bool) -> Change:
        verb = (
            f"REVOKE ROLE {self.ident(role)} FROM"
            if revoke
            else f"GRANT ROLE {self.ident(role)} TO"
        )
        return change.with_sql([f"{verb} ROLE {self.ident(member)}"])

    def grant_sql(self, change: Change, grant: Grant, revoke: bool) -> Change:
        verb, prep = ("REVOKE", "FROM") if revoke else ("GRANT", "TO")
        role = self.ident(grant.role)
        schema = self.fq(grant.object_name.split(".")[0])
        if grant.target == "SCHEMA":
            privs = SCHEMA_PRIVILEGES.get(grant.privilege, [grant.privilege])
            return change.with_sql(
                [f"{verb} {p} ON SCHEMA {schema} {prep} ROLE {role}" for p in privs]
            )
        if grant.target in ("ALL_TABLES", "FUTURE_TABLES"):
            scope = "ALL" if grant.target == "ALL_TABLES" else "FUTURE"
            # views are read like tables: SELECT covers both (unverified for FUTURE VIEWS)
            kinds = ["TABLES", "VIEWS"] if grant.privilege == "SELECT" else ["TABLES"]
            return change.with_sql(
                [
                    f"{verb} {grant.privilege} ON {scope} {k} IN SCHEMA {schema} {prep} ROLE {role}"
                    for k in kinds
                ]
            )
        table = self.fq(*grant.object_name.split(".")[:2])
        return change.with_sql([f"{verb} {grant.privilege} ON TABLE {table} {prep} ROLE {role}"])

    # ---- state ----------------------------------------------------------------------------

    def read_state(self, managed_schemas: set[str], roles: set[str]) -> ActualState:
        state = ActualState()
        info = self.ident(self.database, "INFORMATION_SCHEMA")
        for (schema,) in self.fetch(f"SELECT SCHEMA_NAME FROM {info}.SCHEMATA", "schemas"):
            state.schemas.add(schema)
        wanted = managed_schemas | {ops.OPS_SCHEMA}
        in_list = ", ".join(self.lit(s) for s in sorted(wanted))
        for schema, table, rows, kind in self.fetch(
            f"SELECT TABLE_SCHEMA, TABLE_NAME, COALESCE(ROW_COUNT, 0), TABLE_TYPE FROM {info}.TABLES "
            f"WHERE TABLE_SCHEMA IN ({in_list})",
            "tables",
        ):
            state.tables[(schema, table)] = TableInfo(
                schema, table, (), int(rows), "view" if kind == "VIEW" else "table"
            )
        columns: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for schema, table, column, data_type in self.fetch(
            f"SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, DATA_TYPE FROM {info}.COLUMNS "
            f"WHERE TABLE_SCHEMA IN ({in_list}) ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION",
            "columns",
        ):
            columns.setdefault((schema, table), []).append((column, data_type))
        for key, table in list(state.tables.items()):
            state.tables[key] = TableInfo(
                table.schema, table.name, tuple(columns.get(key, ())), table.rows, table.kind
            )
        self.mark_ops(state)
        self._read_tags(state, wanted)
        self._read_grants(state, managed_schemas, roles)
        return state

    def _read_tags(self, state: ActualState, wanted: set[str]) -> None:
        sql = (
            "SELECT DOMAIN, OBJECT_SCHEMA, OBJECT_NAME, COLUMN_NAME, TAG_VALUE "
            "FROM SNOWFLAKE.ACCOUNT_USAGE.TAG_REFERENCES "
            f"WHERE TAG_DATABASE = {self.lit(self.database)} AND TAG_SCHEMA = "
            f"{self.lit(self.tag_schema)} AND TAG_NAME = {self.lit(self.tag_name)} "
            f"AND OBJECT_DATABASE = {self.lit(self.database)} AND OBJECT_DELETED IS NULL"
        )
        for domain, schema, name, column, value in self.fetch(sql, "tags"):
            if domain == "SCHEMA":
                state.tags[TagKey("schema", name)] = value
            elif schema in wanted and domain == "COLUMN":
                state.tags[TagKey("column", f"{schema}.{name}.{column}")] = value
            elif schema in wanted:
                state.tags[TagKey("table", f"{schema}.{name}")] = value
        if "KEEL_APPLY_LOG" not in state.ops_tables:
            return
        # ACCOUNT_USAGE lags: overlay what keel itself set or unset recently, in order
        log = self.ops_table(ops.KEEL_APPLY_LOG)
        sql = (
            f"SELECT {self.ident('CHANGE_KIND')}, {self.ident('OBJECT_NAME')}, {self.ident('SQL_TEXT')} "
            f"FROM {log} WHERE {self.ident('STATUS')} = 'applied' AND {self.ident('CHANGE_KIND')} "
            f"IN ('set_tag', 'unset_tag') AND {self.ident('APPLIED_AT')} > DATEADD(hour, "
            f"-{APPLY_LOG_LAG_HOURS}, CURRENT_TIMESTAMP()) ORDER BY {self.ident('APPLIED_AT')}, "
            f"{self.ident('SEQ')}"
        )
        for kind, obj, sql_text in self.fetch(sql, "tags"):
            object_type, _, name = obj.partition(" ")
            key = TagKey(object_type, name)
            if kind == "unset_tag":
                state.tags.pop(key, None)
            else:
                state.tags[key] = _tag_value_from_sql(sql_text)

    def _read_grants(self, state: ActualState, managed: set[str], roles: set[str]) -> None:
        for row in self.fetch_dicts("SHOW ROLES", "roles"):
            state.roles.add(row["name"])
        tables_by_schema: dict[str, set[str]] = {}
        for (schema, table), info in state.tables.items():
            if info.kind == "table":
                tables_by_schema.setdefault(schema, set()).add(table)
        per_table: dict[tuple[str, str, str], set[str]] = {}
        for role in sorted(roles & state.roles):
            for row in self.fetch_dicts(f"SHOW GRANTS TO ROLE {self.ident(role)}", "grants"):
                privilege, on, name = row["privilege"], row["granted_on"], row["name"]
                if on == "ROLE":
                    continue  # roles granted to this role: read from SHOW GRANTS OF ROLE
                parts = [p.strip('"') for p in name.split(".")]
                if on == "SCHEMA" and len(parts) == 2:
                    word = {"CREATE TABLE": "CREATE", "CREATE VIEW": "CREATE"}.get(
                        privilege, privilege
                    )
                    if privilege != "CREATE VIEW":
                        state.grants.add(Grant(role, word, "SCHEMA", parts[1]))
                elif on in ("TABLE", "VIEW") and len(parts) == 3:
                    per_table.setdefault((role, privilege, parts[1]), set()).add(parts[2])
        for (role, privilege, schema), tables in per_table.items():
            every = tables_by_schema.get(schema, set())
            if every and every <= tables:
                state.grants.add(Grant(role, privilege, "ALL_TABLES", schema))
            else:
                state.grants.update(
                    Grant(role, privilege, "TABLE", f"{schema}.{t}") for t in tables
                )
        for schema in sorted(managed & state.schemas):
            for row in self.fetch_dicts(
                f"SHOW FUTURE GRANTS IN SCHEMA {self.fq(schema)}", "grants"
            ):
                if row.get("grant_on") == "TABLE":
                    state.grants.add(
                        Grant(row["grantee_name"], row["privilege"], "FUTURE_TABLES", schema)
                    )
        for role in sorted(roles & state.roles):
            for row in self.fetch_dicts(f"SHOW GRANTS OF ROLE {self.ident(role)}", "roles"):
                if row.get("granted_to") == "ROLE":
                    state.memberships.add(Membership(role, row["grantee_name"]))


def _tag_value_from_sql(sql_text: str) -> str:
    """The JSON value out of keel's own ``... SET TAG t = '<json>'`` statement."""
    literal = sql_text.rsplit(" = ", 1)[-1].strip()
    if literal.startswith("'") and literal.endswith("'"):
        text = literal[1:-1].replace("''", "'").replace("\\\\", "\\")
        with contextlib.suppress(json.JSONDecodeError):
            return json.dumps(
                json.loads(text), separators=(",", ":"), sort_keys=True, ensure_ascii=False
            )
        return text
    return literal
