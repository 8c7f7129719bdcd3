"""keel serve with the real gate: webhook -> stored event -> gate -> published rows; a
status page in headless Chromium; a server killed with events queued, restarted."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
from tests.support.flows import load_raw
from tests.support.server import ServerThread, free_port, healthz, wait_until

from keel.events.server import build

SHARED = Path(__file__).resolve().parents[1] / "fixtures" / "airbyte"  # Airbyte's examples
TOKEN = "flow-token"
IDS = {s: f"conn-{s}" for s in ("gong", "hubspot", "slack", "netsuite")}


def payload(source: str, job: int, kind: str = "succeeded") -> bytes:
    body = json.loads((SHARED / f"webhook-sync-{kind}.json").read_text())
    body["data"]["jobId"] = job
    body["data"]["connection"] = {"id": IDS[source], "name": f"{source} to warehouse"}
    return json.dumps(body).encode()


@pytest.fixture
def loaded(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The Sophia project, applied, with one sync of every demo source in _RAW (as Airbyte
    would have left it) and connection ids in keel.yml."""
    monkeypatch.setenv("KEEL_WEBHOOK_TOKEN", TOKEN)
    return load_raw(project, IDS)


def rows(project: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(project / ".keel/warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_webhook_runs_the_gate_and_publishes(loaded: Path) -> None:
    app, service, _ = build(loaded, poll=False)
    with ServerThread(app) as srv, httpx.Client(base_url=srv.url, timeout=30) as http:
        for job, source in enumerate(["gong", "hubspot"], start=1):
            r = http.post(f"/hooks/airbyte/{TOKEN}", content=payload(source, job))
            assert r.status_code == 202 and r.json()["status"] == "queued"
        assert wait_until(lambda: service.queue_depth() == 0, 60)
        page = http.get("/").text
        batches = http.get("/api/batches").json()
        metrics = http.get("/metrics").text
    assert rows(
        loaded, 'SELECT "JOB_ID", "STATUS", "ERROR" FROM "SOPHIA_OPS"."KEEL_EVENTS" ORDER BY 1'
    ) == [("1", "done", None), ("2", "done", "blocked")]
    gong_raw = rows(loaded, "SELECT count(*) FROM GONG_DATA_RAW.CALLS")[0][0]
    assert rows(loaded, "SELECT count(*) FROM GONG_DATA.CALLS")[0][0] == gong_raw
    # both hubspot syncs were pending and the second carries nulls: nothing of contacts leaves RAW
    assert rows(
        loaded,
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'HUBSPOT_DATA' "
        "AND table_name = 'CONTACTS'",
    ) == [(0,)]
    contacts = {(b["stream"], b["status"]) for b in batches if b["source"] == "hubspot"}
    assert ("contacts", "blocked") in contacts and ("companies", "promoted") in contacts
    assert "hubspot.contacts" in page and "not_null" in page
    assert 'keel_gate_runs_total{result="blocked"} 1' in metrics
    assert 'keel_gate_runs_total{result="passed"} 1' in metrics
    # the blocked run queued alerts in the outbox (and the console sink delivered them)
    kinds = {r[0] for r in rows(loaded, 'SELECT "SINK" FROM "SOPHIA_OPS"."KEEL_ALERTS"')}
    assert "console" in kinds


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_status_page_in_headless_chromium(loaded: Path, tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed (make test installs it on Debian)")
        pytest.skip("chromium is not installed (make test installs it on Debian)")
    app, service, _ = build(loaded, poll=False)
    with ServerThread(app) as srv:
        with httpx.Client(base_url=srv.url, timeout=30) as http:
            assert (
                http.post(f"/hooks/airbyte/{TOKEN}", content=payload("hubspot", 7)).status_code
                == 202
            )
        assert wait_until(lambda: service.queue_depth() == 0, 60)
        shot = tmp_path / "status.png"
        flags = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1280,1600",
        ]
        dom = subprocess.run(
            [browser, *flags, "--dump-dom", srv.url + "/"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        subprocess.run(
            [browser, *flags, f"--screenshot={shot}", srv.url + "/"],
            capture_output=True,
            timeout=120,
        )
    assert "hubspot.contacts" in dom.stdout
    row = dom.stdout.split('id="hubspot.contacts"', 1)[1].split("</tr>", 1)[0]
    assert "blocked" in row and "not_null" in row and "2 rows" in row and "email=null" in row
    assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_killed_server_processes_queued_events_once_after_restart(
    loaded: Path, tmp_path: Path
) -> None:
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    cmd = [
        sys.executable,
        "-m",
        "keel",
        "serve",
        "--no-poll",
        "--port",
        str(port),
        "--project",
        str(loaded),
    ]
    env = {**os.environ, "KEEL_WEBHOOK_TOKEN": TOKEN}
    server = subprocess.Popen(cmd, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_until(lambda: bool(healthz(url)), 60), (tmp_path / "serve.log").read_text()
        with httpx.Client(base_url=url, timeout=30) as http:
            for job in range(40):
                source = list(IDS)[job % 4]
                assert (
                    http.post(
                        f"/hooks/airbyte/{TOKEN}", content=payload(source, 100 + job)
                    ).status_code
                    == 202
                )
        server.send_signal(signal.SIGKILL)  # with runs queued or under way
        server.wait(30)
        stored = rows(loaded, 'SELECT count(*) FROM "SOPHIA_OPS"."KEEL_EVENTS"')[0][0]
        assert stored == 40  # every accepted event was stored before its 202
        server = subprocess.Popen(cmd, env=env, stdout=log, stderr=log)
        assert wait_until(lambda: bool(healthz(url)), 60), (tmp_path / "serve.log").read_text()
        assert wait_until(lambda: healthz(url).get("queue_depth") == 0, 120)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)
        log.close()
    statuses = rows(loaded, 'SELECT "STATUS", count(*) FROM "SOPHIA_OPS"."KEEL_EVENTS" GROUP BY 1')
    assert dict(statuses) == {"done": 40}
    for table in (
        "GONG_DATA.CALLS",
        "SLACK_DATA.MESSAGES",
        "NETSUITE_DATA.INVOICES",
        "HUBSPOT_DATA.COMPANIES",
    ):
        total, distinct = rows(loaded, f"SELECT count(*), count(DISTINCT ID) FROM {table}")[0]
        assert total == distinct > 0  # published once: no key twice
