"""dbt_utils and dbt_expectations tests in keel's one scan: real DuckDB, real rows.

Every expected count below is worked out by hand from the package's documented SQL
(dbt-utils ``macros/generic_tests/*.sql``; dbt-expectations
``macros/schema_tests/**``), applied to the rows each test lands; the comment next
to each assertion says how. keel counts failing *rows* (``failing_rows``) and, where
the package's query returns one row per value or combination, that count too
(``failing_values``). ``where`` (config) and ``row_condition`` (dbt_expectations)
filter the rows tested, as the packages do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.support.gatekit import Kit, col, companies, result, table

Make = Callable[..., Kit]


def items(
    tests: dict[str, list[Any]] | None = None, table_tests: list[Any] | None = None
) -> dict[str, Any]:
    tests = tests or {}
    names = [("kind", "varchar"), ("name", "varchar"), ("code", "varchar"), ("score", "bigint")]
    return table(
        "items",
        "product",
        [
            col("id"),
            *(col(n, t, tests=tests.get(n)) for n, t in names),
            col("updated_at", "timestamp"),
        ],
        tests=table_tests,
    )


def land(k: Kit, rows: list[dict[str, Any]]) -> None:
    k.land("items", [{"id": f"i{i}", **r} for i, r in enumerate(rows)])


def test_not_accepted_values_counts_rows_and_values_nulls_pass_where_filters(kit: Make) -> None:
    t = {"dbt_utils.not_accepted_values": {"arguments": {"values": ["spam", "junk"]}}}
    w = {
        "dbt_utils.not_accepted_values": {
            "arguments": {"values": ["spam", "junk"]},
            "config": {"where": "name <> 'skip'"},
        }
    }
    k = kit([items({"kind": [t, w]})])
    land(
        k,
        [
            {"kind": "spam", "name": "a"},
            {"kind": "spam", "name": "skip"},
            {"kind": "junk", "name": "b"},
            {"kind": "ok", "name": "c"},
            {"kind": None, "name": "d"},
        ],
    )
    report = k.gate()
    # `value in ('spam','junk')`: spam, spam, junk -> 3 rows, 2 distinct values; NULL is not in
    r = result(report, "items", "not_accepted_values.KIND")
    assert (r.status, r.failing_rows, r.failing_values) == ("fail", 3, 2)
    # where name <> 'skip' drops one spam row: 2 rows, still 2 values
    r = result(report, "items", "not_accepted_values.KIND#2")
    assert (r.status, r.failing_rows, r.failing_values) == ("fail", 2, 2)
    land(k, [{"kind": "ok"}, {"kind": None}, {"kind": "fine"}, {"kind": "ok"}, {"kind": "x"}])
    assert result(k.gate(), "items", "not_accepted_values.KIND").status == "pass"


def test_expect_column_values_to_be_between_inclusive_strict_null_and_row_condition(
    kit: Make,
) -> None:
    prefix = "dbt_expectations.expect_column_values_to_be_between"
    tests = [
        {prefix: {"min_value": 0, "max_value": 10}},
        {prefix: {"arguments": {"min_value": 0, "max_value": 10, "strictly": True}}},
        {prefix: {"min_value": 0, "max_value": 10, "row_condition": "kind = 'a'"}},
        {prefix: {"max_value": 100}},
    ]
    k = kit([items({"score": tests})])
    scores = [(-1, "a"), (0, "b"), (10, "a"), (11, "b"), (None, "a"), (5, "a")]
    land(k, [{"score": s, "kind": kd} for s, kd in scores])
    report = k.gate()
    key = "expect_column_values_to_be_between.SCORE"
    # not(score >= 0 and score <= 10): -1 and 11 fail; NULL gives NULL, which passes
    assert (result(report, "items", key).status, result(report, "items", key).failing_rows) == (
        "fail",
        2,
    )
    # strictly: > and <, so 0 and 10 fail too: 4
    assert result(report, "items", key + "#2").failing_rows == 4
    # row_condition kind = 'a' keeps -1, 10, NULL, 5: only -1 fails
    assert result(report, "items", key + "#3").failing_rows == 1
    # only a max: every value is <= 100
    assert result(report, "items", key + "#4").status == "pass"


def test_expect_column_values_to_match_regex_searches_nulls_pass_flags(kit: Make) -> None:
    prefix = "dbt_expectations.expect_column_values_to_match_regex"
    tests = [
        {prefix: {"regex": "^[A-Z]{3}-[0-9]+$"}},
        {prefix: {"arguments": {"regex": "^[A-Z]{3}-[0-9]+$", "flags": "i"}}},
        {prefix: {"regex": "[0-9]", "config": {"where": "kind = 'a'"}}},
    ]
    k = kit([items({"code": tests})])
    codes = [("ABC-1", "a"), ("abc-1", "a"), ("XABCD-12", "b"), (None, "a"), ("NONE", "a")]
    land(k, [{"code": c, "kind": kd} for c, kd in codes])
    report = k.gate()
    key = "expect_column_values_to_match_regex.CODE"
    # anchored: abc-1 (lower case), XABCD-12 (4 letters) and NONE fail; NULL passes: 3
    assert result(report, "items", key).failing_rows == 3
    # case-insensitive: abc-1 now matches: 2
    assert result(report, "items", key + "#2").failing_rows == 2
    # search semantics (regexp_instr > 0): a digit anywhere matches; kind = 'a' rows:
    # ABC-1, abc-1, NULL, NONE -> only NONE fails
    assert result(report, "items", key + "#3").failing_rows == 1


def test_expect_column_values_to_be_unique_counts_nulls_as_duplicates(kit: Make) -> None:
    prefix = "dbt_expectations.expect_column_values_to_be_unique"
    tests = [prefix, {prefix: {"row_condition": "kind = 'a'"}}]
    k = kit([items({"name": tests})])
    rows = [("x", "a"), ("x", "b"), (None, "a"), (None, "a"), ("y", "a")]
    land(k, [{"name": n, "kind": kd} for n, kd in rows])
    report = k.gate()
    key = "expect_column_values_to_be_unique.NAME"
    # group by name having count(*) > 1, no null filter: x (2 rows) and NULL (2 rows)
    r = result(report, "items", key)
    assert (r.status, r.failing_rows, r.failing_values) == ("fail", 4, 2)
    # kind = 'a': x once, NULL twice, y once -> only NULL: 1 value, 2 rows
    r = result(report, "items", key + "#2")
    assert (r.failing_rows, r.failing_values) == (2, 1)


def test_unique_combination_of_columns_groups_nulls_and_sees_the_promoted_table(
    kit: Make,
) -> None:
    t = {"dbt_utils.unique_combination_of_columns": {"combination_of_columns": ["kind", "name"]}}
    tw = {
        "dbt_utils.unique_combination_of_columns": {
            "arguments": {"combination_of_columns": ["kind", "name"]},
            "config": {"where": "kind <> 'a'"},
        }
    }
    k = kit([items(table_tests=[t, tw])])
    rows = [("a", "x"), ("a", "x"), ("a", None), ("a", None), ("b", "x"), ("b", "y")]
    land(k, [{"kind": kd, "name": n} for kd, n in rows])
    report = k.gate()
    # group by kind, name having count(*) > 1: (a,x) and (a,NULL): 2 combinations, 4 rows
    r = result(report, "items", "unique_combination_of_columns")
    assert (r.status, r.failing_rows, r.failing_values) == ("fail", 4, 2)
    # where kind <> 'a': (b,x), (b,y) are distinct
    assert result(report, "items", "unique_combination_of_columns#2").status == "pass"
    # publish a clean table, then a new key repeats a published combination
    k.land("items", [{"id": "i1", "kind": "c", "name": "x"}, {"id": "i3", "kind": "c"}])
    assert k.promote().stream("items").status == "promoted"
    k.land("items", [{"id": "i9", "kind": "b", "name": "y"}])  # same as published i5
    r = result(k.gate(), "items", "unique_combination_of_columns")
    assert (r.status, r.failing_rows, r.failing_values) == ("fail", 1, 1)


def test_relationships_where_applies_from_and_to_conditions(kit: Make) -> None:
    rel = {
        "dbt_utils.relationships_where": {
            "arguments": {
                "to": "source('hubspot', 'companies')",
                "field": "id",
                "from_condition": "kind <> 'test'",
                "to_condition": "name <> 'closed'",
            }
        }
    }
    child = items({"code": [rel]})
    k = kit([companies(), child])
    k.land("companies", [{"id": "c1", "name": "open"}, {"id": "c2", "name": "closed"}])
    rows = [
        {"code": "c1", "kind": "real"},  # parent meets to_condition: passes
        {"code": "c2", "kind": "real"},  # parent is 'closed': not in the parent set: fails
        {"code": "c7", "kind": "real"},  # no parent: fails
        {"code": "c7", "kind": "test"},  # from_condition false: not tested
        {"code": None, "kind": "real"},  # null child value: not tested
    ]
    land(k, rows)
    r = result(k.gate(), "items", "relationships.CODE")
    assert (r.status, r.failing_rows, r.failing_values) == ("fail", 2, 2)
    assert "meeting from_condition" in r.message


def test_not_null_proportion_bounds_where_and_the_table_after_the_merge(kit: Make) -> None:
    tests = [
        {"dbt_utils.not_null_proportion": {"at_least": 0.75}},
        {"dbt_utils.not_null_proportion": {"arguments": {"at_least": 0, "at_most": 0.5}}},
        {"dbt_utils.not_null_proportion": {"at_least": 1, "config": {"where": "kind = 'a'"}}},
    ]
    k = kit([items({"name": tests})])
    land(
        k,
        [
            {"name": "x", "kind": "a"},
            {"name": "y", "kind": "a"},
            {"name": "z", "kind": "b"},
            {"name": None, "kind": "b"},
        ],
    )
    report = k.gate()
    key = "not_null_proportion.NAME"
    # 3 of 4 not null = 0.75 >= 0.75: pass
    assert result(report, "items", key).status == "pass"
    # 0.75 > at_most 0.5: fail (one validation row)
    assert (
        result(report, "items", key + "#2").status,
        result(report, "items", key + "#2").failing_rows,
    ) == ("fail", 1)
    # where kind = 'a': x, y: 2 of 2 = 1.0: pass
    assert result(report, "items", key + "#3").status == "pass"
    assert k.promote().stream("items").status == "blocked"  # #2 blocks
    # a new null row: 3 of 5 = 0.6 < 0.75 (the table as it will be)
    k.land("items", [{"id": "i9", "name": None, "kind": "a"}])
    report = k.gate()
    r = result(report, "items", key)
    assert r.status == "fail" and "60.0% of 5 row(s)" in r.message
    # where kind = 'a': x, y, NULL: 2 of 3 < 1: fail
    assert result(report, "items", key + "#3").status == "fail"


def test_recency_by_datepart_and_interval_and_an_empty_selection_passes(kit: Make) -> None:
    # the kit's clock is 2026-01-02T00:00Z; landed rows have updated_at 2026-01-01T00:0n
    tests = [
        {"dbt_utils.recency": {"field": "updated_at", "datepart": "hour", "interval": 12}},
        {
            "dbt_utils.recency": {
                "arguments": {"field": "updated_at", "datepart": "day", "interval": 2}
            }
        },
        {
            "dbt_utils.recency": {
                "arguments": {"field": "updated_at", "datepart": "hour", "interval": 1},
                "config": {"where": "kind = 'none'", "severity": "warn"},
            }
        },
    ]
    k = kit([items(table_tests=tests)])
    land(k, [{"kind": "a"}, {"kind": "b"}])
    report = k.gate()
    # max(updated_at) ~ 24 h old < now - 12 h: fail
    assert (
        result(report, "items", "recency.UPDATED_AT").status,
        result(report, "items", "recency.UPDATED_AT").failing_rows,
    ) == ("fail", 1)
    # within 2 days: pass
    assert result(report, "items", "recency.UPDATED_AT#2").status == "pass"
    # no row meets the where: max() is NULL, the package's query returns nothing: pass
    assert result(report, "items", "recency.UPDATED_AT#3").status == "pass"


def test_expect_table_row_count_to_be_between_with_row_condition_and_strictly(
    kit: Make,
) -> None:
    prefix = "dbt_expectations.expect_table_row_count_to_be_between"
    tests = [
        {prefix: {"min_value": 1, "max_value": 3, "row_condition": "kind = 'a'"}},
        {prefix: {"arguments": {"min_value": 1, "max_value": 3, "strictly": True}}},
    ]
    k = kit([items(table_tests=tests)])
    land(k, [{"kind": "a"}, {"kind": "a"}, {"kind": "a"}, {"kind": "b"}])
    report = k.gate()
    # count(*) where kind = 'a' = 3, within [1, 3]: pass
    assert result(report, "items", "row_count").status == "pass"
    # 4 rows, strictly < 3 fails
    assert result(report, "items", "row_count#2").status == "fail"


def test_clean_batches_pass_every_package_test(kit: Make) -> None:
    """The passing side of the tests above: rows chosen so that, by each package's SQL,
    no row (or group, or aggregate) fails; NULLs included where the package lets them
    pass."""
    rel = {
        "dbt_utils.relationships_where": {
            "to": "source('hubspot', 'companies')",
            "field": "id",
            "from_condition": "kind <> 'test'",
        }
    }
    spec = items(
        {
            "code": [
                {"dbt_expectations.expect_column_values_to_match_regex": {"regex": "^c[0-9]$"}},
                rel,
            ],
            "name": ["dbt_expectations.expect_column_values_to_be_unique"],
            "kind": [{"dbt_utils.not_accepted_values": {"values": ["spam"]}}],
            "score": [
                {"dbt_expectations.expect_column_values_to_be_between": {"min_value": 0}},
            ],
        },
        table_tests=[
            {
                "dbt_utils.unique_combination_of_columns": {
                    "combination_of_columns": ["kind", "name"]
                }
            },
            {"dbt_utils.recency": {"field": "updated_at", "datepart": "day", "interval": 2}},
        ],
    )
    k = kit([companies(), spec])
    k.land("companies", [{"id": "c1", "name": "a"}])
    land(
        k,
        [
            {"code": "c1", "kind": "a", "name": "x", "score": 0},
            {"code": None, "kind": "b", "name": "y", "score": None},  # NULLs pass
            {"code": "c9", "kind": "test", "name": None, "score": 3},  # from_condition false
        ],
    )
    report = k.gate()
    failing = [r.check.id for r in report.stream("items").checks if r.status != "pass"]
    # c9 matches ^c[0-9]$; it has no parent, but its row fails from_condition: not tested
    assert failing == []
    assert report.stream("items").status == "passed"


def test_recency_calendar_dateparts_subtract_months() -> None:
    import datetime as dt

    from keel.quality.package_eval import recency_threshold

    now = dt.datetime(2026, 3, 31, 12, tzinfo=dt.UTC)
    # dateadd(month, -1, 2026-03-31) is the last day of February
    assert recency_threshold(now, "month", 1) == dt.datetime(2026, 2, 28, 12, tzinfo=dt.UTC)
    assert recency_threshold(now, "quarter", 1) == dt.datetime(2025, 12, 31, 12, tzinfo=dt.UTC)
    assert recency_threshold(now, "year", 2) == dt.datetime(2024, 3, 31, 12, tzinfo=dt.UTC)
    assert recency_threshold(now, "day", 2) == dt.datetime(2026, 3, 29, 12, tzinfo=dt.UTC)
