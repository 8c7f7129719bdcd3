"""The jobs poller against the local Airbyte API, inside a running keel serve: every
connection of every source of the default project (found by name, or by namespace),
succeeded, failed and cancelled jobs, 250 jobs across pages, one connection's error
isolated, nothing submitted twice (webhook or poll)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
from tests.support.airbyte_api import FakeAirbyte
from tests.support.airbyte_world import CLIENT_ID, CLIENT_SECRET, nonstandard_world
from tests.support.server import ServerThread

from keel.airbyte.client import AirbyteClient
from keel.airbyte.connections import build as build_plan
from keel.airbyte.connections import write_status
from keel.context import Context
from keel.events.poller import JobPoller
from keel.events.server import build
from keel.project.models import AirbyteApi
from keel.publish.pipeline import RunReport
from keel.quality.model import SourceReport

TOKEN = "poll-hook-token"


class Recorder:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.notified: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()

    def run(self, ctx: Context, source: str) -> RunReport:
        with self.lock:
            self.calls.append(source)
        return RunReport(source, promote=SourceReport(source))

    def notify(self, ctx: Context, kind: str, details: dict[str, Any]) -> None:
        with self.lock:
            self.notified.append((kind, details))


def events(project: Path) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(project / ".keel/warehouse.duckdb"), read_only=True)
    try:
        return con.execute(
            'SELECT "JOB_ID", "SOURCE", "KIND", "STATUS" FROM "SOPHIA_OPS"."KEEL_EVENTS"'
        ).fetchall()
    finally:
        con.close()


@pytest.fixture
def served(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KEEL_WEBHOOK_TOKEN", TOKEN)
    kf = project / "keel.yml"  # slack keeps no name: found by its namespace / source name
    kf.write_text(
        kf.read_text().replace("connection_name: Slack → Snowflake", "connection_id: null")
    )
    with Context(project) as ctx:
        ctx.apply()
    return project


def test_poller_covers_every_source_pages_and_isolates_errors(served: Path) -> None:
    fake = FakeAirbyte()
    ids = nonstandard_world(fake)
    gong = [fake.job(ids["gong"], "failed" if i % 100 == 7 else "succeeded") for i in range(248)]
    cancelled = fake.job(ids["gong"], "cancelled")
    running = fake.job(ids["gong"], "running")
    hub_failed = fake.job(ids["hubspot"], "failed")
    slack_ok = fake.job(ids["slack"], "succeeded")
    rec = Recorder()
    app, service, _ = build(served, poll=False, runner=rec.run, notify=rec.notify)
    spec = AirbyteApi(workspace_id=ids["workspace"], client_id=CLIENT_ID,
                      client_secret=CLIENT_SECRET, retries=1)  # fmt: skip
    client = AirbyteClient(spec, transport=httpx.MockTransport(fake), sleep=lambda s: None)
    poller = JobPoller(service, spec, client, lookback_hours=None)
    plan, resolution = build_plan(service.ctx.project, client)  # what `keel airbyte plan` saves
    write_status(served, plan, resolution)
    with ServerThread(app) as srv, httpx.Client(base_url=srv.url, timeout=10) as http:
        # the first connection polled (gong) answers 500 twice (one retry): only it fails
        fake.faults.append(("GET", "/v1/jobs", 500))
        fake.faults.append(("GET", "/v1/jobs", 500))
        report = poller.poll_once()
        assert report.polled == {
            "gong": "Gong → Snowflake", "hubspot": "HubSpot → Snowflake",
            "netsuite": "NetSuite → Snowflake", "slack": "Slack → Snowflake",
        }  # fmt: skip
        assert list(report.errors) == ["gong"]  # polled first (sorted); the others went on
        assert "jobs of connection Gong → Snowflake: HTTP 500" in report.errors["gong"]
        assert sorted(report.submitted) == sorted([str(hub_failed), str(slack_ok)])
        report = poller.poll_once()  # gong recovers; 250 jobs over three pages of 100
        assert report.errors == {} and report.partial == []
        assert len(report.submitted) == 249 and str(running) not in report.submitted
        pages = [q for m, p, q in fake.log if p == "/v1/jobs"]
        assert len(pages) >= 3
        assert poller.poll_once().submitted == []  # nothing twice
        dup = http.post(f"/hooks/airbyte/{TOKEN}", json={"data": {
            "jobId": gong[0], "success": True, "connection": {"id": ids["gong"], "name": "Gong → Snowflake"}}})  # fmt: skip
        assert dup.json()["status"] == "duplicate"
        # a webhook naming the connection as Airbyte does finds the default project's source
        named = http.post(f"/hooks/airbyte/{TOKEN}", json={"data": {
            "jobId": 5, "success": True, "connection": {"id": ids["netsuite"], "name": "NetSuite → Snowflake"}}})  # fmt: skip
        assert named.json() == {
            "status": "queued",
            "event_id": "airbyte-job-5",
            "source": "netsuite",
        }
        deadline = time.monotonic() + 20
        while service.queue_depth() and time.monotonic() < deadline:
            time.sleep(0.02)
        conns = {c["source"]: c for c in http.get("/api/status").json()["connections"]}
        assert conns["gong"]["standard"] == "differs" and conns["gong"]["differences"] == [
            "namespace destination -> custom_format/GONG_DATA_RAW"
        ]
        assert conns["gong"]["last_sync"]["job_id"] in {str(j) for j in [*gong, cancelled]}
        assert conns["hubspot"]["last_sync"]["outcome"] == "failed"
        assert conns["slack"]["connection"] == "Slack → Snowflake"
        page = http.get("/").text
        assert "<h2>Airbyte connections</h2>" in page and "NetSuite → Snowflake" in page
    rows = events(served)
    by_kind: dict[tuple[str, str], int] = {}
    for _, source, kind, status in rows:
        assert status == "done"
        by_kind[(source, kind)] = by_kind.get((source, kind), 0) + 1
    assert by_kind == {
        ("gong", "sync_succeeded"): 245, ("gong", "sync_failed"): 4,
        ("hubspot", "sync_failed"): 1, ("slack", "sync_succeeded"): 1,
        ("netsuite", "sync_succeeded"): 1,
    }  # fmt: skip
    assert (str(cancelled), "gong", "sync_failed", "done") in rows
    assert sorted(set(rec.calls)) == ["gong", "netsuite", "slack"]  # runs only for succeeded syncs
    failed_alerts = [d for k, d in rec.notified if k == "sync_failed"]
    assert {d["source"] for d in failed_alerts} == {"gong", "hubspot"}
    stored = json.dumps([d for d in failed_alerts if d["source"] == "hubspot"])
    assert "airbyte-job-" + str(hub_failed) in stored


def test_text_only_notifications_are_stored_alerted_or_shown_never_dropped(served: Path) -> None:
    rec = Recorder()
    app, service, _ = build(served, poll=False, runner=rec.run, notify=rec.notify)
    link = "https://airbyte.example.test/workspaces/w1/connections/0b6e9d7c-1f2a-4c55-9a1e-3c2d1e0f9a88"
    hook = f"/hooks/airbyte/{TOKEN}"
    with ServerThread(app) as srv, httpx.Client(base_url=srv.url, timeout=10) as http:
        legacy = http.post(hook, json={"text": "Your connection Gong → Snowflake from Gong to "
                                       f"Snowflake just failed...\n{link}\n\nJob ID: 31"})  # fmt: skip
        assert legacy.json() == {"status": "queued", "event_id": "airbyte-job-31", "source": "gong"}
        disabled = http.post(hook, json={"text": "Your connection HubSpot → Snowflake from HubSpot "
                                         f"to Snowflake was automatically disabled. {link}"})  # fmt: skip
        assert disabled.json()["status"] == "queued" and disabled.json()["source"] == "hubspot"
        started = http.post(hook, json={"text": "Your connection NetSuite → Snowflake from "
                                        f"NetSuite to Snowflake started a sync. Job ID: 32 {link}"})  # fmt: skip
        assert started.json()["event_id"] == "airbyte-sync_started-32"
        odd = http.post(hook, json={"text": "Something new from Airbyte", "blocks": []})
        assert odd.json()["status"] == "ignored"  # no source to run, but stored and shown
        deadline = time.monotonic() + 20
        while service.queue_depth() and time.monotonic() < deadline:
            time.sleep(0.02)
        shown = http.get("/api/status").json()["events"]
        assert {e["kind"] for e in shown} >= {
            "sync_failed",
            "connection_disabled",
            "sync_started",
            "notice",
        }
    assert rec.calls == []  # none of these is a successful sync: nothing gated
    kinds = sorted(d["source"] for k, d in rec.notified if k == "sync_failed")
    assert kinds == ["gong", "hubspot"]
    stored = {(j, s, k, st) for j, s, k, st in events(served)}
    assert ("32", "netsuite", "sync_started", "done") in stored
    assert ("notice", None, "notice", "ignored") in stored
