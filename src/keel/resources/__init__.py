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

ObjectType = Literal["schema", "table", "column"]
# TABLE, COLUMNS and FUTURE_TABLES_OF are what engines with real grants report when a
# privilege is held on part of a schema only (PostgreSQL): one table, the readable columns
# of one table ("SCHEMA.TABLE(COL_A,COL_B)"), or the future tables of one creator
# ("SCHEMA.CREATOR")
GrantTarget = Literal[
    "SCHEMA", "ALL_TABLES", "FUTURE_TABLES", "COLUMN", "TABLE", "COLUMNS", "FUTURE_TABLES_OF"
]


@dataclass(frozen=True, order=True)
class TagKey:
    """The object a tag is on: ``("column", "GONG_DATA_RAW.CALLS.ID")``."""

    object_type: ObjectType
    object_name: str

    @property
    def parts(self) -> list[str]:
        return self.object_name.split(".")


@dataclass(frozen=True, order=True)
class Grant:
    role: str
    privilege: str  # USAGE, CREATE, SELECT, INSERT, UPDATE, DELETE, ...
    target: GrantTarget
    object_name: str  # schema name, or SCHEMA.TABLE.COLUMN for COLUMN grants (see GrantTarget)

    def describe(self) -> str:
        schema, _, creator = self.object_name.partition(".")
        on = {
            "SCHEMA": f"schema {self.object_name}",
            "ALL_TABLES": f"all tables in {self.object_name}",
            "FUTURE_TABLES": f"future tables in {self.object_name}",
            "COLUMN": f"column {self.object_name}",
            "TABLE": f"table {self.object_name}",
            "COLUMNS": f"columns {self.object_name}",
            "FUTURE_TABLES_OF": f"future tables created by {creator} in {schema}",
        }[self.target]
        return f"{self.privilege} on {on} to {self.role}"


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
    ops_ready: bool = False  # SOPHIA_OPS and keel's tables exist with all their columns
    ops_tables: set[str] = field(default_factory=set)  # keel's tables that exist (to read from)
    queries: dict[str, int] = field(default_factory=dict)  # object kind -> metadata queries

    def canonical(self) -> dict[str, object]:
        return {
            "schemas": sorted(self.schemas),
            "tables": sorted(
                [t.schema, t.name, list(map(list, t.columns))] for t in self.tables.values()
            ),
            "tags": sorted([k.object_type, k.object_name, v] for k, v in self.tags.items()),
            "roles": sorted(self.roles),
            "grants": sorted([g.role, g.privilege, g.target, g.object_name] for g in self.grants),
            "memberships": sorted([m.role, m.member] for m in self.memberships),
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

    def canonical(self) -> dict[str, object]:
        return {
            "schemas": self.schemas,
            "tags": sorted([k.object_type, k.object_name, v] for k, v in self.tags.items()),
            "roles": sorted(self.roles.items()),
            "grants": sorted([g.role, g.privilege, g.target, g.object_name] for g in self.grants),
            "memberships": sorted([m.role, m.member] for m in self.memberships),
        }
