"""keel airbyte plan / apply against the local Airbyte API (tests/support/airbyte_api.py),
which validates every request and response against Airbyte's OpenAPI file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.airbyte_api import FakeAirbyte
from tests.support.airbyte_world import CLIENT_ID, CLIENT_SECRET, nonstandard_world

from keel.airbyte.client import AirbyteClient
from keel.airbyte.connections import apply, build
from keel.project.loader import Project, load_project
from keel.project.models import AirbyteApi

TOKEN = "hook-secret-123"


def client_for(fake: FakeAirbyte, ws: str, **kw: Any) -> AirbyteClient:
    spec = AirbyteApi(
        api_url="https://api.airbyte.com/v1", workspace_id=ws,
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, **kw,
    )  # fmt: skip
    return AirbyteClient(spec, transport=httpx.MockTransport(fake), sleep=lambda s: None)


@pytest.fixture
def sophia(project: Path) -> Project:
    return load_project(project, env={"KEEL_WEBHOOK_TOKEN": TOKEN})


def selected(fake: FakeAirbyte, cid: str) -> list[str]:
    return [s["name"] for s in fake.connections[cid]["configurations"]["streams"]]


def test_plan_lists_every_difference_apply_fixes_them_and_next_plan_is_empty(
    sophia: Project,
) -> None:
    fake = FakeAirbyte()
    ids = nonstandard_world(fake)
    before = {src: selected(fake, ids[src]) for src in ("gong", "hubspot", "slack", "netsuite")}
    client = client_for(fake, ids["workspace"])
    plan, resolution = build(sophia, client)
    assert resolution.how == dict.fromkeys(("gong", "hubspot", "slack", "netsuite"), "name")
    by = {c.name: c for c in plan.changes}
    assert by["Gong → Snowflake"].differences == [
        "namespace destination -> custom_format/GONG_DATA_RAW"
    ]
    hub = by["HubSpot → Snowflake"]
    assert len(hub.differences) == 3 and all(
        "syncMode full_refresh_overwrite" in d for d in hub.differences
    )
    # source-defined keys are never sent; the whole stream list is
    assert hub.body["configurations"]["streams"][0] == {
        "name": "companies",
        "syncMode": "incremental_deduped_history",
    }
    assert by["Slack → Snowflake"].differences == ["schedule manual -> cron 0 0 * * * ? UTC"]
    net = by["NetSuite → Snowflake"]
    assert "stream employees: not selected -> selected (in the contract)" in net.differences
    streams = net.body["configurations"]["streams"]
    assert [s["name"] for s in streams] == ["customers", "invoices", "audit_log", "employees"]
    assert streams[3] == {"name": "employees", "syncMode": "incremental_deduped_history",
                          "cursorField": ["updated_at"], "primaryKey": [["id"]]}  # fmt: skip
    assert streams[2] == {"name": "audit_log", "syncMode": "full_refresh_overwrite"}
    modes = {m["stream"]: m for m in plan.streams["netsuite"]}
    assert modes["audit_log"]["reason"] == "the source offers no incremental sync for it"
    assert modes["customers"]["reason"] == "primary key from the contract, cursor from the contract"
    assert [c.target for c in plan.changes][:2] == ["workspace", "destination"]
    dest = next(c for c in plan.changes if c.target == "destination")
    assert dest.body == {"configuration": {"disable_type_dedupe": False}}
    # the plan shows the body it sends, with the webhook token masked
    shown = plan.to_dict(secret=TOKEN)
    hook = next(c for c in shown["changes"] if c["target"] == "workspace")
    assert hook["request"]["body"]["notifications"]["success"]["webhook"]["url"] == (
        "http://127.0.0.1:8787/hooks/airbyte/<KEEL_WEBHOOK_TOKEN>"
    )
    assert TOKEN not in str(shown)

    result = apply(plan, client)
    assert result.failed == [] and len(result.applied) == 6
    ws = fake.workspaces[ids["workspace"]]
    assert ws["notifications"]["failure"]["webhook"]["url"].endswith("/hooks/airbyte/" + TOKEN)
    assert fake.destinations[ids["destination"]]["configuration"]["disable_type_dedupe"] is False
    conn = fake.connections[ids["slack"]]
    assert conn["schedule"] == {"scheduleType": "cron", "cronExpression": "0 0 * * * ?"}
    for src, names in before.items():  # no stream ever deselected
        assert set(names) <= set(selected(fake, ids[src]))
    again, _ = build(sophia, client)
    assert again.empty, again.to_dict()
    patches = sum(1 for m, _, _ in fake.log if m == "PATCH")
    assert apply(again, client).applied == []
    assert sum(1 for m, _, _ in fake.log if m == "PATCH") == patches


def test_a_locked_connection_is_reported_and_the_others_still_apply(sophia: Project) -> None:
    fake = FakeAirbyte()
    ids = nonstandard_world(fake)
    fake.connections[ids["slack"]]["status"] = "locked"
    client = client_for(fake, ids["workspace"])
    plan, _ = build(sophia, client)
    slack = next(c for c in plan.changes if c.name == "Slack → Snowflake")
    assert "status locked -> active" in slack.differences
    assert slack.notes == ["the connection is locked: Airbyte refuses changes until it is unlocked"]
    result = apply(plan, client)
    assert len(result.applied) == 5
    assert result.failed == [
        "connection Slack → Snowflake: airbyte: connection Slack → Snowflake: the connection is "
        f"locked and Airbyte refuses changes to it: Connection {ids['slack']} is locked and "
        "cannot be updated."
    ]


def test_connections_found_by_namespace_and_ambiguity_names_the_candidates(
    sophia: Project,
) -> None:
    fake = FakeAirbyte()
    ids = nonstandard_world(fake)
    for cid in (ids["hubspot"], ids["slack"]):
        fake.connections[cid]["name"] = f"renamed {cid[:4]}"
    fake.connections[ids["slack"]]["namespaceFormat"] = "HUBSPOT_DATA_RAW"
    kf = sophia.root / "keel.yml"
    text = kf.read_text(encoding="utf-8")
    for title in ("HubSpot", "Slack"):
        text = text.replace(f"connection_name: {title} → Snowflake", "connection_id: null")
    kf.write_text(text, encoding="utf-8")
    proj = load_project(sophia.root, env={"KEEL_WEBHOOK_TOKEN": TOKEN})
    plan, resolution = build(proj, client_for(fake, ids["workspace"]))
    assert resolution.how["slack"] == "namespace or source name"  # by its Airbyte source "Slack"
    assert resolution.found["slack"]["connectionId"] == ids["slack"]
    problem = resolution.problems["hubspot"]
    assert problem.startswith("2 connections match by namespace or source name: ")
    assert ids["hubspot"] in problem and ids["slack"] in problem
    assert any(w.startswith("source hubspot: 2 connections match") for w in plan.warnings)
