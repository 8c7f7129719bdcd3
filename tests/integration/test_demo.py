"""keel demo end to end: what a newcomer sees is what happened in the warehouse."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb


def test_demo_publishes_three_sources_and_blocks_hubspot_contacts(
    tmp_path: Path, keel: Any
) -> None:
    r = keel("demo", "--dir", str(tmp_path / "demo"), "--json")
    assert r.exit_code == 0, r.stderr
    out = r.json()
    assert out["sync1_records"] > 0 and out["sync2_records"] > 0
    sync1 = {f"{x['source']}.{s['stream']}": s for x in out["sync1"] for s in x["streams"]}
    assert {s["status"] for s in sync1.values()} == {"promoted"}
    sync2 = {f"{x['source']}.{s['stream']}": s for x in out["sync2"] for s in x["streams"]}
    assert sync2["hubspot.contacts"]["status"] == "blocked"
    failing = {
        (c["name"], c["column"])
        for c in sync2["hubspot.contacts"]["checks"]
        if c["status"] == "fail"
    }
    assert failing == {
        ("not_null", "email"),
        ("accepted_values", "lifecycle_stage"),
        ("relationships", "company_id"),
    }
    assert all(
        c["failing_rows"] == 1 for c in sync2["hubspot.contacts"]["checks"] if c["status"] == "fail"
    )
    published = {k for k, s in sync2.items() if s["status"] == "promoted"}
    assert {k.split(".")[0] for k in published} == {"gong", "hubspot", "slack", "netsuite"}
    assert all(
        k.startswith(("gong.", "slack.", "netsuite."))
        or k in ("hubspot.companies", "hubspot.deals")
        for k in published
    )
    # samples are masked: the high-PII names never leave the warehouse in clear
    samples = [row for rows in sync2["hubspot.contacts"]["samples"].values() for row in rows]
    assert samples and all(row["first_name"] == "***" and row["phone"] == "***" for row in samples)
    # the new Gong column was classified from its name and tagged
    assert {
        "object": "column GONG_DATA_RAW.CALLS.CUSTOMER_EMAIL",
        "tag": '{"pii_level":"high"}',
    }.items() <= out["classified"][0].items()
    cov = out["audit"]["tag_coverage"]
    assert cov["tables"]["percent"] == 100.0 and cov["critical_columns"]["percent"] == 100.0

    con = duckdb.connect(str(tmp_path / "demo/.keel/warehouse.duckdb"), read_only=True)
    try:
        promoted = con.execute(
            "SELECT count(*) FROM HUBSPOT_DATA.CONTACTS WHERE EMAIL IS NULL "
            "OR LIFECYCLE_STAGE = 'Subscriber'"
        ).fetchone()
        assert promoted == (0,)  # bad rows never reached the promoted schema
        rows = con.execute("SELECT count(*) FROM HUBSPOT_DATA.CONTACTS").fetchone()[0]
        assert rows == sync1["hubspot.contacts"]["batch"]["published_rows"]
        status = con.execute(
            'SELECT "STATUS" FROM "SOPHIA_OPS"."KEEL_BATCHES" WHERE "STREAM" = '
            "'contacts' ORDER BY \"CREATED_AT\""
        ).fetchall()
        assert [s for (s,) in status] == ["promoted", "blocked"]
    finally:
        con.close()


def test_demo_human_output_names_the_blocked_batch(tmp_path: Path, keel: Any) -> None:
    r = keel("demo", "--dir", str(tmp_path / "demo"))
    assert r.exit_code == 0, r.stderr
    assert "blocked hubspot.contacts" in r.stdout
    assert "keel serve" in r.stdout and "keel batches" in r.stdout
    assert "tables 22/22 (100.0%)" in r.stdout
