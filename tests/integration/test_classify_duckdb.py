"""keel classify --json on a real DuckDB file: values sampled, JSON read key by key,
and the evidence behind each proposal in the output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb


def _load(project: Path) -> None:
    con = duckdb.connect(str(project / ".keel/warehouse.duckdb"))
    con.execute(
        "CREATE TABLE SLACK_DATA_RAW.USERS_EXTRA (id VARCHAR, email_direction VARCHAR, "
        "profile JSON, note VARCHAR, tz VARCHAR)"
    )
    people = [
        ("Ann Lee", "ann.lee@acme.com"),
        ("Wei Chen", "wei@globex.io"),
        ("Sven Berg", "sven@initech.co.uk"),
        ("Priya Patel", "priya@hooli.xyz"),
    ]
    for n, (name, email) in enumerate(people):
        profile = json.dumps({"real_name": name, "email": email, "status_emoji": ":palm_tree:"})
        con.execute(
            "INSERT INTO SLACK_DATA_RAW.USERS_EXTRA VALUES (?, ?, ?, ?, ?)",
            [
                f"U{n}",
                ["INCOMING_EMAIL", "EMAIL", "FORWARDED_EMAIL", "EMAIL"][n],
                profile,
                f"Spoke with {name} about the renewal.",
                "Europe/Berlin",
            ],
        )
    con.close()


def test_classify_json_carries_the_evidence(project: Path, keel: Any) -> None:
    keel("apply", "--yes", project=project)
    _load(project)
    r = keel("classify", "--json", project=project)
    assert r.exit_code == 0, r.stderr
    by_name = {p["name"].rsplit(".", 1)[-1]: p for p in r.json()["proposals"]}

    profile = by_name["PROFILE"]
    assert profile["metadata"]["pii_level"] == "high"
    keys = next(e for e in profile["evidence"] if e["rule"] == "json_keys")
    assert sorted(keys["keys"]) == ["email", "real_name"]

    # an enum column named like an email column: the values overrule the name
    assert "EMAIL_DIRECTION" not in by_name

    note = by_name["NOTE"]
    assert note["metadata"]["pii_level"] == "high"
    assert {"rule": "free_text", "share": "4/4"}.items() <= next(
        e for e in note["evidence"] if e["rule"] == "free_text"
    ).items()

    assert by_name["TZ"]["metadata"]["pii_level"] == "low"
    table = by_name["USERS_EXTRA"]
    assert table["metadata"]["pii_level"] == "high"
