"""Classification that reads values: overruled names, free text, JSON keys, weak data."""

from __future__ import annotations

import json

import pytest

from keel.governance.classify.text import is_technical_address, names_a_person, scan_text
from keel.governance.classify_rules import classify_column, detect_value_kind

ENUM = ["INCOMING_EMAIL", "EMAIL", "FORWARDED_EMAIL", "EMAIL", "INCOMING_EMAIL"]


def test_enum_values_overrule_an_email_name() -> None:
    p = classify_column("hs_email_direction", "VARCHAR", ENUM)
    assert p.pii_level == "none"
    assert p.evidence[0].rule == "name_overruled"
    assert "5/5 sampled values are enum-like codes" in p.reasons[0]


def test_name_stands_without_enough_values() -> None:
    # fewer than three values never overrule a name
    assert classify_column("hs_email_direction", "VARCHAR", ENUM[:2]).pii_level == "high"
    assert classify_column("email", "VARCHAR", []).pii_level == "high"


def test_next_name_rule_when_the_first_is_overruled() -> None:
    # hs_email_from_firstname: the email rule is overruled by names, the person rule stands
    p = classify_column("hs_email_from_firstname", "VARCHAR", ["Ann", "Priya", "Sven"])
    assert p.pii_level == "high"
    assert [e.rule for e in p.evidence][:2] == ["name_overruled", "name"]


def test_lower_case_given_names_are_not_codes() -> None:
    assert classify_column("first_name", "VARCHAR", ["ann", "wei", "priya"]).pii_level == "high"
    assert classify_column("username", "VARCHAR", ["github", "jira", "zapier"]).pii_level == "none"


def test_names_of_things_overrule_a_generic_name() -> None:
    assert (
        classify_column("name", "VARCHAR", ["general", "sales-team", "random"]).pii_level == "none"
    )
    bots = ["Gong", "Jira Cloud", "GitHub", "Google Calendar"]
    assert classify_column("name", "VARCHAR", bots).pii_level == "none"
    assert classify_column("name", "VARCHAR", ["Ann Lee", "Wei Chen", "Gong"]).pii_level == "high"


@pytest.mark.parametrize(
    "value",
    [
        "5t1k0v3ofq9r2bq1dsl7um2fh4@google.com",  # iCalendar UID (RFC 5545: unique@host)
        "CAF4c9vQwz2p1Jx8Kd0aZQe7r@mail.gmail.com",  # Message-ID without brackets
        "acme-3f9a1c+deal4411@pipedrivemail.com",  # dropbox address: machine token
    ],
)
def test_email_shaped_technical_ids_are_not_emails(value: str) -> None:
    assert detect_value_kind(value) is None
    local, _, domain = value.rpartition("@")
    assert is_technical_address(local, domain)


def test_message_ids_in_brackets_are_not_emails() -> None:
    ids = [f"<CAF{n}xYzAbCdEfGhIjKlMnOp@mail.gmail.com>" for n in range(5)]
    assert classify_column("hs_email_message_id", "VARCHAR", ids).pii_level == "none"
    assert scan_text(ids).emails == 0


def test_raw_addresses_are_emails() -> None:
    raw = ['"Ann Lee" <ann.lee@acme.com>', '"Wei Chen" <wei@globex.io>', "Bo <bo@x.org>"]
    assert classify_column("from_raw", "VARCHAR", raw).pii_level == "high"


def test_free_text_mentioning_people_is_high() -> None:
    notes = [
        "Hi Priya,\nThanks for the call. Pricing attached.\nBest,\nMarco Rossi",
        "Spoke with Wei Chen about the renewal.",
        "Budget review next week.",
        "Call back on +1 415 555 0134 after noon.",
    ]
    p = classify_column("hs_note_body", "VARCHAR", notes)
    assert p.pii_level == "high"
    found = next(e for e in p.evidence if e.rule == "free_text")
    assert (found.matched, found.sampled) == (3, 4)
    assert p.vector_index  # still free text worth embedding


def test_free_text_without_people_is_none() -> None:
    text = ["Payment complete.", "Subscription creation", "Invoice 1042 paid", "Mailbox full"]
    assert classify_column("description", "VARCHAR", text).pii_level == "none"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Intro: Ann Lee <> Acme", True),
        ("Thanks, Priya! Deck attached.", True),
        ("Pricing review with The Team", False),
        ("MAY release notes", False),
        ("Q3 roadmap for Acme", False),
    ],
)
def test_names_a_person(text: str, expected: bool) -> None:
    assert names_a_person(text) is expected


def test_json_column_is_classified_by_its_most_sensitive_key() -> None:
    docs = [
        json.dumps(
            {
                "title": "CFO",
                "email": f"user{n}@acme.com",
                "real_name": "Ann Lee",
                "image_72": "https://a.example/x.png",
                "tz": "Europe/Berlin",
            }
        )
        for n in range(4)
    ]
    p = classify_column("profile", "JSON", docs)
    assert p.pii_level == "high"
    keys = next(e for e in p.evidence if e.rule == "json_keys").keys
    assert set(keys) == {"email", "real_name"}
    assert "email" in p.reasons[0]


def test_json_column_without_personal_keys_is_none() -> None:
    docs = [
        json.dumps(
            {
                "network_status": "approved_by_network",
                "risk_score": n,
                "seller_message": "Payment complete.",
            }
        )
        for n in range(4)
    ]
    assert classify_column("outcome", "JSON", docs).pii_level == "none"


def test_json_lists_of_typed_values() -> None:
    docs = [json.dumps([{"value": f"+1 415 555 01{n:02d}", "type": "mobile"}]) for n in range(4)]
    p = classify_column("phone_numbers", "JSON", docs)
    assert p.pii_level == "high"


@pytest.mark.parametrize(
    ("name", "data_type", "values"),
    [
        ("tz", "VARCHAR", ["America/New_York", "Europe/Berlin", "Asia/Kolkata"]),
        ("tz_offset", "BIGINT", ["-28800", "3600", "19800"]),
        ("extension", "VARCHAR", ["204", "3312", "118"]),
        ("phone_extension", "VARCHAR", ["204", "3312", "118"]),
        ("job_title", "VARCHAR", ["CFO", "Account Executive", "VP of Sales"]),
        ("title", "VARCHAR", ["CFO", "Account Executive", "VP of Sales"]),
        ("spoken_language", "VARCHAR", ["en-US", "de-DE", "es"]),
        ("browser_language", "VARCHAR", ["en-US", "de-DE", "fr"]),
        ("timezone", "VARCHAR", []),
    ],
)
def test_weak_personal_data_is_low(name: str, data_type: str, values: list[str]) -> None:
    assert classify_column(name, data_type, values).pii_level == "low"


def test_version_strings_are_not_ip_addresses() -> None:
    assert (
        classify_column("browser_version", "VARCHAR", ["126.0.0.0", "17.4", "126.0.0.0"]).pii_level
        == "none"
    )
    assert detect_value_kind("203.0.113.7") == "ip"


def test_social_profile_links_are_high() -> None:
    links = ["https://twitter.com/annlee", "https://linkedin.com/in/wei-chen", "github.com/sven"]
    assert classify_column("url", "VARCHAR", links).pii_level == "high"


def test_evidence_is_json_ready() -> None:
    p = classify_column("hs_email_to_email", "VARCHAR", ["ann@acme.com", "bo@x.org", "cy@y.net"])
    assert [e.as_dict() for e in p.evidence] == [
        {"rule": "name", "pii_level": "high", "detail": "name looks like an email column"},
        {
            "rule": "values",
            "pii_level": "high",
            "detail": "3/3 sampled values are emails",
            "share": "3/3",
        },
    ]


def test_raw_values_are_tolerated() -> None:
    rows: list[object] = [{"email": "ann@acme.com"}, {"email": "wei@globex.io"}, 7, None]
    p = classify_column("payload", "JSON", rows)  # type: ignore[arg-type]
    assert p.pii_level == "high"
