"""keel against a live Snowflake account, on a scratch database.

Runs when SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER, SNOWFLAKE_WAREHOUSE, SNOWFLAKE_DATABASE (a
scratch database keel's role owns: see docs/snowflake.md for the bootstrap) and either
SNOWFLAKE_PASSWORD or SNOWFLAKE_PRIVATE_KEY_PATH (+ SNOWFLAKE_PRIVATE_KEY_PASSPHRASE) are set;
skipped with the missing names otherwise. SNOWFLAKE_ROLES_AS / SNOWFLAKE_GRANTS_AS
(e.g. USERADMIN / SECURITYADMIN) are passed on when set.

Covers issue 12's live bullet: apply and audit; then one sync of the HubSpot demo source
landed in HUBSPOT_DATA_RAW (as Airbyte would leave it: the stream's columns plus the
_AIRBYTE_* columns, loaded with keel's role since keel ingest does not write Snowflake),
gated and published by the CLI; then ``keel serve`` answering a webhook for the same
source. Tables it lands are replaced on each run (CREATE OR REPLACE TABLE in the scratch
database's _RAW schema), so reruns start from one sync.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.support.snowflake_landing import land_one_sync

from keel.context import Context
from keel.project.init import write_project

CONNECTION = "live-conn-hubspot"  # the Airbyte connection id the webhook names
REQUIRED = ("SNOWFLAKE_ACCOUNT", "SNOWFLAKE_USER", "SNOWFLAKE_WAREHOUSE", "SNOWFLAKE_DATABASE")
MISSING = [v for v in REQUIRED if not os.environ.get(v)]
if not (os.environ.get("SNOWFLAKE_PASSWORD") or os.environ.get("SNOWFLAKE_PRIVATE_KEY_PATH")):
    MISSING.append("SNOWFLAKE_PASSWORD or SNOWFLAKE_PRIVATE_KEY_PATH")

pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"no live Snowflake account: set {', '.join(MISSING)}"
)


@pytest.fixture
def live_project(tmp_path: Path) -> Path:
    root = tmp_path / "live"
    write_project(root, engine="snowflake")
    spec = yaml.safe_load((root / "keel.yml").read_text())
    wh = spec["warehouse"]
    if not os.environ.get("SNOWFLAKE_PASSWORD"):
        wh.pop("password", None)
        wh["private_key_path"] = "${SNOWFLAKE_PRIVATE_KEY_PATH}"
        if os.environ.get("SNOWFLAKE_PRIVATE_KEY_PASSPHRASE"):
            wh["private_key_passphrase"] = "${SNOWFLAKE_PRIVATE_KEY_PASSPHRASE}"
    for key in ("ROLES_AS", "GRANTS_AS", "ROLE"):
        if os.environ.get(f"SNOWFLAKE_{key}"):
            wh[key.lower()] = os.environ[f"SNOWFLAKE_{key}"]
    spec["sources"]["hubspot"]["airbyte"] = {"connection_id": CONNECTION}
    spec["serve"]["token"] = "${KEEL_WEBHOOK_TOKEN}"
    (root / "keel.yml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return root


def test_apply_converges_and_audit_runs(live_project: Path, keel: Any) -> None:
    r = keel("apply", "--yes", project=live_project)
    assert r.exit_code == 0, r.stdout + r.stderr
    r = keel("plan", "--detailed-exitcode", project=live_project)
    assert r.exit_code == 0, r.stdout
    audit = keel("audit", "--json", project=live_project).json()
    assert audit["engine"] == "snowflake"
    assert not [v for v in audit["violations"] if v["kind"] in ("grant_drift", "grant_missing")]


def test_gate_publish_and_serve_on_a_live_account(
    live_project: Path, tmp_path: Path, keel: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx
    from tests.support.server import ServerThread, wait_until

    from keel.events.server import build

    token = "live-" + os.urandom(6).hex()
    monkeypatch.setenv("KEEL_WEBHOOK_TOKEN", token)
    r = keel("apply", "--yes", project=live_project)
    assert r.exit_code == 0, r.stdout + r.stderr
    with Context(live_project) as live:
        landed = land_one_sync(tmp_path / "local", live.adapter)
    assert landed and all(n > 0 for n in landed.values())
    r = keel("apply", "--yes", project=live_project)  # tags what landed
    assert r.exit_code == 0, r.stdout + r.stderr

    gate = keel("gate", "hubspot", "--json", project=live_project)
    assert gate.exit_code == 0, gate.stdout + gate.stderr
    assert {s["status"] for s in gate.json()["streams"]} <= {"passed", "warned", "empty"}
    promote = keel("promote", "hubspot", "--json", project=live_project)
    assert promote.exit_code == 0, promote.stdout + promote.stderr
    streams = {s["stream"]: s for s in promote.json()["streams"]}
    assert streams["companies"]["status"] == "promoted"
    with Context(live_project) as ctx:
        a = ctx.adapter
        published = a.fetch(f"SELECT count(*) FROM {a.ident('HUBSPOT_DATA', 'COMPANIES')}")
    assert published[0][0] >= landed["COMPANIES"] > 0
    r = keel("audit", "--json", project=live_project)
    assert r.json()["engine"] == "snowflake"

    # keel serve: a webhook for the HubSpot connection is stored, runs the source, is done
    body = json.loads(
        (
            Path(__file__).resolve().parents[1] / "fixtures/airbyte/webhook-sync-succeeded.json"
        ).read_text()
    )
    body["data"]["jobId"] = int.from_bytes(os.urandom(4), "big")
    body["data"]["connection"] = {"id": CONNECTION, "name": "hubspot to warehouse"}
    app, service, _ = build(live_project, poll=False)
    with ServerThread(app) as srv, httpx.Client(base_url=srv.url, timeout=120) as http:
        assert http.get("/healthz").status_code == 200
        posted = http.post(f"/hooks/airbyte/{token}", content=json.dumps(body).encode())
        assert posted.status_code == 202, posted.text
        assert wait_until(lambda: service.queue_depth() == 0, 600)
        batches = http.get("/api/batches").json()
    assert any(b["source"] == "hubspot" and b["stream"] == "companies" for b in batches)
