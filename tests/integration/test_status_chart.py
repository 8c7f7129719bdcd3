"""The status page draws each stream's recent batches (rows, verdict, freshness) as a
small chart a person reads at a glance; checked in headless Chromium (the DOM it built)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from tests.support.flows import load_raw
from tests.support.server import ServerThread

from keel.context import Context
from keel.events.server import build

TOKEN = "chart-token"


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_each_stream_shows_its_recent_batches(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed (make test installs it on Debian)")
        pytest.skip("chromium is not installed (make test installs it on Debian)")
    monkeypatch.setenv("KEEL_WEBHOOK_TOKEN", TOKEN)
    load_raw(project)
    with Context(project) as ctx:
        ctx.promote("hubspot")  # companies promoted, contacts blocked (two null emails)
        ctx.ingest(["hubspot"])  # another sync: a second batch of each stream
        ctx.promote("hubspot")
    app, _service, _ = build(project, poll=False)
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    with ServerThread(app) as srv:
        dom = subprocess.run(
            [browser, *flags, "--dump-dom", srv.url + "/"],
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
    bars = {}
    for stream in ("companies", "contacts"):
        chart = dom.split(f'id="chart-hubspot.{stream}"', 1)[1].split("</svg>", 1)[0]
        bars[stream] = re.findall(r'data-status="(\w+)" data-rows="(\d+)"', chart)
        tips = re.findall(r"<title>([^<]+)</title>", chart)
        assert tips and all(" rows · freshness " in t for t in tips), tips
    # companies published twice; contacts blocked twice (its null emails stay pending)
    assert [s for s, _ in bars["companies"]] == ["promoted", "promoted"]
    assert [s for s, _ in bars["contacts"]] == ["blocked", "blocked"]
    assert all(int(rows) > 0 for b in bars.values() for _, rows in b)
    assert 'aria-label="recent batches of hubspot.contacts"' in dom
