"""Each check kind passing and failing, warn vs error, ``where``: real DuckDB, real rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from tests.support.gatekit import NOW, T0, Kit, col, companies, contacts, result

Make = Callable[..., Kit]


def _companies(k: Kit, *names: Any) -> None:
    k.land("companies", [{"id": f"c{i}", "name": n} for i, n in enumerate(names)])


def test_not_null_fails_with_the_null_row_count_and_passes_when_clean(kit: Make) -> None:
    k = kit([companies()])
    _companies(k, "a", None, None, "d")
    report = k.gate()
    r = result(report, "companies", "not_null.NAME")
    assert (r.status, r.failing_rows, r.failing_values) == ("fail", 2, None)
    s = report.stream("companies")
    assert s.status == "blocked" and s.batch is not None and s.batch.rows == 4
    assert "not_null(name)" in (s.reason or "")
    assert result(report, "companies", "not_null.ID").status == "pass"
    k.land("companies", [{"id": "c1", "name": "b"}, {"id": "c2", "name": "c"}])
    fixed = k.gate()
    assert result(fixed, "companies", "not_null.NAME").status == "pass"
    assert fixed.stream("companies").status == "passed"


def test_unique_counts_values_and_rows_and_sees_the_promoted_table(kit: Make) -> None:
    spec = companies()
    spec["columns"][1]["data_tests"] = ["unique"]
    k = kit([spec])
    _companies(k, "x", "x", "y")
    r = result(k.gate(), "companies", "unique.NAME")
    assert (r.status, r.failing_rows, r.failing_values) == ("fail", 2, 1)
    k.land("companies", [{"id": "c1", "name": "z"}])  # fixes it
    assert k.promote().stream("companies").status == "promoted"
    assert k.published("companies", '"ID", "NAME"') == [("c0", "x"), ("c1", "z"), ("c2", "y")]
    # a new key repeating a promoted value fails; replacing the row that holds it does not
    k.land("companies", [{"id": "c9", "name": "y"}])
    r = result(k.gate(), "companies", "unique.NAME")
    assert (r.status, r.failing_rows, r.failing_values) == ("fail", 1, 1)
    k.land("companies", [{"id": "c2", "name": "w"}])
    assert result(k.gate(), "companies", "unique.NAME").status == "pass"


def test_unique_on_the_primary_key_holds_after_deduplication(kit: Make) -> None:
    k = kit([companies()])
    k.land("companies", [{"id": "c1", "name": "old"}], dedupe=False)
    k.land("companies", [{"id": "c1", "name": "new"}], dedupe=False)
    report = k.promote()
    r = result(report, "companies", "unique.ID")
    assert (r.status, r.failing_rows) == ("pass", 0)
    assert report.stream("companies").batch.rows == 2  # type: ignore[union-attr]
    assert k.published("companies", '"ID", "NAME"') == [("c1", "new")]


def test_accepted_values_counts_rows_and_distinct_values_and_ignores_nulls(kit: Make) -> None:
    k = kit([companies(), contacts()])
    _companies(k, "a")
    rows = [
        {"id": f"p{i}", "email": "e", "company_id": "c0", "stage": s}
        for i, s in enumerate(["lead", "bogus", "bogus", "other", None, "customer"])
    ]
    k.land("contacts", rows)
    r = result(k.gate(), "contacts", "accepted_values.STAGE")
    assert (r.status, r.failing_rows, r.failing_values) == ("fail", 3, 2)


def test_accepted_range_inclusive_exclusive_and_null(kit: Make) -> None:
    spec = contacts()
    k = kit([companies(), spec])
    _companies(k, "a")
    scores = [0, 100, -1, 101, None, 50]
    k.land(
        "contacts",
        [
            {"id": f"p{i}", "email": "e", "company_id": "c0", "score": s}
            for i, s in enumerate(scores)
        ],
    )
    r = result(k.gate(), "contacts", "accepted_range.SCORE")
    assert (r.status, r.failing_rows) == ("fail", 2)
    spec["columns"][4]["data_tests"] = [
        {"accepted_range": {"arguments": {"min_value": 0, "max_value": 100, "inclusive": False}}}
    ]
    k.write_contract([companies(), spec])
    r = result(k.gate(), "contacts", "accepted_range.SCORE")
    assert (r.status, r.failing_rows) == ("fail", 4)


def test_relationships_against_the_parent_as_it_will_be(kit: Make) -> None:
    k = kit([companies(), contacts()])
    _companies(k, "a", "b")  # c0, c1 pending, passing
    k.land(
        "contacts",
        [
            {"id": "p1", "email": "e", "company_id": "c1"},
            {"id": "p2", "email": "e", "company_id": "c7"},
            {"id": "p3", "email": "e", "company_id": "c7"},
            {"id": "p4", "email": "e", "company_id": None},
        ],
    )
    r = result(k.gate(), "contacts", "relationships.COMPANY_ID")
    assert (r.status, r.failing_rows, r.failing_values) == ("fail", 2, 1)
    # a blocked parent's pending rows do not count
    k.land("companies", [{"id": "c1", "name": None}])
    report = k.gate()
    assert report.stream("companies").status == "blocked"
    assert result(report, "contacts", "relationships.COMPANY_ID").failing_rows == 3


def test_expression_table_level_and_with_column(kit: Make) -> None:
    spec = contacts(
        tests=[{"expression_is_true": {"arguments": {"expression": "score * 2 >= 10"}}}]
    )
    spec["columns"][4]["data_tests"] = [
        {"dbt_utils.expression_is_true": {"arguments": {"expression": "< 90"}}}
    ]
    k = kit([companies(), spec])
    _companies(k, "a")
    k.land(
        "contacts",
        [
            {"id": f"p{i}", "email": "e", "company_id": "c0", "score": s}
            for i, s in enumerate([1, 50, 95, None])
        ],
    )
    report = k.gate()
    assert result(report, "contacts", "expression").failing_rows == 1
    assert result(report, "contacts", "expression.SCORE").failing_rows == 1


def test_row_count_judges_the_table_after_the_merge(kit: Make) -> None:
    spec = companies(tests=[{"row_count": {"arguments": {"min_value": 2, "max_value": 3}}}])
    k = kit([spec])
    _companies(k, "a")
    r = result(k.gate(), "companies", "row_count")
    assert (r.status, r.failing_rows) == ("fail", 1)
    assert "would have 1 row(s)" in r.message
    _companies(k, "a", "b")  # c0 replaced, c1 new: 2 rows
    assert k.promote().stream("companies").status == "promoted"
    k.land("companies", [{"id": "c0", "name": "again"}])  # replaces: still 2
    assert result(k.gate(), "companies", "row_count").status == "pass"
    k.land("companies", [{"id": "c8", "name": "x"}, {"id": "c9", "name": "y"}])  # 4
    r = result(k.gate(), "companies", "row_count")
    assert r.status == "fail" and "would have 4 row(s)" in r.message


def test_freshness_warns_then_errors_by_age(kit: Make) -> None:
    spec = companies(
        loaded_at_field="updated_at",
        freshness={
            "warn_after": {"count": 1, "period": "hour"},
            "error_after": {"count": 2, "period": "day"},
        },
    )
    k = kit([spec])
    k.land("companies", [{"id": "c1", "name": "a", "updated_at": NOW - dt.timedelta(minutes=5)}])
    assert result(k.gate(), "companies", "freshness.UPDATED_AT").status == "pass"
    k.land("companies", [{"id": "c1", "name": "a", "updated_at": NOW - dt.timedelta(hours=3)}])
    r = result(k.gate(), "companies", "freshness.UPDATED_AT")
    assert (r.status, r.check.severity) == ("warn", "warn")
    assert k.gate().stream("companies").status == "warned"
    k.land("companies", [{"id": "c1", "name": "a", "updated_at": T0 - dt.timedelta(days=9)}])
    r = result(k.gate(), "companies", "freshness.UPDATED_AT")
    assert (r.status, r.check.severity) == ("fail", "error")
    assert k.gate().stream("companies").status == "blocked"


def test_warn_severity_never_blocks(kit: Make) -> None:
    spec = companies()
    spec["columns"][1]["data_tests"] = [{"not_null": {"config": {"severity": "warn"}}}]
    k = kit([spec])
    _companies(k, None, "b")
    report = k.promote()
    r = result(report, "companies", "not_null.NAME")
    assert (r.status, r.failing_rows, r.check.severity) == ("warn", 1, "warn")
    assert report.stream("companies").status == "promoted"
    assert k.published("companies") == [("c0",), ("c1",)]


def test_where_filters_the_tested_rows(kit: Make) -> None:
    spec = contacts()
    spec["columns"][1]["data_tests"] = [{"not_null": {"config": {"where": "stage = 'customer'"}}}]
    k = kit([companies(), spec])
    _companies(k, "a")
    k.land(
        "contacts",
        [
            {"id": "p1", "email": None, "company_id": "c0", "stage": "lead"},
            {"id": "p2", "email": None, "company_id": "c0", "stage": "customer"},
        ],
    )
    r = result(k.gate(), "contacts", "not_null.EMAIL")
    assert (r.status, r.failing_rows) == ("fail", 1)


@pytest.mark.parametrize("older", [True, False])
def test_schema_drift_added_warns_removed_and_retyped_block(kit: Make, older: bool) -> None:
    spec = companies()
    spec["columns"].append(col("domain"))
    k = kit([spec])
    if older:  # RAW lost a contract column and retyped another
        k.create_raw(
            "companies", [("ID", "VARCHAR"), ("NAME", "BIGINT"), ("UPDATED_AT", "TIMESTAMPTZ")]
        )
        k.land("companies", [{"id": "c1", "name": 5}])
        report = k.gate()
        kinds = {
            r.check.id: (r.status, r.message)
            for r in report.stream("companies").checks
            if r.check.name == "schema"
        }
        assert kinds["schema.DOMAIN"] == (
            "fail",
            "column removed: in the contract, not in the table",
        )
        assert kinds["schema.NAME"] == ("fail", "column retyped: contract varchar, table BIGINT")
        assert report.stream("companies").status == "blocked"
    else:  # RAW gained a column: a warning, and the promoted table gets it too
        k.create_raw("companies", [*k.contract_columns("companies"), ("SIZE", "BIGINT")])
        k.land("companies", [{"id": "c1", "name": "a", "size": 7}])
        report = k.promote()
        r = result(report, "companies", "schema.SIZE")
        assert (r.status, r.check.severity) == ("warn", "warn")
        assert k.published("companies", '"ID", "SIZE"') == [("c1", 7)]


def test_schema_test_allow_added_false_blocks_new_columns(kit: Make) -> None:
    k = kit([companies(tests=[{"schema": {"arguments": {"allow_added": False}}}])])
    k.create_raw("companies", [*k.contract_columns("companies"), ("SIZE", "BIGINT")])
    k.land("companies", [{"id": "c1", "name": "a"}])
    assert result(k.gate(), "companies", "schema.SIZE").status == "fail"


def test_checks_judge_only_rows_that_will_be_published(kit: Make) -> None:
    """A late row (older cursor than the promoted row) is dropped by the MERGE, so a null in
    it does not block; a delete marker is not judged either."""
    spec = companies()
    spec["columns"].append(col("_ab_cdc_deleted_at", "timestamp"))
    k = kit([spec])
    k.land("companies", [{"id": "c1", "name": "a", "updated_at": T0 + dt.timedelta(days=1)}])
    assert k.promote().stream("companies").status == "promoted"
    k.land(
        "companies",
        [
            {"id": "c1", "name": None, "updated_at": T0},
            {"id": "c2", "name": None, "_ab_cdc_deleted_at": T0},
        ],
    )
    report = k.gate()
    s = report.stream("companies")
    assert s.status == "passed", s.reason
    assert s.batch is not None and (s.batch.stale, s.batch.deleted, s.batch.live) == (1, 1, 0)
