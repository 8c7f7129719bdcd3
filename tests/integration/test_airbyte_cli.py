"""``keel airbyte plan|apply|sync|versions`` over HTTP against the local Airbyte API
(served on 127.0.0.1), with the default project from ``keel init``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.airbyte_api import FakeAirbyte
from tests.support.airbyte_world import CLIENT_ID, CLIENT_SECRET, nonstandard_world
from tests.support.server import ServerThread

TOKEN = "cli-hook-token"


@pytest.fixture
def airbyte(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[FakeAirbyte, dict[str, Any]]]:
    fake = FakeAirbyte()
    ids = nonstandard_world(fake)
    monkeypatch.setenv("KEEL_WEBHOOK_TOKEN", TOKEN)
    monkeypatch.setenv("AIRBYTE_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("AIRBYTE_CLIENT_SECRET", CLIENT_SECRET)
    with ServerThread(fake.asgi()) as server:
        with (project / "keel.yml").open("a", encoding="utf-8") as f:
            f.write(
                "airbyte:\n"
                f"  api_url: {server.url}/v1\n"
                f"  workspace_id: {ids['workspace']}\n"
                "  client_id: ${AIRBYTE_CLIENT_ID}\n"
                "  client_secret: ${AIRBYTE_CLIENT_SECRET}\n"
                "  retries: 1\n"
            )
        yield fake, ids


def test_plan_apply_plan_through_the_cli(
    keel: Callable[..., Any], project: Path, airbyte: tuple[FakeAirbyte, dict[str, Any]]
) -> None:
    fake, ids = airbyte
    r = keel("airbyte", "plan", project=project)
    assert r.exit_code == 0, r.stderr
    assert "~ connection Gong → Snowflake" in r.stdout
    assert "namespace destination -> custom_format/GONG_DATA_RAW" in r.stdout
    assert "PATCH /connections/" + ids["slack"] in r.stdout
    assert "<KEEL_WEBHOOK_TOKEN>" in r.stdout and TOKEN not in r.stdout + r.stderr
    assert "6 change(s)" in r.stdout
    r = keel("airbyte", "apply", "--yes", "--json", project=project)
    assert r.exit_code == 0, r.stderr
    out = r.json()
    assert out["ok"] is True and len(out["applied"]) == 6 and out["failed"] == []
    r = keel("airbyte", "plan", "--json", project=project)
    assert r.json()["changes"] == []
    r = keel("airbyte", "plan", project=project)
    assert "Airbyte connections meet the standard: nothing to change" in r.stdout


def test_apply_with_a_locked_connection_exits_1_and_says_what_was_applied(
    keel: Callable[..., Any], project: Path, airbyte: tuple[FakeAirbyte, dict[str, Any]]
) -> None:
    fake, ids = airbyte
    fake.connections[ids["gong"]]["status"] = "locked"
    r = keel("airbyte", "apply", "--yes", project=project)
    assert r.exit_code == 1
    assert (
        "error: 1 change(s) refused (applied: workspace Sophia, destination Snowflake," in r.stderr
    )
    assert (
        "connection Gong → Snowflake: airbyte: connection Gong → Snowflake: the connection is locked"
        in r.stderr
    )
    assert "Traceback" not in r.stderr


def test_sync_triggers_a_job_and_waits_for_its_outcome(
    keel: Callable[..., Any], project: Path, airbyte: tuple[FakeAirbyte, dict[str, Any]]
) -> None:
    fake, ids = airbyte
    r = keel("airbyte", "sync", "hubspot", "--interval", "0", "--json", project=project)
    assert r.exit_code == 0, r.stderr
    out = r.json()
    assert out["status"] == "succeeded" and out["connection"] == "HubSpot → Snowflake"
    assert out["rowsSynced"] == 42
    posted = [b for m, p, b in fake.log if m == "POST" and p == "/v1/jobs"]
    assert posted == [{"connectionId": ids["hubspot"], "jobType": "sync"}]
    r = keel("airbyte", "sync", "nosuch", project=project)
    assert r.exit_code == 1 and "no source 'nosuch' in keel.yml" in r.stderr


def test_versions_flag_connectors_behind_the_newest_known(
    keel: Callable[..., Any], project: Path, airbyte: tuple[FakeAirbyte, dict[str, Any]]
) -> None:
    fake, ids = airbyte
    fake.definition("destination", "Snowflake", "3.14.1", "airbyte/destination-snowflake")
    r = keel("airbyte", "versions", "--json", project=project)
    assert r.exit_code == 0, r.stderr
    rows = {(v["kind"], v["name"]): v for v in r.json()}
    snow = rows[("destination", "Snowflake")]
    assert (snow["in_use"], snow["newest"], snow["behind"]) == ("3.11.0", "3.14.1", True)
    assert rows[("source", "Gong")]["behind"] is False


def test_audit_reports_connection_violations_in_json_until_applied(
    keel: Callable[..., Any], project: Path, airbyte: tuple[FakeAirbyte, dict[str, Any]]
) -> None:
    fake, ids = airbyte
    fake.definition("source", "Gong", "2.0.0", "airbyte/source-gong")
    r = keel("audit", "--json", project=project)
    found = {(v["object"], v["message"]) for v in r.json()["connections"]["violations"]}
    assert ("connection Gong → Snowflake",
            "not to the standard: namespace destination -> custom_format/GONG_DATA_RAW") in found  # fmt: skip
    assert ("source Gong", "connector airbyte/source-gong 1.0.0 is behind 2.0.0") in found
    assert any(o == "destination Snowflake" and "legacy raw tables only" in m for o, m in found)
    assert all(v["kind"] == "connection" for v in r.json()["connections"]["violations"])
    assert keel("airbyte", "apply", "--yes", project=project).exit_code == 0
    r = keel("audit", "--json", project=project)
    assert [v["object"] for v in r.json()["connections"]["violations"]] == ["source Gong"]
    fake.fail_next("GET", "/v1/connections", 500, times=10)
    r = keel("audit", "--json", project=project)
    assert r.json()["connections"]["violations"] == []
    assert any("Airbyte connections only partly audited" in n for n in r.json()["notes"])
    # the empty list proves nothing then: the connections block says why, for scripts
    (why,) = r.json()["connections"]["notes"]
    assert why.startswith("Airbyte connections only partly audited")


def test_a_saved_plan_applies_only_while_airbyte_still_gives_it(
    keel: Callable[..., Any],
    project: Path,
    airbyte: tuple[FakeAirbyte, dict[str, Any]],
    tmp_path: Path,
) -> None:
    fake, ids = airbyte
    r = keel("airbyte", "apply", project=project)
    assert r.exit_code == 1 and "refusing to apply without confirmation" in r.stderr
    saved = tmp_path / "airbyte-plan.json"
    r = keel("airbyte", "plan", "--out", str(saved), "--detailed-exitcode", project=project)
    assert r.exit_code == 2 and TOKEN not in saved.read_text(encoding="utf-8")
    fake.connections[ids["gong"]]["schedule"] = {"scheduleType": "manual"}  # changed meanwhile
    patches = [m for m, _, _ in fake.log if m == "PATCH"]
    r = keel("airbyte", "apply", str(saved), project=project)
    assert r.exit_code == 1 and "changed since this plan was made" in r.stderr
    assert [m for m, _, _ in fake.log if m == "PATCH"] == patches  # nothing sent
    keel("airbyte", "plan", "--out", str(saved), project=project)
    r = keel("airbyte", "apply", str(saved), "--json", project=project)
    assert r.exit_code == 0 and r.json()["ok"] is True
    r = keel("airbyte", "plan", "--detailed-exitcode", project=project)
    assert r.exit_code == 0
