"""keel's own operational tables in SOPHIA_OPS, declared once.

Every part of keel that keeps state (tags on engines without native tags,
connector state, watermarks, batches, results, events, alerts, the apply log)
reads and writes one of these tables. Adapters render the DDL for their engine
(name case, types) through :func:`create_table_sql`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from keel.sql import DUCKDB, Dialect, ident

OPS_SCHEMA = "SOPHIA_OPS"


@dataclass(frozen=True)
class OpsTable:
    """One of keel's own tables in SOPHIA_OPS: its name and (column, portable type) pairs."""

    name: str
    columns: tuple[
        tuple[str, str], ...
    ]  # (NAME, portable type: VARCHAR BIGINT DOUBLE BOOLEAN TIMESTAMP)
    primary_key: tuple[str, ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c for c, _ in self.columns]


V, INT, T = "VARCHAR", "BIGINT", "TIMESTAMP"

KEEL_TAGS = OpsTable(
    "KEEL_TAGS",
    (("OBJECT_TYPE", V), ("OBJECT_NAME", V), ("TAG_NAME", V), ("TAG_VALUE", V), ("UPDATED_AT", T)),
    ("OBJECT_TYPE", "OBJECT_NAME", "TAG_NAME"),
)
KEEL_ROLES = OpsTable(
    "KEEL_ROLES", (("ROLE_NAME", V), ("COMMENT", V), ("UPDATED_AT", T)), ("ROLE_NAME",)
)
KEEL_GRANTS = OpsTable(
    "KEEL_GRANTS",
    (("ROLE_NAME", V), ("PRIVILEGE", V), ("OBJECT_TYPE", V), ("OBJECT_NAME", V), ("UPDATED_AT", T)),
    ("ROLE_NAME", "PRIVILEGE", "OBJECT_TYPE", "OBJECT_NAME"),
)
KEEL_ROLE_MEMBERS = OpsTable(
    "KEEL_ROLE_MEMBERS",
    (("ROLE_NAME", V), ("MEMBER", V), ("UPDATED_AT", T)),
    ("ROLE_NAME", "MEMBER"),
)
KEEL_APPLY_LOG = OpsTable(
    "KEEL_APPLY_LOG",
    (
        ("APPLY_ID", V),
        ("SEQ", INT),
        ("CHANGE_KIND", V),
        ("OBJECT_NAME", V),
        ("SQL_TEXT", V),
        ("STATUS", V),
        ("ERROR", V),
        ("FINGERPRINT", V),
        ("APPLIED_BY", V),
        ("APPLIED_AT", T),
    ),
    ("APPLY_ID", "SEQ"),
)
KEEL_STATE = OpsTable(
    "KEEL_STATE",
    (("SOURCE", V), ("STREAM", V), ("STATE", V), ("RECORDS", INT), ("UPDATED_AT", T)),
    ("SOURCE", "STREAM"),
)
KEEL_WATERMARKS = OpsTable(
    "KEEL_WATERMARKS",
    (
        ("SOURCE", V),
        ("STREAM", V),
        ("EXTRACTED_AT", T),
        ("BATCH_ID", V),
        ("UPDATED_AT", T),
        ("SETTLED_AT", T),
    ),
    ("SOURCE", "STREAM"),
)
KEEL_BATCHES = OpsTable(
    "KEEL_BATCHES",
    (
        ("BATCH_ID", V),
        ("SOURCE", V),
        ("STREAM", V),
        ("STATUS", V),
        ("ROWS", INT),
        ("MIN_EXTRACTED_AT", T),
        ("MAX_EXTRACTED_AT", T),
        ("CREATED_AT", T),
        ("DECIDED_AT", T),
        ("FORCED_BY", V),
        ("REASON", V),
        # added by the gate (issue 4): the window is (WATERMARK, MAX_EXTRACTED_AT]
        ("WATERMARK", T),
        ("PUBLISHED_ROWS", INT),
        ("QUARANTINED_ROWS", INT),
        ("DELETED_ROWS", INT),
        ("SUPERSEDED_BY", V),
        ("MESSAGE", V),
    ),
    ("BATCH_ID",),
)
KEEL_DQ_RESULTS = OpsTable(
    "KEEL_DQ_RESULTS",
    (
        ("BATCH_ID", V),
        ("SOURCE", V),
        ("STREAM", V),
        ("CHECK_ID", V),
        ("CHECK_NAME", V),
        ("COLUMN_NAME", V),
        ("SEVERITY", V),
        ("STATUS", V),
        ("FAILING_ROWS", INT),
        ("FAILING_VALUES", INT),
        ("MESSAGE", V),
        ("RAN_AT", T),
    ),
    ("BATCH_ID", "CHECK_ID"),
)
KEEL_DQ_FAILURES = OpsTable(
    "KEEL_DQ_FAILURES",
    (
        ("BATCH_ID", V),
        ("SOURCE", V),
        ("STREAM", V),
        ("CHECK_ID", V),
        ("ROW_JSON", V),
        ("SAMPLED_AT", T),
    ),
)
KEEL_QUARANTINE = OpsTable(
    "KEEL_QUARANTINE",
    (
        ("BATCH_ID", V),
        ("SOURCE", V),
        ("STREAM", V),
        ("RAW_ID", V),
        ("ROW_KEY", V),
        ("FAILED_CHECKS", V),
        ("ROW_JSON", V),
        ("QUARANTINED_AT", T),
    ),
    ("BATCH_ID", "RAW_ID"),
)
# raw ids a publish took (issue 14): a row is pending while its id is not here
KEEL_JUDGED = OpsTable(
    "KEEL_JUDGED",
    (
        ("SOURCE", V),
        ("STREAM", V),
        ("RAW_ID", V),
        ("EXTRACTED_AT", T),
        ("BATCH_ID", V),
        ("JUDGED_AT", T),
    ),
    ("SOURCE", "STREAM", "RAW_ID"),
)
KEEL_TRANSFORMS = OpsTable(
    "KEEL_TRANSFORMS",
    (
        ("RUN_ID", V),
        ("SOURCE", V),
        ("KIND", V),
        ("COMMAND", V),
        ("STATUS", V),
        ("EXIT_CODE", INT),
        ("OUTPUT", V),
        ("BATCH_IDS", V),
        ("STARTED_AT", T),
        ("FINISHED_AT", T),
    ),
    ("RUN_ID",),
)
KEEL_EVENTS = OpsTable(
    "KEEL_EVENTS",
    (
        ("EVENT_ID", V),
        ("JOB_ID", V),
        ("CONNECTION_ID", V),
        ("CONNECTION_NAME", V),
        ("KIND", V),
        ("SOURCE", V),
        ("PAYLOAD", V),
        ("STATUS", V),
        ("RECEIVED_AT", T),
        ("PROCESSED_AT", T),
        ("ERROR", V),
    ),
    ("EVENT_ID",),
)
KEEL_ALERTS = OpsTable(
    "KEEL_ALERTS",
    (
        ("ALERT_ID", V),
        ("SINK", V),
        ("DEDUP_KEY", V),
        ("ACTION", V),
        ("PAYLOAD", V),
        ("STATUS", V),
        ("ATTEMPTS", INT),
        ("NEXT_ATTEMPT_AT", T),
        ("CREATED_AT", T),
        ("DELIVERED_AT", T),
        ("LAST_ERROR", V),
    ),
    ("ALERT_ID",),
)

ALL_TABLES: tuple[OpsTable, ...] = (
    KEEL_TAGS,
    KEEL_ROLES,
    KEEL_GRANTS,
    KEEL_ROLE_MEMBERS,
    KEEL_APPLY_LOG,
    KEEL_STATE,
    KEEL_WATERMARKS,
    KEEL_BATCHES,
    KEEL_DQ_RESULTS,
    KEEL_DQ_FAILURES,
    KEEL_QUARANTINE,
    KEEL_JUDGED,
    KEEL_TRANSFORMS,
    KEEL_EVENTS,
    KEEL_ALERTS,
)
OPS_TABLE_NAMES = frozenset(t.name for t in ALL_TABLES)


def create_table_sql(
    table: OpsTable,
    dialect: Dialect = DUCKDB,
    normalize: Callable[[str], str] = str,
    type_map: dict[str, str] | None = None,
) -> str:
    """``CREATE TABLE IF NOT EXISTS`` for one ops table, names normalised for the engine."""
    types = type_map or {}
    cols = [f"{ident(normalize(c), dialect)} {types.get(t, t)}" for c, t in table.columns]
    if table.primary_key:
        pk = ", ".join(ident(normalize(c), dialect) for c in table.primary_key)
        cols.append(f"PRIMARY KEY ({pk})")
    name = f"{ident(normalize(OPS_SCHEMA), dialect)}.{ident(normalize(table.name), dialect)}"
    return f"CREATE TABLE IF NOT EXISTS {name} ({', '.join(cols)})"
