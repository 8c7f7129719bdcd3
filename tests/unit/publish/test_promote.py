"""Publishing: blocked then fixed, quarantine, force, replay, deletes, order, masking, tags."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from tests.support.gatekit import T0, Kit, col, companies, contacts, result

from keel.errors import KeelError
from keel.project.loader import load_project
from keel.publish.promote import StaleBatchError, publish
from keel.quality.gate import GateRun, Target, order_streams

Make = Callable[..., Kit]
ALL = '"ID", "NAME", "UPDATED_AT"'


def test_a_blocked_batch_then_a_fixing_batch_publish_together(kit: Make) -> None:
    k = kit([companies(), contacts()])
    k.land("companies", [{"id": "c1", "name": "a"}, {"id": "c2", "name": None}])
    k.land("contacts", [{"id": "p1", "email": "e", "company_id": "c2"}])
    first = k.promote()
    assert [s.status for s in first.streams] == ["blocked", "blocked"]
    assert first.blocked
    # nothing published, watermarks unchanged
    assert k.rows(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'HUBSPOT_DATA'"
    ) == [(0,)]
    assert k.watermark("companies") is None and k.watermark("contacts") is None
    # the child is blocked because its parent row is not published
    assert result(first, "contacts", "relationships.COMPANY_ID").failing_rows == 1
    upto = k.land("companies", [{"id": "c2", "name": "b"}])  # the fix
    second = k.promote()
    assert [s.status for s in second.streams] == ["promoted", "promoted"]
    assert k.published("companies", '"ID", "NAME"') == [("c1", "a"), ("c2", "b")]
    assert k.published("contacts") == [("p1",)]
    assert k.watermark("companies") == upto.replace(tzinfo=None)
    statuses = k.batches("companies")
    assert [s[0] for s in statuses] == ["blocked", "promoted"]
    assert statuses[0][6] is not None  # superseded by the promoted batch
    assert statuses[1][:3] == ("promoted", 2, 2)


def test_replay_and_promote_twice_change_nothing(kit: Make) -> None:
    k = kit([companies()])
    k.land("companies", [{"id": f"c{i}", "name": f"n{i}"} for i in range(5)])
    assert k.promote().stream("companies").status == "promoted"
    before = k.published("companies", "*")
    mark = k.watermark("companies")
    again = k.promote()
    assert again.stream("companies").status == "empty"
    assert k.published("companies", "*") == before and k.watermark("companies") == mark
    # replay: forget the watermark and the judged ids; the same batch merges again
    # without any change
    k.sql('DELETE FROM "SOPHIA_OPS"."KEEL_WATERMARKS"', 'DELETE FROM "SOPHIA_OPS"."KEEL_JUDGED"')
    replay = k.promote()
    assert replay.stream("companies").status == "promoted"
    assert replay.stream("companies").batch.live == 0  # type: ignore[union-attr]
    assert k.published("companies", "*") == before
    assert k.watermark("companies") == mark


def test_update_only_when_the_cursor_is_newer(kit: Make) -> None:
    k = kit([companies()])
    k.land("companies", [{"id": "c1", "name": "new", "updated_at": T0 + dt.timedelta(days=2)}])
    k.promote()
    k.land(
        "companies",
        [
            {"id": "c1", "name": "late", "updated_at": T0 + dt.timedelta(days=1)},
            {"id": "c2", "name": "fresh"},
        ],
    )
    report = k.promote()
    assert report.stream("companies").batch.stale == 1  # type: ignore[union-attr]
    assert k.published("companies", '"ID", "NAME"') == [("c1", "new"), ("c2", "fresh")]


@pytest.mark.parametrize("marker", ["cdc", "meta"])
def test_deletes_marked_by_the_source(kit: Make, marker: str) -> None:
    spec = companies()
    if marker == "cdc":
        spec["columns"].append(col("_ab_cdc_deleted_at", "timestamp"))
        column = "_ab_cdc_deleted_at"
    else:
        spec["columns"].append(col("is_deleted", "timestamp"))
        spec["meta"]["keel"]["deleted_at"] = "is_deleted"
        column = "is_deleted"
    k = kit([spec])
    k.land("companies", [{"id": "c1", "name": "a"}, {"id": "c2", "name": "b"}])
    k.promote()
    k.land(
        "companies", [{"id": "c1", "name": "a", column: T0}, {"id": "c3", "name": None, column: T0}]
    )  # never published: no insert
    report = k.promote()
    b = report.stream("companies").batch
    assert b is not None and (b.deleted, b.live, b.published) == (2, 0, 0)
    assert k.published("companies") == [("c2",)]


def test_quarantine_publishes_passing_rows_and_keeps_the_rest(kit: Make) -> None:
    k = kit([companies(), contacts(on_fail="quarantine_rows")])
    k.land("companies", [{"id": "c1", "name": "a"}])
    k.land(
        "contacts",
        [
            {"id": "p1", "email": "ok@x", "company_id": "c1", "stage": "lead"},
            {"id": "p2", "email": None, "company_id": "c1"},
            {"id": "p3", "email": "x@x", "company_id": "c9", "stage": "bogus"},
        ],
    )
    gated = k.gate()
    assert gated.stream("contacts").status == "warned"
    assert not gated.blocked
    report = k.promote()
    s = report.stream("contacts")
    assert s.status == "promoted"
    assert s.batch is not None and (s.batch.status, s.batch.published, s.batch.quarantined) == (
        "quarantined",
        1,
        2,
    )
    assert k.published("contacts") == [("p1",)]
    kept = k.rows(
        'SELECT "RAW_ID", "ROW_KEY", "FAILED_CHECKS", "ROW_JSON" FROM '
        '"SOPHIA_OPS"."KEEL_QUARANTINE" ORDER BY "ROW_KEY"'
    )
    assert [(r[1], r[2]) for r in kept] == [
        ('["p2"]', "not_null.EMAIL"),
        ('["p3"]', "relationships.COMPANY_ID,accepted_values.STAGE"),
    ]
    assert json.loads(kept[1][3])["email"] == "x@x"  # the real row, kept for repair
    assert k.watermark("contacts") is not None
    assert k.batches("contacts")[-1][:4] == ("quarantined", 3, 1, 2)
    assert k.promote().stream("contacts").status == "empty"


def test_forced_promotion_is_logged_with_who_and_why(kit: Make) -> None:
    k = kit([companies()])
    k.land("companies", [{"id": "c1", "name": None}])
    with pytest.raises(KeelError, match="--force needs --reason"):
        k.promote(force=True)
    report = k.promote(force=True, reason='vendor\'s "ok" \\ confirmed', actor="ana")
    s = report.stream("companies")
    assert s.status == "promoted" and not report.blocked
    assert s.batch is not None and s.batch.status == "forced"
    assert k.batches("companies")[-1][:6] == (
        "forced",
        1,
        1,
        0,
        "ana",
        'vendor\'s "ok" \\ confirmed',
    )
    assert k.published("companies") == [("c1",)]
    # results of the forced batch still say what failed
    failed = k.rows(
        'SELECT "CHECK_ID", "STATUS", "FAILING_ROWS" FROM "SOPHIA_OPS"."KEEL_DQ_RESULTS"'
        " WHERE \"STATUS\" <> 'pass'"
    )
    assert failed == [("not_null.NAME", "fail", 1)]


def test_parents_publish_first_whatever_the_declaration_order(kit: Make) -> None:
    k = kit([contacts(), companies()])
    project = load_project(k.root)
    assert [s.name for s in order_streams(list(project.streams.values()))] == [
        "companies",
        "contacts",
    ]
    k.land("contacts", [{"id": "p1", "email": "e", "company_id": "c1"}])
    k.land("companies", [{"id": "c1", "name": "a"}])
    report = k.promote()
    assert [s.stream for s in report.streams] == ["companies", "contacts"]
    assert [s.status for s in report.streams] == ["promoted", "promoted"]


def test_promoting_a_child_alone_does_not_count_unpublished_parents(kit: Make) -> None:
    k = kit([companies(), contacts()])
    k.land("companies", [{"id": "c1", "name": "a"}])
    k.land("contacts", [{"id": "p1", "email": "e", "company_id": "c1"}])
    assert k.gate("hubspot.contacts").stream("contacts").status == "passed"  # preview
    report = k.promote("hubspot.contacts")
    assert [s.stream for s in report.streams] == ["contacts"]
    assert report.stream("contacts").status == "blocked"


def test_samples_mask_high_and_sensitive_columns(kit: Make) -> None:
    spec = contacts()
    spec["columns"].append(col("ssn", pii="sensitive"))
    spec["columns"].append(col("nickname"))
    k = kit([companies(), spec])
    k.land("companies", [{"id": "c1", "name": "a"}])
    k.create_raw("contacts", [*k.contract_columns("contacts"), ("NOTE", "VARCHAR")])
    # NOTE is classified high by an earlier apply (recorded tag), not in the contract
    k.sql("""INSERT INTO "SOPHIA_OPS"."KEEL_TAGS" VALUES ('column', 'HUBSPOT_DATA_RAW.CONTACTS.NOTE',
             'SOPHIA_AI_METADATA', '{"pii_level":"high"}', now())""")
    k.land(
        "contacts",
        [
            {
                "id": "p1",
                "email": "a@b.c",
                "company_id": "c1",
                "stage": "bad",
                "ssn": "123-45-6789",
                "nickname": "al",
                "note": "secret",
            },
            {"id": "p2", "email": None, "company_id": "c1", "ssn": None},
        ],
    )
    report = k.gate(sample_limit=5)
    samples = report.stream("contacts").samples
    assert samples["accepted_values.STAGE"] == [
        {
            "id": "p1",
            "email": "***",
            "company_id": "c1",
            "stage": "bad",
            "score": None,
            "updated_at": samples["accepted_values.STAGE"][0]["updated_at"],
            "ssn": "***",
            "nickname": "***",  # untagged, classified high by name (issue 11)
            "note": "***",
            "_airbyte_raw_id": samples["accepted_values.STAGE"][0]["_airbyte_raw_id"],
            "_airbyte_extracted_at": samples["accepted_values.STAGE"][0]["_airbyte_extracted_at"],
            "_airbyte_meta": "{}",
            "_airbyte_generation_id": 1,
        }
    ]
    assert (
        samples["not_null.EMAIL"][0]["email"] is None
        and samples["not_null.EMAIL"][0]["ssn"] is None
    )
    stored = [
        json.loads(r[0])
        for r in k.rows(
            'SELECT "ROW_JSON" FROM "SOPHIA_OPS"."KEEL_DQ_FAILURES" ORDER BY "CHECK_ID"'
        )
    ]
    assert len(stored) == 2
    assert "123-45-6789" not in json.dumps(stored) and "a@b.c" not in json.dumps(stored)
    assert "secret" not in json.dumps(stored)


def test_sample_limit_bounds_the_stored_rows(kit: Make) -> None:
    k = kit([companies()])
    k.land("companies", [{"id": f"c{i}", "name": None} for i in range(30)])
    report = k.gate(sample_limit=3)
    assert len(report.stream("companies").samples["not_null.NAME"]) == 3
    assert result(report, "companies", "not_null.NAME").failing_rows == 30


def test_promoted_table_carries_the_raw_tables_tags(kit: Make) -> None:
    k = kit([companies()])
    k.create_raw("companies", [*k.contract_columns("companies"), ("EXTRA", "VARCHAR")])
    k.sql("""INSERT INTO "SOPHIA_OPS"."KEEL_TAGS" VALUES ('column',
             'HUBSPOT_DATA_RAW.COMPANIES.EXTRA', 'SOPHIA_AI_METADATA', '{"pii_level":"low"}', now())""")
    k.land("companies", [{"id": "c1", "name": "a"}])
    k.promote()
    tags = dict(
        k.rows(
            'SELECT "OBJECT_NAME", "TAG_VALUE" FROM "SOPHIA_OPS"."KEEL_TAGS" '
            "WHERE \"OBJECT_NAME\" LIKE 'HUBSPOT\\_DATA.%' ESCAPE '\\'"
        )
    )
    assert tags["HUBSPOT_DATA.COMPANIES.EXTRA"] == '{"pii_level":"low"}'
    assert json.loads(tags["HUBSPOT_DATA.COMPANIES"])["entity_type"] == "company"
    assert json.loads(tags["HUBSPOT_DATA.COMPANIES.ID"])["is_primary_identifier"] == "true"
    stamp = k.rows('SELECT max("UPDATED_AT") FROM "SOPHIA_OPS"."KEEL_TAGS"')
    k.sql('DELETE FROM "SOPHIA_OPS"."KEEL_WATERMARKS"')
    k.promote()  # replay: tags equal, nothing rewritten
    assert k.rows('SELECT max("UPDATED_AT") FROM "SOPHIA_OPS"."KEEL_TAGS"') == stamp


def test_rows_changing_between_gate_and_publish_publish_nothing(kit: Make) -> None:
    k = kit([companies()])
    k.land("companies", [{"id": "c1", "name": "a"}, {"id": "c2", "name": "b"}])
    run = GateRun(k.ctx.project, k.ctx.adapter, Target("hubspot"), publishing=True)
    verdict = run.judge(run.order[0])
    k.land("companies", [{"id": "c1", "name": "a2"}])  # c1's row moves out of the window
    with pytest.raises(StaleBatchError, match="changed since the gate"):
        publish(run, verdict)
    assert k.watermark("companies") is None
    assert k.rows(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'HUBSPOT_DATA'"
    ) == [(0,)]
    k.promote()
    assert k.published("companies", '"ID", "NAME"') == [("c1", "a2"), ("c2", "b")]


def test_a_transformation_runs_after_publish_and_its_failure_is_recorded(kit: Make) -> None:
    k = kit([companies()], transform={"command": ["false"]})
    calls: list[Any] = []

    class Done:
        returncode = 3
        stdout = "building\n"
        stderr = "boom\n"

    def runner(argv: list[str], **kw: Any) -> Done:
        calls.append((argv, kw["env"]["KEEL_SOURCE"], kw["env"]["KEEL_BATCH_IDS"]))
        return Done()

    k.land("companies", [{"id": "c1", "name": "a"}])
    report = k.promote(runner=runner)
    assert calls and calls[0][0] == ["false"] and calls[0][1] == "hubspot"
    assert report.transform is not None and report.transform.status == "failed"
    assert not report.ok and not report.blocked
    assert k.published("companies") == [("c1",)]  # the publish stands
    assert k.rows('SELECT "STATUS", "EXIT_CODE", "OUTPUT" FROM "SOPHIA_OPS"."KEEL_TRANSFORMS"') == [
        ("failed", 3, "building\nboom\n")
    ]
    assert k.promote(runner=runner).transform is None  # nothing published: no transform
