"""Builders: Slack messages, PagerDuty triggers and resolves, failures outside the gate."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from keel.alerts.build import (
    Routing,
    gate_alerts,
    run_failure_alerts,
    sync_failure_alerts,
    sync_recovered_alerts,
    transform_alerts,
)
from keel.alerts.model import Alert, SyncFailure
from keel.quality.model import SourceReport, TransformResult

NOW = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
ALL = Routing(frozenset({"slack", "pagerduty", "console"}), "http://keel.test:8787/")
EMAIL = "hubspot/contacts/not_null.EMAIL"
ID = "hubspot/contacts/unique.ID"


def check(
    name: str, column: str | None, status: str, rows: int, severity: str = "error"
) -> dict[str, Any]:
    cid = f"{name}.{column.upper()}" if column else name
    return {
        "id": cid,
        "name": name,
        "column": column,
        "severity": severity,
        "status": status,
        "failing_rows": rows,
    }


def result(
    status: str = "blocked",
    checks: list[dict[str, Any]] | None = None,
    batch: str | None = "b1",
    samples: dict[str, Any] | None = None,
    stream: str = "contacts",
) -> SourceReport:
    if checks is None:
        checks = [
            check("not_null", "email", "fail", 3),
            check("unique", "id", "fail", 2),
            check("accepted_values", "stage", "warn", 5, severity="warn"),
            check("not_null", "id", "pass", 0),
        ]
    return SourceReport.from_dict(
        {
            "source": "hubspot",
            "streams": [
                {
                    "stream": stream,
                    "status": status,
                    "batch": {"id": batch, "rows": 1200},
                    "checks": checks,
                    "samples": samples or {},
                }
            ],
        }
    )


def by(alerts: list[Alert], sink: str, action: str | None = None) -> list[Alert]:
    return [a for a in alerts if a.sink == sink and (action is None or a.action == action)]


def test_blocked_gate_one_slack_message_and_a_trigger_per_failing_error_check() -> None:
    alerts = gate_alerts(result(), ALL, set(), NOW)
    slack = by(alerts, "slack")
    assert len(slack) == 1 and slack[0].action == "post" and slack[0].dedup_key == "hubspot"
    msg = slack[0].payload
    assert msg["text"].startswith("keel held back 1 stream(s) of hubspot: contacts blocked")
    assert "not_null email 3 rows" in msg["text"] and "unique id 2 rows" in msg["text"]
    blocks = msg["blocks"]
    assert blocks[0]["type"] == "header"
    assert blocks[0]["text"]["text"] == "keel: 1 stream of hubspot held back"
    body = blocks[1]["text"]["text"]
    assert "<http://keel.test:8787/#hubspot.contacts|hubspot.contacts>" in body
    assert "*blocked*" in body and "1,200 rows" in body
    assert "`not_null` on `email` (error, fail): *3* failing rows" in body
    assert "`accepted_values` on `stage` (warn, warn): *5* failing rows" in body
    assert "not_null` on `id`" not in body  # passing checks are not listed
    assert "<http://keel.test:8787/|keel status page>" in blocks[-1]["elements"][0]["text"]

    triggers = by(alerts, "pagerduty", "trigger")
    assert sorted(a.dedup_key for a in triggers) == [EMAIL, ID]
    event = next(a for a in triggers if a.dedup_key == EMAIL).payload
    assert "routing_key" not in event
    assert event["event_action"] == "trigger" and event["dedup_key"] == EMAIL
    p = event["payload"]
    assert p["severity"] == "error" and p["source"] == "keel:hubspot.contacts"
    assert (p["component"], p["group"], p["class"]) == ("contacts", "hubspot", "not_null")
    assert p["summary"] == (
        "keel: hubspot.contacts blocked: not_null on email failed for 3 of 1200 rows (batch b1)"
    )
    assert p["custom_details"]["failing_rows"] == 3
    assert p["custom_details"]["status_page"] == "http://keel.test:8787/#hubspot.contacts"
    assert p["timestamp"] == NOW.isoformat()
    assert event["links"][0]["href"] == "http://keel.test:8787/#hubspot.contacts"

    console = by(alerts, "console")
    assert len(console) == 1
    assert console[0].payload["pagerduty"] == {"trigger": [EMAIL, ID], "resolve": []}


def test_no_raw_values_in_slack_or_pagerduty_only_the_checked_columns_masked_samples() -> None:
    samples = {
        "not_null.EMAIL": [
            {"id": 1, "email": None, "phone": "+1-555-SECRET-PHONE"},
            {"id": 2, "email": None, "phone": "+1-555-OTHER"},
        ],
        "unique.ID": [{"id": 7, "email": "***", "phone": "***"}],
    }
    alerts = gate_alerts(result(samples=samples), ALL, set(), NOW)
    for a in by(alerts, "slack") + by(alerts, "pagerduty"):
        text = json.dumps(a.payload)
        assert "SECRET-PHONE" not in text and "OTHER" not in text
    body = by(alerts, "slack")[0].payload["blocks"][1]["text"]["text"]
    assert "e.g. `null`" in body  # the failing column's (masked) values only
    assert "e.g. `7`" in body
    no_samples = Routing(ALL.sinks, ALL.public_url, sample_values=0)
    quiet = by(gate_alerts(result(samples=samples), no_samples, set(), NOW), "slack")[0]
    assert "e.g." not in json.dumps(quiet.payload)


def test_resolve_only_for_open_keys_of_a_stream_that_passes_again() -> None:
    passing = result(
        status="passed",
        batch="b2",
        checks=[check("not_null", "email", "pass", 0), check("unique", "id", "pass", 0)],
    )
    open_keys = {EMAIL, "hubspot/deals/not_null.ID", "hubspot/contacts_x/unique.ID"}
    alerts = gate_alerts(passing, ALL, open_keys, NOW)
    assert [(a.sink, a.action, a.dedup_key) for a in alerts if a.sink == "pagerduty"] == [
        ("pagerduty", "resolve", EMAIL)
    ]
    assert by(alerts, "pagerduty")[0].payload == {"event_action": "resolve", "dedup_key": EMAIL}
    assert by(alerts, "slack") == []  # nothing held back: no Slack message
    assert by(alerts, "console")[0].payload["pagerduty"]["resolve"] == [EMAIL]
    assert gate_alerts(passing, ALL, set(), NOW) == []  # nothing was open: nothing to say


def test_still_failing_key_is_not_resolved_and_a_removed_check_is() -> None:
    still = result(batch="b3", checks=[check("not_null", "email", "fail", 1)])
    alerts = gate_alerts(still, ALL, {EMAIL, ID}, NOW)
    assert {(a.action, a.dedup_key) for a in by(alerts, "pagerduty")} == {
        ("trigger", EMAIL),
        ("resolve", ID),
    }


def test_empty_stream_resolves_nothing_and_warnings_alone_stay_quiet() -> None:
    empty = result(status="empty", batch=None, checks=[])
    assert gate_alerts(empty, ALL, {EMAIL}, NOW) == []
    warned = result(status="warned", checks=[check("unique", "id", "warn", 4, severity="warn")])
    assert gate_alerts(warned, ALL, set(), NOW) == []


def test_same_result_gives_the_same_ids_a_new_batch_new_ones() -> None:
    one = {a.alert_id for a in gate_alerts(result(), ALL, set(), NOW)}
    again = {a.alert_id for a in gate_alerts(result(), ALL, set(), NOW + dt.timedelta(hours=1))}
    other = {a.alert_id for a in gate_alerts(result(batch="b9"), ALL, set(), NOW)}
    assert one == again and not (one & other)


def test_blocked_without_failing_error_checks_pages_the_stream() -> None:
    blocked = result(checks=[])
    blocked.streams[0].reason = "schema drift: column AMOUNT changed type"
    triggers = by(gate_alerts(blocked, ALL, set(), NOW), "pagerduty", "trigger")
    assert [t.dedup_key for t in triggers] == ["hubspot/contacts/gate"]
    assert "schema drift" in triggers[0].payload["payload"]["summary"]


def test_only_enabled_sinks_get_alerts() -> None:
    console_only = Routing(frozenset({"console"}), "http://x")
    assert {a.sink for a in gate_alerts(result(), console_only, set(), NOW)} == {"console"}
    pd_only = Routing(frozenset({"pagerduty"}), "http://x")
    assert {a.sink for a in gate_alerts(result(), pd_only, set(), NOW)} == {"pagerduty"}


def test_slack_limits_and_escaping_hold_for_huge_results() -> None:
    checks = [check(f"check_{i}", f"col_{i}", "fail", i) for i in range(30)]
    streams = [
        {
            "stream": f"s{i}<&>" + "x" * 300,
            "status": "blocked",
            "batch": {"id": f"b{i}", "rows": 5},
            "checks": checks,
        }
        for i in range(200)
    ]
    alerts = gate_alerts(
        SourceReport.from_dict({"source": "hubspot", "streams": streams}), ALL, set(), NOW
    )
    msg = by(alerts, "slack")[0].payload
    assert len(msg["blocks"]) <= 50
    assert len(msg["text"]) <= 3000
    assert len(msg["blocks"][0]["text"]["text"]) <= 150
    for block in msg["blocks"][1:-2]:
        assert len(block["text"]["text"]) <= 3000
        assert "<&>" not in block["text"]["text"] and "&lt;&amp;&gt;" in block["text"]["text"]
    assert msg["blocks"][-2]["text"]["text"] == "… and 180 more streams"
    assert "#hubspot.s0%3C%26%3Exxx" in msg["blocks"][1]["text"]["text"]
    for t in by(alerts, "pagerduty"):
        assert len(t.dedup_key) <= 255 and len(t.payload["payload"]["summary"]) <= 1024


def test_sync_failure_alert_names_connection_job_and_redacted_error() -> None:
    failure = SyncFailure(
        "9988",
        "64d901a1",
        "Gong → Snowflake",
        "[config_error] see https://api.gong.io/v2/calls?token=SECRET",
        source="gong",
    )
    alerts = sync_failure_alerts(failure, ALL, NOW)
    slack = by(alerts, "slack")[0].payload
    text = json.dumps(slack, ensure_ascii=False)
    assert "Gong → Snowflake" in text and "64d901a1" in text and "9988" in text
    assert "[config_error]" in text and "SECRET" not in text
    (trigger,) = by(alerts, "pagerduty")
    assert trigger.dedup_key == "gong/_airbyte/sync"
    assert trigger.payload["payload"]["custom_details"]["job_id"] == "9988"
    assert "SECRET" not in json.dumps([a.payload for a in alerts])
    assert sync_recovered_alerts("gong", "9989", ALL, set()) == []
    (resolve,) = sync_recovered_alerts("gong", "9989", ALL, {"gong/_airbyte/sync"})
    assert (resolve.action, resolve.dedup_key) == ("resolve", "gong/_airbyte/sync")


def test_run_failure_is_resolved_by_the_next_gate_result() -> None:
    alerts = run_failure_alerts("hubspot", "the warehouse refused", ALL, NOW, run_id="r1")
    assert {(a.sink, a.action) for a in alerts} == {
        ("slack", "post"),
        ("pagerduty", "trigger"),
        ("console", "post"),
    }
    passing = result(status="passed", checks=[check("not_null", "email", "pass", 0)])
    resolves = by(gate_alerts(passing, ALL, {"hubspot/_keel/run"}, NOW), "pagerduty")
    assert [(a.action, a.dedup_key) for a in resolves] == [("resolve", "hubspot/_keel/run")]


def test_transform_failure_and_recovery() -> None:
    failed = TransformResult(
        "dbt", ["dbt", "build"], "failed", 2, "line\nERROR at https://x.test/a?k=SECRET", 1.0, "t1"
    )
    alerts = transform_alerts("hubspot", failed, ALL, set(), NOW)
    (trigger,) = by(alerts, "pagerduty")
    assert trigger.dedup_key == "hubspot/_transform/run"
    assert "exit code 2" in trigger.payload["payload"]["summary"]
    assert "ERROR" not in json.dumps(by(alerts, "slack")[0].payload)  # output stays local
    console = by(alerts, "console")[0].payload
    assert "ERROR at https://x.test/***" in console["output"]
    ok = TransformResult("dbt", ["dbt", "build"], "succeeded", 0, "", 1.0, "t2")
    assert transform_alerts("hubspot", ok, ALL, set(), NOW) == []
    (resolve,) = transform_alerts("hubspot", ok, ALL, {"hubspot/_transform/run"}, NOW)
    assert resolve.action == "resolve"
