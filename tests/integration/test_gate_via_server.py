"""keel gate / promote / batches while keel serve owns the warehouse: the commands run
inside the server (.keel/serve.json, a per-start secret), print what they print in
process, and start without duckdb, pydantic, yaml or rich."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
from tests.support.flows import load_raw
from tests.support.server import ServerThread

from keel.events.server import build, listen_on
from keel.publish.batches import list_batches
from keel.quality.gate import gate

TOKEN = "via-server-token"
HEAVY = ("duckdb", "pydantic", "yaml", "rich")


@pytest.fixture
def loaded(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The Sophia project, applied, one sync of every demo source in _RAW; hubspot's
    contacts with two null emails (a blocked batch)."""
    monkeypatch.setenv("KEEL_WEBHOOK_TOKEN", TOKEN)
    monkeypatch.setenv("NO_COLOR", "1")
    return load_raw(project)


class Served:
    def __init__(self, root: Path, service: Any, srv: ServerThread):
        self.root, self.service, self.srv = root, service, srv

    def inside(self, fn: Any, source: str = "hubspot") -> Any:
        """fn(context) on the server's own warehouse connection, as its runs see it."""
        return self.service.run_exclusive(source, fn)

    @property
    def state(self) -> dict[str, Any]:
        return dict(json.loads((self.root / ".keel" / "serve.json").read_text()))


@pytest.fixture
def served(loaded: Path) -> Iterator[Served]:
    app, service, _ = build(loaded, poll=False)
    srv = ServerThread(app)
    listen_on(app, "127.0.0.1", srv.port)
    with srv:
        yield Served(loaded, service, srv)
    assert not (loaded / ".keel" / "serve.json").exists()  # removed on a clean shutdown


def keel(root: Path, *args: str, importtime: bool = False) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, *(["-X", "importtime"] if importtime else []), "-m", "keel", *args]
    return subprocess.run(
        [*cmd, "--project", str(root)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"},
        timeout=120,
    )


def roundtrip(data: Any) -> Any:
    return json.loads(json.dumps(data, default=str))


def settled(report: dict[str, Any]) -> dict[str, Any]:
    """The report without what differs between two gates a moment apart: each check's
    sample rows sorted (the sample query's UNION ALL runs in parallel), the age in a
    freshness message."""
    for s in report.get("streams", []):
        for c in s["checks"]:
            c["message"] = re.sub(r"\d+ seconds old", "N seconds old", c["message"] or "")
        s["samples"] = {
            k: sorted(rows, key=lambda r: json.dumps(r, sort_keys=True))
            for k, rows in s["samples"].items()
        }
    return report


def test_serve_json_is_private_and_holds_the_address(served: Served) -> None:
    path = served.root / ".keel" / "serve.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    state = served.state
    assert state["pid"] == os.getpid() and state["port"] == served.srv.port
    assert len(state["secret"]) >= 32


def test_gate_runs_in_the_server_and_prints_its_report(served: Served) -> None:
    done = keel(served.root, "gate", "hubspot", "--json")
    assert done.returncode == 1, done.stderr  # blocked
    data = json.loads(done.stdout)
    expected = roundtrip(served.inside(lambda c: gate(c.project, c.adapter, "hubspot").to_dict()))
    assert settled(data) == settled(expected)
    contacts = next(s for s in data["streams"] if s["stream"] == "contacts")
    assert contacts["status"] == "blocked"
    failing = [(c["name"], c["column"], c["failing_rows"]) for c in contacts["checks"]]
    assert ("not_null", "email", 2) in failing
    assert "blocked" not in data and "ok" not in data  # the in-process shape

    passing = keel(served.root, "gate", "gong", "--json")
    assert passing.returncode == 0, passing.stderr
    assert {s["status"] for s in json.loads(passing.stdout)["streams"]} <= {"passed", "empty"}


def test_human_output_matches_the_in_process_command(served: Served) -> None:
    via_server = keel(served.root, "gate", "hubspot")
    assert via_server.returncode == 1
    assert "gate: blocked: hubspot.contacts" in via_server.stderr
    assert "not_null" in via_server.stdout
    served.srv.__exit__(None, None, None)  # stop: the command now opens the warehouse itself
    in_process = keel(served.root, "gate", "hubspot")
    assert in_process.returncode == 1

    # the same tables, row for row (sample rows may come in another order: see settled)
    def lines(text: str) -> list[str]:
        return sorted(re.sub(r"\d+ seconds old", "N seconds old", text).splitlines())

    assert lines(via_server.stdout) == lines(in_process.stdout)


def test_promote_through_the_server_publishes(served: Served) -> None:
    done = keel(served.root, "promote", "gong", "--json", "--no-transform")
    assert done.returncode == 0, done.stderr
    streams = json.loads(done.stdout)["streams"]
    assert streams and all(s["status"] in ("promoted", "empty") for s in streams)
    published = sum(int(s["batch"]["published_rows"] or 0) for s in streams)
    assert published > 0

    blocked = keel(served.root, "promote", "hubspot", "--json", "--no-transform")
    assert blocked.returncode == 1
    forced = keel(
        served.root, "promote", "hubspot.contacts", "--force", "--reason", "known nulls", "--json"
    )
    assert forced.returncode == 0, forced.stderr
    batch = json.loads(forced.stdout)["streams"][0]["batch"]
    assert batch["status"] == "forced" and batch["reason"] == "known nulls"

    batches = keel(served.root, "batches", "hubspot", "--json")
    assert batches.returncode == 0, batches.stderr
    expected = served.inside(lambda c: list_batches(c.project, c.adapter, "hubspot"))
    assert json.loads(batches.stdout) == roundtrip(expected)
    assert "forced" in {b["status"] for b in json.loads(batches.stdout)}

    served.srv.__exit__(None, None, None)
    con = duckdb.connect(str(served.root / ".keel/warehouse.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM GONG_DATA.CALLS").fetchall()[0][0] > 0
    finally:
        con.close()


def test_a_bad_target_is_one_clear_error(served: Served) -> None:
    done = keel(served.root, "gate", "nosuch", "--json")
    assert done.returncode == 1
    assert "nosuch" in json.loads(done.stdout)["error"]


def test_the_local_api_needs_the_secret(served: Served) -> None:
    secret = served.state["secret"]
    with httpx.Client(base_url=served.srv.url, timeout=60) as http:
        assert http.post("/api/gate/hubspot").status_code == 401
        wrong = {"Authorization": "Bearer not-the-secret"}
        assert http.post("/api/gate/hubspot", headers=wrong).status_code == 401
        assert http.post("/api/promote/gong", headers=wrong, json={}).status_code == 401
        assert http.get("/api/batches?full=1", headers=wrong).status_code == 401
        ok = http.post("/api/gate/hubspot", headers={"Authorization": f"Bearer {secret}"})
        assert ok.status_code == 200 and ok.json()["blocked"] is True
        bad = http.post("/api/gate/nosuch", headers={"Authorization": f"Bearer {secret}"})
        assert bad.status_code == 400 and "nosuch" in bad.json()["error"]

    path = served.root / ".keel" / "serve.json"
    path.write_text(json.dumps({**served.state, "secret": "tampered"}))
    done = keel(served.root, "gate", "hubspot")
    assert done.returncode == 1
    assert "refused the local API secret" in done.stderr
    assert secret not in done.stdout + done.stderr and "tampered" not in done.stderr
    path.write_text(json.dumps({**served.state, "secret": secret}))  # for the clean shutdown


def test_a_stale_serve_json_is_removed_and_the_command_runs_in_process(loaded: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    path = loaded / ".keel" / "serve.json"
    path.write_text(json.dumps({"pid": dead.pid, "host": "127.0.0.1", "port": 9, "secret": "x"}))
    done = keel(loaded, "gate", "hubspot", "--json")
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["source"] == "hubspot"
    assert not path.exists()

    # a live pid (this one) but nobody on the port: ignored and removed as well
    path.write_text(json.dumps({"pid": os.getpid(), "host": "127.0.0.1", "port": 9, "secret": "x"}))
    done = keel(loaded, "gate", "gong", "--json")
    assert done.returncode == 0, done.stderr
    assert not path.exists()


def test_the_fast_path_imports_no_heavy_library(served: Served) -> None:
    done = keel(served.root, "gate", "hubspot", "--json", importtime=True)
    assert done.returncode == 1
    assert json.loads(done.stdout)["source"] == "hubspot"
    imported = {
        line.split("|")[-1].strip().split(".")[0]
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "keel" in imported
    assert not imported & set(HEAVY), imported & set(HEAVY)
