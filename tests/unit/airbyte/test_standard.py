"""The connection standard is a pure diff: tested with plain values, no API."""

from __future__ import annotations

from typing import Any

from keel.airbyte.standard import (
    DEDUP,
    OVERWRITE,
    Desired,
    connection_change,
    destination_change,
    stream_choice,
    workspace_change,
)

INCR = {"syncModes": ["full_refresh_overwrite", "incremental_append", DEDUP]}


def test_a_key_the_source_defines_is_never_sent() -> None:
    props = {**INCR, "sourceDefinedPrimaryKey": [["id"]], "defaultCursorField": ["updated_at"]}
    body, effective, reason = stream_choice("calls", props, (["other"], "changed_at"))
    assert body == {"name": "calls", "syncMode": DEDUP}
    assert effective["primaryKey"] == [["id"]]  # the source's key wins over the contract's
    assert reason == "primary key from the source, cursor from the source"


def test_key_and_cursor_from_the_contract_are_sent() -> None:
    body, _, reason = stream_choice("invoices", INCR, (["id", "line"], "updated_at"))
    assert body == {"name": "invoices", "syncMode": DEDUP, "cursorField": ["updated_at"],
                    "primaryKey": [["id"], ["line"]]}  # fmt: skip
    assert reason == "primary key from the contract, cursor from the contract"


def test_full_refresh_with_the_reason_when_dedup_is_not_possible() -> None:
    assert stream_choice("a", INCR, None)[2] == (
        "no primary key (none from the source, none in the contract)"
    )
    assert stream_choice("a", INCR, (["id"], None))[2] == (
        "no cursor (none from the source, none in the contract)"
    )
    body, effective, reason = stream_choice("a", {"syncModes": [OVERWRITE]}, (["id"], "u"))
    assert body == {"name": "a", "syncMode": OVERWRITE} == {"name": "a", **effective}
    assert reason == "the source offers no incremental sync for it"


def conn(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "connectionId": "c1", "name": "NetSuite → Snowflake", "status": "active",
        "namespaceDefinition": "custom_format", "namespaceFormat": "NETSUITE_DATA_RAW",
        "schedule": {"scheduleType": "cron", "cronExpression": "0 0 0 * * ?"},
        "nonBreakingSchemaUpdatesBehavior": "propagate_columns",
        "configurations": {"streams": [{"name": "invoices", "syncMode": DEDUP,
                                        "primaryKey": [["id"]], "cursorField": ["updated_at"]}]},
    }  # fmt: skip
    base.update(kw)
    return base


WANT = Desired("netsuite", "NETSUITE_DATA_RAW", "daily", {"invoices": (["id"], "updated_at")})
CATALOG = [{"streamName": "invoices", **INCR}, {"streamName": "audit", "syncModes": [OVERWRITE]}]


def test_a_standard_connection_has_no_change() -> None:
    change, modes = connection_change(WANT, conn(), CATALOG)
    assert change is None and modes[0]["syncMode"] == DEDUP


def test_only_the_differing_fields_are_sent_but_streams_always_whole() -> None:
    extra = {"name": "audit", "syncMode": OVERWRITE, "primaryKey": [], "cursorField": []}
    c = conn(status="inactive", configurations={"streams": [extra]})
    change, _ = connection_change(WANT, c, CATALOG)
    assert change is not None
    assert change.differences == [
        "status inactive -> active",
        "stream invoices: not selected -> selected (in the contract)",
    ]
    assert change.body == {
        "status": "active",
        "configurations": {"streams": [
            {"name": "audit", "syncMode": OVERWRITE},
            {"name": "invoices", "syncMode": DEDUP, "cursorField": ["updated_at"], "primaryKey": [["id"]]},
        ]},
    }  # fmt: skip
    manual = Desired("netsuite", "NETSUITE_DATA_RAW", "manual", WANT.contract)
    change, _ = connection_change(manual, conn(), CATALOG)
    assert change is not None and change.body == {"schedule": {"scheduleType": "manual"}}


def test_destination_v2_and_workspace_webhooks() -> None:
    legacy = {"destinationId": "d", "name": "Snowflake", "destinationType": "snowflake",
              "configuration": {"disable_type_dedupe": True}}  # fmt: skip
    assert destination_change(legacy) is not None
    assert destination_change({**legacy, "configuration": {}}) is None
    url = "https://keel.example/hooks/airbyte/t0k"
    ws = {"workspaceId": "w", "name": "Sophia",
          "notifications": {"failure": {"email": {"enabled": True}}}}  # fmt: skip
    change = workspace_change(ws, url)
    assert change is not None
    failure = change.body["notifications"]["failure"]
    assert failure == {"email": {"enabled": True}, "webhook": {"enabled": True, "url": url}}
    assert change.to_dict(secret="t0k")["request"]["body"]["notifications"]["success"] == {
        "webhook": {
            "enabled": True,
            "url": "https://keel.example/hooks/airbyte/<KEEL_WEBHOOK_TOKEN>",
        }
    }
    assert workspace_change({**ws, "notifications": change.body["notifications"]}, url) is None


def test_the_users_field_selection_survives_and_an_empty_one_is_not_sent() -> None:
    fields = [{"fieldPath": ["id"]}, {"fieldPath": ["updated_at"]}]
    chosen = {"name": "invoices", "syncMode": OVERWRITE, "selectedFields": fields}
    change, _ = connection_change(WANT, conn(configurations={"streams": [chosen]}), CATALOG)
    assert change is not None
    assert change.body["configurations"]["streams"][0]["selectedFields"] == fields
    empty = {**chosen, "selectedFields": []}  # what a GET answers when no field was chosen
    change, _ = connection_change(WANT, conn(configurations={"streams": [empty]}), CATALOG)
    assert change is not None
    assert "selectedFields" not in change.body["configurations"]["streams"][0]
