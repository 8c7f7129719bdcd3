"""Snowflake: native TAG, schemas WITH MANAGED ACCESS, real roles and grants, masking.

Not reachable from keel's development machines: checked with golden SQL
(tests/golden/test_snowflake_sql.py) and with a model of an account that runs keel's
statements and answers SHOW as Snowflake documents it (tests/support/snowflake_account.py).
Facts are from docs.snowflake.com (paths in comments); what could not be checked against a
live account is marked "unverified".

State is read in bulk by :mod:`keel.adapters.snowflake_state` (a fixed number of queries
whatever the table count). DDL auto-commits on Snowflake [sql-reference/transactions], so
every statement keel emits is idempotent (IF NOT EXISTS, SET TAG, GRANT, REVOKE).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from keel import ops_tables as ops
from keel.adapters import snowflake_state, tag_store
from keel.adapters.base import Capabilities
from keel.adapters.snowflake_runtime import SnowflakeRuntime
from keel.adapters.snowflake_sql import (
    MASKING_POLICY,
    masking_policy_sql,
    missing_privilege,
    privileges_for,
)
from keel.errors import KeelError, WarehouseError
from keel.plan.model import Change
from keel.project.models import Warehouse
from keel.resources import (
    AIRBYTE_INTERNAL,
    ActualState,
    Grant,
    OnAccountObject,
    OnAll,
    OnColumns,
    OnRelation,
    OnSchema,
    TagKey,
)
from keel.sql import SNOWFLAKE

TYPE_MAP = {"TIMESTAMP": "TIMESTAMP_TZ"}


class SnowflakeAdapter(SnowflakeRuntime):
    name = "snowflake"
    caps = Capabilities(
        enforces_grants=True,
        native_tags=True,
        transactional_ddl=False,
        merge=True,
        column_privileges=False,
        lower_case_names=False,
        account_objects=True,
        masking_policies=True,
    )
    dialect = SNOWFLAKE
    type_map = TYPE_MAP
    # semi-structured columns: sampled through TO_JSON (sample_sql), classified key by key
    json_types = ("VARIANT", "OBJECT", "ARRAY")
    # [sql-reference/info-schema/columns]: DATA_TYPE is the standard type, NUMBER for a
    # BIGINT too; the scale tells an integer (NUMBER(38,0)) from a decimal
    column_type_sql = (
        "CASE WHEN data_type = 'NUMBER' THEN 'NUMBER(' || CAST(numeric_precision AS VARCHAR) "
        "|| ',' || CAST(numeric_scale AS VARCHAR) || ')' ELSE data_type END"
    )
    change_streams = True

    def __init__(
        self,
        connection: Any,
        database: str,
        *,
        role: str | None = None,
        warehouse: str | None = None,
        roles_as: str | None = None,
        grants_as: str | None = None,
        edition: str = "enterprise",
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.conn = connection
        self.database = database.upper()
        self.role = role.upper() if role else None
        self.warehouse = warehouse.upper() if warehouse else None
        self.roles_as = roles_as.upper() if roles_as else None
        self.grants_as = grants_as.upper() if grants_as else None
        self.edition = edition
        if (self.roles_as or self.grants_as) and not self.role:
            raise WarehouseError(
                "warehouse.roles_as / grants_as need warehouse.role: keel switches back to it "
                "after each change (USE ROLE)"
            )
        # what the last read saw: relation kinds (views are altered with ALTER VIEW) and
        # column types (semi-structured columns are sampled as JSON)
        self.kinds: dict[tuple[str, str], str] = {}
        self.types: dict[tuple[str, str], dict[str, str]] = {}

    @classmethod
    def from_spec(cls, spec: Warehouse, **kwargs: Any) -> SnowflakeAdapter:
        if not spec.database:
            raise WarehouseError("warehouse.database is required for Snowflake")
        try:
            import snowflake.connector
        except ImportError as exc:  # pragma: no cover - a dependency of keel
            raise WarehouseError("snowflake-connector-python is not installed") from exc
        try:
            conn = snowflake.connector.connect(**connect_params(spec))
        except snowflake.connector.errors.Error as exc:
            # the connector's message names the account, never the password
            raise WarehouseError(f"cannot connect to Snowflake: {exc.msg}") from exc
        return cls(
            conn,
            spec.database,
            role=spec.role,
            warehouse=spec.warehouse,
            roles_as=spec.roles_as,
            grants_as=spec.grants_as,
            edition=spec.edition,
            **kwargs,
        )

    # ---- names ----------------------------------------------------------------------------

    def fq(self, *parts: str) -> str:
        """Fully qualified: "DB"."SCHEMA"[."TABLE"]."""
        return self.ident(self.database, *parts)

    def ops_table(self, table: ops.OpsTable) -> str:
        return self.fq(ops.OPS_SCHEMA, table.name)

    def qualified(self, schema: str, name: str) -> str:
        return self.fq(schema, name)

    def meta_changes_sql(self, meta: str) -> str:
        # GET on a VARIANT object; ARRAY_SIZE is NULL for a non-array [sql-reference/functions]
        return f"COALESCE(ARRAY_SIZE(GET({meta}, 'changes')), 0) > 0"

    def hash_sql(self, expr: str) -> str:
        return f"HASH({expr})"  # signed 64-bit [sql-reference/functions/hash]

    @property
    def tag_ref(self) -> str:
        return self.fq(self.tag_schema, self.tag_name)

    # ---- execution ------------------------------------------------------------------------

    def _run(self, sql: str, params: Sequence[object] | None = None) -> Any:
        cursor = self.conn.cursor()
        try:
            if params is None:
                cursor.execute(sql)
            else:  # bound on the server (paramstyle qmark)
                cursor.execute(sql, params)
        except Exception as exc:  # the connector's ProgrammingError and friends
            message = getattr(exc, "msg", None) or str(exc)
            hint = missing_privilege(sql, message)
            raise WarehouseError(f"Snowflake refused: {message}{hint}\n  SQL: {sql[:500]}") from exc
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

    def sample_sql(self, targets: Sequence[tuple[str, str, tuple[str, ...]]], limit: int) -> str:
        """As the base's, with each column read as text by its type: OBJECT and ARRAY
        through TO_JSON (compact JSON text; NULL stays NULL [sql-reference/functions/to_json]),
        a VARIANT the same when it holds an object or array (IS_OBJECT / IS_ARRAY) and cast
        to VARCHAR otherwise, so a string is its text, not a quoted JSON string."""
        parts = []
        for schema, table, columns in targets:
            types = self.types.get((schema, table), {})
            values = self.array_sql([self._as_text(c, types.get(c, "")) for c in columns])
            parts.append(
                f"(SELECT {self.lit(schema)} AS s, {self.lit(table)} AS t, {values} AS v "
                f"FROM {self.ident(schema, table)} LIMIT {int(limit)})"
            )
        return " UNION ALL ".join(parts)

    def _as_text(self, column: str, data_type: str) -> str:
        c = self.ident(column)
        if data_type in ("OBJECT", "ARRAY"):
            return f"TO_JSON({c})"
        if data_type == "VARIANT":
            return f"IFF(IS_OBJECT({c}) OR IS_ARRAY({c}), TO_JSON({c}), CAST({c} AS VARCHAR))"
        return f"CAST({c} AS VARCHAR)"

    def array_values(self, value: Any) -> list[Any]:
        """The connector returns an ARRAY as JSON text, with SQL NULLs as ``undefined``
        [developer-guide/python-connector: ARRAY/OBJECT/VARIANT values come back as str]."""
        return snowflake_state.decode_array(value)

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
            # [sql-reference/sql/create-schema]: WITH MANAGED ACCESS
            return change.with_sql(
                [f"CREATE SCHEMA IF NOT EXISTS {self.fq(change.object)} WITH MANAGED ACCESS"]
            )
        if change.kind == "enable_managed_access":
            # [sql-reference/sql/alter-schema]: ALTER SCHEMA s ENABLE MANAGED ACCESS
            return self._as(
                self.grants_as,
                change.with_sql([f"ALTER SCHEMA {self.fq(change.object)} ENABLE MANAGED ACCESS"]),
            )
        if change.kind == "transfer_ownership":
            # [sql-reference/sql/grant-ownership]: OWNERSHIP is transferred, never revoked;
            # COPY CURRENT GRANTS keeps every grant on the schema as it is
            return self._as(
                self.grants_as,
                change.with_sql(
                    [
                        f"GRANT OWNERSHIP ON SCHEMA {self.fq(change.object)} TO ROLE "
                        f"{self.ident(change.after or '')} COPY CURRENT GRANTS"
                    ]
                ),
            )
        if change.kind == "set_masking":
            if self.edition != "enterprise":
                raise KeelError(
                    "masking (roles' masked_pii_levels) needs Snowflake Enterprise edition; "
                    "warehouse.edition is standard. Remove masked_pii_levels or upgrade."
                )
            levels = [lv for lv in (change.after or "").split(",") if lv]
            return change.with_sql(
                masking_policy_sql(
                    self.fq(ops.OPS_SCHEMA, MASKING_POLICY), self.tag_ref, levels, self.lit
                )
            )
        return super().render(change)

    def _as(self, role: str | None, change: Change) -> Change:
        """Run a change's statements as ``role`` (USE ROLE), then switch back
        [sql-reference/sql/use-role]. Unverified: USE ROLE inside keel's BEGIN ... COMMIT
        (each DDL statement commits the open transaction anyway)."""
        if not role or role == self.role:
            return change
        assert self.role is not None  # checked in __init__
        sql = [
            f"USE ROLE {self.ident(role)}",
            *change.sql,
            f"USE ROLE {self.ident(self.role)}",
        ]
        return change.with_sql(sql, change.note)

    def tag_sql(self, key: TagKey, value: str | None) -> list[str]:
        """[sql-reference/sql/alter-table, alter-view]: ALTER {SCHEMA|TABLE|VIEW} x
        {SET TAG t = 'v' | UNSET TAG t}; columns: ALTER {TABLE|VIEW} x MODIFY COLUMN c ...
        (ALTER TABLE on a view is an error). keel's own record of what it set goes to
        SOPHIA_OPS.KEEL_TAGS in the same change, so a tag is read back exactly while
        ACCOUNT_USAGE.TAG_REFERENCES lags (up to two hours)."""
        parts = key.parts
        action = (
            f"SET TAG {self.tag_ref} = {self.lit(value)}"
            if value is not None
            else f"UNSET TAG {self.tag_ref}"
        )
        if key.object_type == "schema":
            sql = f"ALTER SCHEMA {self.fq(parts[0])} {action}"
        else:
            kind = "VIEW" if self.kinds.get((parts[0], parts[1])) == "view" else "TABLE"
            target = f"ALTER {kind} {self.fq(parts[0], parts[1])}"
            if key.object_type == "table":
                sql = f"{target} {action}"
            else:
                sql = f"{target} MODIFY COLUMN {self.ident(parts[2])} {action}"
        return [sql, self._record_tag(key, value)]

    def _record_tag(self, key: TagKey, value: str | None) -> str:
        """keel's record of a tag, by MERGE (a NULL value records an unset)."""
        return tag_store.merge_sql(self, key, value)

    def role_sql(self, change: Change) -> Change:
        # [sql-reference/sql/create-role]; USERADMIN holds CREATE ROLE
        comment = f" COMMENT = {self.lit(change.after)}" if change.after else ""
        return self._as(
            self.roles_as,
            change.with_sql([f"CREATE ROLE IF NOT EXISTS {self.ident(change.object)}{comment}"]),
        )

    def membership_sql(self, change: Change, role: str, member: str, revoke: bool) -> Change:
        # [sql-reference/sql/grant-role]: GRANT ROLE r TO ROLE m
        verb = (
            f"REVOKE ROLE {self.ident(role)} FROM"
            if revoke
            else f"GRANT ROLE {self.ident(role)} TO"
        )
        return self._as(self.grants_as, change.with_sql([f"{verb} ROLE {self.ident(member)}"]))

    def grantee_sql(self, grant: Grant) -> str:
        """``ROLE "R"`` or ``DATABASE ROLE "DB"."R"`` [sql-reference/sql/grant-privilege]."""
        if grant.grantee == "DATABASE_ROLE":
            return f"DATABASE ROLE {self.fq(grant.role)}"
        return f"ROLE {self.ident(grant.role)}"

    def grant_sql(self, change: Change, grant: Grant, revoke: bool) -> Change:
        """[sql-reference/sql/grant-privilege, revoke-privilege]. ON ALL / FUTURE for SELECT
        covers TABLES and VIEWS; other privileges exist on tables only."""
        verb, prep = ("REVOKE", "FROM") if revoke else ("GRANT", "TO")
        to = self.grantee_sql(grant)
        on = grant.on
        privs = privileges_for(grant.privilege, on)
        if isinstance(on, OnAccountObject):
            what = f"{on.kind} {self.ident(on.name)}"
            sql = [f"{verb} {p} ON {what} {prep} {to}" for p in privs]
        elif isinstance(on, OnSchema):
            sql = [f"{verb} {p} ON SCHEMA {self.fq(on.schema)} {prep} {to}" for p in privs]
        elif isinstance(on, OnAll):
            scope = "FUTURE" if on.future else "ALL"
            kinds = ["TABLES", "VIEWS"] if grant.privilege == "SELECT" else ["TABLES"]
            sql = [
                f"{verb} {p} ON {scope} {k} IN SCHEMA {self.fq(on.schema)} {prep} {to}"
                for p in privs
                for k in kinds
            ]
        elif isinstance(on, OnRelation):
            kind = "VIEW" if on.kind == "view" else "TABLE"
            sql = [f"{verb} {p} ON {kind} {self.fq(on.schema, on.name)} {prep} {to}" for p in privs]
        else:
            assert isinstance(on, OnColumns)
            raise WarehouseError(
                f"{grant.describe()}: Snowflake has no column privileges; keel masks columns "
                "with a tag-based masking policy instead"
            )
        return self._as(self.grants_as, change.with_sql(sql))

    # ---- state ----------------------------------------------------------------------------

    def read_state(self, managed_schemas: set[str], roles: set[str]) -> ActualState:
        # keel also manages the schema Airbyte keeps its internal tables in (see desired.py)
        state = snowflake_state.read(self, managed_schemas | {AIRBYTE_INTERNAL}, roles)
        self.kinds = {k: t.kind for k, t in state.tables.items()}
        self.types = {k: {c: ty.upper() for c, ty in t.columns} for k, t in state.tables.items()}
        return state


def connect_params(spec: Warehouse) -> dict[str, Any]:
    """snowflake.connector.connect() keyword arguments from the warehouse block
    [developer-guide/python-connector/python-connector-api: connect parameters]:
    password, key pair (``private_key_file`` + ``private_key_file_pwd``), or
    ``authenticator='externalbrowser'`` (SSO, for people). Secrets are passed, never printed."""
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
        if spec.private_key_passphrase is not None:
            params["private_key_file_pwd"] = spec.private_key_passphrase.get_secret_value()
    if spec.authenticator:
        params["authenticator"] = spec.authenticator
    methods = [
        m
        for m, on in (
            ("password", spec.password is not None),
            ("private_key_path", bool(spec.private_key_path)),
            ("authenticator", bool(spec.authenticator)),
        )
        if on
    ]
    if not methods:
        raise WarehouseError(
            "warehouse: no Snowflake credentials; set password, private_key_path "
            "(+ private_key_passphrase) or authenticator: externalbrowser"
        )
    if "password" in methods and "private_key_path" in methods:
        raise WarehouseError("warehouse: set either password or private_key_path, not both")
    return {k: v for k, v in params.items() if v is not None}
