"""Every kind of Airbyte notification is parsed, none taken for an outcome it is not.

The JSON bodies follow Airbyte's documented shapes: ``text`` + ``blocks`` + ``data`` for
sync success/failure since 0.59 (tests/fixtures/airbyte/webhook-sync-*.json), ``text``
only before that and for the other notification types ("Manage notifications": connection
updates, updates requiring action, repeated-failure warning, sync disabled, test)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from keel.errors import WebhookError
from keel.events.payload import parse_webhook

FIXTURES = Path(__file__).parents[2] / "fixtures" / "airbyte"
CONN = "64d901a1-2520-4d91-93c8-9df438668ff0"
LINK = f"https://airbyte.example.test/workspaces/b510e39b/connections/{CONN}"


def body(**kw: object) -> bytes:
    return json.dumps(kw).encode()


def test_json_outcomes_from_data() -> None:
    failed = parse_webhook((FIXTURES / "webhook-sync-failed.json").read_bytes())
    assert (failed.kind, failed.job_id, failed.connection_id) == ("sync_failed", "9988", CONN)
    assert failed.event_id == "airbyte-job-9988" and failed.error == "Something failed"
    ok = parse_webhook((FIXTURES / "webhook-sync-succeeded.json").read_bytes())
    assert ok.kind == "sync_succeeded" and ok.connection_name == "Gong → Snowflake"


def test_legacy_text_only_failure_keeps_job_and_connection() -> None:
    text = (
        "Your connection Gong → Snowflake from Gong to Snowflake just failed...\n"
        f"This happened with timeout\n\nYou can access its logs here: {LINK}\n\nJob ID: 4711"
    )
    e = parse_webhook(body(text=text))
    assert (e.kind, e.job_id, e.connection_id, e.connection_name) == (
        "sync_failed", "4711", CONN, "Gong → Snowflake",
    )  # fmt: skip
    assert e.event_id == "airbyte-job-4711"  # the same id a later JSON webhook or the poller uses


def test_legacy_text_only_success() -> None:
    e = parse_webhook(body(text=f"Your connection HubSpot → Snowflake from HubSpot to Snowflake "
                                f"succeeded\n\nYou can access its logs here: {LINK}\n\nJob ID: 12"))  # fmt: skip
    assert (e.kind, e.job_id, e.connection_name) == ("sync_succeeded", "12", "HubSpot → Snowflake")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Your connection Slack → Snowflake was automatically disabled because it failed 100 "
         f"times consecutively. {LINK}", "connection_disabled"),
        ("Your connection Slack → Snowflake will be disabled soon due to repeated failures. "
         f"{LINK}", "disable_warning"),
        ("Airbyte detected a breaking schema change in connection Gong → Snowflake; your action "
         f"is required. {LINK}", "schema_change"),
        ("The schema of connection Gong → Snowflake was automatically updated (non-breaking "
         f"changes propagated). {LINK}", "connection_update"),
        (f"A sync of Gong → Snowflake started. Job ID: 77 {LINK}", "sync_started"),
        ("Something Airbyte said that keel does not know", "notice"),
    ],
)  # fmt: skip
def test_other_notifications_are_recorded_under_their_own_kind(text: str, kind: str) -> None:
    e = parse_webhook(body(text=text, blocks=[]))
    assert e.kind == kind
    assert e.event_id.startswith(f"airbyte-{kind}-")  # never the job's outcome event id
    if kind != "notice":
        assert e.connection_id == CONN


def test_a_started_sync_is_never_an_outcome_even_with_its_job_id() -> None:
    e = parse_webhook(body(text=f"Sync queued for Gong → Snowflake. Job ID: 77 {LINK}"))
    assert e.kind == "sync_started" and e.event_id == "airbyte-sync_started-77"


def test_connection_from_blocks_when_the_text_has_none() -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn",
               "text": f"Sync failure occurred: <{LINK}|NetSuite → Snowflake>"}}]  # fmt: skip
    e = parse_webhook(body(text="Sync failed", blocks=blocks))
    assert (e.kind, e.connection_name, e.connection_id) == (
        "sync_failed",
        "NetSuite → Snowflake",
        CONN,
    )
    assert e.event_id.startswith("airbyte-sync_failed-")  # no job id: keyed on the body


def test_the_test_message_is_a_ping_and_garbage_is_refused() -> None:
    assert parse_webhook(body(text="Hello World! This is a test from Airbyte.")).kind == "ping"
    with pytest.raises(WebhookError, match="no data, no text and no blocks"):
        parse_webhook(body(other=1))
    with pytest.raises(WebhookError, match="data.connection"):
        parse_webhook(body(data={"jobId": 1, "success": True}))


def test_a_text_only_notice_carries_its_text_into_the_alert() -> None:
    from keel.alerts.notify import _error_of

    text = f"Your connection Slack → Snowflake was automatically disabled. {LINK}"
    assert _error_of(json.dumps({"text": text, "blocks": []})) == text
    assert _error_of(json.dumps({"data": {"errorMessage": "boom", "errorType": "system"}})) == (
        "[system] boom"
    )


def test_a_disabled_notice_names_its_connection_on_an_id_line() -> None:
    """The shape of Airbyte's text-only notice when it disables a connection, as the
    platform's own notification-client tests expect it (airbytehq/airbyte-platform,
    testNotifyConnectionDisabled): "Your connection from <source> to <destination> was
    automatically disabled because it failed ..." then "Workspace ID: <uuid>" and
    "Connection ID: <uuid>" lines; no link, no connection name. Wording here is ours."""
    text = (
        "Your connection from Gong to Snowflake was automatically disabled because it "
        "failed 20 times consecutively or has been failing for 14 days in a row.\n\n"
        "Please address the failing issues.\n\n"
        f"Workspace ID: b510e39b-0000-4000-8000-000000000001\nConnection ID: {CONN}\n"
    )
    e = parse_webhook(body(text=text))
    assert e.kind == "connection_disabled"
    assert e.connection_id == CONN
