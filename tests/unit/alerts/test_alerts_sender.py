"""The sender with scripted sinks and a fake clock: order, backoff, 429, failures, metrics."""

from __future__ import annotations

import datetime as dt
import random
import threading
import time

from alertkit import FakeClock, make_ops

from keel.adapters.duckdb import DuckDBAdapter
from keel.alerts import outbox
from keel.alerts.model import Alert, SinkName
from keel.alerts.outbox import OutboxRow
from keel.alerts.sender import AlertMetrics, AlertSender, Backoff
from keel.alerts.sinks import Outcome
from keel.errors import WarehouseError


class ScriptedSink:
    """Answers from a script (then delivers); remembers what it delivered, in order."""

    def __init__(self, name: str, script: list[Outcome] | None = None):
        self.name = name
        self.script = list(script or [])
        self.calls: list[str] = []
        self.delivered: list[str] = []
        self.closed = False

    def send(self, row: OutboxRow) -> Outcome:
        self.calls.append(str(row.payload["n"]))
        outcome = self.script.pop(0) if self.script else Outcome("delivered")
        if outcome.ok:
            self.delivered.append(str(row.payload["n"]))
        return outcome

    def close(self) -> None:
        self.closed = True


class Zero(random.Random):
    def random(self) -> float:
        return 0.0


def alert(key: str, n: str, sink: SinkName = "pagerduty") -> Alert:
    return Alert(sink, key, "trigger", {"n": n}, f"{n}|{sink}|{key}")


RETRY = Outcome("retry", "HTTP 500: boom", status=500)


def sender(
    a: DuckDBAdapter, clock: FakeClock, **sinks: ScriptedSink
) -> tuple[AlertSender, AlertMetrics]:
    hooked: list[tuple[str, str]] = []
    metrics = AlertMetrics(hook=lambda name, sink: hooked.append((name, sink)))
    s = AlertSender(
        a, sinks, clock, backoff=Backoff(base=2, cap=10, jitter=0.5), rng=Zero(), metrics=metrics
    )
    return s, metrics


def test_order_per_key_holds_while_the_head_is_retried(
    adapter: DuckDBAdapter, clock: FakeClock
) -> None:
    pd = ScriptedSink("pagerduty", [RETRY, RETRY])
    for n in ("a1", "a2", "a3"):
        outbox.enqueue(adapter, [alert("A", n)], now=clock())
    outbox.enqueue(adapter, [alert("B", "b1")], now=clock())
    s, metrics = sender(adapter, clock, pagerduty=pd)
    report = s.run_once()
    assert (report.delivered, report.retried) == (0, 1)
    assert pd.calls == ["a1"]  # the sink is down: one probe per pass, not one per row
    clock.advance(2)  # backoff(1) = 2 s
    s.run_once()
    assert pd.calls == ["a1", "a1"]
    clock.advance(3)
    assert s.run_once().delivered == 1  # backoff(2) = 4 s: not yet due, B goes first
    assert pd.delivered == ["b1"]
    clock.advance(1)
    assert s.run_once().delivered == 3
    assert pd.delivered == ["b1", "a1", "a2", "a3"]
    rows = outbox.rows(adapter)
    assert {r.status for r in rows} == {"delivered"}
    a1 = next(r for r in rows if r.payload["n"] == "a1")
    assert a1.attempts == 3
    assert metrics.snapshot()["delivered"] == {"pagerduty": 4}
    assert metrics.snapshot()["failures"] == {"pagerduty": 2}


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    b = Backoff(base=2, cap=10, jitter=0.5)
    assert [b.delay(n, 0.0) for n in (1, 2, 3, 4, 5)] == [2, 4, 8, 10, 10]
    assert b.delay(2, 1.0) == 2.0  # jitter takes up to half away
    assert b.delay(100_000, 0.0) == 10  # a week-long outage: still capped, no overflow
    assert 2.0 <= b.delay(2, random.random()) <= 4.0


def test_429_pauses_the_whole_sink_for_retry_after(
    adapter: DuckDBAdapter, clock: FakeClock
) -> None:
    slack = ScriptedSink(
        "slack", [Outcome("retry", "HTTP 429: slow down", retry_after=30, status=429)]
    )
    pd = ScriptedSink("pagerduty")
    outbox.enqueue(adapter, [alert("s1", "m1", "slack"), alert("s2", "m2", "slack")], now=clock())
    outbox.enqueue(adapter, [alert("p", "p1")], now=clock())
    s, _ = sender(adapter, clock, slack=slack, pagerduty=pd)
    s.run_once()
    assert len(slack.calls) == 1 and pd.delivered == ["p1"]  # other sinks go on
    first = slack.calls[0]
    (row,) = [r for r in outbox.rows(adapter) if r.payload["n"] == first]
    assert row.next_attempt_at == clock() + dt.timedelta(seconds=30)
    clock.advance(29)
    s.run_once()
    assert len(slack.calls) == 1  # neither row: the sink is paused
    clock.advance(1)
    s.run_once()
    assert sorted(slack.delivered) == ["m1", "m2"] and len(slack.calls) == 3


def test_a_4xx_fails_for_good_and_unblocks_the_next_row(
    adapter: DuckDBAdapter, clock: FakeClock
) -> None:
    pd = ScriptedSink("pagerduty", [Outcome("failed", "HTTP 400: invalid event", status=400)])
    outbox.enqueue(adapter, [alert("A", "a1")], now=clock())
    outbox.enqueue(adapter, [alert("A", "a2")], now=clock())
    s, metrics = sender(adapter, clock, pagerduty=pd)
    report = s.run_once()
    assert (report.failed, report.delivered) == (1, 1)
    assert pd.calls == ["a1", "a2"]
    a1, a2 = outbox.rows(adapter)
    assert (a1.status, a1.last_error, a1.attempts) == ("failed", "HTTP 400: invalid event", 1)
    assert a2.status == "delivered"
    clock.advance(3600)
    s.run_once()
    assert pd.calls == ["a1", "a2"]  # never retried
    assert metrics.snapshot()["given_up"] == {"pagerduty": 1}


def test_max_attempts_gives_up(adapter: DuckDBAdapter, clock: FakeClock) -> None:
    pd = ScriptedSink("pagerduty", [RETRY] * 5)
    outbox.enqueue(adapter, [alert("A", "a1")], now=clock())
    s = AlertSender(
        adapter, {"pagerduty": pd}, clock, backoff=Backoff(base=1, cap=1), max_attempts=3
    )
    for _ in range(5):
        s.run_once()
        clock.advance(5)
    (row,) = outbox.rows(adapter)
    assert row.status == "failed" and row.attempts == 3
    assert row.last_error == "gave up after 3 attempts: HTTP 500: boom"


def test_rows_of_an_unconfigured_sink_stay_pending(
    adapter: DuckDBAdapter, clock: FakeClock
) -> None:
    pd = ScriptedSink("pagerduty")
    outbox.enqueue(adapter, [alert("s", "m1", "slack"), alert("p", "p1")], now=clock())
    s, _ = sender(adapter, clock, pagerduty=pd)
    s.run_once()
    assert {r.sink: r.status for r in outbox.rows(adapter)} == {
        "slack": "pending",
        "pagerduty": "delivered",
    }


class FlakyUpdates(DuckDBAdapter):
    """Refuses the next ``fail`` UPDATEs (a warehouse hiccup after a 2xx)."""

    fail = 0

    def execute(self, sql: str) -> None:
        if sql.startswith("UPDATE") and self.fail:
            self.fail -= 1
            raise WarehouseError("DuckDB refused: simulated")
        super().execute(sql)


def test_a_delivery_whose_update_failed_is_not_sent_again(clock: FakeClock) -> None:
    a = FlakyUpdates(":memory:")
    make_ops(a)
    try:
        pd = ScriptedSink("pagerduty")
        outbox.enqueue(a, [alert("A", "a1")], now=clock())
        outbox.enqueue(a, [alert("A", "a2")], now=clock())
        s = AlertSender(a, {"pagerduty": pd}, clock)
        a.fail = 1
        s.run_once()
        assert pd.calls == ["a1"]  # a2 waits: a1 is not recorded yet
        assert [r.status for r in outbox.rows(a)] == ["pending", "pending"]
        s.run_once()
        assert pd.calls == ["a1", "a2"]
        assert [r.status for r in outbox.rows(a)] == ["delivered", "delivered"]
    finally:
        a.close()


def test_the_loop_delivers_in_a_thread_and_stops(adapter: DuckDBAdapter) -> None:
    pd = ScriptedSink("pagerduty", [RETRY])
    outbox.enqueue(adapter, [alert("A", "a1"), alert("B", "b1")])
    made: list[DuckDBAdapter] = []

    def factory() -> DuckDBAdapter:
        made.append(adapter.fork())
        return made[-1]

    s = AlertSender(factory, {"pagerduty": pd}, backoff=Backoff(base=0.01, cap=0.05), interval=0.01)
    s.start()
    try:
        deadline = time.monotonic() + 10
        while len(pd.delivered) < 2 and time.monotonic() < deadline:
            s.wake()
            time.sleep(0.01)
    finally:
        s.stop(timeout=10)
    assert sorted(pd.delivered) == ["a1", "b1"]
    assert pd.closed and len(made) == 1
    assert not any(t.name == "keel-alerts" for t in threading.enumerate())
    assert {r.status for r in outbox.rows(adapter)} == {"delivered"}
