"""``keel batches``: recorded batches, plus each stream's not-yet-gated pending rows.

Recorded batches come from their store (:func:`keel.batch.batches.recent`, one query).
A stream whose RAW table holds rows after its watermark that no recorded batch covers
is listed as ``pending``, with the id the gate will give it (one probe query for all
streams). Newest first.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from keel import ops_tables as ops
from keel.adapters.base import Adapter
from keel.batch import batches, reads
from keel.batch.window import batch_id, utc
from keel.errors import KeelError
from keel.project.loaded import Project
from keel.project.tests_spec import did_you_mean

# what a recorded batch shows, after its source, stream and id (the order of the JSON keys)
SHOWN = (
    "status",
    "rows",
    "created_at",
    "decided_at",
    "watermark",
    "max_extracted_at",
    "published_rows",
    "quarantined_rows",
    "deleted_rows",
    "forced_by",
    "reason",
    "superseded_by",
    "message",
)


def _iso(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return (utc(value) or value).isoformat()
    return value


def list_batches(
    project: Project, adapter: Adapter, source: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """Batches newest first: ``source, stream, id, status, rows, created_at`` and more."""
    a = adapter
    if source is not None and source not in project.sources:
        hint = did_you_mean(source, set(project.sources))
        raise KeelError(f"unknown source {source!r}" + (f" ({hint})" if hint else ""))
    sources = [source] if source else list(project.sources)
    streams = [s for s in project.streams.values() if s.source in sources]
    columns = reads.read_columns(
        a,
        [
            *((ops.OPS_SCHEMA, table.name) for table in reads.GATE_TABLES),
            *((s.raw_schema, s.table) for s in streams),
        ],
    )
    reads.require_ops(a, columns)
    out: list[dict[str, Any]] = []
    known: set[str] = set()
    for row in batches.recent(a, source, limit):
        known.add(str(row.batch_id))
        item = {"source": row.source, "stream": row.stream, "id": row.batch_id}
        item.update({k: _iso(v) for k, v in row.pick(SHOWN).items()})
        out.append(item)
    marks = reads.read_watermarks(a, sources)
    targets = [
        (
            s.key,
            (s.raw_schema, s.table),
            # a listing never creates Snowflake's streams: it counts after the watermark there
            reads.pending_window(s, marks.get((s.source, s.name)), None, not a.change_streams),
        )
        for s in streams
        if (s.raw_schema, s.table) in columns
    ]
    pending = []
    probed = reads.probe(a, targets)
    for s in streams:
        p = probed.get(s.key)
        if p is None or p.rows == 0 or p.window.upto is None:
            continue
        bid = batch_id(s.source, s.name, p.window)
        if bid in known:
            continue
        pending.append(
            {
                "source": s.source,
                "stream": s.name,
                "id": bid,
                "status": "pending",
                "rows": p.rows,
                "created_at": _iso(p.first),
                "watermark": _iso(p.window.after),
                "max_extracted_at": _iso(p.window.upto),
            }
        )
    return pending + out
