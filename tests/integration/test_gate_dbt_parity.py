"""keel's verdicts equal dbt's on the published table.

Each scenario lands batches, gates them, publishes (forcing a blocked batch so the
table holds exactly what was judged), then runs dbt's own generic test SQL (dbt-core
1.11's macros, dbt_utils' accepted_range and expression_is_true, dbt_expectations'
row count) against the published tables and compares: the verdict always, and the
failing counts (rows for not_null, relationships, accepted_range, expression; values
for unique and accepted_values, as dbt counts them).

``test_real_dbt_test_agrees`` runs the real ``dbt test`` (dbt-duckdb) on the contract
itself, unchanged but for the schema, when dbt is importable or ``KEEL_DBT`` names a dbt
executable; it is skipped otherwise, and fails under CI (``CI=true``).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.support.gatekit import T0, Kit, col, companies, table

from keel.quality.model import CheckResult, SourceReport

REL = {"relationships": {"arguments": {"to": "source('hubspot', 'companies')", "field": "id"}}}


def contacts_spec(extra_tests: bool = True) -> dict[str, Any]:
    columns = [
        col("id", tests=["not_null", "unique"]),
        col("email", tests=["not_null", "unique"], pii="high"),
        col("company_id", tests=[REL]),
        col("stage", tests=[{"accepted_values": {"arguments": {"values": ["lead", "customer"]}}}]),
        col("nickname", tests=[{"not_null": {"config": {"where": "stage = 'customer'"}}}]),
        col(
            "region",
            tests=[
                {
                    "accepted_values": {
                        "arguments": {"values": ["eu", "us"]},
                        "config": {"severity": "warn"},
                    }
                }
            ],
        ),
        col("score", "bigint"),
        col("updated_at", "timestamp"),
    ]
    tests: list[Any] = []
    if extra_tests:
        columns[6]["data_tests"] = [
            {"dbt_utils.accepted_range": {"arguments": {"min_value": 0, "max_value": 100}}}
        ]
        tests = [
            {
                "dbt_utils.expression_is_true": {
                    "arguments": {"expression": "score >= 10 or stage = 'lead'"}
                }
            },
            {
                "dbt_expectations.expect_table_row_count_to_be_between": {
                    "arguments": {"min_value": 1, "max_value": 6}
                }
            },
        ]
    return table("contacts", "contact", columns, tests=tests)


def _contact(i: int, **kw: Any) -> dict[str, Any]:
    row = {
        "id": f"p{i}",
        "email": f"e{i}@x",
        "company_id": "c1",
        "stage": "lead",
        "nickname": f"n{i}",
        "region": "eu",
        "score": 50,
    }
    row.update(kw)
    return row


SCENARIOS: dict[str, list[list[dict[str, Any]]]] = {
    "clean": [[_contact(i) for i in range(4)]],
    "first batch with every kind of failure": [
        [
            _contact(1, email=None),
            _contact(2, email="dup@x"),
            _contact(3, email="dup@x"),
            _contact(4, stage="bogus"),
            _contact(5, stage="other", company_id="c9"),
            _contact(6, company_id="c9", nickname=None, stage="customer", score=5),
            _contact(7, nickname=None),
            _contact(8, region="mars", score=101),
            _contact(9, stage=None),
        ]
    ],
    "a batch against promoted rows": [
        [_contact(1, email="dup@x"), _contact(2, email="keep@x"), _contact(3)],
        [
            _contact(1, email="moved@x"),  # replaces the promoted row holding dup@x
            _contact(4, email="dup@x"),  # takes dup@x: no duplicate after the merge
            _contact(5, email="keep@x"),  # duplicates a row the batch does not replace
            _contact(6, company_id="c9"),
            _contact(3, email=None, updated_at=T0 - dt.timedelta(days=1)),  # late: dropped
        ],
    ],
}


def _dbt_failures(k: Kit, r: CheckResult) -> int:
    """dbt's failure count for one test, from dbt's own SQL on the published table."""
    c = r.check
    model = k.data("contacts")
    if c.where:
        model = f"(select * from {model} where {c.where}) dbt_subquery"
    column = f'"{c.column}"' if c.column else ""
    if c.name == "not_null":
        sql = f"select {column} from {model} where {column} is null"
    elif c.name == "unique":
        sql = (
            f"select {column} as unique_field, count(*) as n_records from {model} "
            f"where {column} is not null group by {column} having count(*) > 1"
        )
    elif c.name == "accepted_values":
        values = ", ".join(f"'{v}'" for v in c.args["values"])
        sql = (
            f"with all_values as (select {column} as value_field, count(*) as n_records "
            f"from {model} group by {column}) select * from all_values "
            f"where value_field not in ({values})"
        )
    elif c.name == "relationships":
        sql = (
            f"with child as (select {column} as from_field from {model} where {column} is not "
            f"null), parent as (select id as to_field from {k.data('companies')}) select "
            "from_field from child left join parent on child.from_field = parent.to_field "
            "where parent.to_field is null"
        )
    elif c.name == "accepted_range":
        sql = (
            f"with meet_condition as (select * from {model} where 1=1), validation_errors as "
            f"(select * from meet_condition where 1=2 or not({column} >= "
            f"{c.args['min_value']}) or not({column} <= {c.args['max_value']})) "
            "select * from validation_errors"
        )
    elif c.name == "expression":
        sql = f"select * from {model} where not({column} {c.args['expression']})"
    elif c.name == "row_count":
        sql = (
            f"select count(*) from {model} having not (count(*) between "
            f"{c.args['min_value']} and {c.args['max_value']})"
        )
    else:
        raise AssertionError(c.name)
    return int(k.rows(f"select count(*) as failures from ({sql}) dbt_internal_test")[0][0])


def _keel_count(r: CheckResult) -> int:
    if r.check.name in ("unique", "accepted_values"):
        return int(r.failing_values or 0)
    return r.failing_rows


def _compare(k: Kit, report: SourceReport) -> list[tuple[str, str, int, str, int]]:
    """(check, keel status, keel count, dbt status, dbt failures) for every dbt test."""
    out = []
    for r in report.stream("contacts").checks:
        if r.check.name in ("schema", "freshness", "airbyte_meta_changes"):  # no dbt twin
            continue
        failures = _dbt_failures(k, r)
        dbt_status = (
            "pass" if failures == 0 else ("fail" if r.check.severity == "error" else "warn")
        )
        out.append((r.check.id, r.status, _keel_count(r), dbt_status, failures))
    return out


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_verdicts_and_counts_equal_dbt_sql_on_the_published_table(
    tmp_path: Path, scenario: str
) -> None:
    k = Kit(tmp_path, [companies(), contacts_spec()])
    try:
        k.land("companies", [{"id": "c1", "name": "a"}])
        batches = SCENARIOS[scenario]
        for rows in batches[:-1]:  # earlier batches: published as they are
            k.land("contacts", rows)
            k.promote(force=True, reason="setup")
        k.land("contacts", batches[-1])
        preview = k.gate()
        report = k.promote(force=True, reason="parity check")
        assert [r.to_dict() for r in preview.stream("contacts").checks] == [
            r.to_dict() for r in report.stream("contacts").checks
        ]
        rows = _compare(k, report)
        mismatches = [r for r in rows if (r[1], r[2]) != (r[3], r[4])]
        assert not mismatches, mismatches
        if scenario != "clean":
            assert any(r[1] != "pass" for r in rows)
    finally:
        k.close()


# ---- the real dbt ----------------------------------------------------------------------


def _dbt() -> list[str]:
    if os.environ.get("KEEL_DBT"):
        return [os.environ["KEEL_DBT"]]
    if importlib.util.find_spec("dbt") is not None and importlib.util.find_spec(
        "dbt.adapters.duckdb"
    ):
        return [sys.executable, "-m", "dbt.cli.main"]
    message = (
        "dbt is not available: add the dev dependencies dbt-core==1.11.* and dbt-duckdb, "
        "or set KEEL_DBT to a dbt executable"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (CI=true: dbt parity must be proven)", pytrace=False)
    pytest.skip(message)


def _run_dbt(k: Kit, dbt: list[str]) -> dict[tuple[str, str | None], tuple[str, int]]:
    project = k.root / "dbt"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text(
        yaml.safe_dump(
            {"name": "parity", "version": "1.0", "profile": "parity", "config-version": 2}
        )
    )
    (project / "profiles.yml").write_text(
        yaml.safe_dump(
            {
                "parity": {
                    "target": "dev",
                    "outputs": {
                        "dev": {
                            "type": "duckdb",
                            "path": str(k.root / ".keel" / "warehouse.duckdb"),
                            "threads": 1,
                        }
                    },
                }
            }
        )
    )
    contract = yaml.safe_load((k.root / "contracts" / "hubspot.yml").read_text())
    contract["sources"][0]["schema"] = "HUBSPOT_DATA"  # dbt tests the published tables
    (project / "models" / "sources.yml").write_text(yaml.safe_dump(contract))
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
    done = subprocess.run(
        [*dbt, "test", "--project-dir", str(project), "--profiles-dir", str(project)],
        capture_output=True,
        text=True,
        env=env,
        cwd=project,
        check=False,
        timeout=300,
    )
    assert done.returncode in (0, 1), done.stdout + done.stderr
    manifest = json.loads((project / "target" / "manifest.json").read_text())
    results = json.loads((project / "target" / "run_results.json").read_text())["results"]
    out = {}
    for r in results:
        node = manifest["nodes"][r["unique_id"]]
        meta = node["test_metadata"]
        name = {"expression_is_true": "expression"}.get(meta["name"], meta["name"])
        column = meta["kwargs"].get("column_name")
        out[(name, column.upper() if column else None)] = (r["status"], int(r["failures"] or 0))
    return out


def test_real_dbt_test_agrees(tmp_path: Path) -> None:
    dbt = _dbt()
    k = Kit(tmp_path, [companies(), contacts_spec(extra_tests=False)])
    k.land("companies", [{"id": "c1", "name": "a"}])
    for rows in SCENARIOS["a batch against promoted rows"]:
        k.land("contacts", rows)
        report = k.promote(force=True, reason="parity check")
    k.land("contacts", SCENARIOS["first batch with every kind of failure"][0])
    report = k.promote(force=True, reason="parity check")
    k.close()
    dbt_results = _run_dbt(k, dbt)
    compared = 0
    for r in report.stream("contacts").checks:
        if r.check.name in ("schema", "freshness", "airbyte_meta_changes"):  # no dbt twin
            continue
        status, failures = dbt_results[(r.check.name, r.check.column)]
        assert (r.status, _keel_count(r)) == (status, failures), r.check.id
        compared += 1
    assert compared == 8
