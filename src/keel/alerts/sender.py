"""The background sender: delivers due outbox rows, retries with backoff, records outcomes.

Invariants:
- only the head of each (SINK, DEDUP_KEY) is sent (see :func:`keel.alerts.outbox.due`):
  a later alert never overtakes an earlier pending one, also while it backs off;
- an outcome is written right after the HTTP answer, before anything else (no
  logging, no metrics in between): delivered -> ``delivered`` + DELIVERED_AT; retry ->
  NEXT_ATTEMPT_AT = now + backoff (``Retry-After`` for a 429); failed -> ``failed``;
- while a sink is down, its rows stay ``pending``: nothing is lost, and a pass stops
  sending to a sink after its first retryable failure (one probe per pass, not one
  timeout per pending row); a 429 pauses the whole sink for ``Retry-After``;
- delivery is at least once, with one narrow window: a crash (or a warehouse error)
  between a 2xx and the UPDATE leaves the row pending, so it is sent again once after
  a restart. Within a process the window is closed: a delivery whose UPDATE failed is
  remembered and only its record is retried, never the HTTP call;
- ``run_once`` passes never overlap (a lock); the loop thread owns the adapter it got
  from a factory and closes it; secrets never reach a log line or LAST_ERROR.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from keel.adapters.base import Adapter
from keel.alerts import outbox
from keel.alerts.outbox import OutboxRow, utcnow
from keel.alerts.sinks import Outcome, Sink
from keel.errors import KeelError

log = logging.getLogger("keel.alerts")

DELIVERIES = "keel_alert_deliveries_total"
FAILURES = "keel_alert_failures_total"
Clock = Callable[[], dt.datetime]


@dataclass
class AlertMetrics:
    """Counters the event service can expose: deliveries and failed attempts per sink.

    ``hook(metric_name, sink)`` is called on every change (e.g. to feed
    ``keel.events.metrics.Metrics.inc(name, sink=sink)``)."""

    hook: Callable[[str, str], None] | None = None
    delivered: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)  # every failed attempt
    given_up: Counter[str] = field(default_factory=Counter)  # rows marked failed
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, name: str, sink: str, gave_up: bool = False) -> None:
        with self._lock:
            (self.delivered if name == DELIVERIES else self.failures)[sink] += 1
            if gave_up:
                self.given_up[sink] += 1
        if self.hook is not None:
            self.hook(name, sink)

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {
                "delivered": dict(self.delivered),
                "failures": dict(self.failures),
                "given_up": dict(self.given_up),
            }


@dataclass(frozen=True)
class Backoff:
    """delay(n) = min(cap, base * factor^(n-1)), minus up to ``jitter`` of it at random."""

    base: float = 2.0
    cap: float = 600.0
    factor: float = 2.0
    jitter: float = 0.5

    def delay(self, attempts: int, rand: float) -> float:
        exponent = min(max(0, attempts - 1), 64)  # no float overflow after a long outage
        raw = min(self.cap, self.base * self.factor**exponent)
        return raw * (1.0 - self.jitter * rand)


DEFAULT_BACKOFF = Backoff()


@dataclass
class PassReport:
    delivered: int = 0
    retried: int = 0
    failed: int = 0


class AlertSender:
    """Deliver the outbox. ``adapter`` is an Adapter (used by the calling thread) or a
    factory (called in the thread that first needs it; the sender closes what it made)."""

    def __init__(
        self,
        adapter: Adapter | Callable[[], Adapter],
        sinks: Mapping[str, Sink],
        clock: Clock = utcnow,
        *,
        backoff: Backoff = DEFAULT_BACKOFF,
        interval: float = 1.0,
        metrics: AlertMetrics | None = None,
        rng: random.Random | None = None,
        batch: int = 200,
        max_passes: int = 50,
        max_attempts: int | None = None,
    ):
        self._adapter = adapter if isinstance(adapter, Adapter) else None
        self._factory = None if isinstance(adapter, Adapter) else adapter
        self.sinks = dict(sinks)
        self.clock = clock
        self.backoff = backoff
        self.interval = interval
        self.metrics = metrics or AlertMetrics()
        self.rng = rng or random.Random()
        self.batch = batch
        self.max_passes = max_passes
        self.max_attempts = max_attempts
        self._paused: dict[str, dt.datetime] = {}  # sink -> until (429 Retry-After)
        self._unrecorded: dict[str, dt.datetime] = {}  # delivered, UPDATE not yet written
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._warned: set[str] = set()

    # ---- one pass ------------------------------------------------------------------------

    def _conn(self) -> Adapter:
        if self._adapter is None:
            assert self._factory is not None
            self._adapter = self._factory()
        return self._adapter

    def run_once(self) -> PassReport:
        """Deliver every due alert (heads first, then what they unblock); returns counts."""
        with self._lock:
            a = self._conn()
            report = PassReport()
            self._flush_unrecorded(a)
            down: set[str] = set()
            for _ in range(self.max_passes):
                now = self.clock()
                rows = [
                    r
                    for r in outbox.due(a, now, self.batch)
                    if r.alert_id not in self._unrecorded
                    and r.sink not in down
                    and not self._is_paused(r.sink, now)
                ]
                progressed = False
                for row in rows:
                    if row.sink in down:
                        continue
                    sink = self.sinks.get(row.sink)
                    if sink is None:
                        self._warn_unconfigured(row.sink)
                        down.add(row.sink)
                        continue
                    with outbox.claimed(a, row.alert_id) as mine:
                        if not mine:  # another keel serve's sender has it, or had it
                            continue
                        outcome = sink.send(row)
                        kind = self._record(a, row, outcome)
                    if kind == "retry":
                        report.retried += 1
                        down.add(row.sink)
                    else:
                        progressed = True
                        report.delivered += kind == "delivered"
                        report.failed += kind == "failed"
                if not progressed:
                    break
            return report

    def _is_paused(self, sink: str, now: dt.datetime) -> bool:
        until = self._paused.get(sink)
        return until is not None and now < until

    def _warn_unconfigured(self, sink: str) -> None:
        if sink not in self._warned:
            self._warned.add(sink)
            log.warning("alerts for %s are pending but the sink is not configured", sink)

    def _record(self, a: Adapter, row: OutboxRow, outcome: Outcome) -> str:
        """Write the outcome first; then metrics and the log. Returns the outcome kind."""
        now = self.clock()
        if outcome.ok:
            try:
                outbox.mark_delivered(a, row.alert_id, now)
            except KeelError as exc:
                self._unrecorded[row.alert_id] = now
                log.error("alert %s was delivered but not recorded: %s", row.alert_id, exc)
            self.metrics.count(DELIVERIES, row.sink)
            log.info("alert %s delivered to %s (%s)", row.alert_id, row.sink, row.dedup_key)
            return "delivered"
        error = outcome.error or "unknown error"
        attempts = row.attempts + 1
        give_up = outcome.kind == "failed" or (
            self.max_attempts is not None and attempts >= self.max_attempts
        )
        try:
            if give_up:
                if outcome.kind != "failed":
                    error = f"gave up after {attempts} attempts: {error}"
                outbox.mark_failed(a, row.alert_id, error)
            else:
                wait = outcome.retry_after
                if wait is not None:
                    self._paused[row.sink] = now + dt.timedelta(seconds=wait)
                else:
                    wait = self.backoff.delay(attempts, self.rng.random())
                outbox.mark_retry(a, row.alert_id, now + dt.timedelta(seconds=wait), error)
        except KeelError as exc:  # the row stays pending as it was: it is simply tried again
            log.error("could not record the outcome of alert %s: %s", row.alert_id, exc)
            self.metrics.count(FAILURES, row.sink)
            return "retry"
        self.metrics.count(FAILURES, row.sink, gave_up=give_up)
        level = logging.ERROR if give_up else logging.WARNING
        log.log(level, "alert %s to %s: %s", row.alert_id, row.sink, error)
        return "failed" if give_up else "retry"

    def _flush_unrecorded(self, a: Adapter) -> None:
        for alert_id, at in list(self._unrecorded.items()):
            try:
                outbox.mark_delivered(a, alert_id, at)
            except KeelError as exc:
                log.error("alert %s still not recorded as delivered: %s", alert_id, exc)
                return
            del self._unrecorded[alert_id]

    # ---- the loop ------------------------------------------------------------------------

    def start(self) -> None:
        """Run passes in a daemon thread, every ``interval`` seconds or when woken."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="keel-alerts", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Ask for a pass now (e.g. right after an enqueue)."""
        self._wake.set()

    def _loop(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    self.run_once()
                except KeelError as exc:
                    log.error("alert sender pass failed: %s", exc.message.splitlines()[0])
                except Exception:  # a bug must not end the loop: the rows stay pending
                    log.exception("alert sender pass failed unexpectedly")
                self._wake.wait(self.interval)
                self._wake.clear()
        finally:
            with self._lock:
                self._close_adapter()  # in the thread that used it

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the current pass, end the loop (waiting up to ``timeout`` seconds) and
        close the sender. A stopped sender is done: build a new one to send again."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("the alert sender did not stop within %.0f s", timeout)
                return
            self._thread = None
        self.close()

    async def astop(self, timeout: float = 30.0) -> None:
        """:meth:`stop` for an asyncio caller (the server's lifespan)."""
        await asyncio.to_thread(self.stop, timeout)

    def close(self) -> None:
        """Close the sinks, and the adapter if the sender made it."""
        with self._lock:
            for sink in self.sinks.values():
                sink.close()
            self._close_adapter()

    def _close_adapter(self) -> None:
        if self._factory is not None and self._adapter is not None:
            self._adapter.close()
            self._adapter = None
