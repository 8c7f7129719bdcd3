"""The statements the account model understands (see snowflake_account.py for the facts).
Anything else raises, so a statement keel emits that Snowflake would reject fails here too."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import sqlglot
from sqlglot import expressions as exp
from tests.support.snowflake_account import (
    NAME,
    QNAME,
    ProgrammingError,
    Relation,
    Schema,
    lit,
    parts,
    require_enterprise,
    schema_of,
)
from tests.support.snowflake_queries import QUERIES

if TYPE_CHECKING:
    from tests.support.snowflake_account import Account, Cursor

LIT = r"'(?:[^']|'')*'"
PRIVS = r"(USAGE|SELECT|INSERT|UPDATE|DELETE|OWNERSHIP|CREATE TABLE|CREATE VIEW|CREATE STAGE)"


def run(cur: Cursor, sql: str) -> None:
    for pattern, handler in HANDLERS:
        m = re.fullmatch(pattern, sql, re.S | re.I)
        if m:
            handler(cur, m)
            return
    raise ProgrammingError(f"SQL compilation error: syntax error (model): {sql[:160]}")


def _deny(what: str) -> ProgrammingError:
    return ProgrammingError(
        f"SQL access control error: Insufficient privileges to operate on {what}"
    )


def _relation(a: Account, name: str, kind: str) -> tuple[str, str]:
    p = parts(name)
    if len(p) != 3 or (p[1], p[2]) not in a.relations:
        raise ProgrammingError(f"Object '{name}' does not exist or not authorized.")
    found = a.relations[(p[1], p[2])].kind.upper()
    if found != kind:
        raise ProgrammingError(
            f"SQL compilation error: Object found is of type '{found}', not specified type "
            f"'{kind}'."
        )
    return p[1], p[2]


def _tag(a: Account, name: str) -> str:
    fq = ".".join(parts(name))
    if fq not in a.tags:
        raise ProgrammingError(f"Tag '{fq}' does not exist or not authorized.")
    return fq


# ---- transactions, session ------------------------------------------------------------------


def _noop(cur: Cursor, m: re.Match[str]) -> None:
    pass


def _use_role(cur: Cursor, m: re.Match[str]) -> None:
    role = parts(m[1])[0]
    if role not in cur.conn.user_roles and role not in cur.a.closure(cur.conn.role):
        raise ProgrammingError(f"Requested role '{role}' is not assigned to the executing user.")
    cur.conn.role = role


# ---- DDL ------------------------------------------------------------------------------------


def _create_schema(cur: Cursor, m: re.Match[str]) -> None:
    a, p = cur.a, parts(m[1])
    if p[0] != a.database:
        raise ProgrammingError(f"Database '{p[0]}' does not exist or not authorized.")
    if p[1] in a.schemas:
        return
    if not a.has(cur.conn.role, "CREATE SCHEMA", "DATABASE", (a.database,)):
        raise _deny(f"database '{a.database}'")
    a.schemas[p[1]] = Schema(cur.conn.role, bool(m[2]))


def _managed_access(cur: Cursor, m: re.Match[str]) -> None:
    a = cur.a
    schema = schema_of(a, m[1])
    roles = a.closure(cur.conn.role)
    if a.schemas[schema].owner not in roles and not a.account_priv(cur.conn.role, "MANAGE GRANTS"):
        raise _deny(f"schema '{schema}'")
    a.schemas[schema].managed = True


def _create_table(cur: Cursor, m: re.Match[str]) -> None:
    a = cur.a
    tree = sqlglot.parse_one(m[0], read="snowflake")
    table = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
    schema, name = table.db, table.name
    if schema not in a.schemas:
        raise ProgrammingError(f"Schema '{schema}' does not exist or not authorized.")
    if (schema, name) in a.relations:
        return
    cols = [
        (c.name, c.args["kind"].sql("snowflake"))
        for c in tree.this.expressions
        if isinstance(c, exp.ColumnDef)
    ]
    a.relations[(schema, name)] = Relation("table", cur.conn.role, cols, [], a.clock)


def _add_column(cur: Cursor, m: re.Match[str]) -> None:
    schema, name = _relation(cur.a, m[1], "TABLE")
    cur.a.relations[(schema, name)].columns.append((parts(m[2])[0], m[3]))


def _create_tag(cur: Cursor, m: re.Match[str]) -> None:
    a, p = cur.a, parts(m[1])
    if len(p) != 3 or p[1] not in a.schemas:
        raise ProgrammingError(f"Schema '{p[1] if len(p) > 1 else m[1]}' does not exist.")
    a.tags.add(".".join(p))


def _create_role(cur: Cursor, m: re.Match[str]) -> None:
    a, role = cur.a, parts(m[1])[0]
    if role in a.roles:
        return
    if not a.account_priv(cur.conn.role, "CREATE ROLE"):
        raise _deny("account")
    a.roles[role] = lit(m[2]) if m[2] else ""
    a.role_owner[role] = cur.conn.role


# ---- tags -----------------------------------------------------------------------------------


def _alter_tag_schema(cur: Cursor, m: re.Match[str]) -> None:
    a = cur.a
    schema = schema_of(a, m[1])
    tag = _tag(a, m[3])
    if not (
        a.account_priv(cur.conn.role, "APPLY TAG")
        or a.schemas[schema].owner in a.closure(cur.conn.role)
    ):
        raise _deny(f"schema '{schema}'")
    a.set_tag(("SCHEMA", "", schema, None), lit(m[4]) if m[2].upper() == "SET" else None)
    del tag


def _alter_tag_relation(cur: Cursor, m: re.Match[str]) -> None:
    a = cur.a
    kind, name, column, verb, tagname, value = m[1].upper(), m[2], m[3], m[4], m[5], m[6]
    schema, table = _relation(a, name, kind)
    _tag(a, tagname)
    rel = a.relations[(schema, table)]
    if not (a.account_priv(cur.conn.role, "APPLY TAG") or rel.owner in a.closure(cur.conn.role)):
        raise _deny(f"{kind.lower()} '{table}'")
    value_text = lit(value) if verb.upper() == "SET" else None
    if column:
        col = parts(column)[0]
        if col not in [c for c, _ in rel.columns]:
            raise ProgrammingError(f"invalid identifier '{col}'")
        a.set_tag(("COLUMN", schema, table, col), value_text)
    else:
        a.set_tag(("TABLE", schema, table, None), value_text)


# ---- grants ---------------------------------------------------------------------------------


def _grantee(a: Account, kind: str | None, name: str) -> tuple[str, str]:
    p = parts(name)
    if kind:
        if len(p) != 2 or p[0] != a.database or p[1] not in a.database_roles:
            raise ProgrammingError(f"Database role '{name}' does not exist or not authorized.")
        return "DATABASE_ROLE", p[1]
    if p[0] not in a.roles:
        raise ProgrammingError(f"Role '{p[0]}' does not exist or not authorized.")
    return "ROLE", p[0]


def _grant_object(cur: Cursor, m: re.Match[str]) -> None:
    a = cur.a
    verb, privilege, on, name = m[1].upper(), m[2].upper(), m[3].upper(), m[4]
    gkind, grantee = _grantee(a, m[5], m[6])
    if privilege == "OWNERSHIP" and verb == "REVOKE":
        raise ProgrammingError(
            # [sql-reference/sql/grant-ownership]: "OWNERSHIP ... cannot be revoked"
            "SQL compilation error: OWNERSHIP cannot be revoked; transfer it with GRANT "
            "OWNERSHIP (exact message unverified)"
        )
    if on == "WAREHOUSE":
        key: tuple[str, ...] = (parts(name)[0],)
        if key[0] not in a.warehouses:
            raise ProgrammingError(f"Warehouse '{key[0]}' does not exist or not authorized.")
    elif on == "DATABASE":
        key = (parts(name)[0],)
        if key[0] != a.database:
            raise ProgrammingError(f"Database '{key[0]}' does not exist or not authorized.")
    elif on == "SCHEMA":
        key = (a.database, schema_of(a, name))
    else:
        key = (a.database, *_relation(a, name, on))
    if not a.can_grant_on(cur.conn.role, on, key):
        raise _deny(f"{on.lower()} '{key[-1]}'")
    row = (privilege, on, key, gkind, grantee)
    if verb == "GRANT":
        a.grants.add(row)
    else:
        a.grants.discard(row)


def _grant_bulk(cur: Cursor, m: re.Match[str]) -> None:
    a = cur.a
    verb, privilege, scope, kinds, level, name = (
        m[1].upper(),
        m[2].upper(),
        m[3].upper(),
        m[4].upper(),
        m[5].upper(),
        m[6],
    )
    gkind, grantee = _grantee(a, m[7], m[8])
    word = kinds[:-1]  # TABLES -> TABLE
    if level == "SCHEMA":
        schema = schema_of(a, name)
        container = schema
        if not a.can_grant_on(cur.conn.role, "SCHEMA", (a.database, schema)) and a.schemas[
            schema
        ].owner not in a.closure(cur.conn.role):
            raise _deny(f"schema '{schema}'")
        if a.schemas[schema].managed and not (
            a.account_priv(cur.conn.role, "MANAGE GRANTS")
            or a.schemas[schema].owner in a.closure(cur.conn.role)
        ):
            raise _deny(f"schema '{schema}'")
        targets = [k for k, r in a.relations.items() if k[0] == schema and r.kind.upper() == word]
    else:
        container = parts(name)[0]
        if not a.account_priv(cur.conn.role, "MANAGE GRANTS"):
            raise _deny(f"database '{container}'")
        targets = [k for k, r in a.relations.items() if r.kind.upper() == word]
    if scope == "FUTURE":
        row = (level, container, word, privilege, gkind, grantee)
        if verb == "GRANT":
            a.future.add(row)
        else:
            a.future.discard(row)
        return
    for s, t in targets:  # ON ALL: a one-off grant on each object that exists now
        g = (privilege, word, (a.database, s, t), gkind, grantee)
        if verb == "GRANT":
            a.grants.add(g)
        else:
            a.grants.discard(g)


def _grant_ownership(cur: Cursor, m: re.Match[str]) -> None:
    """[sql-reference/sql/grant-ownership]: the current owner or MANAGE GRANTS transfers it;
    COPY CURRENT GRANTS keeps the grants on the object."""
    a = cur.a
    schema = schema_of(a, m[1])
    role = parts(m[2])[0]
    if role not in a.roles:
        raise ProgrammingError(f"Role '{role}' does not exist or not authorized.")
    if not (
        a.account_priv(cur.conn.role, "MANAGE GRANTS")
        or a.schemas[schema].owner in a.closure(cur.conn.role)
    ):
        raise _deny(f"schema '{schema}'")
    a.schemas[schema].owner = role


def _grant_role(cur: Cursor, m: re.Match[str]) -> None:
    a = cur.a
    verb, role, member = m[1].upper(), parts(m[2])[0], parts(m[3])[0]
    for r in (role, member):
        if r not in a.roles:
            raise ProgrammingError(f"Role '{r}' does not exist or not authorized.")
    if not (
        a.account_priv(cur.conn.role, "MANAGE GRANTS")
        or a.role_owner.get(role) in a.closure(cur.conn.role)
    ):
        raise _deny(f"role '{role}'")
    if verb == "GRANT":
        a.role_grants.add((role, member))
    else:
        a.role_grants.discard((role, member))


# ---- masking --------------------------------------------------------------------------------


def _create_policy(cur: Cursor, m: re.Match[str]) -> None:
    require_enterprise(cur.a)
    name = ".".join(parts(m[1]))
    cur.a.policies.setdefault(name, {"body": m[2], "comment": ""})


def _alter_policy(cur: Cursor, m: re.Match[str]) -> None:
    require_enterprise(cur.a)
    name = ".".join(parts(m[1]))
    if name not in cur.a.policies:
        raise ProgrammingError(f"Masking policy '{name}' does not exist or not authorized.")
    if m[2].upper() == "BODY":
        cur.a.policies[name]["body"] = m[3]
    else:
        cur.a.policies[name]["comment"] = lit(m[3])


def _tag_policy(cur: Cursor, m: re.Match[str]) -> None:
    a = cur.a
    require_enterprise(a)
    tag, policy = _tag(a, m[1]), ".".join(parts(m[2]))
    if policy not in a.policies:
        raise ProgrammingError(f"Masking policy '{policy}' does not exist or not authorized.")
    if not a.account_priv(cur.conn.role, "APPLY MASKING POLICY"):
        raise _deny("account")
    if tag in a.tag_policies and not m[3]:
        raise ProgrammingError("Tag already has a masking policy of this type; use FORCE.")
    a.tag_policies[tag] = policy


# ---- DML on keel's tables -------------------------------------------------------------------


def _value(e: exp.Expression) -> Any:
    if isinstance(e, exp.Null):
        return None
    if isinstance(e, exp.Literal):
        return e.this if e.is_string else (int(e.this) if e.this.isdigit() else float(e.this))
    if isinstance(e, exp.Boolean):
        return e.this
    if isinstance(e, (exp.CurrentTimestamp, exp.Anonymous)):
        return "NOW"
    if isinstance(e, exp.Neg):
        return -_value(e.this)
    return e.sql("snowflake")


def _insert(cur: Cursor, m: re.Match[str]) -> None:
    a = cur.a
    tree = sqlglot.parse_one(m[0], read="snowflake")
    table = tree.this.this
    rel = a.relations.get((table.db, table.name))
    if rel is None:
        raise ProgrammingError(f"Table '{table.name}' does not exist or not authorized.")
    cols = [c.name for c in tree.this.expressions]
    known = {c for c, _ in rel.columns}
    if set(cols) - known:
        raise ProgrammingError(f"invalid identifier '{sorted(set(cols) - known)[0]}'")
    for t in tree.expression.expressions:
        rel.rows.append(dict(zip(cols, [_value(v) for v in t.expressions], strict=True)))


def _merge(cur: Cursor, m: re.Match[str]) -> None:
    a = cur.a
    tree = sqlglot.parse_one(m[0], read="snowflake")
    table = tree.this
    rel = a.relations.get((table.db, table.name))
    if rel is None:
        raise ProgrammingError(f"Table '{table.name}' does not exist or not authorized.")
    src = {e.alias: _value(e.this) for e in tree.args["using"].this.expressions}
    keys = [c for c in ("OBJECT_TYPE", "OBJECT_NAME", "TAG_NAME") if c in src]
    src["UPDATED_AT"] = a.clock
    for row in rel.rows:
        if all(row.get(k) == src[k] for k in keys):
            row.update(src)
            return
    rel.rows.append(dict(src))


GRANTEE = rf"(?:(DATABASE) )?ROLE ({QNAME})"
HANDLERS: list[tuple[str, Any]] = [
    (r"(BEGIN|COMMIT|ROLLBACK)", _noop),
    (rf"USE ROLE ({NAME})", _use_role),
    (rf"CREATE SCHEMA IF NOT EXISTS ({QNAME})( WITH MANAGED ACCESS)?", _create_schema),
    (rf"ALTER SCHEMA ({QNAME}) ENABLE MANAGED ACCESS", _managed_access),
    (rf"CREATE TABLE IF NOT EXISTS ({QNAME}) \(.*\)", _create_table),
    (rf"ALTER TABLE ({QNAME}) ADD COLUMN ({NAME}) (\w+)", _add_column),
    (rf"CREATE TAG IF NOT EXISTS ({QNAME})(?: COMMENT = {LIT})?", _create_tag),
    (rf"CREATE ROLE IF NOT EXISTS ({NAME})(?: COMMENT = ({LIT}))?", _create_role),
    (rf"ALTER SCHEMA ({QNAME}) (SET|UNSET) TAG ({QNAME})(?: = ({LIT}))?", _alter_tag_schema),
    (
        rf"ALTER (TABLE|VIEW) ({QNAME})(?: MODIFY COLUMN ({NAME}))? (SET|UNSET) TAG ({QNAME})"
        rf"(?: = ({LIT}))?",
        _alter_tag_relation,
    ),
    (rf"(GRANT|REVOKE) ROLE ({NAME}) (?:TO|FROM) ROLE ({NAME})", _grant_role),
    (
        rf"GRANT OWNERSHIP ON SCHEMA ({QNAME}) TO ROLE ({NAME}) COPY CURRENT GRANTS",
        _grant_ownership,
    ),
    (
        rf"(GRANT|REVOKE) {PRIVS} ON (ALL|FUTURE) (TABLES|VIEWS) IN (SCHEMA|DATABASE) ({QNAME}) "
        rf"(?:TO|FROM) {GRANTEE}",
        _grant_bulk,
    ),
    (
        rf"(GRANT|REVOKE) {PRIVS} ON (SCHEMA|TABLE|VIEW|DATABASE|WAREHOUSE) ({QNAME}) "
        rf"(?:TO|FROM) {GRANTEE}",
        _grant_object,
    ),
    (
        rf"CREATE MASKING POLICY IF NOT EXISTS ({QNAME}) AS \(VAL STRING\) RETURNS STRING -> (.*)",
        _create_policy,
    ),
    (rf"ALTER MASKING POLICY ({QNAME}) SET (BODY) -> (.*)", _alter_policy),
    (rf"ALTER MASKING POLICY ({QNAME}) SET (COMMENT) = ({LIT})", _alter_policy),
    (rf"ALTER TAG ({QNAME}) SET MASKING POLICY ({QNAME})( FORCE)?", _tag_policy),
    (r"INSERT INTO .*", _insert),
    (r"MERGE INTO .*", _merge),
    *QUERIES,
]
