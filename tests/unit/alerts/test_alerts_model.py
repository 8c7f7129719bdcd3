"""Alert values: ids, dedup keys, redaction, parsing the gate JSON."""

from __future__ import annotations

from keel.alerts.model import (
    MAX_DEDUP_KEY,
    Alert,
    CheckOutcome,
    GateOutcome,
    alert_id,
    dedup_key,
    redact,
)


def test_alert_id_is_a_stable_hash_of_the_idempotency_key() -> None:
    a = Alert("pagerduty", "s/t/c", "trigger", {"x": 1}, "gate|b1|pagerduty|trigger|s/t/c")
    b = Alert("pagerduty", "s/t/c", "trigger", {"x": 2}, "gate|b1|pagerduty|trigger|s/t/c")
    assert a.alert_id == b.alert_id == alert_id(a.key)
    assert len(a.alert_id) == 32
    assert alert_id("gate|b2|pagerduty|trigger|s/t/c") != a.alert_id


def test_dedup_key_is_capped_at_255_and_stays_unique() -> None:
    assert dedup_key("hubspot", "contacts", "not_null.EMAIL") == "hubspot/contacts/not_null.EMAIL"
    one = dedup_key("s", "x" * 400, "a")
    two = dedup_key("s", "x" * 400, "b")
    assert len(one) == len(two) == MAX_DEDUP_KEY
    assert one != two
    assert one.startswith("s/xxxx")


def test_redact_removes_secrets_and_url_paths() -> None:
    text = (
        "POST https://hooks.slack.com/services/T0/B0/SECRET failed; key R0UTING "
        "and http://user:pw@10.0.0.1:8080/path?token=abc"
    )
    out = redact(text, ["R0UTING", ""])
    assert "SECRET" not in out and "R0UTING" not in out and "token=abc" not in out
    assert "pw" not in out
    assert "https://hooks.slack.com/***" in out
    assert "http://10.0.0.1:8080/***" in out


def test_gate_json_parses_and_ignores_unknown_fields() -> None:
    gate = GateOutcome.from_dict(
        {
            "source": "hubspot",
            "extra": True,
            "streams": [
                {
                    "stream": "contacts",
                    "status": "blocked",
                    "batch": {"id": "b1", "rows": 10, "watermark": None},
                    "checks": [
                        {
                            "name": "not_null",
                            "column": "email",
                            "severity": "error",
                            "status": "fail",
                            "failing_rows": 3,
                            "id": "not_null.EMAIL",
                        },
                        {
                            "name": "unique",
                            "column": None,
                            "severity": "warn",
                            "status": "warn",
                            "failing_rows": 1,
                        },
                    ],
                    "samples": {"not_null.EMAIL": [{"email": None}], "bad": "x"},
                },
                {"stream": "deals", "status": "empty", "batch": {"id": None, "rows": 0}},
            ],
            "transform": {"kind": "dbt", "status": "failed", "exit_code": 2},
        }
    )
    contacts, deals = gate.streams
    assert contacts.judged and contacts.blocked and not deals.judged
    assert [c.key for c in contacts.checks] == ["not_null.EMAIL", "unique"]
    assert [c.pages for c in contacts.checks] == [True, False]
    assert contacts.samples == {"not_null.EMAIL": ({"email": None},)}
    assert gate.transform is not None and gate.transform.failed
    assert CheckOutcome.from_dict({"name": "accepted_values", "column": "stage"}).key == (
        "accepted_values.stage"
    )
