"""The store of SOPHIA_OPS.KEEL_DQ_RESULTS and KEEL_DQ_FAILURES, the only code that
touches those tables: one row per check of a gated batch, and the (already masked)
sample rows that failed it.

A batch's results and samples always come from its latest gate: :func:`replace`
deletes what an earlier gate of the same batch id stored and inserts the new rows,
inside the caller's transaction (the gate's record, with the batch row). Rows are
sent in chunks so that one INSERT never grows with a large sample.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from keel import ops_tables as ops
from keel.adapters.base import Adapter

RESULTS = ops.KEEL_DQ_RESULTS
FAILURES = ops.KEEL_DQ_FAILURES
CHUNK = 500  # rows per INSERT statement


@dataclass(frozen=True)
class CheckRow:
    """One check's outcome in one batch (a row of KEEL_DQ_RESULTS)."""

    check_id: str
    check_name: str
    column: str | None
    severity: str
    status: str
    failing_rows: int | None
    failing_values: int | None = None
    message: str | None = None


def replace(
    a: Adapter,
    batch: tuple[str, str, str],
    checks: Iterable[CheckRow],
    samples: Mapping[str, Sequence[Mapping[str, Any]]],
    now: dt.datetime,
) -> None:
    """Store the checks and failing samples of ``batch`` = (batch id, source, stream),
    replacing an earlier gate's; run it inside a transaction."""
    batch_id, source, stream = batch
    key = {"BATCH_ID": batch_id, "SOURCE": source, "STREAM": stream}
    results: list[dict[str, object]] = [
        {
            **key,
            "CHECK_ID": c.check_id,
            "CHECK_NAME": c.check_name,
            "COLUMN_NAME": c.column,
            "SEVERITY": c.severity,
            "STATUS": c.status,
            "FAILING_ROWS": c.failing_rows,
            "FAILING_VALUES": c.failing_values,
            "MESSAGE": c.message,
            "RAN_AT": now,
        }
        for c in checks
    ]
    failures: list[dict[str, object]] = [
        {
            **key,
            "CHECK_ID": check_id,
            "ROW_JSON": json.dumps(row, sort_keys=True, default=str),
            "SAMPLED_AT": now,
        }
        for check_id, rows in samples.items()
        for row in rows
    ]
    for table in (RESULTS, FAILURES):
        a.execute(a.delete_sql(table, {"BATCH_ID": batch_id}))
    for sql in a.inserts_sql(RESULTS, results, CHUNK) + a.inserts_sql(FAILURES, failures, CHUNK):
        a.execute(sql)


def _select(a: Adapter, table: ops.OpsTable, columns: list[str], tail: str) -> list[dict[str, Any]]:
    cols = ", ".join(a.ident(c) for c in columns)
    found = a.fetch(f"SELECT {cols} FROM {a.ops_table(table)} {tail}", "status")
    return [dict(zip([c.lower() for c in columns], r, strict=True)) for r in found]


def for_batches(
    a: Adapter, ids: Sequence[str], sample_limit: int = 200
) -> tuple[dict[str, list[dict[str, Any]]], dict[tuple[str, str], list[str]]]:
    """The stored checks of each batch in ``ids`` (keys lower case, as the status page
    shows them) and the sample rows (JSON text) per (batch id, check id): two queries."""
    results: dict[str, list[dict[str, Any]]] = {}
    samples: dict[tuple[str, str], list[str]] = {}
    if not ids:
        return results, samples
    where = f"WHERE {a.ident('BATCH_ID')} IN ({', '.join(a.lit(i) for i in ids)})"
    columns = ["BATCH_ID", "CHECK_ID", "CHECK_NAME", "COLUMN_NAME", "SEVERITY", "STATUS"]
    for r in _select(a, RESULTS, [*columns, "FAILING_ROWS"], where):
        results.setdefault(r["batch_id"], []).append(r)
    tail = f"{where} LIMIT {int(sample_limit)}"
    for r in _select(a, FAILURES, ["BATCH_ID", "CHECK_ID", "ROW_JSON"], tail):
        samples.setdefault((r["batch_id"], r["check_id"]), []).append(r["row_json"])
    return results, samples
