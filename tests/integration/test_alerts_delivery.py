"""Alert delivery over real HTTP: loopback Slack and PagerDuty peers that fail for a while
(500, timeouts, 429 with Retry-After, connection refused) and then recover.

Every alert is delivered exactly once and in order per dedup key; a passing gate
resolves at PagerDuty; a 400 fails without a retry; secrets stay out of logs, errors
and the table; a new sender on the same DuckDB file delivers what was left pending.
Time is a fake clock moved by the test; only HTTP timeouts take real (short) time.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from keel import ops_tables as ops
from keel.adapters.duckdb import DuckDBAdapter
from keel.alerts import outbox
from keel.alerts.build import Routing
from keel.alerts.notify import enqueue_event, notify, sender_for
from keel.alerts.sender import AlertSender, Backoff
from keel.alerts.sinks import ConsoleSink, PagerDutySink, Sink, SlackSink
from keel.batch.events import EventStore
from keel.context import Context
from keel.events.payload import parse_webhook
from keel.project.init import HEADER, dump, write_project
from keel.quality.model import SourceReport

SHARED = Path(__file__).resolve().parents[1] / "fixtures" / "airbyte"  # Airbyte's examples
START = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
HOOK_PATH = "/services/T0AAA/B0BBB/W3bh00kS3cretT0ken"
ROUTING_KEY = "R0ut1ngK3yS3cret0123456789abcdef"
SECRETS = ("W3bh00kS3cretT0ken", ROUTING_KEY)
EMAIL = "hubspot/contacts/not_null.EMAIL"
ID = "hubspot/contacts/unique.ID"
ALL = Routing(frozenset({"slack", "pagerduty", "console"}), "http://keel.test:8787")


class FakeClock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


class Peer:
    """A loopback HTTP peer that answers from a script, then succeeds.

    Script steps: ("status", code) answers ``code`` echoing the URL and body (as a
    careless peer would); ("sleep", s) answers 503 after ``s`` seconds (the client
    has timed out by then); ("429", s) answers 429 with ``Retry-After: s``."""

    def __init__(self, ok_status: int, ok_body: str, script: list[tuple[str, float]] | None = None):
        self.ok_status, self.ok_body = ok_status, ok_body
        self.script = list(script or [])
        self.attempts: list[dict[str, Any]] = []
        self.delivered: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                data = json.loads(body)
                with peer.lock:
                    peer.attempts.append(data)
                    step = peer.script.pop(0) if peer.script else None
                    if step is None:
                        peer.delivered.append(data)
                try:
                    if step is None:
                        self.answer(peer.ok_status, peer.ok_body)
                    elif step[0] == "sleep":
                        threading.Event().wait(step[1])
                        self.answer(503, "too late")
                    elif step[0] == "429":
                        self.answer(429, "rate_limited", {"Retry-After": str(int(step[1]))})
                    else:
                        self.answer(int(step[1]), f"error at {self.path}: {body.decode()}")
                except OSError:  # the client gave up (timeout): nothing to answer
                    pass

            def answer(self, code: int, text: str, headers: dict[str, str] | None = None) -> None:
                raw = text.encode()
                self.send_response(code)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = False
            block_on_close = True  # server_close() joins handlers: nothing outlives the test

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Peer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def make_ops(a: DuckDBAdapter) -> DuckDBAdapter:
    a.execute(f"CREATE SCHEMA IF NOT EXISTS {a.ident(ops.OPS_SCHEMA)}")
    for table in (ops.KEEL_ALERTS, ops.KEEL_EVENTS):
        a.execute(ops.create_table_sql(table, a.dialect, a.norm, a.type_map))
    return a


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[DuckDBAdapter]:
    a = make_ops(DuckDBAdapter(str(tmp_path / "warehouse.duckdb")))
    yield a
    a.close()


def sinks(slack: Peer, pd: Peer, log: Path) -> dict[str, Sink]:
    return {
        "slack": SlackSink(slack.url + HOOK_PATH, timeout=0.2),
        "pagerduty": PagerDutySink(ROUTING_KEY, pd.url + "/v2/enqueue", timeout=0.2),
        "console": ConsoleSink(log),
    }


def gate(status: str, batch: str, email: str, ids: str) -> SourceReport:
    return SourceReport.from_dict(
        {
            "source": "hubspot",
            "streams": [
                {
                    "stream": "contacts",
                    "status": status,
                    "batch": {"id": batch, "rows": 1200},
                    "checks": [
                        {
                            "id": "not_null.EMAIL",
                            "name": "not_null",
                            "column": "email",
                            "severity": "error",
                            "status": email,
                            "failing_rows": 3 if email == "fail" else 0,
                        },
                        {
                            "id": "unique.ID",
                            "name": "unique",
                            "column": "id",
                            "severity": "error",
                            "status": ids,
                            "failing_rows": 2 if ids == "fail" else 0,
                        },
                    ],
                    "samples": {
                        "not_null.EMAIL": [{"id": 1, "email": None, "phone": "+1 555 0100"}]
                    },
                }
            ],
        }
    )


def drain(sender: AlertSender, a: DuckDBAdapter, clock: FakeClock, passes: int = 40) -> int:
    for n in range(passes):
        sender.run_once()
        if not outbox.pending_counts(a):
            return n + 1
        clock.advance(5)
    raise AssertionError(f"still pending after {passes} passes: {outbox.pending_counts(a)}")


def by_key(events: list[dict[str, Any]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in events:
        out.setdefault(e["dedup_key"], []).append(e["event_action"])
    return out


def test_flaky_sinks_deliver_every_alert_once_in_order_and_resolve(
    warehouse: DuckDBAdapter, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    blocked = enqueue_event(
        warehouse, ALL, "gate", gate("blocked", "b1", "fail", "fail"), now=clock()
    )
    clock.advance(1)
    passed = enqueue_event(
        warehouse, ALL, "gate", gate("passed", "b2", "pass", "pass"), now=clock()
    )
    assert (len(blocked), len(passed)) == (
        4,
        3,
    )  # slack + 2 triggers + console; 2 resolves + console
    slack_script = [("status", 500.0), ("sleep", 0.4), ("429", 3.0)]
    pd_script = [("sleep", 0.4), ("status", 502.0), ("status", 500.0), ("status", 503.0)]
    log = tmp_path / "alerts.log"
    with (
        caplog.at_level(logging.DEBUG),
        Peer(200, "ok", slack_script) as slack,
        Peer(202, '{"status":"success"}', pd_script) as pd,
    ):
        sender = AlertSender(
            warehouse, sinks(slack, pd, log), clock, backoff=Backoff(base=1, cap=4)
        )
        drain(sender, warehouse, clock)
        sender.close()
    # Slack: one message for the blocked run, delivered once after 3 failures
    assert len(slack.attempts) == 4 and len(slack.delivered) == 1
    assert slack.delivered[0]["text"].startswith("keel held back 1 stream(s) of hubspot")
    assert "+1 555 0100" not in json.dumps(slack.delivered)
    # PagerDuty: every event once; per dedup key, the trigger before the resolve
    assert len(pd.attempts) == 4 + 4 and len(pd.delivered) == 4
    assert by_key(pd.delivered) == {EMAIL: ["trigger", "resolve"], ID: ["trigger", "resolve"]}
    assert {e["routing_key"] for e in pd.delivered} == {ROUTING_KEY}
    # the console sink wrote both runs' records
    records = [json.loads(x) for x in log.read_text().splitlines()]
    assert [r["pagerduty"] for r in records] == [
        {"trigger": [EMAIL, ID], "resolve": []},
        {"trigger": [], "resolve": [EMAIL, ID]},
    ]
    rows = outbox.rows(warehouse)
    assert {r.status for r in rows} == {"delivered"} and len(rows) == 7
    assert max(r.attempts for r in rows) > 1
    assert outbox.open_keys(warehouse) == set()
    # secrets: not in the log, not in the table, not in the console file
    table = json.dumps(warehouse.fetch('SELECT * FROM "SOPHIA_OPS"."KEEL_ALERTS"'), default=str)
    for secret in SECRETS:
        assert secret not in caplog.text
        assert secret not in table
        assert secret not in log.read_text()
    assert "to slack: HTTP 500: error at ***: {" in caplog.text  # the echoed path, redacted


def test_retry_after_is_honoured(warehouse: DuckDBAdapter, tmp_path: Path) -> None:
    clock = FakeClock()
    enqueue_event(warehouse, ALL, "gate", gate("blocked", "b1", "fail", "pass"), now=clock())
    with Peer(200, "ok", [("429", 30.0)]) as slack, Peer(202, "{}") as pd:
        sender = AlertSender(warehouse, sinks(slack, pd, tmp_path / "a.log"), clock)
        sender.run_once()
        assert len(slack.attempts) == 1 and len(pd.delivered) == 1
        clock.advance(29)
        sender.run_once()
        assert len(slack.attempts) == 1  # asked to wait 30 s: not a request earlier
        clock.advance(1)
        sender.run_once()
        sender.close()
    assert len(slack.attempts) == 2 and len(slack.delivered) == 1
    (row,) = [r for r in outbox.rows(warehouse) if r.sink == "slack"]
    assert row.status == "delivered" and row.attempts == 2
    assert row.last_error == "HTTP 429: rate_limited"


def test_a_400_is_failed_without_retry_and_the_next_alert_goes(
    warehouse: DuckDBAdapter, tmp_path: Path
) -> None:
    clock = FakeClock()
    pd_only = Routing(frozenset({"pagerduty"}), "http://keel.test")
    enqueue_event(warehouse, pd_only, "gate", gate("blocked", "b1", "fail", "pass"), now=clock())
    enqueue_event(warehouse, pd_only, "gate", gate("passed", "b2", "pass", "pass"), now=clock())
    with Peer(200, "ok") as slack, Peer(202, "{}", [("status", 400.0)]) as pd:
        sender = AlertSender(warehouse, sinks(slack, pd, tmp_path / "a.log"), clock)
        sender.run_once()
        clock.advance(3600)
        sender.run_once()
        sender.close()
    assert [e["event_action"] for e in pd.attempts] == ["trigger", "resolve"]
    trigger, resolve = outbox.rows(warehouse)
    assert (trigger.status, trigger.attempts) == ("failed", 1)
    assert trigger.last_error is not None and trigger.last_error.startswith("HTTP 400: error at ")
    assert ROUTING_KEY not in trigger.last_error  # the peer echoed it; it was redacted
    assert resolve.status == "delivered"


def test_the_outbox_survives_a_restart(tmp_path: Path) -> None:
    clock = FakeClock()
    path = str(tmp_path / "warehouse.duckdb")
    first = make_ops(DuckDBAdapter(path))
    enqueue_event(first, ALL, "gate", gate("blocked", "b1", "fail", "fail"), now=clock())
    with Peer(200, "ok") as down_slack, Peer(202, "{}") as down_pd:
        gone = sinks(down_slack, down_pd, tmp_path / "a.log")
    # the peers are gone: connection refused; only the console sink delivers
    sender = AlertSender(first, gone, clock, backoff=Backoff(base=1, cap=2))
    for _ in range(3):
        sender.run_once()
        clock.advance(5)
    sender.close()
    assert outbox.pending_counts(first) == {"slack": 1, "pagerduty": 2}
    errors = {r.last_error or "" for r in outbox.rows(first, "pending")} - {""}
    assert errors and all(e.startswith("ConnectError") for e in errors)
    first.close()  # the process ends

    second = DuckDBAdapter(path)
    try:
        with Peer(200, "ok") as slack, Peer(202, "{}") as pd:
            restarted = AlertSender(second, sinks(slack, pd, tmp_path / "a.log"), clock)
            restarted.run_once()
            restarted.close()
        assert len(slack.delivered) == 1 and len(pd.delivered) == 2
        assert len((tmp_path / "a.log").read_text().splitlines()) == 1  # not resent
        assert outbox.pending_counts(second) == {}
    finally:
        second.close()


def test_the_background_loop_delivers_through_an_outage(
    warehouse: DuckDBAdapter, tmp_path: Path
) -> None:
    """start()/stop() with the real clock: tiny backoff, a sink down for a while."""
    enqueue_event(warehouse, ALL, "gate", gate("blocked", "b1", "fail", "fail"))
    slack_script = [("status", 500.0), ("status", 503.0)]
    with Peer(200, "ok", slack_script) as slack, Peer(202, "{}", [("sleep", 0.3)]) as pd:
        sender = AlertSender(
            lambda: warehouse.fork(),
            sinks(slack, pd, tmp_path / "a.log"),
            backoff=Backoff(base=0.02, cap=0.1),
            interval=0.02,
        )
        sender.start()
        try:
            deadline = time.monotonic() + 15
            while (len(slack.delivered), len(pd.delivered)) != (1, 2):
                assert time.monotonic() < deadline, "not delivered in 15 s"
                time.sleep(0.02)
        finally:
            sender.stop(timeout=10)
    assert len(slack.attempts) == 3 and len(pd.attempts) == 3
    assert outbox.pending_counts(warehouse) == {}
    assert not any(t.name == "keel-alerts" for t in threading.enumerate())


def test_notify_and_sender_from_a_project(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    write_project(root)
    with Peer(200, "ok") as slack, Peer(202, "{}") as pd:
        spec = yaml.safe_load((root / "keel.yml").read_text())
        spec["alerts"]["pagerduty"]["events_url"] = pd.url + "/v2/enqueue"
        (root / "keel.yml").write_text(HEADER + dump(spec))
        env = {"SLACK_WEBHOOK_URL": slack.url + HOOK_PATH, "PAGERDUTY_ROUTING_KEY": ROUTING_KEY}
        with Context(root, env=env) as ctx:
            for sql in ctx.adapter.bootstrap_sql():
                ctx.adapter.execute(sql)
            body = (SHARED / "webhook-sync-failed.json").read_bytes()
            event = parse_webhook(body)
            EventStore(ctx.adapter).record(event, "gong", body.decode(), "done")
            notify(ctx, "sync_failed", {"source": "gong", "events": [event.event_id]})
            notify(ctx, "sync_failed", {"source": "gong", "events": [event.event_id]})  # again
            notify(ctx, "gate", gate("blocked", "b1", "fail", "pass"))
            notify(ctx, "sync_succeeded", {"source": "gong", "job_id": "9989"})
            sender = sender_for(ctx, timeout=2.0)
            sender.run_once()
            sender.close()
            stored = json.dumps(
                ctx.adapter.fetch('SELECT * FROM "SOPHIA_OPS"."KEEL_ALERTS"'), default=str
            )
    texts = [m["text"] for m in slack.delivered]
    assert len(texts) == 2
    assert "Gong → Snowflake" in texts[0] and "9988" in texts[0]
    assert "[config_error] Something failed" in texts[0]
    assert texts[1].startswith("keel held back 1 stream(s) of hubspot")
    assert [(e["dedup_key"], e["event_action"]) for e in pd.delivered] == [
        ("gong/_airbyte/sync", "trigger"),
        (EMAIL, "trigger"),
        ("gong/_airbyte/sync", "resolve"),
    ]
    lines = (root / ".keel" / "alerts.log").read_text().splitlines()
    assert [json.loads(x)["kind"] for x in lines] == ["sync_failed", "gate"]
    for secret in SECRETS:
        assert secret not in stored
