"""A sync event as the event store takes it (the fields keel.batch.events reads)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    event_id: str
    job_id: str
    connection_id: str | None = "c1"
    connection_name: str | None = "Gong"
    kind: str = "sync_succeeded"
