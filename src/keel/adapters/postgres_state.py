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
- COLUMNS(``S.T(C1,C2)``): a policy keel records in ``KEEL_GRANTS`` (policies outlive the
  tables they cover: one on a table that does not exist yet is held vacuously). A SELECT
  policy on an existing table is held while the table is served through keel's masking
  view (:func:`view_holds`): ``S.T`` is a view over ``S_BASE.T`` with its columns, the
  base table's note records the policies keel holds, and R may select from the view.
  R's SELECT on that view is part of the policy, not a grant of its own; table-level
  access to a masked table that is still a plain table is reported as a TABLE grant (a
  leak). Column privileges (keel grants none) are reported as COLUMNS grants as found.
- The base schemas are not managed: every privilege a managed role holds there is drift.
- Memberships come from ``pg_auth_members``. A member that does not exist on the server
  (SYSADMIN) is recorded in ``KEEL_ROLE_MEMBERS`` and reported held while it is missing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
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
    # base tables: (BASE_SCHEMA, TABLE) -> role -> columns read in clear (its comment)
    view_policies: dict[RelKey, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    # keel's tags as recorded: (object type, object name) -> value
    tags: dict[tuple[str, str], str] = field(default_factory=dict)
    # table-level ACL of each relation: (grantee, privilege), owners left out
    relation_acl: dict[RelKey, set[tuple[str, str]]] = field(default_factory=dict)
    recorded: dict[ColKey, list[tuple[str, ...]]] = field(default_factory=dict)

    @property
    def base_schemas(self) -> dict[str, str]:
        """keel's base schema of each managed schema: base schema -> managed schema."""
        return {base_schema(s): s for s in self.managed_schemas}

    @property
    def creators(self) -> set[str]:
        """The roles whose future tables keel's default privileges cover."""
        return self.managed_roles | ({self.user} if self.user else set())

    def in_scope(self, role: str, schema: str) -> bool:
        return schema in self.managed_schemas or role in self.managed_roles


MAX_NAME_BYTES = 63  # NAMEDATALEN - 1: PostgreSQL truncates longer names silently
BASE_SUFFIX = "_BASE"
MASK_TEXT = "***MASKED***"  # what a masked text column reads as; other types read NULL


def base_schema(schema: str) -> str:
    """The keel-owned schema holding the tables of ``schema`` that are served through a
    masking view at their promoted name: ``GONG_DATA`` -> ``GONG_DATA_BASE``. A name whose
    server spelling would pass 63 bytes keeps a prefix of the schema's name and a hash of
    all of it, so two long schemas never share (and silently mix) one base schema."""
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


def view_note(schema: str, table: str, policies: dict[str, tuple[str, ...]]) -> str:
    """The comment keel puts on a base table: which promoted name serves it, and the
    columns each policy role reads in clear there; read back by the catalog."""
    doc = {"keel_masking_view_of": f"{schema}.{table}", "policies": policies}
    return json.dumps(doc, sort_keys=True)


def view_note_policies(note: str | None) -> dict[str, tuple[str, ...]] | None:
    """The policies recorded in a base table's comment; None for any other comment."""
    try:
        doc = json.loads(note or "")
    except json.JSONDecodeError:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("policies"), dict):
        return None
    return {str(r): tuple(str(c) for c in cols) for r, cols in doc["policies"].items()}


def view_policies(
    columns: Sequence[str], recorded: dict[ColKey, list[tuple[str, ...]]], schema: str, table: str
) -> dict[str, tuple[str, ...]]:
    """Role -> the columns of ``columns`` it reads in clear through the masking view of
    ``schema.table``: those every recorded SELECT policy of the role shows."""
    out: dict[str, set[str]] = {}
    for (role, priv, s, t), policies in recorded.items():
        if (priv, s, t) == ("SELECT", schema, table):
            for shown in policies:
                out[role] = out[role] & set(shown) if role in out else set(shown)
    return {r: tuple(c for c in columns if c in cols) for r, cols in sorted(out.items())}


def served(seen: ServerState, schema: str, table: str) -> bool:
    """``schema.table`` is served through a view over ``<SCHEMA>_BASE.table``."""
    return (
        seen.relations.get((schema, table)) == "v"
        and (base_schema(schema), table) in seen.relations
    )


def data_relation(seen: ServerState, schema: str, table: str) -> RelKey:
    """Where the data of ``schema.table`` is: its base table when there is one and the
    name is a view (or missing: the view dropped by hand), else the name itself."""
    base = (base_schema(schema), table)
    if seen.relations.get((schema, table), "v") == "v" and base in seen.relations:
        return base
    return (schema, table)


def view_holds(
    seen: ServerState,
    recorded: dict[ColKey, list[tuple[str, ...]]],
    role: str,
    schema: str,
    table: str,
    table_acl: dict[PrivKey, set[str]],
) -> bool:
    """The masking view of a policy is in place: the promoted name is a view over the base
    table with the same columns in order, the base table's note records exactly the
    policies keel holds for the table, and ``role`` may select from the view."""
    base = (base_schema(schema), table)
    cols = seen.columns.get(base, ())
    return (
        served(seen, schema, table)
        and seen.columns.get((schema, table)) == cols
        and seen.view_policies.get(base) == view_policies(cols, recorded, schema, table)
        and table in table_acl.get((role, "SELECT", schema), set())
    )


def explained_by_views(
    seen: ServerState,
    recorded: dict[ColKey, list[tuple[str, ...]]],
    table_acl: dict[PrivKey, set[str]],
) -> dict[PrivKey, set[str]]:
    """The table ACL without what keel's masking views account for: SELECT on a served
    promoted name, for a role with a recorded policy on it (anything else stays)."""
    policy = {(r, s, t) for (r, p, s, t) in recorded if p == "SELECT"}
    tables: dict[PrivKey, set[str]] = {}
    for (r, p, s), names in table_acl.items():
        if p == "SELECT":
            names = {t for t in names if not ((r, s, t) in policy and served(seen, s, t))}
        if names:
            tables[(r, p, s)] = names
    return tables


def grants_from_catalog(
    seen: ServerState,
    schema_acl: list[tuple[str, str, str]],
    table_acl: dict[PrivKey, set[str]],
    recorded: dict[ColKey, list[tuple[str, ...]]],
) -> set[Grant]:
    """Catalog facts -> Grant values, by the rules in the module docstring. Pure."""
    full_table_acl = table_acl
    table_acl = explained_by_views(seen, recorded, table_acl)
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
        policies = recorded.get(key, [])
        if priv == "SELECT" and policies:
            # held while the table does not exist yet, or while its masking view is in place
            if data_relation(seen, schema, table) not in seen.relations or view_holds(
                seen, recorded, role, schema, table, full_table_acl
            ):
                for shown in policies:
                    grants.add(Grant(role, priv, "COLUMNS", columns_object(schema, table, shown)))
            continue
        exist = set(seen.columns.get((schema, table), ()))
        matched = [shown for shown in policies if held == set(shown) & exist]
        for shown in matched:
            grants.add(Grant(role, priv, "COLUMNS", columns_object(schema, table, shown)))
        if held and not matched:
            grants.add(Grant(role, priv, "COLUMNS", columns_object(schema, table, held)))
    return grants
