"""Read a Snowflake database's state in a fixed number of queries, whatever the table count.

- schemas (with managed access and owner), tables and views, columns: one INFORMATION_SCHEMA query
  each [sql-reference/info-schema/schemata, tables, columns];
- tags: SNOWFLAKE.ACCOUNT_USAGE.TAG_REFERENCES (direct assignments only, up to 120 minutes
  behind, needs IMPORTED PRIVILEGES on the SNOWFLAKE database) when it can be read,
  overlaid by keel's own record (SOPHIA_OPS.KEEL_TAGS, written in the same change as every
  tag keel or publish sets) for what changed within the view's latency, and by a direct read
  (TAG_REFERENCES_ALL_COLUMNS) of the tables altered within that window, in chunks; schema
  tags with one SYSTEM$GET_TAG query [sql-reference/functions/system_get_tag];
- grants: SHOW ROLES, SHOW GRANTS TO ROLE / OF ROLE per managed role, SHOW DATABASE ROLES
  and SHOW GRANTS TO DATABASE ROLE per database role, SHOW FUTURE GRANTS IN SCHEMA per
  managed schema [sql-reference/sql/show-grants] (fixed by the project, not the tables);
- masking: SHOW MASKING POLICIES in SOPHIA_OPS and POLICY_REFERENCES on the tag.

What SHOW GRANTS reports is classified: OWNERSHIP and privileges keel does not grant are not
keel's (never revoked); the one row per object an ON ALL grant produced reads back as that
grant; an empty schema holds an ON ALL grant when it holds the matching future grant.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from keel import ops_tables as ops
from keel.adapters import tag_store
from keel.adapters.snowflake_sql import GRANTABLE, MASKING_POLICY, READ_WORDS
from keel.errors import WarehouseError
from keel.resources import (
    ActualState,
    Grant,
    Membership,
    OnAccountObject,
    OnAll,
    OnRelation,
    OnSchema,
    TableInfo,
    TagKey,
)

if TYPE_CHECKING:
    from keel.adapters.snowflake import SnowflakeAdapter

LAG_HOURS = 2  # ACCOUNT_USAGE.TAG_REFERENCES latency [sql-reference/account-usage: 120 min]
CHUNK = 50  # tables per direct tag read
RELATION_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")


def split_name(name: str) -> list[str]:
    """``DB.S."My table"`` -> ["DB", "S", "My table"] (SHOW output quotes names that need it)."""
    parts: list[str] = []
    cur, quoted, i = "", False, 0
    while i < len(name):
        ch = name[i]
        if ch == '"':
            if quoted and i + 1 < len(name) and name[i + 1] == '"':
                cur += '"'
                i += 1
            else:
                quoted = not quoted
        elif ch == "." and not quoted:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
        i += 1
    parts.append(cur)
    return parts


def decode_array(value: Any) -> list[Any]:
    """An ARRAY as the connector returns it: JSON text, SQL NULL elements as ``undefined``
    [developer-guide/python-connector: semi-structured values are returned as JSON strings;
    user-guide/semistructured-considerations: undefined for NULL in arrays]."""
    if isinstance(value, list):
        return value
    if value is None:
        return []
    text = str(value)
    out: list[Any] = []
    # undefined is not JSON: replace it where it stands as an element
    fixed = re.sub(r"(?<=[\[,\s])undefined(?=\s*[,\]])", "null", text)
    try:
        parsed = json.loads(fixed)
    except json.JSONDecodeError as exc:
        raise WarehouseError(f"Snowflake returned an array keel cannot read: {text[:80]}") from exc
    for item in parsed if isinstance(parsed, list) else [parsed]:
        out.append(None if item is None else (item if isinstance(item, str) else str(item)))
    return out


def read(a: SnowflakeAdapter, managed: set[str], roles: set[str]) -> ActualState:
    managed_access: set[str] = set()
    owners: dict[str, str] = {}
    state = ActualState(managed_access=managed_access, schema_owners=owners)
    info = a.ident(a.database, "INFORMATION_SCHEMA")
    for schema, is_managed, owner in a.fetch(
        f"SELECT SCHEMA_NAME, IS_MANAGED_ACCESS, SCHEMA_OWNER FROM {info}.SCHEMATA", "schemas"
    ):
        state.schemas.add(schema)
        if is_managed == "YES":
            managed_access.add(schema)
        if owner:
            owners[schema] = owner
    wanted = managed | {ops.OPS_SCHEMA}
    in_list = ", ".join(a.lit(s) for s in sorted(wanted))
    recent: set[tuple[str, str]] = set()
    for schema, table, rows, kind, is_recent in a.fetch(
        "SELECT TABLE_SCHEMA, TABLE_NAME, COALESCE(ROW_COUNT, 0), TABLE_TYPE, "
        f"IFF(LAST_ALTERED > DATEADD(hour, -{LAG_HOURS}, CURRENT_TIMESTAMP()), 1, 0) "
        f"FROM {info}.TABLES WHERE TABLE_SCHEMA IN ({in_list})",
        "tables",
    ):
        state.tables[(schema, table)] = TableInfo(
            schema, table, (), int(rows), "view" if kind == "VIEW" else "table"
        )
        if is_recent:
            recent.add((schema, table))
    columns: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, data_type in a.fetch(
        f"SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, DATA_TYPE FROM {info}.COLUMNS "
        f"WHERE TABLE_SCHEMA IN ({in_list}) ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION",
        "columns",
    ):
        columns.setdefault((schema, table), []).append((column, data_type))
    for key, t in list(state.tables.items()):
        state.tables[key] = TableInfo(t.schema, t.name, tuple(columns.get(key, ())), t.rows, t.kind)
    a.mark_ops(state)
    _read_tags(a, state, wanted, recent)
    _read_grants(a, state, managed, roles)
    _read_masking(a, state)
    return state


# ---- tags ------------------------------------------------------------------------------


def _tag_filter(a: SnowflakeAdapter) -> str:
    return (
        f"TAG_DATABASE = {a.lit(a.database)} AND TAG_SCHEMA = {a.lit(a.tag_schema)} "
        f"AND TAG_NAME = {a.lit(a.tag_name)}"
    )


def _read_tags(
    a: SnowflakeAdapter, state: ActualState, wanted: set[str], recent: set[tuple[str, str]]
) -> None:
    tags = state.tags
    usage_ok = True
    try:
        rows = a.fetch(
            "SELECT DOMAIN, OBJECT_SCHEMA, OBJECT_NAME, COLUMN_NAME, TAG_VALUE "
            f"FROM SNOWFLAKE.ACCOUNT_USAGE.TAG_REFERENCES WHERE {_tag_filter(a)} "
            f"AND OBJECT_DATABASE = {a.lit(a.database)} AND OBJECT_DELETED IS NULL",
            "tags",
        )
    except WarehouseError:
        usage_ok, rows = False, []  # no IMPORTED PRIVILEGES on SNOWFLAKE: keel's record below
    for domain, schema, name, column, value in rows:
        if domain == "COLUMN" and schema in wanted:
            tags[TagKey("column", f"{schema}.{name}.{column}")] = value
        elif domain == "TABLE" and schema in wanted:
            tags[TagKey("table", f"{schema}.{name}")] = value
    if tag_store.present(state):
        for key, value, is_recent in tag_store.read_with_age(a, LAG_HOURS):
            if key.object_type == "schema":
                continue  # read directly below
            if usage_ok and not is_recent:
                continue  # ACCOUNT_USAGE has caught up with it
            if value is None:
                tags.pop(key, None)
            else:
                tags[key] = value
    _read_recent_tables(a, state, sorted(recent))
    _read_schema_tags(a, state, wanted)


def _read_recent_tables(
    a: SnowflakeAdapter, state: ActualState, recent: list[tuple[str, str]]
) -> None:
    """Tables altered within ACCOUNT_USAGE's latency, read directly: only direct assignments
    count (LEVEL = the object's own domain, APPLY_METHOD MANUAL) [functions/
    tag_references_all_columns]. Bounded by what changed recently, CHUNK tables a query."""
    recent = [k for k in recent if k[0] != ops.OPS_SCHEMA]
    if not recent:
        return
    info = a.ident(a.database, "INFORMATION_SCHEMA")
    queries = []
    for i in range(0, len(recent), CHUNK):
        parts = [
            "SELECT OBJECT_SCHEMA, OBJECT_NAME, LEVEL, COLUMN_NAME, TAG_VALUE, APPLY_METHOD "
            f"FROM TABLE({info}.TAG_REFERENCES_ALL_COLUMNS("
            f"{a.lit(f'{a.database}.{s}.{t}')}, 'TABLE')) WHERE {_tag_filter(a)}"
            for s, t in recent[i : i + CHUNK]
        ]
        queries.append(" UNION ALL ".join(parts))
    for schema, table in recent:  # the direct read is the truth for these tables
        prefix = f"{schema}.{table}"
        for key in [k for k in state.tags if k.object_name == prefix]:
            del state.tags[key]
        for key in [k for k in state.tags if k.object_name.startswith(prefix + ".")]:
            del state.tags[key]
    for rows in a.fetch_many(queries, "tags"):
        for schema, name, level, column, value, method in rows:
            # LEVEL says where the tag is set: a table's own tag shows on each of its
            # columns as LEVEL TABLE (APPLY_METHOD INHERITED for the column); a column's own
            # as LEVEL COLUMN, MANUAL. Propagated and classified tags are not keel's.
            if method in ("PROPAGATED", "CLASSIFIED"):
                continue
            if level == "TABLE":
                state.tags[TagKey("table", f"{schema}.{name}")] = value
            elif level == "COLUMN" and method in (None, "MANUAL"):
                state.tags[TagKey("column", f"{schema}.{name}.{column}")] = value


def _read_schema_tags(a: SnowflakeAdapter, state: ActualState, wanted: set[str]) -> None:
    schemas = sorted(wanted & state.schemas)
    if not schemas or ops.OPS_SCHEMA not in state.schemas:
        return
    tag = f"{a.database}.{a.tag_schema}.{a.tag_name}"
    cols = ", ".join(
        f"SYSTEM$GET_TAG({a.lit(tag)}, {a.lit(f'{a.database}.{s}')}, 'SCHEMA')" for s in schemas
    )
    try:
        rows = a.fetch(f"SELECT {cols}", "tags")
    except WarehouseError:
        return  # the tag does not exist yet (first apply creates it)
    for schema, value in zip(schemas, rows[0] if rows else (), strict=False):
        if value is not None:
            state.tags[TagKey("schema", schema)] = value


# ---- grants ----------------------------------------------------------------------------


def _read_grants(
    a: SnowflakeAdapter, state: ActualState, managed: set[str], roles: set[str]
) -> None:
    for row in a.fetch_dicts("SHOW ROLES", "roles"):
        state.roles.add(row["name"])
    mine = sorted(roles & state.roles)
    future: set[tuple[str, str, str, str]] = set()  # (grantee kind, role, privilege, schema)
    for schema in sorted(managed & state.schemas):
        kinds: dict[tuple[str, str, str], set[str]] = {}
        for row in a.fetch_dicts(f"SHOW FUTURE GRANTS IN SCHEMA {a.fq(schema)}", "grants"):
            privilege = row["privilege"]
            if privilege not in GRANTABLE:
                continue
            grantee = row.get("grant_to") or "ROLE"
            who = split_name(row["grantee_name"])[-1]
            kinds.setdefault((grantee, who, privilege), set()).add(row["grant_on"])
        for (grantee, who, privilege), on in kinds.items():
            need = {"TABLE", "VIEW"} if privilege == "SELECT" else {"TABLE"}
            if need <= on:
                future.add((grantee, who, privilege, schema))
                g = Grant.to(who, privilege, OnAll(schema, future=True), _grantee(grantee))
                state.grants.add(g)
    objects: dict[str, dict[str, str]] = {}  # schema -> relation -> kind
    for (schema, name), t in state.tables.items():
        objects.setdefault(schema, {})[name] = t.kind
    # managed account roles, and every database role of the database (their grants on
    # managed schemas are drift, revoked FROM DATABASE ROLE) [sql-reference/sql/
    # show-database-roles; show-grants: SHOW GRANTS TO DATABASE ROLE]
    grantees = [("ROLE", r, f"SHOW GRANTS TO ROLE {a.ident(r)}") for r in mine]
    for row in a.fetch_dicts(f"SHOW DATABASE ROLES IN DATABASE {a.ident(a.database)}", "roles"):
        name = split_name(row["name"])[-1]
        grantees.append(("DATABASE_ROLE", name, f"SHOW GRANTS TO DATABASE ROLE {a.fq(name)}"))
    for kind, role, sql in grantees:
        held: dict[tuple[str, str], set[str]] = {}  # (privilege, schema) -> relations
        owned: dict[str, set[str]] = {}
        for row in a.fetch_dicts(sql, "grants"):
            _classify(a, state, _grantee(kind), role, row, held, owned)
        for schema in sorted(managed & state.schemas):
            present = objects.get(schema, {})
            for privilege in RELATION_PRIVILEGES:
                _fold(
                    state,
                    Grant.to(role, privilege, OnAll(schema), _grantee(kind)),
                    present,
                    held.get((privilege, schema), set()),
                    owned.get(schema, set()),
                    (kind, role, privilege, schema) in future,
                )
    for role in mine:
        for row in a.fetch_dicts(f"SHOW GRANTS OF ROLE {a.ident(role)}", "roles"):
            if row.get("granted_to") == "ROLE":
                state.memberships.add(Membership(role, row["grantee_name"]))


def _grantee(kind: str) -> Any:
    return "DATABASE_ROLE" if kind == "DATABASE_ROLE" else "ROLE"


def _classify(
    a: SnowflakeAdapter,
    state: ActualState,
    kind: Any,
    role: str,
    row: dict[str, Any],
    held: dict[tuple[str, str], set[str]],
    owned: dict[str, set[str]],
) -> None:
    """One SHOW GRANTS TO [DATABASE] ROLE row [sql-reference/sql/show-grants: created_on,
    privilege, granted_on, name, granted_to, grantee_name, grant_option, granted_by].
    Objects are matched by name, so a view reported as TABLE (before the 2026_06 bundle
    made granted_on specific) is still read right."""
    privilege, on, parts = row["privilege"], row["granted_on"], split_name(row["name"])
    if kind == "ROLE" and on == "DATABASE" and parts == [a.database] and privilege == "USAGE":
        state.grants.add(Grant.to(role, "USAGE", OnAccountObject("DATABASE", a.database)))
        return
    if kind == "ROLE" and on == "WAREHOUSE" and a.warehouse and parts == [a.warehouse]:
        if privilege == "USAGE":
            state.grants.add(Grant.to(role, "USAGE", OnAccountObject("WAREHOUSE", a.warehouse)))
        return
    if not parts or parts[0] != a.database:
        return  # another database: not keel's
    if on in ("TABLE", "VIEW") and len(parts) == 3:
        if privilege == "OWNERSHIP":
            owned.setdefault(parts[1], set()).add(parts[2])
        elif privilege in RELATION_PRIVILEGES:
            held.setdefault((privilege, parts[1]), set()).add(parts[2])
        return
    if on == "SCHEMA" and len(parts) == 2 and privilege in GRANTABLE:
        if privilege == "CREATE VIEW":
            return  # granted and revoked together with CREATE TABLE (keel's CREATE)
        word = READ_WORDS.get(privilege, privilege)
        state.grants.add(Grant.to(role, word, OnSchema(parts[1]), kind))


def _fold(
    state: ActualState,
    all_grant: Grant,
    present: dict[str, str],
    explicit: set[str],
    owned: set[str],
    has_future: bool,
) -> None:
    """Per-object rows -> grants. Every object covered (explicitly or by ownership, the
    owner holding every privilege on its object) reads as the ON ALL grant; so does an empty
    schema whose future grant is held. Otherwise the per-object grants, each typed table or
    view (diff does not revoke those a declared ON ALL grant includes)."""
    on = all_grant.on
    assert isinstance(on, OnAll)
    privilege = all_grant.privilege
    relevant = {n for n, k in present.items() if privilege == "SELECT" or k == "table"}
    explicit &= set(present)
    if not relevant:
        if has_future:
            state.grants.add(all_grant)
        return
    if relevant <= explicit | owned and (explicit or has_future):
        state.grants.add(all_grant)
        return
    for name in sorted(explicit):
        rel = (
            OnRelation(on.schema, name, "view")
            if present[name] == "view"
            else OnRelation(on.schema, name)
        )
        state.grants.add(Grant.to(all_grant.role, privilege, rel, all_grant.grantee))


# ---- masking ---------------------------------------------------------------------------


def _read_masking(a: SnowflakeAdapter, state: ActualState) -> None:
    """keel's masking policy: its comment records the entries it enforces
    [sql-reference/sql/show-masking-policies: comment column]; it counts only while set on
    the tag [functions/policy_references: REF_ENTITY_DOMAIN => 'tag']."""
    state.masking = frozenset()
    if ops.OPS_SCHEMA not in state.schemas or not state.ops_ready:
        return
    try:
        rows = a.fetch_dicts(
            f"SHOW MASKING POLICIES LIKE {a.lit(MASKING_POLICY)} IN SCHEMA {a.fq(ops.OPS_SCHEMA)}",
            "masking",
        )
    except WarehouseError:
        return  # Standard edition has no masking policies
    comment = next((r.get("comment") or "" for r in rows if r.get("name") == MASKING_POLICY), "")
    if not comment.startswith("keel:"):
        return
    info = a.ident(a.database, "INFORMATION_SCHEMA")
    tag = f"{a.database}.{a.tag_schema}.{a.tag_name}"
    refs = a.fetch(
        f"SELECT POLICY_NAME FROM TABLE({info}.POLICY_REFERENCES(REF_ENTITY_NAME => "
        f"{a.lit(tag)}, REF_ENTITY_DOMAIN => 'tag'))",
        "masking",
    )
    if any(r[0] == MASKING_POLICY for r in refs):
        state.masking = frozenset(e for e in comment[len("keel:") :].split(",") if e)
