"""A model of one Snowflake account, driven through the connector's interface
(``connection.cursor().execute(sql)``, ``description``, ``fetchall``), as strict as the
documented behaviour keel relies on. Every statement it does not know is an error.

Documented facts it encodes (docs.snowflake.com paths):
- SHOW GRANTS TO ROLE [sql-reference/sql/show-grants]: columns created_on, privilege,
  granted_on, name, granted_to, grantee_name, grant_option, granted_by; it lists OWNERSHIP
  rows for what the role owns, and one row per object for a GRANT ... ON ALL (an ON ALL
  grant is a one-off grant on each existing object); it does not list future grants.
- SHOW FUTURE GRANTS IN SCHEMA: created_on, privilege, grant_on, name, grant_to,
  grantee_name, grant_option; name is ``DB.S.<TABLE>``.
- Future grants [sql-reference/sql/grant-privilege]: a new object receives the schema-level
  future grants for its type; once a schema has any for that type, database-level ones are
  ignored in it [user-guide/security-access-control-considerations].
- Managed access schemas: only the schema owner or a role with MANAGE GRANTS grants on its
  objects. CREATE ROLE needs the CREATE ROLE account privilege (USERADMIN).
- OWNERSHIP cannot be revoked (it is transferred with GRANT OWNERSHIP). Message unverified.
- ALTER TABLE on a view fails ("Object found is of type 'VIEW', not specified type 'TABLE'").
- ACCOUNT_USAGE.TAG_REFERENCES needs IMPORTED PRIVILEGES on the SNOWFLAKE database and
  shows direct assignments up to 120 minutes late [sql-reference/account-usage/tag_references]
  (modelled: exactly ``lag`` behind the model's clock).
- TAG_REFERENCES_ALL_COLUMNS returns every column's tags, direct (LEVEL COLUMN, MANUAL) and
  inherited (LEVEL TABLE / SCHEMA, INHERITED) [sql-reference/functions/tag_references_all_columns].
- A tag value is at most 256 characters [sql-reference/sql/create-tag].
- The Python connector returns ARRAY values as JSON text, NULL elements as ``undefined``.
- INFORMATION_SCHEMA.SCHEMATA lists INFORMATION_SCHEMA itself, with IS_MANAGED_ACCESS.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

NAME = r'(?:"(?:[^"]|"")*"|[A-Za-z_][\w$]*)'
QNAME = rf"{NAME}(?:\.{NAME})*"
SYSTEM_ROLES = ("ACCOUNTADMIN", "SECURITYADMIN", "USERADMIN", "SYSADMIN", "PUBLIC")


class ProgrammingError(Exception):
    """Shaped like snowflake.connector.errors.ProgrammingError (``msg``)."""

    def __init__(self, msg: str):
        super().__init__(msg)
        self.msg = msg


def parts(name: str) -> list[str]:
    return [
        p[1:-1].replace('""', '"') if p.startswith('"') else p.upper()
        for p in re.findall(NAME, name)
    ]


def lit(text: str) -> str:
    assert text.startswith("'") and text.endswith("'"), text
    return text[1:-1].replace("''", "'").replace("\\\\", "\\")


@dataclass
class Relation:
    kind: str  # "table" | "view"
    owner: str
    columns: list[tuple[str, str]]
    rows: list[dict[str, Any]] = field(default_factory=list)
    altered: dt.datetime = dt.datetime(2026, 1, 1)


@dataclass
class Schema:
    owner: str
    managed: bool


class Account:
    def __init__(self, database: str = "SOPHIA", edition: str = "enterprise", lag_hours: float = 2):
        self.database = database
        self.edition = edition
        self.lag = dt.timedelta(hours=lag_hours)
        self.clock = dt.datetime(2026, 6, 1, 12, 0)
        self.roles: dict[str, str] = dict.fromkeys(SYSTEM_ROLES, "")
        self.role_owner: dict[str, str] = {}
        # (granted role, grantee role): the grantee inherits the granted role's privileges
        self.role_grants: set[tuple[str, str]] = {
            ("SECURITYADMIN", "ACCOUNTADMIN"),
            ("USERADMIN", "SECURITYADMIN"),
            ("SYSADMIN", "ACCOUNTADMIN"),
        }
        self.account_privs: dict[str, set[str]] = {
            "ACCOUNTADMIN": {"CREATE ROLE", "MANAGE GRANTS", "APPLY TAG", "APPLY MASKING POLICY"},
            "SECURITYADMIN": {"MANAGE GRANTS"},
            "USERADMIN": {"CREATE ROLE"},
        }
        self.imported: set[str] = set()  # roles with IMPORTED PRIVILEGES on SNOWFLAKE
        self.database_roles: set[str] = set()
        self.db_owner = "SYSADMIN"
        self.warehouses: set[str] = set()
        self.schemas: dict[str, Schema] = {"INFORMATION_SCHEMA": Schema("", False)}
        self.relations: dict[tuple[str, str], Relation] = {}
        # explicit grants: (privilege, granted_on, (name parts), grantee kind, grantee)
        self.grants: set[tuple[str, str, tuple[str, ...], str, str]] = set()
        # future grants: (level SCHEMA|DATABASE, container, TABLE|VIEW, privilege, kind, grantee)
        self.future: set[tuple[str, str, str, str, str, str]] = set()
        self.tags: set[str] = set()  # "DB.S.T"
        self.tag_policies: dict[str, str] = {}  # tag -> policy
        self.policies: dict[str, dict[str, str]] = {}  # "DB.S.P" -> body, comment
        # tag assignments: (domain, schema, name, column) -> value, with a timed history
        self.assigned: dict[tuple[str, str, str, str | None], str] = {}
        self.history: list[tuple[dt.datetime, tuple[str, str, str, str | None], str | None]] = []
        self.statements: list[str] = []

    # ---- set-up helpers (what an account admin, or Airbyte, does) -------------------------

    def bootstrap(self, keel_role: str, warehouse: str = "COMPUTE_WH") -> None:
        """docs/snowflake.md's bootstrap, run by ACCOUNTADMIN."""
        self.roles[keel_role] = ""
        self.role_grants.add((keel_role, "SYSADMIN"))
        self.db_owner = keel_role
        self.warehouses.add(warehouse)
        self.grants.add(("USAGE", "WAREHOUSE", (warehouse,), "ROLE", keel_role))
        self.account_privs[keel_role] = {"APPLY TAG", "APPLY MASKING POLICY"}
        self.imported.add(keel_role)

    def advance(self, hours: float) -> None:
        self.clock += dt.timedelta(hours=hours)

    def connect(self, user_roles: tuple[str, ...], params: dict[str, Any]) -> Connection:
        """What snowflake.connector.connect(**params) returns for a user granted
        ``user_roles`` and ``params["role"]``; the session starts in ``params["role"]``."""
        if params.get("database") != self.database:
            raise ProgrammingError(f"Database '{params.get('database')}' does not exist")
        return Connection(self, params["role"], user_roles, params)

    def create_relation(
        self,
        role: str,
        schema: str,
        name: str,
        columns: list[tuple[str, str]],
        rows: list[dict[str, Any]] | None = None,
        kind: str = "table",
    ) -> None:
        """A table (or view) created by ``role`` (Airbyte as ETL): the role needs USAGE on
        the database and schema and CREATE TABLE / VIEW on it; the new object gets the
        future grants that apply (schema level wins over database level, per object type)."""
        word = "TABLE" if kind == "table" else "VIEW"
        if not (
            self.has(role, "USAGE", "DATABASE", (self.database,))
            and self.has(role, "USAGE", "SCHEMA", (self.database, schema))
            and self.has(role, f"CREATE {word}", "SCHEMA", (self.database, schema))
        ):
            raise ProgrammingError(
                f"SQL access control error: Insufficient privileges to operate on schema '{schema}'"
            )
        self.relations[(schema, name)] = Relation(
            kind, role, list(columns), list(rows or []), self.clock
        )
        level = [f for f in self.future if f[0] == "SCHEMA" and f[1] == schema and f[2] == word]
        if not level:
            level = [f for f in self.future if f[0] == "DATABASE" and f[2] == word]
        for _, _, _, privilege, gkind, grantee in level:
            self.grants.add((privilege, word, (self.database, schema, name), gkind, grantee))

    # ---- privileges -------------------------------------------------------------------------

    def closure(self, role: str) -> set[str]:
        out, todo = {role, "PUBLIC"}, [role]
        while todo:
            r = todo.pop()
            for granted, grantee in self.role_grants:
                if grantee == r and granted not in out:
                    out.add(granted)
                    todo.append(granted)
        return out

    def owner_of(self, on: str, name: tuple[str, ...]) -> str | None:
        if on == "DATABASE":
            return self.db_owner
        if on == "SCHEMA":
            s = self.schemas.get(name[1])
            return s.owner if s else None
        if on in ("TABLE", "VIEW"):
            r = self.relations.get((name[1], name[2]))
            return r.owner if r else None
        if on == "ROLE":
            return self.role_owner.get(name[0])
        return None

    def has(self, role: str, privilege: str, on: str, name: tuple[str, ...]) -> bool:
        roles = self.closure(role)
        if self.owner_of(on, name) in roles:
            return True
        return any((privilege, on, name, "ROLE", r) in self.grants for r in roles)

    def account_priv(self, role: str, privilege: str) -> bool:
        return any(privilege in self.account_privs.get(r, set()) for r in self.closure(role))

    def can_grant_on(self, role: str, on: str, name: tuple[str, ...]) -> bool:
        """Managed access: schema owner or MANAGE GRANTS; elsewhere the object's owner too."""
        if self.account_priv(role, "MANAGE GRANTS"):
            return True
        roles = self.closure(role)
        if on in ("TABLE", "VIEW") and name[1] in self.schemas:
            schema = self.schemas[name[1]]
            if schema.managed:
                return schema.owner in roles
        return self.owner_of(on, name) in roles

    # ---- tags -------------------------------------------------------------------------------

    def set_tag(self, key: tuple[str, str, str, str | None], value: str | None) -> None:
        if value is None:
            self.assigned.pop(key, None)
        else:
            if len(value) > 256:
                raise ProgrammingError("Tag value exceeds the maximum length of 256 characters")
            self.assigned[key] = value
        self.history.append((self.clock, key, value))
        if key[0] in ("TABLE", "COLUMN"):
            self.relations[(key[1], key[2])].altered = self.clock

    def usage_view(self) -> dict[tuple[str, str, str, str | None], str]:
        """ACCOUNT_USAGE.TAG_REFERENCES as of ``lag`` ago."""
        out: dict[tuple[str, str, str, str | None], str] = {}
        for when, key, value in self.history:
            if when <= self.clock - self.lag:
                if value is None:
                    out.pop(key, None)
                else:
                    out[key] = value
        return out

    def masked(self, role: str, schema: str, table: str, column: str) -> bool:
        """Whether ``role`` reads the column masked: keel's policy on the tag, evaluated from
        its body (``WHEN <pii_level> = 'L' AND NOT (IS_ROLE_IN_SESSION('R') OR ...)``)."""
        tag = next(iter(self.tags), None)
        policy = self.tag_policies.get(tag or "")
        value = self.assigned.get(("COLUMN", schema, table, column))
        if not policy or value is None:
            return False
        level = json.loads(value).get("pii_level")
        body = self.policies[policy]["body"]
        for lv, roles in re.findall(r"= '(\w+)' AND NOT \(([^)]*\)[^)]*)\)", body):
            if lv == level:
                clear = set(re.findall(r"IS_ROLE_IN_SESSION\('(\w+)'\)", roles))
                return not (clear & self.closure(role))
        return False

    def select_as(self, role: str, schema: str, table: str) -> list[dict[str, Any]]:
        """``SELECT *`` as ``role``: USAGE on database, warehouse and schema, SELECT on the
        object; masked columns read masked."""
        if not (
            self.has(role, "USAGE", "DATABASE", (self.database,))
            and any(self.has(role, "USAGE", "WAREHOUSE", (w,)) for w in self.warehouses)
            and self.has(role, "USAGE", "SCHEMA", (self.database, schema))
        ):
            raise ProgrammingError(f"Object '{schema}.{table}' does not exist or not authorized.")
        rel = self.relations[(schema, table)]
        word = rel.kind.upper()
        if not self.has(role, "SELECT", word, (self.database, schema, table)):
            raise ProgrammingError(
                f"SQL access control error: Insufficient privileges to operate on {rel.kind} "
                f"'{table}'"
            )
        return [
            {
                c: ("***MASKED***" if v is not None and self.masked(role, schema, table, c) else v)
                for c, v in row.items()
            }
            for row in rel.rows
        ]


class Connection:
    def __init__(
        self, account: Account, role: str, user_roles: tuple[str, ...], params: dict[str, Any]
    ):
        self.account = account
        self.user_roles = set(user_roles) | {role}
        self.role = role
        self.params = params
        self.closed = False

    def cursor(self) -> Cursor:
        return Cursor(self)

    def close(self) -> None:
        self.closed = True


class Cursor:
    def __init__(self, conn: Connection):
        self.conn = conn
        self.a = conn.account
        self.description: list[tuple[str]] = []
        self._rows: list[tuple[Any, ...]] = []

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self._rows)

    def close(self) -> None:
        pass

    def _result(self, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        self.description = [(c,) for c in columns]
        self._rows = rows

    def execute(self, sql: str) -> None:
        from tests.support import snowflake_statements

        self.a.statements.append(sql)
        self.description, self._rows = [], []
        snowflake_statements.run(self, sql.strip())


def schema_of(a: Account, name: str) -> str:
    p = parts(name)
    if len(p) != 2 or p[0] != a.database or p[1] not in a.schemas:
        raise ProgrammingError(f"Schema '{name}' does not exist or not authorized.")
    return p[1]


def require_enterprise(a: Account) -> None:
    if a.edition != "enterprise":
        raise ProgrammingError(
            "SQL compilation error: Unsupported feature 'MASKING POLICY' (Enterprise Edition)."
        )
