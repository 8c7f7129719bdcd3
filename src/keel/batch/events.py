"""The store of SOPHIA_OPS.KEEL_EVENTS, the only code that touches that table: a
webhook event is stored before it is answered.

The event id is derived from Airbyte's job id, so a repeated delivery (or the
poller finding a job the webhook already brought) inserts nothing: the insert
itself is the de-duplication (the adapter's insert-if-absent), and it says which
events are new. Bodies travel as bind parameters, never as SQL text.
Statuses: queued -> running -> done | failed; ignored (unknown connection or a
ping). On restart every queued or running event is queued again; running the
gate twice is harmless because publishing is idempotent.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from keel import ops_tables as ops
from keel.adapters.base import Adapter
from keel.adapters.bound import NOW

OPEN = ("queued", "running")


class Incoming(Protocol):
    """What the store keeps of an Airbyte notification (keel.events.payload.SyncEvent)."""

    @property
    def event_id(self) -> str: ...
    @property
    def job_id(self) -> str: ...
    @property
    def connection_id(self) -> str | None: ...
    @property
    def connection_name(self) -> str | None: ...
    @property
    def kind(self) -> str: ...


@dataclass(frozen=True)
class StoredEvent:
    event_id: str
    job_id: str
    source: str | None
    kind: str
    status: str


class EventStore:
    def __init__(self, adapter: Adapter):
        self.a = adapter
        self.table = adapter.ops_table(ops.KEEL_EVENTS)

    def col(self, name: str) -> str:
        return self.a.ident(name)

    def record(self, event: Incoming, source: str | None, payload: str, status: str) -> bool:
        """Insert the event; False when an event with the same id was stored before."""
        return bool(self.record_many([(event, source, payload, status)]))

    def record_many(self, items: Sequence[tuple[Incoming, str | None, str, str]]) -> set[str]:
        """Insert events in one statement; returns the ids that were new. Ids repeated within
        ``items`` are inserted once (the first occurrence)."""
        rows, seen = [], set()
        for event, source, payload, status in items:
            if event.event_id in seen:
                continue
            seen.add(event.event_id)
            rows.append(
                {
                    "EVENT_ID": event.event_id,
                    "JOB_ID": event.job_id,
                    "CONNECTION_ID": event.connection_id,
                    "CONNECTION_NAME": event.connection_name,
                    "KIND": event.kind,
                    "SOURCE": source,
                    "PAYLOAD": payload,
                    "STATUS": status,
                    "RECEIVED_AT": NOW,
                    "PROCESSED_AT": None,
                    "ERROR": None,
                }
            )
        return {str(k) for k in self.a.insert_new(ops.KEEL_EVENTS, rows, "events")}

    def set_status(self, event_ids: list[str], status: str, error: str | None = None) -> None:
        if not event_ids:
            return
        ids = ", ".join(self.a.lit(e) for e in event_ids)
        done = (
            ", " + f"{self.col('PROCESSED_AT')} = CURRENT_TIMESTAMP" if status not in OPEN else ""
        )
        self.a.execute(
            f"UPDATE {self.table} SET {self.col('STATUS')} = {self.a.lit(status)}, "
            f"{self.col('ERROR')} = {self.a.lit(error)}{done} WHERE {self.col('EVENT_ID')} IN ({ids})"
        )

    @contextlib.contextmanager
    def claim(self, event_ids: Sequence[str]) -> Iterator[tuple[EventStore, list[str]]]:
        """The open events among ``event_ids`` that this process may run, and the store to
        mark them with: each event runs once however many ``keel serve`` processes share
        the warehouse. On engines with row locks (PostgreSQL) the events are claimed on a
        connection of their own (``SELECT ... FOR UPDATE SKIP LOCKED``) whose transaction
        holds them until the caller is done: another process skips them, and sees them
        done once this one commits; a process that dies releases them (they run again).
        Elsewhere one process owns the warehouse (DuckDB's file lock; on Snowflake run
        one keel serve) and every open event is its own."""
        if not event_ids:
            yield self, []
            return
        if not self.a.row_locks:
            yield self, list(event_ids)
            return
        lock = self.a.fork()
        try:
            states = ", ".join(lock.lit(s) for s in OPEN)
            ids = ", ".join(lock.lit(e) for e in event_ids)
            with lock.transaction():
                rows = lock.fetch(
                    f"SELECT {self.col('EVENT_ID')} FROM {lock.ops_table(ops.KEEL_EVENTS)} "
                    f"WHERE {self.col('EVENT_ID')} IN ({ids}) AND {self.col('STATUS')} IN "
                    f"({states}){lock.skip_locked()}",
                    "events",
                )
                held = {r[0] for r in rows}
                yield EventStore(lock), [e for e in event_ids if e in held]
        finally:
            lock.close()

    def kinds(self, event_ids: Sequence[str]) -> dict[str, str]:
        """Event id -> kind (sync_succeeded, sync_failed, ...)."""
        return {r[0]: r[1] for r in self._by_id(event_ids, "EVENT_ID", "KIND")}

    def jobs(self, event_ids: Sequence[str]) -> list[str]:
        return [str(r[0]) for r in self._by_id(event_ids, "JOB_ID")]

    def failures(self, event_ids: Sequence[str]) -> list[tuple[Any, ...]]:
        """(event id, job id, connection id, connection name, payload) of stored events,
        oldest first: what a failed-sync alert says."""
        cols = ("EVENT_ID", "JOB_ID", "CONNECTION_ID", "CONNECTION_NAME", "PAYLOAD")
        return self._by_id(event_ids, *cols, order="RECEIVED_AT")

    def _by_id(
        self, event_ids: Sequence[str], *columns: str, order: str | None = None
    ) -> list[tuple[Any, ...]]:
        if not event_ids:
            return []
        ids = ", ".join(self.a.lit(e) for e in event_ids)
        tail = f" ORDER BY {self.col(order)}" if order else ""
        return self.a.fetch(
            f"SELECT {', '.join(self.col(c) for c in columns)} FROM {self.table} "
            f"WHERE {self.col('EVENT_ID')} IN ({ids}){tail}",
            "events",
        )

    def open_events(self) -> list[StoredEvent]:
        states = ", ".join(self.a.lit(s) for s in OPEN)
        rows = self.a.fetch(
            f"SELECT {self.col('EVENT_ID')}, {self.col('JOB_ID')}, {self.col('SOURCE')}, "
            f"{self.col('KIND')}, {self.col('STATUS')} FROM {self.table} "
            f"WHERE {self.col('STATUS')} IN ({states}) ORDER BY {self.col('RECEIVED_AT')}",
            "events",
        )
        return [StoredEvent(*r) for r in rows]

    def known_jobs(self, job_ids: list[str]) -> set[str]:
        if not job_ids:
            return set()
        ids = ", ".join(self.a.lit(j) for j in job_ids)
        rows = self.a.fetch(
            f"SELECT {self.col('JOB_ID')} FROM {self.table} WHERE {self.col('JOB_ID')} IN ({ids})",
            "events",
        )
        return {r[0] for r in rows}

    def recent(self, limit: int = 50) -> list[dict[str, Any]]:
        cols = [
            "EVENT_ID",
            "JOB_ID",
            "SOURCE",
            "KIND",
            "STATUS",
            "RECEIVED_AT",
            "PROCESSED_AT",
            "ERROR",
        ]
        rows = self.a.fetch(
            f"SELECT {', '.join(self.col(c) for c in cols)} FROM {self.table} "
            f"ORDER BY {self.col('RECEIVED_AT')} DESC LIMIT {int(limit)}",
            "events",
        )
        return [dict(zip([c.lower() for c in cols], r, strict=True)) for r in rows]

    def syncs(self, limit: int = 500) -> list[dict[str, Any]]:
        """The newest sync notifications (succeeded or failed): job id, source, kind,
        received at (the status page's connections)."""
        cols = ["JOB_ID", "SOURCE", "KIND", "RECEIVED_AT"]
        kinds = ", ".join(self.a.lit(k) for k in ("sync_succeeded", "sync_failed"))
        rows = self.a.fetch(
            f"SELECT {', '.join(self.col(c) for c in cols)} FROM {self.table} "
            f"WHERE {self.col('KIND')} IN ({kinds}) "
            f"ORDER BY {self.col('RECEIVED_AT')} DESC LIMIT {int(limit)}",
            "events",
        )
        return [dict(zip([c.lower() for c in cols], r, strict=True)) for r in rows]

    def counts(self) -> dict[str, int]:
        rows = self.a.fetch(
            f"SELECT {self.col('STATUS')}, count(*) FROM {self.table} GROUP BY 1", "events"
        )
        return {str(s): int(n) for s, n in rows}
