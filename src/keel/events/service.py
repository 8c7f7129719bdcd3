"""The event service's core, independent of HTTP: accept, store, queue, run.

Invariants:
- an event is stored in SOPHIA_OPS.KEEL_EVENTS before the webhook is answered;
  a repeated job id stores nothing and runs nothing;
- runs are one at a time per source and in parallel across sources (a per-source lock
  that the local API's gate and promote take too: see run_exclusive); events
  that arrive for a source while it runs are coalesced into its next run (one
  gate covers every pending batch), and each is marked with the outcome;
- on start, events left queued or running by a previous process are queued
  again (publishing is idempotent, so a gate that was cut short is simply run
  again and finds nothing twice);
- the HTTP path only inserts a row (under a lock on the main connection); runs
  happen in worker threads, each on its own connection (a DuckDB cursor).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from keel.adapters.base import Adapter
from keel.alerts.notify import Details
from keel.batch.events import EventStore
from keel.context import Context
from keel.errors import KeelError, WebhookError
from keel.events.metrics import Metrics
from keel.events.payload import ALERT_KINDS, RECORD_ONLY, SyncEvent, parse_webhook
from keel.events.watcher import ChangeWatcher
from keel.publish.pipeline import RunReport

log = logging.getLogger("keel.events")
COVERAGE_EVERY = 30.0  # seconds between audits for the status page
INTAKE_GATHER = 0.002  # seconds a commit waits for more events (group commit)

# runner(context, source) -> the run's report (gate, publish, transform); may raise KeelError
Runner = Callable[[Context, str], RunReport]
# notify(context, kind, details): hand an alert to the alerting outbox; details is the
# gate's report for a "gate" alert, else the few fields the kind names
Notifier = Callable[[Context, str, Details], None]
T = TypeVar("T")


@dataclass
class Accepted:
    status: int
    body: dict[str, Any]


@dataclass
class _SourceQueue:
    pending: list[str] = field(default_factory=list)  # event ids
    task: asyncio.Task[None] | None = None


class EventService:
    def __init__(
        self,
        ctx: Context,
        runner: Runner,
        notify: Notifier | None = None,
        metrics: Metrics | None = None,
        settle: float = 0.5,
    ):
        self.settle = settle
        self.ctx = ctx
        self.runner = runner
        self.notify = notify
        self.metrics = metrics or Metrics()
        self.store = EventStore(ctx.adapter)
        self._lock = threading.Lock()  # guards the main connection
        self._source_locks: dict[str, threading.Lock] = {}  # one run at a time per source
        self._source_locks_guard = threading.Lock()
        self._queues: dict[str, _SourceQueue] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.last_outcome: dict[str, RunReport] = {}
        self.coverage: dict[str, Any] | None = None
        self.on_alert: Callable[[], None] | None = None  # e.g. wake the alert sender
        self._intake: list[tuple[SyncEvent, str, asyncio.Future[Accepted]]] = []
        self._intake_wakeup: asyncio.Event | None = None
        self._intake_task: asyncio.Task[None] | None = None
        self._watch_task: asyncio.Task[None] | None = None
        self.watcher: ChangeWatcher | None = None
        self._coverage_at = 0.0
        self.metrics.gauges["keel_queue_depth"] = self.queue_depth
        self._by_id, self._by_name = self._connection_index()

    @contextlib.contextmanager
    def locked(self) -> Iterator[Adapter]:
        """The main connection, for one request at a time."""
        with self._lock:
            yield self.ctx.adapter

    def source_lock(self, source: str) -> threading.Lock:
        """Held by every run for ``source`` (event runs and local API calls alike)."""
        with self._source_locks_guard:
            return self._source_locks.setdefault(source, threading.Lock())

    def run_exclusive(self, source: str, fn: Callable[[Context], T]) -> T:
        """``fn`` on its own connection, never at the same time as another run for
        ``source`` (for a worker thread: the local API's gate, promote)."""
        worker = self.ctx.fork()
        try:
            if source not in self.ctx.project.sources:
                return fn(worker)  # it raises the unknown-source error; nothing to guard
            with self.source_lock(source):
                return fn(worker)
        finally:
            worker.close()

    def refresh_coverage(self, ctx: Context, force: bool = False) -> None:
        """Tag coverage for the status page: a full audit, so at most every 30 s."""
        now = time.monotonic()
        if not force and now - self._coverage_at < COVERAGE_EVERY:
            return
        self._coverage_at = now
        try:
            self.coverage = ctx.audit().to_dict()["tag_coverage"]
        except KeelError as exc:
            log.warning("tag coverage not refreshed: %s", exc.message)

    # ---- resolving connections ---------------------------------------------------------

    def _connection_index(self) -> tuple[dict[str, str], dict[str, str]]:
        by_id: dict[str, str] = {}
        by_name: dict[str, str] = {}
        for name, spec in self.ctx.project.sources.items():
            if spec.airbyte and spec.airbyte.connection_id:
                by_id[spec.airbyte.connection_id] = name
            if spec.airbyte and spec.airbyte.connection_name:
                by_name[spec.airbyte.connection_name.casefold()] = name
        return by_id, by_name

    def source_for(self, event: SyncEvent) -> str | None:
        if event.source and event.source in self.ctx.project.sources:  # the poller resolved it
            return event.source
        if event.connection_id and event.connection_id in self._by_id:
            return self._by_id[event.connection_id]
        if event.connection_name:
            return self._by_name.get(event.connection_name.casefold())
        return None

    # ---- accepting -----------------------------------------------------------------------

    def accept(self, body: bytes) -> Accepted:
        """Validate, store and queue one webhook body. Raises WebhookError for a 400."""
        event = parse_webhook(body)
        if event.kind == "ping":
            self.metrics.inc("keel_events_received_total", kind="ping")
            return Accepted(202, {"status": "ignored", "reason": "test notification (no data)"})
        return self.submit(event, body.decode("utf-8", "replace"))

    async def accept_async(self, body: bytes) -> Accepted:
        """accept() for the HTTP path: events that arrive together are stored in one
        transaction by a single writer (group commit), and each request is answered once
        its event is stored. Raises WebhookError (400) or KeelError (503)."""
        event = parse_webhook(body)
        if event.kind == "ping":
            self.metrics.inc("keel_events_received_total", kind="ping")
            return Accepted(202, {"status": "ignored", "reason": "test notification (no data)"})
        future: asyncio.Future[Accepted] = asyncio.get_running_loop().create_future()
        self._intake.append((event, body.decode("utf-8", "replace"), future))
        if self._intake_wakeup is not None:
            self._intake_wakeup.set()
        return await future

    async def _intake_loop(self) -> None:
        assert self._intake_wakeup is not None
        while True:
            await self._intake_wakeup.wait()
            self._intake_wakeup.clear()
            while self._intake:
                # a few milliseconds for the requests already on the wire to join this commit
                await asyncio.sleep(INTAKE_GATHER)
                batch, self._intake = self._intake[:500], self._intake[500:]
                items = [(e, p) for e, p, _ in batch]
                try:
                    answers = await asyncio.to_thread(self.submit_many, items)
                except KeelError as exc:
                    for _, _, fut in batch:
                        if not fut.done():
                            fut.set_exception(exc)
                    continue
                except Exception as exc:  # a bug must not stop the intake: log, count, go on
                    log.exception("storing %d event(s) failed unexpectedly", len(batch))
                    self.metrics.inc("keel_events_errors_total", stage="intake")
                    failed = KeelError(f"internal error storing the event ({type(exc).__name__})")
                    for _, _, fut in batch:
                        if not fut.done():
                            fut.set_exception(failed)
                    continue
                for (_, _, fut), answer in zip(batch, answers, strict=True):
                    if not fut.done():
                        fut.set_result(answer)

    def submit(self, event: SyncEvent, payload: str) -> Accepted:
        return self.submit_many([(event, payload)])[0]

    def submit_many(self, items: list[tuple[SyncEvent, str]]) -> list[Accepted]:
        """Store events (one statement) and queue the new ones; one answer per item."""
        sources = [self.source_for(e) for e, _ in items]
        rows = [
            (e, s, p, "queued" if s else "ignored")
            for (e, p), s in zip(items, sources, strict=True)
        ]
        with self._lock:
            new = self.store.record_many(rows)
        answers = []
        for (event, _), source in zip(items, sources, strict=True):
            fresh = event.event_id in new
            new.discard(event.event_id)  # a repeat within the same batch is a duplicate
            answers.append(self._answer(event, source, fresh))
        return answers

    def _answer(self, event: SyncEvent, source: str | None, new: bool) -> Accepted:
        if not new:
            self.metrics.inc("keel_events_duplicate_total")
            return Accepted(202, {"status": "duplicate", "event_id": event.event_id})
        self.metrics.inc("keel_events_received_total", kind=event.kind)
        if source is None:
            log.warning(
                "event %s: no source in keel.yml for connection %s (%s); ignored",
                event.event_id,
                event.connection_name,
                event.connection_id,
            )
            return Accepted(
                202,
                {"status": "ignored", "event_id": event.event_id, "reason": "unknown connection"},
            )
        self._enqueue(source, event.event_id)
        return Accepted(202, {"status": "queued", "event_id": event.event_id, "source": source})

    # ---- queue and runs ------------------------------------------------------------------

    def queue_depth(self) -> float:
        return float(
            sum(
                len(q.pending) + (1 if q.task and not q.task.done() else 0)
                for q in self._queues.values()
            )
        )

    def _enqueue(self, source: str, event_id: str) -> None:
        q = self._queues.setdefault(source, _SourceQueue())
        q.pending.append(event_id)
        if self._loop is None:
            return  # not started: start() picks it up from the table
        self._loop.call_soon_threadsafe(self._ensure_task, source)

    def _ensure_task(self, source: str) -> None:
        q = self._queues[source]
        if q.task is None or q.task.done():
            q.task = asyncio.get_running_loop().create_task(self._drain(source))

    async def _drain(self, source: str) -> None:
        q = self._queues[source]
        while q.pending:
            # a burst of events for one source settles into one run (one gate covers every
            # pending batch); Airbyte sends one notification per sync, so this costs nothing
            await asyncio.sleep(self.settle)
            ids, q.pending = q.pending, []
            await asyncio.to_thread(self._run, source, ids)

    def _run(self, source: str, event_ids: list[str]) -> None:
        worker = self.ctx.fork()
        try:
            with EventStore(worker.adapter).claim(event_ids) as (store, mine):
                if mine:  # none: another keel serve process runs them
                    self._run_claimed(worker, store, source, mine)
        except Exception:  # a bug must not kill the worker loop; the event stays visible
            log.exception("run for %s failed unexpectedly", source)
            with self._lock:
                self.store.set_status(event_ids, "failed", "internal error; see the server log")
        finally:
            worker.close()

    def _run_claimed(
        self, worker: Context, store: EventStore, source: str, event_ids: list[str]
    ) -> None:
        store.set_status(event_ids, "running")
        kinds = store.kinds(event_ids)
        failed = [e for e in event_ids if kinds.get(e) in ALERT_KINDS]
        recorded = [e for e in event_ids if kinds.get(e) in RECORD_ONLY]
        runs = [e for e in event_ids if e not in failed and e not in recorded]
        if recorded:  # started/queued, automatic updates, unread text: shown, nothing run
            store.set_status(recorded, "done")
        if failed:
            self._alert(worker, "sync_failed", {"source": source, "events": failed})
            store.set_status(failed, "done")
        if not runs:
            return
        try:
            with self.source_lock(source):
                outcome = self.runner(worker, source)
        except KeelError as exc:
            self.metrics.inc("keel_gate_runs_total", result="error")
            store.set_status(runs, "failed", exc.message[:2000])
            self._alert(worker, "run_failed", {"source": source, "error": exc.message})
            return
        result = "blocked" if outcome.blocked else "passed"
        self.metrics.inc("keel_gate_runs_total", result=result)
        self._alert(worker, "gate", outcome.gate)  # triggers for failures, resolves passes
        for job in store.jobs(runs):
            self._alert(worker, "sync_succeeded", {"source": source, "job_id": job})
        self.metrics.inc("keel_publish_rows_total", float(outcome.published_rows))
        self.metrics.published(outcome.gate, dt.datetime.now(dt.UTC))
        self.last_outcome[source] = outcome
        store.set_status(runs, "done", None if result == "passed" else "blocked")
        self.refresh_coverage(worker)

    def _alert(self, ctx: Context, kind: str, details: Details) -> None:
        if self.notify is None:
            return
        try:
            self.notify(ctx, kind, details)
        except KeelError as exc:  # alerting must never hold up the gate
            log.error("could not queue a %s alert: %s", kind, exc.message)
            return
        if self.on_alert is not None:
            self.on_alert()

    # ---- lifecycle -----------------------------------------------------------------------

    async def start(self) -> int:
        """Queue every event a previous process left open; returns how many."""
        self._loop = asyncio.get_running_loop()
        self._intake_wakeup = asyncio.Event()
        self._intake_task = self._loop.create_task(self._intake_loop())
        # sources without webhooks, and the fallback for every source (events/watcher.py)
        self.watcher = ChangeWatcher(self)
        self._watch_task = self._loop.create_task(self.watcher.loop())
        await asyncio.to_thread(self._initial_coverage)
        with self._lock:
            open_events = self.store.open_events()
        for e in open_events:
            if e.source:
                self._queues.setdefault(e.source, _SourceQueue()).pending.append(e.event_id)
        for source, q in self._queues.items():
            if q.pending:
                self._ensure_task(source)
        return len(open_events)

    def _initial_coverage(self) -> None:
        worker = self.ctx.fork()
        try:
            self.refresh_coverage(worker, force=True)
        finally:
            worker.close()

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait until every queue is empty (tests, shutdown)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.queue_depth() and loop.time() < deadline:
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self._watch_task is not None:
            self._watch_task.cancel()
            await asyncio.gather(self._watch_task, return_exceptions=True)
        if self._intake_task is not None:
            self._intake_task.cancel()
            await asyncio.gather(self._intake_task, return_exceptions=True)
        tasks = [q.task for q in self._queues.values() if q.task and not q.task.done()]
        if tasks:
            await asyncio.wait(tasks, timeout=60)

    def describe(self, status: int, error: WebhookError) -> Accepted:
        self.metrics.inc("keel_events_rejected_total", status=str(status))
        return Accepted(status, {"error": error.message})


def dumps(data: Any) -> str:
    return json.dumps(data, default=str)
