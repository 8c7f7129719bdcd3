"""Writing a gate's verdict into SOPHIA_OPS: the batch row, and its checks and samples
through their store (:mod:`keel.batch.results`).

One transaction per stream. The batch id is a function of the window, so a
second gate of the same pending rows replaces the first one's records (results
and samples of a batch always come from its latest gate); the batch keeps the
``CREATED_AT`` of its first gate. Samples are stored as JSON, already masked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from keel import ops_tables as ops
from keel.adapters.base import Adapter
from keel.batch import results
from keel.quality.model import StreamReport

CHUNK = 500  # rows per INSERT statement


def inserts(a: Adapter, table: ops.OpsTable, rows: Sequence[dict[str, object]]) -> list[str]:
    return [a.insert_sql(table, rows[i : i + CHUNK]) for i in range(0, len(rows), CHUNK)]


def _where_batch(a: Adapter, batch_id: str) -> str:
    return f"{a.ident('BATCH_ID')} = {a.lit(batch_id)}"


def batch_row(report: StreamReport, now: dt.datetime, created: dt.datetime) -> dict[str, object]:
    b = report.batch
    assert b is not None
    return {
        "BATCH_ID": b.id,
        "SOURCE": report.source,
        "STREAM": report.stream,
        "STATUS": b.status,
        "ROWS": b.rows,
        "MIN_EXTRACTED_AT": b.first,
        "MAX_EXTRACTED_AT": b.upto,
        "CREATED_AT": created,
        "DECIDED_AT": now,
        "FORCED_BY": b.forced_by,
        "REASON": b.reason,
        "WATERMARK": b.after,
        "PUBLISHED_ROWS": b.published,
        "QUARANTINED_ROWS": b.quarantined,
        "DELETED_ROWS": b.deleted,
        "SUPERSEDED_BY": None,
        "MESSAGE": report.reason,
    }


def record_gate(a: Adapter, report: StreamReport, now: dt.datetime) -> None:
    """Store one stream's verdict (nothing for an empty stream)."""
    b = report.batch
    if b is None:
        return
    where = _where_batch(a, b.id)
    checks = [
        results.CheckRow(
            r.check.id,
            r.check.name,
            r.check.column,
            r.check.severity,
            r.status,
            r.failing_rows,
            r.failing_values,
            r.message,
        )
        for r in report.checks
    ]
    with a.transaction():
        found = a.fetch(
            f"SELECT {a.ident('CREATED_AT')} FROM {a.ops_table(ops.KEEL_BATCHES)} WHERE {where}",
            "batches",
        )
        created = found[0][0] if found and found[0][0] is not None else now
        if isinstance(created, dt.datetime) and created.tzinfo is None:
            created = created.replace(tzinfo=dt.UTC)
        b.created_at = created
        a.execute(a.delete_sql(ops.KEEL_BATCHES, {"BATCH_ID": b.id}))
        a.execute(a.insert_sql(ops.KEEL_BATCHES, [batch_row(report, now, created)]))
        results.replace(a, (b.id, report.source, report.stream), checks, report.samples, now)
