"""Metadata queries and SHOW, as the account model answers them (facts: snowflake_account.py)."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import TYPE_CHECKING, Any

from tests.support.snowflake_account import (
    NAME,
    QNAME,
    ProgrammingError,
    lit,
    parts,
    require_enterprise,
    schema_of,
)

if TYPE_CHECKING:
    from tests.support.snowflake_account import Cursor

LIT = r"'(?:[^']|'')*'"


# ---- metadata queries -----------------------------------------------------------------------

# the columns of SHOW GRANTS TO ROLE / DATABASE ROLE
SHOW_GRANTS_TO_COLUMNS = [
    "created_on",
    "privilege",
    "granted_on",
    "name",
    "granted_to",
    "grantee_name",
    "grant_option",
    "granted_by",
]


def _info(cur: Cursor, m: re.Match[str]) -> None:
    a = cur.a
    view, rest = m[2].upper(), m[3]
    if parts(m[1])[0] != a.database:
        raise ProgrammingError(f"Database '{m[1]}' does not exist or not authorized.")
    wanted = set(re.findall(r"'(\w+)'", rest)) if "IN (" in rest else None
    if view == "SCHEMATA":
        cur._result(
            ["SCHEMA_NAME", "IS_MANAGED_ACCESS", "SCHEMA_OWNER"],
            [(s, "YES" if v.managed else "NO", v.owner) for s, v in sorted(a.schemas.items())],
        )
    elif view == "TABLES":
        rows = []
        for (s, t), r in sorted(a.relations.items()):
            if wanted is None or s in wanted:
                recent = 1 if r.altered > a.clock - dt.timedelta(hours=2) else 0
                rows.append(
                    (s, t, len(r.rows), "VIEW" if r.kind == "view" else "BASE TABLE", recent)
                )
        cur._result(["TABLE_SCHEMA", "TABLE_NAME", "ROW_COUNT", "TABLE_TYPE", "RECENT"], rows)
    else:
        rows = [
            (s, t, c, ty.split("(")[0])
            for (s, t), r in sorted(a.relations.items())
            if wanted is None or s in wanted
            for c, ty in r.columns
        ]
        cur._result(["TABLE_SCHEMA", "TABLE_NAME", "COLUMN_NAME", "DATA_TYPE"], rows)


def _account_usage(cur: Cursor, m: re.Match[str]) -> None:
    a = cur.a
    if not a.imported & a.closure(cur.conn.role):
        raise ProgrammingError(
            "SQL compilation error: Object 'SNOWFLAKE.ACCOUNT_USAGE.TAG_REFERENCES' does not "
            "exist or not authorized."
        )
    rows = [(d, s or None, n, c, v) for (d, s, n, c), v in sorted(a.usage_view().items(), key=str)]
    cur._result(["DOMAIN", "OBJECT_SCHEMA", "OBJECT_NAME", "COLUMN_NAME", "TAG_VALUE"], rows)


def _keel_tags(cur: Cursor, m: re.Match[str]) -> None:
    a = cur.a
    rel = a.relations[("SOPHIA_OPS", "KEEL_TAGS")]
    tag = lit(m[1])
    rows = [
        (
            r["OBJECT_TYPE"],
            r["OBJECT_NAME"],
            r["TAG_VALUE"],
            1 if r["UPDATED_AT"] > a.clock - dt.timedelta(hours=2) else 0,
        )
        for r in rel.rows
        if r["TAG_NAME"] == tag
    ]
    cur._result(["OBJECT_TYPE", "OBJECT_NAME", "TAG_VALUE", "RECENT"], rows)


def _tag_refs_all_columns(cur: Cursor, m: re.Match[str]) -> None:
    a = cur.a
    out = []
    for name in re.findall(rf"TAG_REFERENCES_ALL_COLUMNS\(({LIT}), 'TABLE'\)", m[0]):
        p = lit(name).split(".")
        rel = a.relations.get((p[1], p[2]))
        if rel is None:
            raise ProgrammingError(f"Object '{lit(name)}' does not exist or not authorized.")
        for column, _ in rel.columns:
            for domain, key, method in (
                ("COLUMN", ("COLUMN", p[1], p[2], column), "MANUAL"),
                ("TABLE", ("TABLE", p[1], p[2], None), "INHERITED"),
                ("SCHEMA", ("SCHEMA", "", p[1], None), "INHERITED"),
            ):
                if key in a.assigned:
                    out.append((p[1], p[2], domain, column, a.assigned[key], method))
    cur._result(
        ["OBJECT_SCHEMA", "OBJECT_NAME", "LEVEL", "COLUMN_NAME", "TAG_VALUE", "APPLY_METHOD"], out
    )


def _get_tag(cur: Cursor, m: re.Match[str]) -> None:
    a = cur.a
    row = []
    for tag, obj in re.findall(rf"SYSTEM\$GET_TAG\(({LIT}), ({LIT}), 'SCHEMA'\)", m[0]):
        if lit(tag) not in a.tags:
            raise ProgrammingError(f"Tag '{lit(tag)}' does not exist or not authorized.")
        schema = lit(obj).split(".")[1]
        row.append(a.assigned.get(("SCHEMA", "", schema, None)))
    cur._result([f"C{i}" for i in range(len(row))], [tuple(row)])


def _policy_refs(cur: Cursor, m: re.Match[str]) -> None:
    policy = cur.a.tag_policies.get(lit(m[1]))
    cur._result(["POLICY_NAME"], [(policy.split(".")[-1],)] if policy else [])


SEMI = ("VARIANT", "OBJECT", "ARRAY")
# how keel reads a sampled column as text: TO_JSON for OBJECT / ARRAY, IFF(IS_OBJECT OR
# IS_ARRAY, TO_JSON, CAST) for a VARIANT, CAST(... AS VARCHAR) for the rest
_AS_TEXT = re.compile(
    rf"IFF\(IS_OBJECT\(({NAME})\) OR IS_ARRAY\(\1\), TO_JSON\(\1\), CAST\(\1 AS VARCHAR\)\)"
    rf"|TO_JSON\(({NAME})\)|CAST\(({NAME}) AS VARCHAR\)"
)


def _as_text(value: Any, how: str, data_type: str) -> str | None:
    """[sql-reference/functions/to_json]: TO_JSON gives a VARIANT's compact JSON text and
    NULL for NULL; IS_OBJECT / IS_ARRAY are true for a VARIANT holding one. Stricter than
    Snowflake on purpose: the model refuses CAST of an object or array and TO_JSON of a
    column that is not semi-structured, so keel must pick the form by the column's type."""
    semi = isinstance(value, dict | list)
    if how == "to_json" and data_type not in SEMI:
        raise ProgrammingError(f"model: TO_JSON of a {data_type} column")
    if value is None:
        return None
    if how == "to_json" or (how == "iff" and semi):
        return json.dumps(value, separators=(",", ":"))
    if semi:
        raise ProgrammingError("model: CAST of an OBJECT / ARRAY value AS VARCHAR")
    return str(value)


def _sample(cur: Cursor, m: re.Match[str]) -> None:
    a = cur.a
    out = []
    pattern = (
        rf"\(SELECT ({LIT}) AS s, ({LIT}) AS t, ARRAY_CONSTRUCT\((.*?)\) AS v FROM "
        rf"({QNAME}) LIMIT (\d+)\)"
    )
    for s, t, cols, name, limit in re.findall(pattern, m[0]):
        # a two-part name resolves in the session's database (connect(database=...))
        p = parts(name)
        key = (p[-2], p[-1])
        if (len(p) == 3 and p[0] != a.database) or key not in a.relations:
            raise ProgrammingError(f"Object '{name}' does not exist or not authorized.")
        rel = a.relations[key]
        types = {c: ty.upper() for c, ty in rel.columns}
        columns = []
        for x in _AS_TEXT.finditer(cols):
            how = "iff" if x[1] else "to_json" if x[2] else "cast"
            column = parts(x[1] or x[2] or x[3])[0]
            columns.append((column, how))
        for row in rel.rows[: int(limit)]:
            values = [_as_text(row.get(c), how, types.get(c, "")) for c, how in columns]
            text = json.dumps(values, indent=2).replace("null", "undefined")
            out.append((lit(s), lit(t), text))
    cur._result(["S", "T", "V"], out)


# ---- SHOW -----------------------------------------------------------------------------------


def _show_roles(cur: Cursor, m: re.Match[str]) -> None:
    cur._result(
        [
            "created_on",
            "name",
            "is_default",
            "is_current",
            "is_inherited",
            "assigned_to_users",
            "granted_to_roles",
            "granted_roles",
            "owner",
            "comment",
        ],
        [
            (None, r, "N", "N", "N", 0, 0, 0, cur.a.role_owner.get(r, ""), c)
            for r, c in sorted(cur.a.roles.items())
        ],
    )


def _fqn(p: tuple[str, ...]) -> str:
    return ".".join(x if re.fullmatch(r"[A-Z_][A-Z0-9_$]*", x) else f'"{x}"' for x in p)


def _show_database_roles(cur: Cursor, m: re.Match[str]) -> None:
    """[sql-reference/sql/show-database-roles]"""
    if parts(m[1]) != [cur.a.database]:
        raise ProgrammingError(f"Database '{m[1]}' does not exist or not authorized.")
    cur._result(
        [
            "created_on",
            "name",
            "is_default",
            "is_current",
            "is_inherited",
            "granted_to_roles",
            "granted_to_database_roles",
            "granted_database_roles",
            "owner",
            "comment",
            "owner_role_type",
        ],
        [(None, r, "N", "N", "N", 0, 0, 0, "", "", "ROLE") for r in sorted(cur.a.database_roles)],
    )


def _show_grants_to(cur: Cursor, m: re.Match[str]) -> None:
    a = cur.a
    if m[1]:
        p = parts(m[2])
        if len(p) != 2 or p[0] != a.database or p[1] not in a.database_roles:
            raise ProgrammingError(f"Database role '{m[2]}' does not exist or not authorized.")
        kind, role = "DATABASE_ROLE", p[1]
    else:
        kind, role = "ROLE", parts(m[2])[0]
        if role not in a.roles:
            raise ProgrammingError(f"Role '{role}' does not exist or not authorized.")
    rows = []
    for privilege, on, key, gkind, grantee in sorted(a.grants):
        if gkind == kind and grantee == role:
            rows.append((None, privilege, on, _fqn(key), kind, role, "false", "ADMIN"))
    if kind == "DATABASE_ROLE":
        cur._result(
            SHOW_GRANTS_TO_COLUMNS,
            rows,
        )
        return
    if a.db_owner == role:
        rows.append((None, "OWNERSHIP", "DATABASE", a.database, "ROLE", role, "true", role))
    for s, v in sorted(a.schemas.items()):
        if v.owner == role:
            rows.append(
                (None, "OWNERSHIP", "SCHEMA", _fqn((a.database, s)), "ROLE", role, "true", role)
            )
    for (s, t), r in sorted(a.relations.items()):
        if r.owner == role:
            rows.append(
                (
                    None,
                    "OWNERSHIP",
                    r.kind.upper(),
                    _fqn((a.database, s, t)),
                    "ROLE",
                    role,
                    "true",
                    role,
                )
            )
    for granted, grantee in sorted(a.role_grants):
        if grantee == role:
            rows.append((None, "USAGE", "ROLE", granted, "ROLE", role, "false", "SECURITYADMIN"))
    cur._result(
        SHOW_GRANTS_TO_COLUMNS,
        rows,
    )


def _show_grants_of(cur: Cursor, m: re.Match[str]) -> None:
    role = parts(m[1])[0]
    rows = [
        (None, role, "ROLE", grantee, "SECURITYADMIN")
        for granted, grantee in sorted(cur.a.role_grants)
        if granted == role
    ]
    cur._result(["created_on", "role", "granted_to", "grantee_name", "granted_by"], rows)


def _show_future(cur: Cursor, m: re.Match[str]) -> None:
    a = cur.a
    schema = schema_of(a, m[1])
    rows = [
        (None, privilege, word, f"{a.database}.{schema}.<{word}>", gkind, grantee, "false")
        for level, container, word, privilege, gkind, grantee in sorted(a.future)
        if level == "SCHEMA" and container == schema
    ]
    cur._result(
        ["created_on", "privilege", "grant_on", "name", "grant_to", "grantee_name", "grant_option"],
        rows,
    )


def _show_policies(cur: Cursor, m: re.Match[str]) -> None:
    require_enterprise(cur.a)
    a, like, schema = cur.a, lit(m[1]), schema_of(cur.a, m[2])
    rows = [
        (None, n.split(".")[-1], a.database, schema, "MASKING_POLICY", "", p["comment"], "ROLE", "")
        for n, p in sorted(a.policies.items())
        if n.split(".")[-1] == like and n.split(".")[1] == schema
    ]
    cur._result(
        [
            "created_on",
            "name",
            "database_name",
            "schema_name",
            "kind",
            "owner",
            "comment",
            "owner_role_type",
            "options",
        ],
        rows,
    )


QUERIES: list[tuple[str, Any]] = [
    (
        rf"SELECT .* FROM ({QNAME})\.\"?INFORMATION_SCHEMA\"?\.\"?(SCHEMATA|TABLES|COLUMNS)\"?(.*)",
        _info,
    ),
    (r"SELECT .* FROM SNOWFLAKE\.ACCOUNT_USAGE\.TAG_REFERENCES WHERE .*", _account_usage),
    (rf"SELECT .* FROM {QNAME}\.\"KEEL_TAGS\" WHERE \"TAG_NAME\" = ({LIT})", _keel_tags),
    (r"SELECT .*TAG_REFERENCES_ALL_COLUMNS\(.*", _tag_refs_all_columns),
    (r"SELECT SYSTEM\$GET_TAG\(.*", _get_tag),
    (
        rf"SELECT POLICY_NAME FROM TABLE\(.*POLICY_REFERENCES\(REF_ENTITY_NAME => ({LIT}), "
        r"REF_ENTITY_DOMAIN => 'tag'\)\)",
        _policy_refs,
    ),
    (r"\(SELECT .* AS v FROM .*", _sample),
    (r"SHOW ROLES", _show_roles),
    (rf"SHOW GRANTS TO (DATABASE )?ROLE ({QNAME})", _show_grants_to),
    (rf"SHOW DATABASE ROLES IN DATABASE ({NAME})", _show_database_roles),
    (rf"SHOW GRANTS OF ROLE ({NAME})", _show_grants_of),
    (rf"SHOW FUTURE GRANTS IN SCHEMA ({QNAME})", _show_future),
    (rf"SHOW MASKING POLICIES LIKE ({LIT}) IN SCHEMA ({QNAME})", _show_policies),
]
