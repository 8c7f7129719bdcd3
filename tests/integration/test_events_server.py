"""keel serve over real HTTP on a loopback port, with an injected runner."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
from tests.support.server import ServerThread

from keel.alerts.notify import Details
from keel.context import Context
from keel.events.server import build
from keel.publish.pipeline import RunReport
from keel.quality.model import Batch, SourceReport, StreamReport, StreamStatus

SHARED = Path(__file__).resolve().parents[1] / "fixtures" / "airbyte"  # Airbyte's examples
GONG_ID = "64d901a1-2520-4d91-93c8-9df438668ff0"
TOKEN = "s3cret-token"


def payload(name: str, job_id: int | str, connection_id: str = GONG_ID) -> dict[str, Any]:
    body = json.loads((SHARED / f"webhook-sync-{name}.json").read_text())
    body["data"]["jobId"] = job_id
    body["data"]["connection"]["id"] = connection_id
    if connection_id != GONG_ID:
        body["data"]["connection"]["name"] = f"connection {connection_id}"
    return body


class Recorder:
    def __init__(self, gate: dict[str, threading.Event] | None = None):
        self.calls: list[str] = []
        self.notified: list[tuple[str, Details]] = []
        self.running: dict[str, int] = {}
        self.max_running: dict[str, int] = {}
        self.lock = threading.Lock()
        self.gate = gate or {}

    def run(self, ctx: Context, source: str) -> RunReport:
        with self.lock:
            self.calls.append(source)
            self.running[source] = self.running.get(source, 0) + 1
            self.max_running[source] = max(self.max_running.get(source, 0), self.running[source])
        try:
            if source in self.gate:  # say "started", then wait until every other source started
                self.gate[source].set()
                for other, started in self.gate.items():
                    assert started.wait(10), f"{source} waited for {other} in vain"
            time.sleep(0.05)
            status: StreamStatus = "blocked" if source == "hubspot" else "promoted"
            at = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
            batch = Batch("b1", 7, "promoted", None, at, published=0 if status == "blocked" else 7)
            stream = StreamReport(source, "s", status, batch)
            return RunReport(source, promote=SourceReport(source, [stream]))
        finally:
            with self.lock:
                self.running[source] -= 1

    def notify(self, ctx: Context, kind: str, details: Details) -> None:
        self.notified.append((kind, details))


@pytest.fixture
def served(project: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Recorder]]:
    monkeypatch.setenv("KEEL_WEBHOOK_TOKEN", TOKEN)
    kf = project / "keel.yml"
    kf.write_text(
        kf.read_text().replace(
            "connection_name: Gong → Snowflake",
            f"connection_id: {GONG_ID}\n      connection_name: Gong → Snowflake",
        )
    )
    with Context(project) as ctx:
        ctx.apply()
    yield project, Recorder()


def events(project: Path) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(project / ".keel/warehouse.duckdb"), read_only=True)
    try:
        return con.execute(
            'SELECT "JOB_ID", "SOURCE", "KIND", "STATUS" FROM "SOPHIA_OPS"."KEEL_EVENTS" '
            'ORDER BY "JOB_ID"'
        ).fetchall()
    finally:
        con.close()


def test_webhook_statuses_storage_and_runs(served: tuple[Path, Recorder]) -> None:
    project, rec = served
    app, service, _ = build(project, poll=False, runner=rec.run, notify=rec.notify)
    with ServerThread(app) as srv, httpx.Client(base_url=srv.url, timeout=10) as http:
        hook = f"/hooks/airbyte/{TOKEN}"
        assert http.post("/hooks/airbyte/wrong", json=payload("succeeded", 1)).status_code == 401
        assert http.post(hook, content=b"{not json").status_code == 400
        r = http.post(hook, json={"data": {"connection": {"id": GONG_ID}}})
        assert r.status_code == 400 and "jobId" in r.json()["error"]
        assert http.post(hook, content=b"x" * (1024 * 1024 + 1)).status_code == 413
        assert (
            http.post(hook, json={"text": "Hello World! This is a test from Airbyte."}).json()[
                "status"
            ]
            == "ignored"
        )
        ok = http.post(hook, json=payload("succeeded", 101))
        assert ok.status_code == 202 and ok.json() == {
            "status": "queued",
            "event_id": "airbyte-job-101",
            "source": "gong",
        }
        again = http.post(hook, json=payload("succeeded", 101))
        assert again.status_code == 202 and again.json()["status"] == "duplicate"
        unknown = http.post(hook, json=payload("succeeded", 102, connection_id="nope"))
        assert unknown.json()["status"] == "ignored"
        failed = http.post(hook, json=payload("failed", 103))
        assert failed.status_code == 202
        deadline = time.monotonic() + 10
        while service.queue_depth() and time.monotonic() < deadline:
            time.sleep(0.02)
        metrics = http.get("/metrics").text
        assert http.get("/healthz").json()["status"] == "ok"
        page = http.get("/")
        assert page.status_code == 200 and "gong.calls" in page.text
        assert http.get("/api/catalog").json()[0]["object_type"] == "schema"
    assert rec.calls == ["gong"]
    kinds = sorted(k for k, _ in rec.notified)
    assert kinds == ["gate", "sync_failed", "sync_succeeded"]
    assert ("sync_succeeded", {"source": "gong", "job_id": "101"}) in rec.notified
    assert events(project) == [
        ("101", "gong", "sync_succeeded", "done"),
        ("102", None, "sync_succeeded", "ignored"),
        ("103", "gong", "sync_failed", "done"),
    ]
    assert "keel_events_duplicate_total 1" in metrics
    assert 'keel_events_rejected_total{status="401"} 1' in metrics
    assert 'keel_events_rejected_total{status="413"} 1' in metrics
    assert 'keel_gate_runs_total{result="passed"} 1' in metrics
    assert "keel_publish_rows_total 7" in metrics


def test_one_run_at_a_time_per_source_parallel_across_sources(
    served: tuple[Path, Recorder],
) -> None:
    project, _ = served
    kf = project / "keel.yml"
    kf.write_text(
        kf.read_text().replace("connection_name: HubSpot → Snowflake", "connection_id: hub-1")
    )
    # each source's run waits until the other source's run has started: only parallel runs finish
    rec = Recorder(gate={"gong": threading.Event(), "hubspot": threading.Event()})
    app, service, _ = build(project, poll=False, runner=rec.run, notify=rec.notify)
    with ServerThread(app) as srv, httpx.Client(base_url=srv.url, timeout=10) as http:
        for job in range(10):
            conn = GONG_ID if job % 2 else "hub-1"
            assert (
                http.post(
                    f"/hooks/airbyte/{TOKEN}", json=payload("succeeded", 500 + job, conn)
                ).status_code
                == 202
            )
        deadline = time.monotonic() + 20
        while service.queue_depth() and time.monotonic() < deadline:
            time.sleep(0.02)
    assert rec.max_running == {"gong": 1, "hubspot": 1}
    statuses = {row[0]: row[3] for row in events(project)}
    assert len(statuses) == 10
    assert {statuses[str(500 + j)] for j in range(0, 10, 2)} == {"done"}  # hubspot: blocked, done
    assert set(rec.calls) == {"gong", "hubspot"} and len(rec.calls) <= 10


def test_restart_processes_stored_events_once(served: tuple[Path, Recorder]) -> None:
    project, rec = served
    app, service, _ = build(project, poll=False, runner=rec.run, notify=rec.notify)
    # accepted but never started (the process died before running them)
    for job in (900, 901):
        assert service.accept(json.dumps(payload("succeeded", job)).encode()).status == 202
    service.ctx.close()
    assert [r[3] for r in events(project)] == ["queued", "queued"]
    app, service, _ = build(project, poll=False, runner=rec.run, notify=rec.notify)
    with ServerThread(app):
        deadline = time.monotonic() + 10
        while [r[3] for r in events_live(service)] != [
            "done",
            "done",
        ] and time.monotonic() < deadline:
            time.sleep(0.05)
    assert rec.calls == ["gong"]  # both events coalesced into one run
    assert [r[3] for r in events(project)] == ["done", "done"]


def events_live(service: Any) -> list[tuple[Any, ...]]:
    with service.locked() as a:
        return a.fetch(
            'SELECT "JOB_ID", "SOURCE", "KIND", "STATUS" FROM "SOPHIA_OPS"."KEEL_EVENTS" '
            'ORDER BY "JOB_ID"'
        )


def test_second_process_is_told_the_server_owns_the_file(
    served: tuple[Path, Recorder], keel: Any
) -> None:
    project, rec = served
    app, service, _ = build(project, poll=False, runner=rec.run, notify=rec.notify)
    import subprocess
    import sys

    r = subprocess.run(
        [sys.executable, "-m", "keel", "plan", "--project", str(project)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    service.ctx.close()
    assert r.returncode == 1
    assert "in use" in r.stderr and "keel serve" in r.stderr and "Traceback" not in r.stderr
