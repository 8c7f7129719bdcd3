"""Desired state: what the project says the warehouse should be, given what exists.

Tags depend on what exists: a contract's table is tagged where it has landed
(``<SOURCE>_DATA_RAW`` and ``<SOURCE>_DATA`` carry the same tags), and tables
or columns no contract covers get metadata proposed by classification, from
their names and a bounded sample of their values.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from keel import ops_tables as ops
from keel.adapters.base import Adapter
from keel.governance.classify_rules import (
    ColumnProposal,
    classify_column,
    entity_type_for_table,
    table_pii_level,
    table_vector_index,
)
from keel.project.loaded import Column, ManagedSchema, Project, Stream, tag_json
from keel.resources import (
    AIRBYTE_INTERNAL,
    ActualState,
    DesiredState,
    Grant,
    Membership,
    OnAccountObject,
    OnAll,
    OnSchema,
    Proposal,
    TableInfo,
    TagKey,
    columns_object,
)

# what Airbyte's Snowflake destination needs in a schema it loads, beyond keel's write
# pattern (USAGE, CREATE TABLE, SELECT/INSERT/UPDATE/DELETE): it creates an internal stage
# to upload files [docs.airbyte.com/integrations/destinations/snowflake; unverified for
# Direct-Load 4.x, which may use the table's own stage]
LOADER_SCHEMA_PRIVILEGES = ("CREATE STAGE",)
TEXT_TYPES = ("VARCHAR", "TEXT", "STRING", "CHAR", "CHARACTER VARYING")
# JSON documents are sampled too (classified key by key): the types each adapter's sample
# reads as JSON text (Adapter.json_types: DuckDB JSON, PostgreSQL json/jsonb, Snowflake
# VARIANT / OBJECT / ARRAY through TO_JSON); these without an adapter.
JSON_TYPES = ("JSON", "JSONB")
READ = ("SELECT",)
WRITE = ("SELECT", "INSERT", "UPDATE", "DELETE")


def is_airbyte_meta(column: str) -> bool:
    upper = column.upper()
    return upper.startswith(("_AIRBYTE_", "_AB_"))


@dataclass(frozen=True)
class Coverage:
    """Which objects must carry the tag: every table, and the critical columns."""

    tables: frozenset[TagKey]
    critical_columns: frozenset[TagKey]


def grants_for(project: Project) -> tuple[dict[str, str], set[Grant], set[Membership]]:
    """Roles, grants and memberships the project declares (canonical names).

    read/write/own patterns become USAGE (+ CREATE) on each schema and SELECT (+ INSERT,
    UPDATE, DELETE) on all current and future tables. On engines with column privileges
    (capability ``column_privileges``), a role with ``masked_pii_levels`` also gets one
    COLUMNS grant per contract table it reads that has a masked column: the columns it may
    read, all the others being hidden (the adapter then keeps table-level SELECT off that
    table). Other engines are unchanged: they mask by other means (Snowflake: policies).
    """
    import importlib

    from keel.adapters.registry import ENGINES

    module_name, class_name = ENGINES[project.spec.warehouse.engine]
    try:
        caps = getattr(importlib.import_module(module_name), class_name).caps
        column_privileges = bool(caps.column_privileges)
    except ImportError:  # an engine not in this build cannot be planned anyway
        column_privileges = False
    roles: dict[str, str] = {}
    grants: set[Grant] = set()
    members: set[Membership] = set()
    for name, spec in project.spec.roles.items():
        role = name.upper()
        roles[role] = spec.description or ""
        levels = (
            (spec.read, ("USAGE",), READ),
            (spec.write, ("USAGE", "CREATE"), WRITE),
            (spec.own, ("USAGE", "CREATE"), WRITE),
        )
        for patterns, on_schema, on_tables in levels:
            for schema in project.expand_schema_patterns(patterns):
                grants.update(Grant(role, p, "SCHEMA", schema) for p in on_schema)
                for priv in on_tables:
                    grants.add(Grant(role, priv, "ALL_TABLES", schema))
                    grants.add(Grant(role, priv, "FUTURE_TABLES", schema))
        members.update(Membership(role, m.upper()) for m in spec.granted_to)
        masked = set(spec.masked_pii_levels)
        if column_privileges and masked:
            readable = set(project.expand_schema_patterns(spec.read))
            for stream in project.streams.values():
                hidden = {c.name for c in stream.columns if c.tag.get("pii_level") in masked}
                if not hidden:
                    continue
                shown = [c.name for c in stream.columns if c.name not in hidden]
                for schema in sorted({stream.raw_schema, stream.data_schema} & readable):
                    target = columns_object(schema, stream.table, shown)
                    grants.add(Grant(role, "SELECT", "COLUMNS", target))
    return roles, grants, members


def account_grants(project: Project, desired: DesiredState, database: str) -> None:
    """Engines with account objects (Snowflake): every role needs USAGE on the database and
    on the declared warehouse to run any query [user-guide/security-access-control-
    considerations]; a role that writes _RAW schemas is the loader's (Airbyte), and gets
    what its destination documents there and in the schema it keeps internal tables in."""
    warehouse = (project.spec.warehouse.warehouse or "").upper()
    for role in desired.roles:
        if database:
            desired.grants.add(Grant.to(role, "USAGE", OnAccountObject("DATABASE", database)))
        if warehouse:
            desired.grants.add(Grant.to(role, "USAGE", OnAccountObject("WAREHOUSE", warehouse)))
    for name, spec in project.spec.roles.items():
        role = name.upper()
        raw = [s for s in project.expand_schema_patterns(spec.write) if s.endswith("_RAW")]
        if not raw:
            continue
        for schema in raw:
            for priv in LOADER_SCHEMA_PRIVILEGES:
                desired.grants.add(Grant.to(role, priv, OnSchema(schema)))
        if AIRBYTE_INTERNAL not in desired.schemas:
            desired.schemas.append(AIRBYTE_INTERNAL)
            desired.managed_schemas.add(AIRBYTE_INTERNAL)
        for priv in ("USAGE", "CREATE", *LOADER_SCHEMA_PRIVILEGES):
            desired.grants.add(Grant.to(role, priv, OnSchema(AIRBYTE_INTERNAL)))
        for priv in WRITE:
            desired.grants.add(Grant.to(role, priv, OnAll(AIRBYTE_INTERNAL)))
            desired.grants.add(Grant.to(role, priv, OnAll(AIRBYTE_INTERNAL, future=True)))


def masking_entries(project: Project, keel_role: str | None) -> set[str]:
    """``LEVEL:ROLE`` for each pii_level some role reads masked and each role that reads it
    in clear: the declared roles that do not mask it, and the role keel runs as (the gate
    and publish copy values, so they must read them unmasked)."""
    masked: dict[str, set[str]] = {}
    for name, spec in project.spec.roles.items():
        for level in spec.masked_pii_levels:
            masked.setdefault(level, set()).add(name.upper())
    out: set[str] = set()
    for level, hidden in masked.items():
        clear = {r.upper() for r in project.spec.roles} - hidden
        if keel_role:
            clear.add(keel_role.upper())
        out.update(f"{level}:{r}" for r in clear)
    return out


def stream_index(project: Project) -> dict[tuple[str, str], Stream]:
    index: dict[tuple[str, str], Stream] = {}
    for stream in project.streams.values():
        index[(stream.raw_schema, stream.table)] = stream
        index[(stream.data_schema, stream.table)] = stream
    return index


KEPT = "tagged by an earlier apply"
Evidences = tuple[dict[str, object], ...]


def _kept(value: str) -> ColumnProposal:
    """A column classified and tagged before, as a proposal (for the table's roll-up)."""
    try:
        tag = json.loads(value)
    except json.JSONDecodeError:
        tag = {}
    return ColumnProposal(
        pii_level=str(tag.get("pii_level", "none")),
        is_primary_identifier=tag.get("is_primary_identifier") == "true",
        vector_index=tag.get("vector_index") == "true",
        critical=True,
        reasons=(KEPT,),
    )


def _column_tag(p: ColumnProposal) -> dict[str, str]:
    tag = {"pii_level": p.pii_level}
    if p.is_primary_identifier:
        tag["is_primary_identifier"] = "true"
    if p.vector_index:
        tag["vector_index"] = "true"
    return tag


def _is_text(data_type: str, json_types: tuple[str, ...] = JSON_TYPES) -> bool:
    upper = data_type.upper()
    return upper.startswith(TEXT_TYPES) or upper in json_types


def build_desired(
    project: Project,
    actual: ActualState,
    adapter: Adapter | None,
    sample: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[DesiredState, Coverage]:
    schemas = project.schemas()
    by_name: dict[str, ManagedSchema] = {s.name: s for s in schemas}
    desired = DesiredState(schemas=[s.name for s in schemas], managed_schemas=set(by_name))
    desired.roles, desired.grants, desired.memberships = grants_for(project)
    if adapter is not None and adapter.caps.account_objects:
        account_grants(project, desired, getattr(adapter, "database", ""))
    for name in sorted(project.spec.roles):
        for schema in project.expand_schema_patterns(project.spec.roles[name].own):
            desired.schema_owners.setdefault(schema, name.upper())
    if adapter is not None and adapter.caps.masking_policies:
        desired.masking = masking_entries(project, getattr(adapter, "role", None))
    keys = project.tag_keys
    for s in schemas:
        if s.tag:
            desired.tags[TagKey("schema", s.name)] = tag_json(s.tag)

    index = stream_index(project)
    tables = [
        t
        for (schema, name), t in sorted(actual.tables.items())
        if schema in by_name and not (schema == ops.OPS_SCHEMA and name in ops.OPS_TABLE_NAMES)
    ]
    json_types = adapter.json_types if adapter is not None else JSON_TYPES
    text_types: dict[str, bool] = {}  # data type -> sampled (text or JSON)
    # each table with its stream and every column's tag key, made once for both passes
    laid_out: list[tuple[TableInfo, Stream | None, list[tuple[str, str, TagKey]]]] = []
    # one bounded sample for every uncovered text column, in as few queries as the adapter allows
    targets: list[tuple[str, str, tuple[str, ...]]] = []
    for t in tables:
        stream = index.get((t.schema, t.name))
        prefix = t.qualified + "."
        columns = [(c, data_type, TagKey("column", prefix + c)) for c, data_type in t.columns]
        laid_out.append((t, stream, columns))
        if t.kind == "table" and t.rows == 0:
            continue
        wanted = []
        for column, data_type, key in columns:
            is_text = text_types.get(data_type)
            if is_text is None:
                is_text = text_types[data_type] = _is_text(data_type, json_types)
            if (
                is_text
                and not (stream is not None and stream.column(column) is not None)
                and not is_airbyte_meta(column)
                and key not in actual.tags
            ):
                wanted.append(column)
        if wanted:
            targets.append((t.schema, t.name, tuple(wanted)))
    limit = project.spec.classification.sample_rows
    sampled = sample and adapter is not None and bool(targets) and limit > 0
    samples = _Samples(
        adapter.sample_chunks(targets, limit) if adapter is not None and sampled else iter(()),
        {(s, t): set(columns) for s, t, columns in targets} if sampled else {},
    )

    tables_cov: set[TagKey] = set()
    columns_cov: set[TagKey] = set()
    made = _Made()
    try:
        for i, (t, stream, columns) in enumerate(laid_out):
            if progress:
                progress(i + 1, len(tables))
            ms = by_name[t.schema]
            table_key = TagKey("table", t.qualified)
            tables_cov.add(table_key)
            proposals: list[ColumnProposal] = []
            for column, data_type, key in columns:
                contract_col: Column | None = stream.column(column) if stream else None
                if contract_col is not None:
                    if contract_col.critical:
                        desired.tags[key] = tag_json(contract_col.tag)
                        columns_cov.add(key)
                    continue
                if is_airbyte_meta(column):
                    continue
                if key in actual.tags:  # classified before: keep it, so tags do not flap with data
                    desired.tags[key] = actual.tags[key]
                    columns_cov.add(key)
                    proposals.append(_kept(actual.tags[key]))
                    continue
                p = classify_column(column, data_type, samples.get((t.schema, t.name, column)))
                proposals.append(p)
                if p.critical:
                    tag, text, evidence = made.column(p)
                    desired.tags[key] = text
                    desired.proposals.append(Proposal(key, dict(tag), p.reasons, evidence))
                    columns_cov.add(key)
            if stream is not None:
                desired.tags[table_key] = tag_json(stream.tag)
                continue
            if table_key in actual.tags and not any(
                p.critical for p in proposals if not p.reasons or p.reasons[0] != KEPT
            ):
                desired.tags[table_key] = actual.tags[table_key]  # classified before, nothing new
                continue
            tag = _table_proposal(t, ms, project, keys, proposals)
            desired.tags[table_key] = made.text(tag)
            desired.proposals.append(
                Proposal(table_key, tag, (f"not in any contract; {t.kind} in {t.schema}",))
            )
    finally:
        samples.close()
    return desired, Coverage(frozenset(tables_cov), frozenset(columns_cov))


class _Made:
    """Tag values and evidence made once per distinct proposal: classification is memoised,
    so thousands of columns share a proposal, and their tags share a text."""

    def __init__(self) -> None:
        self._columns: dict[int, tuple[ColumnProposal, dict[str, str], str, Evidences]] = {}
        self._texts: dict[tuple[tuple[str, str], ...], str] = {}

    def column(self, p: ColumnProposal) -> tuple[dict[str, str], str, Evidences]:
        """The tag of a critical column's proposal, as a dict and as text, and its evidence."""
        found = self._columns.get(id(p))
        if found is None:  # (the entry holds ``p``, so its id is not reused meanwhile)
            tag = _column_tag(p)
            evidence = tuple(e.as_dict() for e in p.evidence)
            found = self._columns[id(p)] = (p, tag, tag_json(tag), evidence)
        return found[1], found[2], found[3]

    def text(self, tag: dict[str, str]) -> str:
        """``tag_json(tag)``."""
        items = tuple(tag.items())
        found = self._texts.get(items)
        if found is None:
            found = self._texts[items] = tag_json(tag)
        return found


class _Samples:
    """Sampled values, read chunk by chunk as classification reaches them (tables are
    classified in the order they were sampled), so the engine reads the next tables while
    these are classified. A column that was not sampled has no values."""

    def __init__(
        self,
        chunks: Iterator[dict[tuple[str, str, str], list[str]]],
        targets: dict[tuple[str, str], set[str]],
    ):
        self._chunks = chunks
        self._targets = targets  # (schema, table) -> the columns sampled
        self._read: dict[tuple[str, str, str], list[str]] = {}
        self._done = False

    def get(self, key: tuple[str, str, str]) -> list[str]:
        if key[2] not in self._targets.get(key[:2], ()):
            return []
        while key not in self._read and not self._done:
            part = next(self._chunks, None)
            if part is None:
                self._done = True
            else:
                self._read.update(part)
        return self._read.get(key, [])

    def close(self) -> None:
        """Stop reading: queries not started are cancelled, running ones are waited for, so
        no query is left running on the connection (also when classification failed)."""
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()


def _table_proposal(
    t: TableInfo,
    ms: ManagedSchema,
    project: Project,
    keys: dict[str, list[str]],
    columns: list[ColumnProposal],
) -> dict[str, str]:
    tag: dict[str, str] = {
        "entity_type": entity_type_for_table(t.name.lower(), keys["entity_type"])
    }
    if ms.source:
        tag["data_source"] = ms.source
        tag["update_frequency"] = project.spec.sources[ms.source].schedule
    elif "internal" in keys.get("data_source", []):
        tag["data_source"] = "internal"
    tag["pii_level"] = table_pii_level(columns) if columns else "none"
    if "vector_index" in keys:
        tag["vector_index"] = "true" if table_vector_index(columns) else "false"
    return {k: v for k, v in tag.items() if k in keys and (not keys[k] or v in keys[k])}
