"""``trigger: changes``: keel serve publishes a source that sends no webhook, as rows land."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from tests.support.flows import load_raw
from tests.support.server import ServerThread, wait_until

from keel.events.server import build

TOKEN = "changes-token"


@pytest.fixture
def loaded(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KEEL_WEBHOOK_TOKEN", TOKEN)
    load_raw(project)
    doc = yaml.safe_load((project / "keel.yml").read_text())
    doc["sources"]["hubspot"]["trigger"] = "changes"
    doc["sources"]["hubspot"]["changes"] = {"quiet": 0.2, "max_wait": 5, "probe_every": 0.2}
    (project / "keel.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return project


def _count(service: Any, sql: str) -> int:
    with service.locked() as a:
        return int(a.fetch(sql)[0][0])


def test_rows_landing_are_published_without_a_webhook(loaded: Path) -> None:
    app, service, _ = build(loaded, poll=False)
    promoted = 'SELECT count(*) FROM "HUBSPOT_DATA"."COMPANIES"'
    with ServerThread(app) as srv:
        # what landed before keel serve started is pending: the first probe sees it
        assert wait_until(lambda: service.last_outcome.get("hubspot") is not None, 30)
        before = _count(service, promoted)
        assert before > 0
        assert service.watcher is not None and service.watcher.runs[0] == ("hubspot", "changes")
        with service.locked() as a:
            a.execute(
                'INSERT INTO "HUBSPOT_DATA_RAW"."COMPANIES" SELECT * REPLACE ('
                '\'new-\' || "ID" AS "ID", \'raw-new-\' || "_AIRBYTE_RAW_ID" AS '
                f'"_AIRBYTE_RAW_ID", {a.lit(dt.datetime.now(dt.UTC))} AS "_AIRBYTE_EXTRACTED_AT")'
                ' FROM "HUBSPOT_DATA_RAW"."COMPANIES" LIMIT 5'
            )
        assert wait_until(lambda: _count(service, promoted) == before + 5, 30)
        # freshness as a figure: one observation per published batch, per stream
        text = httpx.get(f"{srv.url}/metrics", timeout=10).text
    samples = {
        (s.name, s.labels.get("stream"), s.labels.get("le")): s.value
        for family in text_string_to_metric_families(text)
        if family.name == "keel_commit_to_publish_seconds"
        for s in family.samples
    }
    assert samples[("keel_commit_to_publish_seconds_count", "companies", None)] == 2
    assert ("keel_commit_to_publish_seconds_count", "contacts", None) not in samples  # blocked
    assert samples[("keel_commit_to_publish_seconds_bucket", "companies", "+Inf")] == 2
    # gong (trigger: webhook) was never run: its fallback is 15 minutes away
    assert "gong" not in service.last_outcome
