"""Two keel serve processes on one PostgreSQL warehouse (two event services, each with
its own connections, as two processes would have): every event runs once and every alert
is sent once. Events and alerts are claimed with row locks (SELECT ... FOR UPDATE SKIP
LOCKED, held until the claim's transaction ends; PostgreSQL's locking clause)."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from keel.adapters.postgres import PostgresAdapter
from keel.alerts import outbox
from keel.alerts.build import Routing
from keel.alerts.model import DELIVERED
from keel.alerts.notify import Details, enqueue_event
from keel.alerts.sender import AlertSender
from keel.alerts.sinks import Outcome
from keel.context import Context
from keel.events.payload import SyncEvent
from keel.events.server import build
from keel.events.service import EventService
from keel.project.init import connection_name
from keel.publish.pipeline import RunReport
from keel.quality.checks import Check
from keel.quality.model import Batch, CheckResult, SourceReport, StreamReport

SOURCES = ("gong", "hubspot", "slack", "netsuite")
CONSOLE = Routing(frozenset({"console"}), "http://keel.test/")
AT = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


class Runs:
    """The runner both services share: counts runs per source; hubspot's gate blocks."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: Counter[str] = Counter()

    def run(self, ctx: Context, source: str) -> RunReport:
        with self.lock:
            self.calls[source] += 1
        time.sleep(0.2)  # long enough for the other service to try the same events
        if source != "hubspot":
            return RunReport(source, promote=SourceReport(source))
        check = CheckResult(Check("not_null.EMAIL", "not_null", "EMAIL", "error"), "fail", 2)
        batch = Batch(f"b-{self.calls[source]}", 10, "blocked", None, AT)
        stream = StreamReport(source, "contacts", "blocked", batch, [check])
        return RunReport(source, promote=SourceReport(source, [stream]))


def notify(ctx: Context, kind: str, details: Details) -> None:
    enqueue_event(ctx.adapter, CONSOLE, kind, details)


class Sent:
    name = "console"

    def __init__(self, log: list[str], lock: threading.Lock):
        self.log, self.lock = log, lock

    def send(self, row: Any) -> Outcome:
        time.sleep(0.05)  # the other sender is looking at the same row meanwhile
        with self.lock:
            self.log.append(row.alert_id)
        return Outcome("delivered")

    def close(self) -> None:
        pass


def events(round_: int) -> list[tuple[SyncEvent, str]]:
    return [
        (
            SyncEvent(f"{round_}{i}", None, connection_name(s), True, None, None, "sync_succeeded"),
            "{}",
        )
        for i, s in enumerate(SOURCES)
    ]


async def both(a: EventService, b: EventService) -> None:
    await asyncio.gather(a.drain(60), b.drain(60))


def test_two_servers_run_each_event_once_and_send_each_alert_once(
    pg_db: Any, pg_project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEEL_WEBHOOK_TOKEN", "two-servers")
    root: Path = pg_project()
    with Context(root) as setup:
        setup.apply()
    runs = Runs()
    (_, a, _), (_, b, _) = (
        build(root, poll=False, runner=runs.run, notify=notify) for _ in range(2)
    )
    for e in (a, b):
        e.settle = 0.0

    async def scenario() -> None:
        # round 1: events stored before either process started (a crash, a deploy); both
        # find them open on start and queue them
        assert [x.body["status"] for x in a.submit_many(events(1))] == ["queued"] * 4
        assert await asyncio.gather(a.start(), b.start()) == [4, 4]
        await both(a, b)
        # rounds 2 and 3: Airbyte's notification reaches both (a retry, two load-balanced
        # replicas): one stores it and runs it, the other answers duplicate
        for round_ in (2, 3):
            answers = await asyncio.gather(
                asyncio.to_thread(a.submit_many, events(round_)),
                asyncio.to_thread(b.submit_many, events(round_)),
            )
            statuses = Counter(x.body["status"] for batch in answers for x in batch)
            assert statuses == {"queued": 4, "duplicate": 4}
            await both(a, b)
        await asyncio.gather(a.stop(), b.stop())

    asyncio.run(scenario())
    assert runs.calls == dict.fromkeys(SOURCES, 3)  # three events per source, three runs

    dsn = pg_db.admin_dsn  # the services' database: for the checks and the senders
    check = PostgresAdapter(dsn)
    status = check.fetch('SELECT "status", count(*) FROM "sophia_ops"."keel_events" GROUP BY 1')
    assert dict(status) == {"done": 12}

    sent: list[str] = []
    lock = threading.Lock()
    senders = [
        AlertSender(lambda: PostgresAdapter(dsn), {"console": Sent(sent, lock)}) for _ in range(2)
    ]
    start = threading.Barrier(2)

    def deliver(sender: AlertSender) -> None:
        start.wait()
        sender.run_once()

    threads = [threading.Thread(target=deliver, args=(s,)) for s in senders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = outbox.rows(check)
    assert rows and all(r.status == DELIVERED for r in rows)
    assert sorted(sent) == sorted(r.alert_id for r in rows)  # each alert sent exactly once
    for s in senders:
        s.close()
    for service in (a, b):
        service.ctx.close()
    check.close()
