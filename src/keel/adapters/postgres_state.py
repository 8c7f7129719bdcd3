"""PostgreSQL catalog facts and how they become :class:`~keel.resources.Grant` values (pure).

Names here are canonical (upper case); the catalog reader converts the server's.

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
  that exist (all of them once the table exists, none before) and, for SELECT on an
  existing table, while its masking view ``S_MASKED.T`` is in place (:func:`view_holds`).
  USAGE and SELECT in a masking-view schema that a policy explains are part of that
  policy, not grants of their own; anything else granted there is drift.
- Memberships come from ``pg_auth_members``. A member that does not exist on the server
  (SYSADMIN) is recorded in ``KEEL_ROLE_MEMBERS`` and reported held while it is missing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from keel.resources import Grant, columns_object

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
    # masking views: (VIEW_SCHEMA, TABLE) -> the columns shown in clear (from its comment)
    view_shown: dict[RelKey, tuple[str, ...]] = field(default_factory=dict)
    recorded: dict[ColKey, list[tuple[str, ...]]] = field(default_factory=dict)

    @property
    def view_schemas(self) -> dict[str, str]:
        """keel's masking-view schema of each managed schema: view schema -> base schema."""
        return {masked_schema(s): s for s in self.managed_schemas}

    @property
    def creators(self) -> set[str]:
        """The roles whose future tables keel's default privileges cover."""
        return self.managed_roles | ({self.user} if self.user else set())

    def in_scope(self, role: str, schema: str) -> bool:
        return schema in self.managed_schemas or role in self.managed_roles


MAX_NAME_BYTES = 63  # NAMEDATALEN - 1: PostgreSQL truncates longer names silently
MASKED_SUFFIX = "_MASKED"
BASE_SUFFIX = "_BASE"
MASK_TEXT = "***MASKED***"  # what a masked text column reads as; other types read NULL


def masked_schema(schema: str) -> str:
    """The schema of keel's masking views over ``schema``: ``GONG_DATA`` ->
    ``GONG_DATA_MASKED``. A name whose server spelling would pass 63 bytes keeps a prefix
    of the base name and a hash of all of it, so two long schemas never share (and
    silently overwrite) one view schema."""
    return _derived_schema(schema, MASKED_SUFFIX)


def base_schema(schema: str) -> str:
    """The keel-owned schema holding the tables of ``schema`` that are served through a
    masking view at their promoted name: ``GONG_DATA`` -> ``GONG_DATA_BASE`` (same 63-byte
    rule and hash as :func:`masked_schema`)."""
    return _derived_schema(schema, BASE_SUFFIX)


def _derived_schema(schema: str, suffix: str) -> str:
    name = schema + suffix
    if len(name.lower().encode()) <= MAX_NAME_BYTES:
        return name
    tail = "_" + hashlib.sha256(schema.encode()).hexdigest()[:8].upper() + suffix
    head = schema
    while len((head + tail).lower().encode()) > MAX_NAME_BYTES:
        head = head[:-1]
    return head + tail


def view_note(schema: str, table: str, shown: tuple[str, ...]) -> str:
    """The comment keel puts on a masking view: what it masks, read back by the catalog."""
    return json.dumps({"keel_masking_view_of": f"{schema}.{table}", "shown": list(shown)})


def view_note_columns(note: str | None) -> tuple[str, ...] | None:
    """The shown columns recorded in a masking view's comment; None for any other comment."""
    try:
        doc = json.loads(note or "")
    except json.JSONDecodeError:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("shown"), list):
        return None
    return tuple(str(c) for c in doc["shown"])


def view_columns(
    seen: ServerState, recorded: dict[ColKey, list[tuple[str, ...]]], schema: str, table: str
) -> tuple[str, ...]:
    """The columns a masking view over ``schema.table`` shows in clear: those every
    recorded SELECT policy on the table shows (the view serves every policy's role)."""
    exist = seen.columns.get((schema, table), ())
    shown = set(exist)
    for (_, priv, s, t), policies in recorded.items():
        if (priv, s, t) == ("SELECT", schema, table):
            for cols in policies:
                shown &= set(cols)
    return tuple(c for c in exist if c in shown)


def view_holds(
    seen: ServerState,
    recorded: dict[ColKey, list[tuple[str, ...]]],
    role: str,
    schema: str,
    table: str,
    schema_acl: list[tuple[str, str, str]],
    table_acl: dict[PrivKey, set[str]],
) -> bool:
    """The masking view of a policy is in place: it exists over the table's columns (same
    names, same types, in order), shows exactly :func:`view_columns`, and ``role`` may
    use its schema and select from it."""
    vs = masked_schema(schema)
    view = (vs, table)
    return (
        seen.relations.get(view) == "v"
        and seen.columns.get(view) == seen.columns.get((schema, table))
        and seen.types.get(view) == seen.types.get((schema, table))
        and seen.view_shown.get(view) == view_columns(seen, recorded, schema, table)
        and (role, "USAGE", vs) in schema_acl
        and table in table_acl.get((role, "SELECT", vs), set())
    )


def explained_by_views(
    seen: ServerState,
    recorded: dict[ColKey, list[tuple[str, ...]]],
    schema_acl: list[tuple[str, str, str]],
    table_acl: dict[PrivKey, set[str]],
) -> tuple[list[tuple[str, str, str]], dict[PrivKey, set[str]]]:
    """The ACLs without what keel's masking views account for (USAGE on a view schema and
    SELECT on a view, for a role with a recorded policy on the view's table); anything
    else granted in a view schema stays, and is reported as drift."""
    bases = seen.view_schemas
    policy = {(r, s, t) for (r, p, s, t) in recorded if p == "SELECT"}
    in_schema = {(r, s) for (r, s, _) in policy}
    schemas = [
        (r, p, vs)
        for r, p, vs in schema_acl
        if not (vs in bases and p == "USAGE" and (r, bases[vs]) in in_schema)
    ]
    tables: dict[PrivKey, set[str]] = {}
    for (r, p, vs), names in table_acl.items():
        if vs in bases and p == "SELECT":
            names = {t for t in names if (r, bases[vs], t) not in policy}
        if names:
            tables[(r, p, vs)] = names
    return schemas, tables


def grants_from_catalog(
    seen: ServerState,
    schema_acl: list[tuple[str, str, str]],
    table_acl: dict[PrivKey, set[str]],
    recorded: dict[ColKey, list[tuple[str, ...]]],
) -> set[Grant]:
    """Catalog facts -> Grant values, by the rules in the module docstring. Pure."""
    full_schema_acl, full_table_acl = schema_acl, table_acl
    schema_acl, table_acl = explained_by_views(seen, recorded, schema_acl, table_acl)
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
        # a SELECT policy on an existing table holds only with its masking view in place
        if (
            matched
            and priv == "SELECT"
            and (schema, table) in seen.relations
            and not view_holds(seen, recorded, role, schema, table, full_schema_acl, full_table_acl)
        ):
            continue
        for shown in matched:
            grants.add(Grant(role, priv, "COLUMNS", columns_object(schema, table, shown)))
        if held and not matched:
            grants.add(Grant(role, priv, "COLUMNS", columns_object(schema, table, held)))
    return grants
