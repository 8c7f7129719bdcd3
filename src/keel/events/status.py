"""What the status page shows, read from SOPHIA_OPS in a handful of queries.

Per stream: the last batch, its gate result (failing checks with counts and
masked samples), and the watermark's age; for the project: tag coverage,
recent alerts and events. Samples come from KEEL_DQ_FAILURES, where the gate
already masked high and sensitive columns.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from keel.adapters.base import Adapter
from keel.alerts import outbox
from keel.batch import batches as batch_store
from keel.batch import results as dq_results
from keel.batch import watermarks
from keel.batch.events import EventStore
from keel.events import chart
from keel.project.loaded import Project

# what the page and /api/status show of a batch
BATCH_SHOWN = (
    "batch_id",
    "source",
    "stream",
    "status",
    "rows",
    "created_at",
    "decided_at",
    "min_extracted_at",
)


def _age(value: Any, now: dt.datetime) -> str | None:
    if not isinstance(value, dt.datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    seconds = max(0, int((now - value).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def connections(project: Project, syncs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per source: its Airbyte connection's standard status (as ``keel airbyte plan`` or
    ``apply`` last saw it) and the last sync outcome keel received (webhook or poll)."""
    from keel.airbyte.connections import read_status

    seen = read_status(project.root)
    out = []
    for source, spec in project.sources.items():
        last = next((e for e in syncs if e["source"] == source), None)
        st = seen.get(source) or {}
        name = st.get("connection") or (spec.airbyte.connection_name if spec.airbyte else None)
        out.append({
            "source": source, "connection": name,
            "standard": st.get("standard", "not checked"),
            "differences": st.get("differences", []), "checked_at": st.get("checked_at"),
            "last_sync": None if last is None else {
                "job_id": last["job_id"], "outcome": last["kind"].removeprefix("sync_"),
                "at": last["received_at"],
            },
        })  # fmt: skip
    return out


def status_data(
    a: Adapter, project: Project, coverage: dict[str, Any] | None = None
) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    batches = [b.pick(BATCH_SHOWN) for b in batch_store.recent(a, limit=500)]
    last: dict[tuple[str, str], dict[str, Any]] = {}
    history: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in batches:
        last.setdefault((row["source"], row["stream"]), row)
        history.setdefault((row["source"], row["stream"]), []).append(row)
    ids = [b["batch_id"] for b in last.values()]
    results, samples = dq_results.for_batches(a, ids)
    marks = {(w["source"], w["stream"]): w for w in watermarks.rows(a)}
    streams = []
    for s in project.streams.values():
        b = last.get((s.source, s.name))
        checks = results.get(b["batch_id"], []) if b else []
        failing = [
            {**c, "samples": samples.get((c["batch_id"], c["check_id"]), [])[:5]}
            for c in checks
            if c["status"] in ("fail", "warn")
        ]
        w = marks.get((s.source, s.name))
        streams.append(
            {
                "source": s.source,
                "stream": s.name,
                "batch": b,
                "failing_checks": failing,
                "checks": len(checks),
                "watermark_age": _age(w["updated_at"], now) if w else None,
                "recent": chart.recent(history.get((s.source, s.name), [])),
            }
        )
    alerts = outbox.recent(a, 20)
    shown = ("job_id", "source", "kind", "status", "received_at")
    events = [{k: e[k] for k in shown} for e in EventStore(a).recent(20)]
    return {
        "connections": connections(project, EventStore(a).syncs(500)),
        "project": project.spec.name,
        "generated_at": now.isoformat(timespec="seconds"),
        "streams": streams,
        "coverage": coverage,
        "alerts": alerts,
        "events": events,
    }
