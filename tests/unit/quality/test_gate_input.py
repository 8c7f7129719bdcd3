"""Bad input is refused before anything runs, with file:line and the object named."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.support.gatekit import Kit, col, companies, contacts

from keel.errors import KeelError, ProjectError, QualityError
from keel.quality.checks import type_family

Make = Callable[..., Kit]


def _line(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_a_test_on_a_column_the_raw_table_lacks_is_an_error_naming_file_and_line(
    kit: Make,
) -> None:
    spec = companies()
    spec["columns"].append(col("domian", tests=["not_null"]))
    k = kit([spec])
    k.create_raw(
        "companies",
        [
            ("ID", "VARCHAR"),
            ("NAME", "VARCHAR"),
            ("DOMAIN", "VARCHAR"),
            ("UPDATED_AT", "TIMESTAMPTZ"),
        ],
    )
    k.land("companies", [{"id": "c1", "name": "a"}])
    with pytest.raises(QualityError) as info:
        k.gate()
    text = info.value.message
    line = _line(k.root / "contracts/hubspot.yml", "- not_null") + 0
    assert "contracts/hubspot.yml:" in text
    assert (
        "table hubspot.companies: test 'not_null' names column 'domian', which "
        "HUBSPOT_DATA_RAW.COMPANIES does not have (did you mean 'domain'?)" in text
    )
    assert any(f"hubspot.yml:{n}:" in text for n in range(line, line + 30))
    # nothing ran: no batch recorded
    assert k.rows('SELECT count(*) FROM "SOPHIA_OPS"."KEEL_BATCHES"') == [(0,)]


def test_a_where_that_is_not_one_expression_is_refused(kit: Make) -> None:
    spec = companies()
    spec["columns"][1]["data_tests"] = [{"not_null": {"config": {"where": "1=1; DROP TABLE x"}}}]
    # refused when the project loads (keel.project.fragments), before any warehouse work
    with pytest.raises(
        ProjectError, match=r"where is not a SQL expression .*\(it holds 2 statements"
    ):
        kit([spec]).gate()


def test_a_missing_relationships_field_in_the_parent_table(kit: Make) -> None:
    spec = contacts()
    spec["columns"][2]["data_tests"] = [
        {"relationships": {"arguments": {"to": "source('hubspot', 'companies')", "field": "name"}}}
    ]
    k = kit([companies(), spec])
    k.create_raw("companies", [("ID", "VARCHAR"), ("UPDATED_AT", "TIMESTAMPTZ")])
    k.land("contacts", [{"id": "p1", "email": "e"}])
    with pytest.raises(QualityError, match="field 'name', which hubspot.companies's RAW table"):
        k.gate("hubspot.contacts")


@pytest.mark.parametrize(
    ("test", "message"),
    [
        ({"accepted_values": {"arguments": {"valuez": ["a"]}}}, "has no argument 'valuez'"),
    ],
)
def test_unknown_tests_and_wrong_arguments_fail_at_load(
    kit: Make, keel: Callable[..., object], test: object, message: str
) -> None:
    spec = companies()
    spec["columns"][1]["data_tests"] = [test]
    k = kit([companies()])
    k.write_contract([spec])
    k.close()
    r = keel("gate", "hubspot", project=k.root)
    assert r.exit_code == 1  # type: ignore[attr-defined]
    assert message in r.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in r.stderr  # type: ignore[attr-defined]
    with pytest.raises(ProjectError):
        Kit(k.root.parent / "again", [spec])


def test_a_test_keel_does_not_run_is_warned_once_and_the_gate_runs_the_rest(
    kit: Make, keel: Callable[..., object]
) -> None:
    spec = companies()
    spec["columns"][1]["data_tests"] = ["not_nul", {"dbt_utils.equality": {"compare_model": "x"}}]
    spec["columns"][0]["data_tests"] = ["not_null", {"dbt_utils.equality": {"compare_model": "y"}}]
    k = kit([spec])
    k.land("companies", [{"id": "c1", "name": "a"}])
    k.close()
    r = keel("gate", "hubspot", project=k.root)
    assert r.exit_code == 0, r.stderr  # type: ignore[attr-defined]
    err = r.stderr  # type: ignore[attr-defined]
    assert err.count("data test 'dbt_utils.equality' is kept but not run") == 1
    assert "(2 use(s): contracts/hubspot.yml:" in err
    assert err.count("data test 'not_nul' is kept but not run") == 1
    assert "did you mean 'not_null'?" in err


def test_unknown_source_and_stream_have_hints(kit: Make) -> None:
    k = kit([companies()])
    with pytest.raises(KeelError, match="unknown source 'hubspt' \\(did you mean 'hubspot'\\?\\)"):
        k.gate("hubspt")
    with pytest.raises(KeelError, match="has no stream 'compnies' \\(did you mean 'companies'"):
        k.gate("hubspot.compnies")


def test_an_empty_stream_is_reported_not_judged(kit: Make) -> None:
    k = kit([companies(), contacts()])
    report = k.gate()
    assert [s.status for s in report.streams] == ["empty", "empty"]
    assert report.streams[0].reason == "HUBSPOT_DATA_RAW.COMPANIES does not exist yet"
    assert not report.blocked


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("timestamp", "TIMESTAMP WITH TIME ZONE", True),
        ("timestamp", "TIMESTAMP_TZ", True),
        ("bigint", "NUMBER(38,0)", True),
        ("bigint", "DOUBLE", False),
        ("varchar", "character varying", True),
        ("date", "TIMESTAMPTZ", False),
        ("double", "NUMBER(10,2)", True),
        ("interval", "INTEGER", False),
    ],
)
def test_type_families(a: str, b: str, same: bool) -> None:
    assert (type_family(a) == type_family(b)) is same
