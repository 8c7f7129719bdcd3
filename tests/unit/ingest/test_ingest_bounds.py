"""Connector runs are bounded (time per verb, no-progress on read, the process group
killed) and what a connector says is redacted of its config's secrets (issue 11)."""

from __future__ import annotations

import dataclasses
import os
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from airbyte_protocol.models import AirbyteCatalog
from ingest_fakes import catalog_message

from keel.errors import IngestError
from keel.ingest.catalog import configure_catalog
from keel.ingest.guard import Redactor, Timeouts
from keel.ingest.protocol import Connector

SECRET = "pa55-w0rd-ABCDEF"
TOKEN = "tok_live_0123456789"

# A hostile source: config[verb] says how it misbehaves.
HOSTILE = textwrap.dedent(
    """
    import json, os, subprocess, sys, time
    args = sys.argv[1:]
    verb, opts = args[0], dict(zip(args[1::2], args[2::2]))
    config = json.load(open(opts["--config"])) if "--config" in opts else {"spec": {"hang": "x"}}
    plan = config.get(verb, {})
    if plan.get("hang"):  # a child that outlives nothing: it must die with the group
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        open(plan["hang"], "w").write(str(child.pid))
        time.sleep(600)
    for n in range(plan.get("records", 0)):
        rec = {"type": "RECORD", "record": {"stream": "s", "data": {"id": n}, "emitted_at": 0}}
        print(json.dumps(rec), flush=True)
    if plan.get("stall"):
        time.sleep(600)
    if plan.get("echo"):
        secret, token = config["password"], config["nested"]["token"]
        sys.stderr.write(f"connecting with password={secret} token={token}\\n")
        log = {"type": "LOG", "log": {"level": "ERROR", "message": f"auth {secret} failed"}}
        print(json.dumps(log), flush=True)
        print(f"debug: config is {json.dumps(config)}", flush=True)
        trace = {"type": "TRACE", "trace": {"type": "ERROR", "emitted_at": 0, "error": {
            "message": f"401 for token {token}", "failure_type": "config_error"}}}
        print(json.dumps(trace), flush=True)
        sys.exit(1)
    """
)


@pytest.fixture
def hostile(tmp_path: Path) -> list[str]:
    script = tmp_path / "hostile_source.py"
    script.write_text(HOSTILE)
    return [sys.executable, str(script)]


def _catalog() -> Any:
    found = catalog_message({"s": {"id": {"type": "integer"}}})["catalog"]
    return configure_catalog(AirbyteCatalog.model_validate(found))


class Sink:
    def __init__(self) -> None:
        self.records: list[Any] = []

    def record(
        self, stream: str, data: dict[str, Any], emitted_at: Any = None, meta: Any = None
    ) -> None:
        self.records.append(data)

    def state(self, stream: str | None, message: dict[str, Any]) -> None:
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purpose
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_a_hanging_discover_is_stopped_with_its_children(
    hostile: list[str], tmp_path: Path
) -> None:
    pidfile = tmp_path / "child.pid"
    connector = Connector(hostile, name="source x", timeouts=Timeouts(discover=1.5))
    started = time.monotonic()
    with pytest.raises(IngestError, match=r"source x discover did not finish within 1.5s"):
        connector.discover({"discover": {"hang": str(pidfile)}})
    assert time.monotonic() - started < 30
    child = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)


def test_a_read_without_progress_is_stopped_after_its_records(hostile: list[str]) -> None:
    connector = Connector(hostile, name="source x", timeouts=Timeouts(read_idle=1.0))
    sink = Sink()
    with pytest.raises(IngestError, match=r"read made no progress \(no output\) for 1s"):
        connector.read({"read": {"records": 3, "stall": True}}, _catalog(), None, sink)
    assert sink.records == [{"id": 0}, {"id": 1}, {"id": 2}]


def test_secrets_in_stderr_logs_and_traces_are_redacted(hostile: list[str]) -> None:
    logs: list[tuple[str, str]] = []
    connector = Connector(hostile, name="source x", on_log=lambda lvl, m: logs.append((lvl, m)))
    config = {"password": SECRET, "nested": {"token": TOKEN}, "read": {"echo": True}}
    with pytest.raises(IngestError) as info:
        connector.read(config, _catalog(), None, Sink())
    text = info.value.message + "\n" + "\n".join(m for _, m in logs)
    assert SECRET not in text and TOKEN not in text
    assert "401 for token ***" in info.value.message
    assert ("ERROR", "auth *** failed") in logs


def test_redactor_masks_secret_keys_and_token_like_values() -> None:
    config = {"host": "db.example.com", "b": [{"api_key": 'q"uo\\te'}], "n": 5, "id": TOKEN}
    redact = Redactor(config)
    text = f'{TOKEN} and q"uo\\te at db.example.com'
    assert redact(text) == "*** and *** at db.example.com"
    assert Timeouts.of({"read_idle": 5, "other": 1}).read_idle == 5


def test_timeouts_are_set_per_source_in_keel_yml(tmp_path: Path) -> None:
    import yaml

    from keel.errors import ProjectError
    from keel.project.init import write_project
    from keel.project.loader import load_project

    root = tmp_path / "proj"
    write_project(root)
    doc = yaml.safe_load((root / "keel.yml").read_text())
    doc["sources"]["gong"]["timeouts"] = {"read_idle": 30, "discover": 60}
    (root / "keel.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
    timeouts = load_project(root).sources["gong"].timeouts
    assert Timeouts.of(dataclasses.asdict(timeouts)) == Timeouts(
        spec=300, check=300, discover=60, read=86400, read_idle=30
    )
    doc["sources"]["gong"]["timeouts"] = {"read_idle": 0}
    (root / "keel.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
    with pytest.raises(ProjectError, match=r"keel.yml:\d+: .*read_idle"):
        load_project(root)
