"""The engine adapter interface.

An adapter knows three things about its engine: how to run SQL (and count
metadata queries), how to read actual state in bulk (a fixed number of
queries per object kind, whatever the number of tables), and how to render
each kind of Change as SQL. The core asks capability flags, never the engine
name. Every identifier and literal is quoted through :mod:`keel.sql`.
"""

from __future__ import annotations

import contextlib
import getpass
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from keel import ops_tables as ops
from keel.adapters.bound import _NOW, BoundStatements
from keel.errors import WarehouseError
from keel.sql import DUCKDB, Dialect, quote

if TYPE_CHECKING:
    from keel.adapters.raw import RawSql
    from keel.plan.model import Change
    from keel.resources import ActualState, Grant, TagKey


@dataclass(frozen=True)
class Capabilities:
    """What an engine can do; the core asks these flags, never the engine's name."""

    enforces_grants: bool  # roles and grants are real (else recorded in SOPHIA_OPS only)
    native_tags: bool  # the engine has object tags (else SOPHIA_OPS.KEEL_TAGS)
    transactional_ddl: bool  # DDL can roll back with DML
    merge: bool
    column_privileges: bool
    lower_case_names: bool  # unquoted names fold to lower case (PostgreSQL)
    # roles need USAGE on the database and the declared warehouse, and the loader's role the
    # privileges its destination documents (Snowflake)
    account_objects: bool = False
    masking_policies: bool = False  # masks by a tag-based masking policy (Snowflake Enterprise)


NOT_ENFORCED = "recorded in SOPHIA_OPS, not enforced by this engine"


class Adapter(BoundStatements, ABC):
    name: ClassVar[str]
    caps: ClassVar[Capabilities]
    dialect: ClassVar[Dialect] = DUCKDB
    type_map: ClassVar[dict[str, str]] = {}
    bind_marker: ClassVar[str] = "?"  # the driver's bind-parameter marker
    # SELECT ... FOR UPDATE SKIP LOCKED: rows claimed by one session are skipped by the
    # others until it ends (so several keel serve processes can share the warehouse)
    row_locks: ClassVar[bool] = False
    # pending rows come from a change stream on each RAW table (Snowflake), not from
    # keel's record of judged raw ids (keel.batch.judged)
    change_streams: ClassVar[bool] = False
    # run first in a publish transaction so every statement reads one snapshot
    snapshot_sql: ClassVar[tuple[str, ...]] = ()

    def __init__(self, tag_name: str = "SOPHIA_AI_METADATA", tag_schema: str = ops.OPS_SCHEMA):
        self.tag_name = tag_name
        self.tag_schema = tag_schema
        self.queries: Counter[str] = Counter()
        # keel's tables as the last read_state found them: table -> columns (see mark_ops)
        self._ops_columns: dict[str, set[str]] = {}
        self._upsert_heads: dict[tuple[str, tuple[str, ...]], tuple[str, str]] = {}
        # how to open another connection like this one (set by the registry, or a test)
        self.reopen: Callable[[], Adapter] | None = None

    # ---- names and quoting -------------------------------------------------------------

    def norm(self, name: str) -> str:
        """Canonical (upper case) name -> the engine's spelling."""
        return name.lower() if self.caps.lower_case_names else name

    def canon(self, name: str) -> str:
        return name.upper()

    def ident(self, *parts: str) -> str:
        return ".".join(quote(self.norm(p), "ident", self.dialect) for p in parts)

    def lit(self, value: object) -> str:
        return quote(value, "literal", self.dialect)

    def ops_table(self, table: ops.OpsTable) -> str:
        return self.ident(ops.OPS_SCHEMA, table.name)

    def qualified(self, schema: str, name: str) -> str:
        """An object's name as another session would resolve it (with the database where
        the engine has several)."""
        return self.ident(schema, name)

    def inserted_sql(self, tables: Sequence[tuple[str, str]]) -> str | None:
        """A statistics query (no table read) giving ``(schema, table, rows inserted so
        far)`` for ``tables``, where the engine keeps such counters; None elsewhere."""
        return None

    def meta_changes_sql(self, meta: str) -> str:
        """True when an ``_AIRBYTE_META`` value lists changes (``{"changes": [...]}``)."""
        return f"COALESCE(json_array_length({meta}, '$.changes'), 0) > 0"

    def hash_sql(self, expr: str) -> str:
        """A 64-bit hash of a string expression (DuckDB ``hash``), summed to fingerprint a
        set of raw ids."""
        return f"hash({expr})"

    # ---- execution ---------------------------------------------------------------------

    @abstractmethod
    def execute(self, sql: str) -> None: ...

    @abstractmethod
    def fetch(self, sql: str, kind: str = "data") -> list[tuple[Any, ...]]:
        """Run a query; ``kind`` names the object kind for the metadata query count."""

    @abstractmethod
    def begin(self) -> None: ...

    @abstractmethod
    def commit(self) -> None: ...

    @abstractmethod
    def rollback(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    @contextlib.contextmanager
    def translated(self, sql: str) -> Iterator[None]:
        """Driver calls made for ``sql`` inside: the driver's error leaves as the engine's
        WarehouseError (the one translation; ``execute`` and ``fetch`` use it too)."""
        yield

    def raw_writer(self) -> RawSql:
        """The RAW writer's engine SQL on this connection (:mod:`keel.adapters.raw`)."""
        raise WarehouseError(
            f"keel ingest writes into DuckDB or PostgreSQL; on {self.name} Airbyte loads the "
            "_RAW schemas and keel gates what it wrote"
        )

    def fork(self) -> Adapter:
        """A second, independent connection to the same warehouse (for a worker thread):
        engines whose driver shares a database override this; others open a new one."""
        if self.reopen is None:
            raise WarehouseError(f"the {self.name} adapter cannot open a second connection")
        other = self.reopen()
        other.reopen = self.reopen
        return other

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self.begin()
        try:
            yield
        except BaseException:
            self.rollback()
            raise
        self.commit()

    def current_user(self) -> str:
        try:
            return getpass.getuser()
        except (KeyError, OSError):
            return "unknown"

    # ---- state -------------------------------------------------------------------------

    @abstractmethod
    def read_state(self, managed_schemas: set[str], roles: set[str]) -> ActualState: ...

    # column types whose sampled text is a JSON document (classified key by key)
    json_types: tuple[str, ...] = ("JSON", "JSONB")
    # information_schema.columns: the expression giving a column's type as the gate's
    # schema check compares it (keel.quality.checks.type_family)
    column_type_sql = "data_type"

    def table_columns(
        self, tables: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], list[tuple[str, str]]]:
        """(column, type) of each of ``tables`` (canonical names) that exists, in column
        order: one information_schema query over their schemas."""
        wanted = set(tables)
        schemas = sorted({schema for schema, _ in wanted})
        if not schemas:
            return {}
        names = ", ".join(self.lit(self.norm(s)) for s in schemas)
        rows = self.fetch(
            f"SELECT table_schema, table_name, column_name, {self.column_type_sql} "
            "FROM information_schema.columns "
            f"WHERE table_catalog = current_database() AND table_schema IN ({names}) "
            "ORDER BY table_schema, table_name, ordinal_position",
            "columns",
        )
        out: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for schema, table, column, data_type in rows:
            key = (self.canon(schema), self.canon(table))
            if key in wanted:
                out.setdefault(key, []).append((self.canon(column), str(data_type)))
        return out

    def array_sql(self, items: Sequence[str]) -> str:
        """An array-of-text expression from SQL expressions (engine-specific syntax)."""
        return "[" + ", ".join(items) + "]"

    def sample_sql(self, targets: Sequence[tuple[str, str, tuple[str, ...]]], limit: int) -> str:
        """One query returning (schema, table, [values...]) for up to ``limit`` rows of each
        target table, only the target columns, cast to text: a bounded LIMIT per table,
        never a full scan, one subquery per table however many columns it has."""
        parts = []
        for schema, table, columns in targets:
            values = self.array_sql([f"CAST({self.ident(c)} AS VARCHAR)" for c in columns])
            parts.append(
                f"(SELECT {self.lit(schema)} AS s, {self.lit(table)} AS t, {values} AS v "
                f"FROM {self.ident(schema, table)} LIMIT {int(limit)})"
            )
        return " UNION ALL ".join(parts)

    def sample(
        self, targets: Sequence[tuple[str, str, tuple[str, ...]]], limit: int, chunk: int = 100
    ) -> dict[tuple[str, str, str], list[str]]:
        """Sampled non-null values per (schema, table, column), in len(targets)/chunk queries."""
        out: dict[tuple[str, str, str], list[str]] = {}
        for part in self.sample_chunks(targets, limit, chunk):
            out.update(part)
        return out

    def sample_chunks(
        self, targets: Sequence[tuple[str, str, tuple[str, ...]]], limit: int, chunk: int = 100
    ) -> Iterator[dict[tuple[str, str, str], list[str]]]:
        """``sample``, one chunk of ``chunk`` targets at a time, in the order of ``targets``
        (each part holds every target column of its tables): a caller classifies one chunk
        while an engine that reads in parallel is already reading the next ones."""
        queries = [
            self.sample_sql(targets[i : i + chunk], limit) for i in range(0, len(targets), chunk)
        ]
        for i, rows in zip(
            range(0, len(targets), chunk), self.fetch_many(queries, "sample"), strict=True
        ):
            out: dict[tuple[str, str, str], list[str]] = {}
            order: dict[tuple[str, str], tuple[str, ...]] = {}
            for schema, table, columns in targets[i : i + chunk]:
                order[(schema, table)] = columns
                for c in columns:
                    out[(schema, table, c)] = []
            for s, t, values in rows:
                for column, value in zip(order[(s, t)], self.array_values(values), strict=True):
                    if value is not None:
                        out[(s, t, column)].append(value)
            yield out

    def array_values(self, value: Any) -> list[Any]:
        """An array column as the driver returns it (see ``array_sql``), as a list."""
        return list(value)

    def fetch_many(self, queries: Sequence[str], kind: str) -> Iterator[list[tuple[Any, ...]]]:
        """Run independent read-only queries; engines that can, run them in parallel."""
        for sql in queries:
            yield self.fetch(sql, kind)

    # ---- rendering changes -------------------------------------------------------------

    def render(self, change: Change) -> Change:
        if change.kind == "bootstrap_ops":
            return change.with_sql(self.bootstrap_sql())
        if change.kind == "create_schema":
            return change.with_sql([f"CREATE SCHEMA IF NOT EXISTS {self.ident(change.object)}"])
        if change.kind == "create_role":
            return self.role_sql(change)
        if change.kind in ("grant_role", "revoke_role"):
            m = change.membership
            return self.membership_sql(change, m.role, m.member, change.kind == "revoke_role")
        if change.kind in ("grant", "revoke"):
            return self.grant_sql(change, change.grant, change.kind == "revoke")
        if change.kind in ("set_tag", "unset_tag"):
            return change.with_sql(
                self.tag_sql(change.tag_key, change.after if change.kind == "set_tag" else None)
            )
        raise ValueError(f"unknown change kind {change.kind!r}")  # pragma: no cover

    def bootstrap_sql(self) -> list[str]:
        return [f"CREATE SCHEMA IF NOT EXISTS {self.ident(ops.OPS_SCHEMA)}", *self.ops_ddl()]

    def ops_ddl(self) -> list[str]:
        """keel's tables, created or brought up to date: additive only (new tables, new
        columns), so a newer keel migrates an older SOPHIA_OPS on the next apply."""
        out = []
        for t in ops.ALL_TABLES:
            create = ops.create_table_sql(t, self.dialect, self.norm, self.type_map)
            out.append(
                create.replace(
                    f"{self.ident(ops.OPS_SCHEMA)}.{self.ident(t.name)}", self.ops_table(t), 1
                )
            )
            have = self._ops_columns.get(t.name)
            if have is not None:  # the table exists: add the columns it lacks
                for column, kind in t.columns:
                    if column not in have:
                        out.append(
                            f"ALTER TABLE {self.ops_table(t)} ADD COLUMN "
                            f"{self.ident(column)} {self.type_map.get(kind, kind)}"
                        )
        return out

    def mark_ops(self, state: ActualState) -> None:
        """Set ``ops_ready`` (every keel table with every column) and ``ops_tables``."""
        present = {
            name: {c for c, _ in info.columns}
            for (schema, name), info in state.tables.items()
            if schema == ops.OPS_SCHEMA
        }
        self._ops_columns = present
        state.ops_tables = set(present) & ops.OPS_TABLE_NAMES
        state.ops_ready = ops.OPS_SCHEMA in state.schemas and all(
            t.name in present and set(t.column_names) <= present[t.name] for t in ops.ALL_TABLES
        )

    def published_relation(self, schema: str, table: str) -> tuple[str, str]:
        """Where the data of the promoted table ``schema.table`` lives: the relation
        publish creates, alters and MERGEs into. The name itself here; an engine that
        serves a masked table through a view at its name says where the table is."""
        return (schema, table)

    def masking_sql(self, schema: str, table: str) -> list[str]:
        """Statements that hide masked columns of a table keel just created (engines with
        column privileges); none elsewhere."""
        return []

    def unmasking_sql(self, schema: str, table: str) -> list[str]:
        """Statements that set a table's masking objects aside before keel alters the table
        (same transaction; ``masking_sql`` afterwards puts them back); none elsewhere."""
        return []

    # default implementations record governance in SOPHIA_OPS (engines without the feature)

    def _upsert_head(self, table: ops.OpsTable, columns: tuple[str, ...]) -> tuple[str, str]:
        found = self._upsert_heads.get((table.name, columns))
        if found is None:
            found = self._upsert_heads[(table.name, columns)] = self._make_upsert_head(
                table, columns
            )
        return found

    def _make_upsert_head(self, table: ops.OpsTable, columns: tuple[str, ...]) -> tuple[str, str]:
        cols = ", ".join(self.ident(c) for c in columns)
        keys = ", ".join(self.ident(c) for c in table.primary_key)
        rest = [c for c in columns if c not in table.primary_key]
        sets = ", ".join(f"{self.ident(c)} = excluded.{self.ident(c)}" for c in rest)
        action = f"DO UPDATE SET {sets}" if rest else "DO NOTHING"
        return (
            f"INSERT INTO {self.ops_table(table)} ({cols}) VALUES (",
            f") ON CONFLICT ({keys}) {action}",
        )

    def _upsert(self, table: ops.OpsTable, values: Mapping[str, object]) -> str:
        head, tail = self._upsert_head(table, tuple(values))
        vals = ", ".join("CURRENT_TIMESTAMP" if v is _NOW else self.lit(v) for v in values.values())
        return head + vals + tail

    def delete_sql(self, table: ops.OpsTable, where: Mapping[str, object]) -> str:
        """``DELETE FROM`` an ops table where every column equals its value."""
        return self._delete(table, where)

    def _delete(self, table: ops.OpsTable, where: Mapping[str, object]) -> str:
        cond = " AND ".join(f"{self.ident(c)} = {self.lit(v)}" for c, v in where.items())
        return f"DELETE FROM {self.ops_table(table)} WHERE {cond}"

    def tag_sql(self, key: TagKey, value: str | None) -> list[str]:
        from keel.adapters import tag_store  # governance only: not on a gate's path

        return [tag_store.record_sql(self, key, value, _NOW)]

    def role_sql(self, change: Change) -> Change:
        from keel.adapters import role_store  # governance only: not on a gate's path

        return change.with_sql(
            [role_store.role_sql(self, change.object, change.after)], NOT_ENFORCED
        )

    def membership_sql(self, change: Change, role: str, member: str, revoke: bool) -> Change:
        from keel.adapters import role_store  # governance only: not on a gate's path

        return change.with_sql(
            [role_store.membership_sql(self, role, member, revoke)], NOT_ENFORCED
        )

    def grant_sql(self, change: Change, grant: Grant, revoke: bool) -> Change:
        from keel.adapters import role_store  # governance only: not on a gate's path

        return change.with_sql([role_store.grant_sql(self, grant, revoke)], NOT_ENFORCED)

    # ---- ops tables --------------------------------------------------------------------

    def insert_sql(self, table: ops.OpsTable, rows: Sequence[dict[str, object]]) -> str:
        cols = list(rows[0])
        values = ", ".join(
            "("
            + ", ".join("CURRENT_TIMESTAMP" if r[c] is _NOW else self.lit(r[c]) for c in cols)
            + ")"
            for r in rows
        )
        return f"INSERT INTO {self.ops_table(table)} ({', '.join(self.ident(c) for c in cols)}) VALUES {values}"

    def inserts_sql(
        self, table: ops.OpsTable, rows: Sequence[dict[str, object]], chunk: int = 500
    ) -> list[str]:
        """``rows`` as INSERT statements of at most ``chunk`` rows each (none for none)."""
        return [self.insert_sql(table, rows[i : i + chunk]) for i in range(0, len(rows), chunk)]

    def read_recorded_governance(self, state: ActualState, roles: set[str]) -> None:
        """Roles, grants and memberships recorded in SOPHIA_OPS (engines that do not enforce)."""
        from keel.adapters import role_store  # governance only: not on a gate's path

        if role_store.present(state):
            role_store.read_all(self, state)

    def read_recorded_tags(self, state: ActualState) -> None:
        from keel.adapters import tag_store  # governance only: not on a gate's path

        if not tag_store.present(state):
            return
        for key, value in tag_store.read_all(self):
            if value is not None:
                state.tags[key] = value
