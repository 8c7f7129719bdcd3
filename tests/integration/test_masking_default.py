"""Issue 11, defect 3: personal data in columns nobody has tagged yet is never shown.

A sync brings a new ``contact_email`` column, a ``mobile`` column and a ``ref``
column whose *values* are e-mail addresses, none of them in the contract, with a
failing row. The gate's text and ``--json``, ``KEEL_DQ_FAILURES``, ``/api/status``
data, the alert outbox ``KEEL_ALERTS`` and the local alert log hold no e-mail and
no phone number; the report says which columns were masked and why. Untagged
columns are classified with ``keel classify``'s rules (name first, values after).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.support.gatekit import Kit, col, table

from keel.alerts.notify import notify, sender_for
from keel.context import Context
from keel.events.status import status_data
from keel.quality.gate import gate

Make = Callable[..., Kit]
SECRETS = ("jane.doe@example.com", "+1 415 555 0199", "x.y@example.org", "4155550199")


def people() -> dict[str, Any]:
    return table(
        "people",
        "contact",
        [
            col("id", tests=["not_null"]),
            col("name", tests=["not_null"]),
            col("updated_at", "timestamp"),
        ],
    )


def leaked(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def test_untagged_personal_columns_are_masked_everywhere(kit: Make, keel: Any) -> None:
    k = kit([people()])
    k.create_raw(
        "people",
        [
            ("ID", "VARCHAR"),
            ("NAME", "VARCHAR"),
            ("UPDATED_AT", "TIMESTAMPTZ"),
            ("CONTACT_EMAIL", "VARCHAR"),
            ("MOBILE", "VARCHAR"),
            ("REF", "VARCHAR"),
            ("STAGE", "VARCHAR"),
        ],
    )
    k.land(
        "people",
        [
            {
                "id": "p1",
                "name": None,
                "contact_email": SECRETS[0],
                "mobile": SECRETS[1],
                "ref": SECRETS[2],
                "stage": "lead",
            },
            {
                "id": "p2",
                "name": None,
                "contact_email": "a.b@example.net",
                "mobile": SECRETS[3],
                "ref": "c.d@example.org",
                "stage": "customer",
            },
        ],
    )
    report = k.gate()
    stream = report.streams[0]
    assert stream.status == "blocked"
    rows = stream.samples["not_null.NAME"]
    assert {r["id"] for r in rows} == {"p1", "p2"}  # harmless columns are shown
    assert {r["stage"] for r in rows} == {"lead", "customer"}
    assert {r["contact_email"] for r in rows} == {"***"}
    assert {r["mobile"] for r in rows} == {"***"}
    assert {r["ref"] for r in rows} == {"***"}  # masked by its values
    assert set(stream.masked) == {"contact_email", "mobile", "ref"}
    assert stream.masked["contact_email"].startswith("untagged, classified high")
    assert "ref" in " ".join(stream.notes)
    assert leaked(json.dumps(report.to_dict())) == []

    a = k.ctx.adapter
    failures = a.fetch('SELECT * FROM "SOPHIA_OPS"."KEEL_DQ_FAILURES"')
    assert failures and leaked(str(failures)) == []
    assert leaked(json.dumps(status_data(a, k.ctx.project), default=str)) == []
    notify(k.ctx, "gate", report)  # the typed SourceReport, as keel serve passes it
    outbox = a.fetch('SELECT * FROM "SOPHIA_OPS"."KEEL_ALERTS"')
    assert outbox and leaked(str(outbox)) == []
    sender_for(k.ctx).run_once()
    log = (k.root / ".keel" / "alerts.log").read_text()
    assert "people" in log and leaked(log) == []
    k.close()

    text = keel("gate", "hubspot", project=k.root)
    out = text.stdout + text.stderr
    assert text.exit_code == 1 and leaked(out) == [], out
    assert "masked in samples: contact_email (untagged, classified high" in out
    data = keel("gate", "hubspot", "--json", project=k.root)
    assert leaked(data.stdout + data.stderr) == []
    assert data.json()["streams"][0]["masked"]["mobile"].startswith("untagged")
    with Context(k.root) as ctx:
        assert leaked(str(ctx.adapter.fetch('SELECT * FROM "SOPHIA_OPS"."KEEL_DQ_FAILURES"'))) == []


def test_tagged_harmless_columns_stay_visible(kit: Make) -> None:
    spec = people()
    spec["columns"].append(col("contact_email", pii="none"))
    k = kit([spec])
    k.land("people", [{"id": "p1", "name": None, "contact_email": "role@example.com"}])
    stream = k.gate().streams[0]
    assert stream.samples["not_null.NAME"][0]["contact_email"] == "role@example.com"
    assert "contact_email" not in stream.masked


@pytest.mark.postgres
def test_untagged_personal_columns_are_masked_on_postgres(
    pg_project: Callable[..., Path], pg_db: Any
) -> None:
    root = pg_project()
    for f in (root / "contracts").glob("*.yml"):
        f.unlink()
    doc = {"version": 2, "sources": [{"name": "hubspot", "tables": [people()]}]}
    (root / "contracts" / "hubspot.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
    with Context(root) as ctx:
        ctx.apply()
    pg_db.sql(
        "CREATE TABLE hubspot_data_raw.people (id text, name text, updated_at timestamptz, "
        "contact_email text, mobile text, ref text, _airbyte_raw_id text, "
        "_airbyte_extracted_at timestamptz, _airbyte_meta jsonb, _airbyte_generation_id bigint)",
        "INSERT INTO hubspot_data_raw.people VALUES "
        f"('p1', NULL, now(), '{SECRETS[0]}', '{SECRETS[1]}', '{SECRETS[2]}', 'r1', "
        "'2026-01-01T01:00:00Z', '{}', 1), "
        f"('p2', NULL, now(), 'a.b@example.net', '{SECRETS[3]}', 'c.d@example.org', 'r2', "
        "'2026-01-01T01:00:00Z', '{}', 1)",
    )
    with Context(root) as ctx:
        report = gate(ctx.project, ctx.adapter, "hubspot")
        stream = report.streams[0]
        assert stream.status == "blocked"
        assert set(stream.masked) == {"contact_email", "mobile", "ref"}
        assert {r["id"] for r in stream.samples["not_null.NAME"]} == {"p1", "p2"}
        assert leaked(json.dumps(report.to_dict())) == []
        assert leaked(json.dumps(status_data(ctx.adapter, ctx.project), default=str)) == []
    assert leaked(str(pg_db.rows("SELECT * FROM sophia_ops.keel_dq_failures"))) == []


def test_untagged_structured_and_free_text_columns_are_masked(kit: Make) -> None:
    """Issue 11: "a column ... not classifiable is masked". An untagged JSON column is
    masked before anything is sampled (keel does not judge structured values by name),
    and an untagged free-text column whose sampled values name a person and a phone
    is masked by its values (the rules of ``keel classify``), each with its reason."""
    k = kit([people()])
    k.create_raw(
        "people",
        [
            ("ID", "VARCHAR"),
            ("NAME", "VARCHAR"),
            ("UPDATED_AT", "TIMESTAMPTZ"),
            ("PROFILE", "JSON"),
            ("NOTES", "VARCHAR"),
            ("STAGE", "VARCHAR"),
        ],
    )
    note = "Spoke with Maria Garcia, call back on +1 415 555 0199 tomorrow."
    k.land(
        "people",
        [
            {
                "id": "p1",
                "name": None,
                "profile": '{"email": "jane.doe@example.com"}',
                "notes": note,
                "stage": "lead",
            },  # fmt: skip
            {
                "id": "p2",
                "name": None,
                "profile": '{"color": "red"}',
                "notes": "Ask John Smith about x.y@example.org",
                "stage": "customer",
            },  # fmt: skip
        ],
    )
    report = k.gate()
    stream = report.streams[0]
    assert stream.status == "blocked"
    rows = stream.samples["not_null.NAME"]
    assert {r["stage"] for r in rows} == {"lead", "customer"}  # harmless: shown
    assert {r["profile"] for r in rows} == {"***"}
    assert {r["notes"] for r in rows} == {"***"}
    assert set(stream.masked) == {"profile", "notes"}
    assert stream.masked["profile"] == "untagged and not classifiable (structured values)"
    assert stream.masked["notes"].startswith("untagged, classified high")
    shown = json.dumps(report.to_dict())
    assert leaked(shown) == [] and "Maria Garcia" not in shown
    failures = k.rows('SELECT * FROM "SOPHIA_OPS"."KEEL_DQ_FAILURES"')
    assert failures and leaked(str(failures)) == [] and "Maria Garcia" not in str(failures)
