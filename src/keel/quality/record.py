"""Writing a gate's verdict into SOPHIA_OPS through the stores: the batch row
(:mod:`keel.batch.batches`), and its checks and samples (:mod:`keel.batch.results`).

One transaction per stream. The batch id is a function of the window, so a
second gate of the same pending rows replaces the first one's records (results
and samples of a batch always come from its latest gate); the batch keeps the
``CREATED_AT`` of its first gate. Samples are stored as JSON, already masked.
"""

from __future__ import annotations

import datetime as dt

from keel.adapters.base import Adapter
from keel.batch import batches, results
from keel.quality.model import StreamReport


def batch_row(report: StreamReport, now: dt.datetime, created: dt.datetime) -> batches.BatchRow:
    b = report.batch
    assert b is not None
    return batches.BatchRow(
        batch_id=b.id,
        source=report.source,
        stream=report.stream,
        status=b.status,
        rows=b.rows,
        min_extracted_at=b.first,
        max_extracted_at=b.upto,
        created_at=created,
        decided_at=now,
        forced_by=b.forced_by,
        reason=b.reason,
        watermark=b.after,
        published_rows=b.published,
        quarantined_rows=b.quarantined,
        deleted_rows=b.deleted,
        superseded_by=None,
        message=report.reason,
    )


def record_gate(a: Adapter, report: StreamReport, now: dt.datetime) -> None:
    """Store one stream's verdict (nothing for an empty stream)."""
    b = report.batch
    if b is None:
        return
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
        created = batches.created_at(a, b.id) or now
        b.created_at = created
        batches.replace(a, batch_row(report, now, created))
        results.replace(a, (b.id, report.source, report.stream), checks, report.samples, now)
