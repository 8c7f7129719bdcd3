"""Alert values: ids, dedup keys, redaction."""

from __future__ import annotations

from keel.alerts.model import (
    MAX_DEDUP_KEY,
    Alert,
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
