"""keel gate / promote / batches / run as commands: JSON of DESIGN section 9, exit codes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.gatekit import Kit, companies, contacts


@pytest.fixture
def landed(tmp_path: Path) -> Iterator[Kit]:
    k = Kit(tmp_path, [companies(), contacts()])
    k.land("companies", [{"id": "c1", "name": "a"}, {"id": "c2", "name": "b"}])
    k.land(
        "contacts",
        [
            {"id": "p1", "email": None, "company_id": "c1", "stage": "lead"},
            {"id": "p2", "email": "x@y.z", "company_id": "c9", "stage": "lead"},
        ],
    )
    k.close()
    yield k


def test_gate_json_is_design_section_9_and_exits_1_when_blocked(landed: Kit, keel: Any) -> None:
    r = keel("gate", "hubspot", "--json", project=landed.root)
    assert r.exit_code == 1
    data = r.json()
    assert data["source"] == "hubspot"
    assert [s["stream"] for s in data["streams"]] == ["companies", "contacts"]
    companies_, contacts_ = data["streams"]
    assert companies_["status"] == "passed" and contacts_["status"] == "blocked"
    assert contacts_["batch"]["rows"] == 2 and contacts_["batch"]["id"]
    checks = {(c["name"], c["column"]): c for c in contacts_["checks"]}
    assert checks[("not_null", "email")] == {
        "id": "not_null.EMAIL",
        "name": "not_null",
        "column": "email",
        "severity": "error",
        "status": "fail",
        "failing_rows": 1,
        "failing_values": None,
        "message": "1 row(s) are null",
    }
    assert checks[("relationships", "company_id")]["failing_rows"] == 1
    assert checks[("not_null", "id")]["status"] == "pass"
    assert contacts_["samples"]["not_null.EMAIL"][0]["id"] == "p1"
    assert "x@y.z" not in r.stdout  # masked


def test_gate_one_stream_and_human_output(landed: Kit, keel: Any) -> None:
    r = keel("gate", "hubspot.companies", project=landed.root)
    assert r.exit_code == 0, r.stderr
    assert "hubspot.companies: PASSED" in r.stdout
    assert "contacts" not in r.stdout
    r = keel("gate", "hubspot", project=landed.root)
    assert r.exit_code == 1
    assert "hubspot.contacts: BLOCKED" in r.stdout
    assert "blocked by:\n    not_null(email): 1 row(s) are null" in r.stdout
    assert "failing rows of not_null.EMAIL" in r.stdout
    assert "error: gate: blocked: hubspot.contacts" in r.stderr


def test_promote_publishes_what_passed_and_force_needs_a_reason(landed: Kit, keel: Any) -> None:
    r = keel("promote", "hubspot", "--json", project=landed.root)
    assert r.exit_code == 1
    statuses = {s["stream"]: s["status"] for s in r.json()["streams"]}
    assert statuses == {"companies": "promoted", "contacts": "blocked"}
    r = keel("promote", "hubspot", "--force", project=landed.root)
    assert r.exit_code == 1 and "--force needs --reason" in r.stderr
    r = keel("promote", "hubspot", "--reason", "x", project=landed.root)
    assert r.exit_code == 1 and "--reason goes with --force" in r.stderr
    r = keel(
        "promote", "hubspot", "--force", "--reason", "known gaps", "--json", project=landed.root
    )
    assert r.exit_code == 0, r.stderr
    contact = r.json()["streams"][1]
    assert contact["status"] == "promoted" and contact["batch"]["status"] == "forced"
    assert contact["batch"]["reason"] == "known gaps" and contact["batch"]["forced_by"]


def test_batches_lists_pending_and_decided_batches(landed: Kit, keel: Any) -> None:
    r = keel("batches", "--json", project=landed.root)
    assert r.exit_code == 0, r.stderr
    pending = r.json()
    assert {(b["stream"], b["status"], b["rows"]) for b in pending} == {
        ("companies", "pending", 2),
        ("contacts", "pending", 2),
    }
    gated = keel("gate", "hubspot", "--json", project=landed.root).json()
    ids = {s["stream"]: s["batch"]["id"] for s in gated["streams"]}
    listed = keel("batches", "hubspot", "--json", project=landed.root).json()
    assert {(b["stream"], b["id"], b["status"]) for b in listed} == {
        ("companies", ids["companies"], "passed"),
        ("contacts", ids["contacts"], "blocked"),
    }
    for b in listed:
        assert {"source", "stream", "id", "status", "rows", "created_at"} <= set(b)
    keel("promote", "hubspot", project=landed.root)
    listed = keel("batches", "--json", project=landed.root).json()
    assert {b["status"] for b in listed} == {"promoted", "blocked"}
    human = keel("batches", project=landed.root)
    assert "promoted" in human.stdout and "hubspot" in human.stdout
    assert keel("batches", "nope", project=landed.root).exit_code == 1


def test_run_without_an_ingest_step_gates_what_raw_holds(landed: Kit) -> None:
    """What keel serve runs for a sync event: Airbyte loaded RAW, so no ingest step."""
    from keel.context import Context

    with Context(landed.root) as ctx:
        data = ctx.run("hubspot", ingest=False).to_dict()
    assert data["ingest"]["status"] == "skipped"
    assert {s["stream"]: s["status"] for s in data["streams"]} == {
        "companies": "promoted",
        "contacts": "blocked",
    }


def test_run_calls_the_ingest_step(landed: Kit) -> None:
    from keel.context import Context
    from keel.errors import IngestError
    from keel.publish.pipeline import run_source

    seen: list[str] = []

    def ingest(source: str) -> dict[str, int]:
        seen.append(source)
        return {"records": 0}

    with Context(landed.root) as ctx:
        report = run_source(ctx.project, ctx.adapter, "hubspot", ingest=ingest)
        assert seen == ["hubspot"] and report.ingest == {"status": "succeeded", "records": 0}
        assert report.promote is not None and report.promote.blocked

        def broken(source: str) -> None:
            raise IngestError("connector crashed")

        failed = run_source(ctx.project, ctx.adapter, "hubspot", ingest=broken)
        assert failed.ingest == {"status": "failed", "message": "connector crashed"}
        assert failed.promote is None and not failed.ok
