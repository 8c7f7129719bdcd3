"""What keel manages, as frozen values with an identity.

Desired state (from the project) and actual state (read from the engine) are
both expressed in these types, so the diff is a pure function of two values.
Names are canonical (upper case); adapters normalise them for their engine.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

ObjectType = Literal["schema", "table", "column"]  # a view is tagged as a "table"
# TABLE, VIEW, COLUMNS and FUTURE_TABLES_OF are what engines with real grants report when a
# privilege is held on part of a schema only: one table or view, the readable columns of one
# table ("SCHEMA.TABLE(COL_A,COL_B)"), or the future tables of one creator ("SCHEMA.CREATOR").
# DATABASE and WAREHOUSE are account objects (Snowflake: USAGE on the database and warehouse).
GrantTarget = Literal[
    "SCHEMA",
    "ALL_TABLES",
    "FUTURE_TABLES",
    "COLUMN",
    "TABLE",
    "VIEW",
    "COLUMNS",
    "FUTURE_TABLES_OF",
    "DATABASE",
    "WAREHOUSE",
]
GranteeKind = Literal["ROLE", "DATABASE_ROLE"]
# the schema Airbyte's Snowflake destination keeps its internal raw tables in ("airbyte_internal"
# by default; keel names it upper case): managed by keel on engines with account objects
AIRBYTE_INTERNAL = "AIRBYTE_INTERNAL"


# ---- typed grant objects: what a grant is on, decoded in one place ----------------------


@dataclass(frozen=True, order=True)
class OnAccountObject:
    """A database or a warehouse (account-level objects)."""

    kind: Literal["DATABASE", "WAREHOUSE"]
    name: str


@dataclass(frozen=True, order=True)
class OnSchema:
    schema: str


@dataclass(frozen=True, order=True)
class OnAll:
    """Every current (``future=False``) or future object of a schema, optionally only those
    one role creates (PostgreSQL default privileges: ``creator``)."""

    schema: str
    future: bool = False
    creator: str | None = None


@dataclass(frozen=True, order=True)
class OnRelation:
    schema: str
    name: str
    kind: Literal["table", "view"] = "table"


@dataclass(frozen=True, order=True)
class OnColumns:
    """One column (``single``) or the set of readable columns of one table."""

    schema: str
    table: str
    columns: tuple[str, ...]
    single: bool = False


GrantObject = OnAccountObject | OnSchema | OnAll | OnRelation | OnColumns


@dataclass(frozen=True, order=True)
class TagKey:
    """The object a tag is on: ``("column", "GONG_DATA_RAW.CALLS.ID")``."""

    object_type: ObjectType
    object_name: str

    @property
    def parts(self) -> list[str]:
        return self.object_name.split(".")

    @property
    def schema(self) -> str:
        return self.object_name.split(".", 1)[0]


@dataclass(frozen=True, order=True)
class Grant:
    """A privilege held by a role on an object. Build one from a typed object with
    :meth:`Grant.to`; read what it is on with :attr:`on` (never by splitting ``object_name``,
    which is only the stable serialised form used in plans, fingerprints and SOPHIA_OPS)."""

    role: str
    privilege: str  # USAGE, CREATE, SELECT, INSERT, UPDATE, DELETE, CREATE STAGE, ...
    target: GrantTarget
    object_name: str  # the serialised object (see GrantTarget and :meth:`to`)
    grantee: GranteeKind = "ROLE"

    @classmethod
    def to(cls, role: str, privilege: str, on: GrantObject, grantee: GranteeKind = "ROLE") -> Grant:
        """The grant of ``privilege`` on the typed object ``on`` to ``role``."""
        target: GrantTarget
        if isinstance(on, OnAccountObject):
            target, name = on.kind, on.name
        elif isinstance(on, OnSchema):
            target, name = "SCHEMA", on.schema
        elif isinstance(on, OnAll):
            if on.creator is not None:
                target, name = "FUTURE_TABLES_OF", f"{on.schema}.{on.creator}"
            else:
                target, name = ("FUTURE_TABLES" if on.future else "ALL_TABLES"), on.schema
        elif isinstance(on, OnRelation):
            target = "VIEW" if on.kind == "view" else "TABLE"
            name = f"{on.schema}.{on.name}"
        elif on.single:
            target, name = "COLUMN", f"{on.schema}.{on.table}.{on.columns[0]}"
        else:
            target, name = "COLUMNS", columns_object(on.schema, on.table, on.columns)
        return cls(role, privilege, target, name, grantee)

    @property
    def on(self) -> GrantObject:
        t, name = self.target, self.object_name
        if t in ("DATABASE", "WAREHOUSE"):
            return OnAccountObject(t, name)  # type: ignore[arg-type]
        if t == "SCHEMA":
            return OnSchema(name)
        if t in ("ALL_TABLES", "FUTURE_TABLES"):
            return OnAll(name, future=t == "FUTURE_TABLES")
        if t == "FUTURE_TABLES_OF":
            schema, _, creator = name.partition(".")
            return OnAll(schema, future=True, creator=creator)
        if t in ("TABLE", "VIEW"):
            schema, _, rel = name.partition(".")
            return OnRelation(schema, rel, "view" if t == "VIEW" else "table")
        if t == "COLUMN":
            schema, table, column = name.split(".", 2)
            return OnColumns(schema, table, (column,), single=True)
        schema, table, cols = split_columns_object(name)
        return OnColumns(schema, table, cols)

    @property
    def schema(self) -> str | None:
        """The schema the grant is in (None for account objects)."""
        on = self.on
        return None if isinstance(on, OnAccountObject) else on.schema

    def covered_by(self) -> Grant | None:
        """The ON ALL grant that includes this per-object grant, if any."""
        on = self.on
        if isinstance(on, OnRelation):
            return Grant.to(self.role, self.privilege, OnAll(on.schema), self.grantee)
        return None

    def describe(self) -> str:
        schema, _, creator = self.object_name.partition(".")
        who = self.role if self.grantee == "ROLE" else f"database role {self.role}"
        on = {
            "SCHEMA": f"schema {self.object_name}",
            "ALL_TABLES": f"all tables in {self.object_name}",
            "FUTURE_TABLES": f"future tables in {self.object_name}",
            "COLUMN": f"column {self.object_name}",
            "TABLE": f"table {self.object_name}",
            "VIEW": f"view {self.object_name}",
            "COLUMNS": f"columns {self.object_name}",
            "FUTURE_TABLES_OF": f"future tables created by {creator} in {schema}",
            "DATABASE": f"database {self.object_name}",
            "WAREHOUSE": f"warehouse {self.object_name}",
        }[self.target]
        return f"{self.privilege} on {on} to {who}"


def columns_object(schema: str, table: str, columns: Iterable[str]) -> str:
    """The object name of a COLUMNS grant: ``SCHEMA.TABLE(COL_A,COL_B)``, columns sorted."""
    return f"{schema}.{table}({','.join(sorted(set(columns)))})"


def split_columns_object(name: str) -> tuple[str, str, tuple[str, ...]]:
    """``SCHEMA.TABLE(COL_A,COL_B)`` -> (SCHEMA, TABLE, (COL_A, COL_B))."""
    head, _, cols = name.partition("(")
    schema, _, table = head.partition(".")
    inner = cols[:-1] if cols.endswith(")") else cols
    return schema, table, tuple(c for c in inner.split(",") if c)


@dataclass(frozen=True, order=True)
class Membership:
    role: str  # the role granted
    member: str  # the role (or user) it is granted to


@dataclass(frozen=True)
class TableInfo:
    schema: str
    name: str
    columns: tuple[tuple[str, str], ...]  # (NAME, TYPE)
    rows: int = 0  # estimate; not part of the fingerprint
    kind: Literal["table", "view"] = "table"

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass
class ActualState:
    """What the engine has, read in a fixed number of queries."""

    schemas: set[str] = field(default_factory=set)
    tables: dict[tuple[str, str], TableInfo] = field(default_factory=dict)
    tags: dict[TagKey, str] = field(default_factory=dict)
    roles: set[str] = field(default_factory=set)
    grants: set[Grant] = field(default_factory=set)
    memberships: set[Membership] = field(default_factory=set)
    # schemas with managed access; None where the engine has no such notion
    managed_access: set[str] | None = None
    # schema -> owning role, where the engine reports ownership keel may transfer
    schema_owners: dict[str, str] | None = None
    # masking: what the engine reports as enforced (None: the engine does not mask by policy)
    masking: frozenset[str] | None = None
    ops_ready: bool = False  # SOPHIA_OPS and keel's tables exist with all their columns
    ops_tables: set[str] = field(default_factory=set)  # keel's tables that exist (to read from)
    queries: dict[str, int] = field(default_factory=dict)  # object kind -> metadata queries

    def canonical(self) -> dict[str, object]:
        return {
            "schemas": sorted(self.schemas),
            # tuples serialise as the lists they stand for, and are cheaper to build and sort
            "tables": sorted((t.schema, t.name, t.columns) for t in self.tables.values()),
            "tags": sorted((k.object_type, k.object_name, v) for k, v in self.tags.items()),
            "roles": sorted(self.roles),
            "grants": sorted(_grant_row(g) for g in self.grants),
            "memberships": sorted([m.role, m.member] for m in self.memberships),
            "managed_access": None if self.managed_access is None else sorted(self.managed_access),
            "masking": None if self.masking is None else sorted(self.masking),
            "ops_ready": self.ops_ready,
        }

    def fingerprint(self) -> str:
        text = json.dumps(self.canonical(), separators=(",", ":"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Proposal:
    """Metadata keel proposes for an object no contract describes (classification)."""

    key: TagKey
    tag: dict[str, str]
    reasons: tuple[str, ...]
    # per rule that fired: rule, pii_level, detail, share of sampled values, JSON keys
    evidence: tuple[dict[str, object], ...] = field(default=(), compare=False)


@dataclass
class DesiredState:
    schemas: list[str] = field(default_factory=list)  # in creation order
    tags: dict[TagKey, str] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)  # name -> comment
    grants: set[Grant] = field(default_factory=set)
    memberships: set[Membership] = field(default_factory=set)
    managed_schemas: set[str] = field(default_factory=set)
    proposals: list[Proposal] = field(default_factory=list)
    external_members: set[str] = field(
        default_factory=set
    )  # e.g. SYSADMIN: granted to, not managed
    # masking keel declares on the metadata tag (engines that mask by policy): one
    # "LEVEL:ROLE" entry per masked pii_level and role that reads it in clear
    masking: set[str] = field(default_factory=set)
    # schema -> the role declared to own it (``own:`` patterns; the first role by name)
    schema_owners: dict[str, str] = field(default_factory=dict)

    def canonical(self) -> dict[str, object]:
        return {
            "schemas": self.schemas,
            "tags": sorted((k.object_type, k.object_name, v) for k, v in self.tags.items()),
            "roles": sorted(self.roles.items()),
            "grants": sorted(_grant_row(g) for g in self.grants),
            "memberships": sorted([m.role, m.member] for m in self.memberships),
            "masking": sorted(self.masking),
            "schema_owners": sorted(self.schema_owners.items()),
        }


def _grant_row(g: Grant) -> list[str]:
    row = [g.role, g.privilege, g.target, g.object_name]
    return row if g.grantee == "ROLE" else [*row, g.grantee]
