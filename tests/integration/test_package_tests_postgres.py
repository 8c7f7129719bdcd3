"""The dbt package tests on PostgreSQL (real server): regex through ``~`` / ``~*``, the
null-safe duplicate joins (IS NOT DISTINCT FROM), proportions and conditions.

Expected counts are worked out from the packages' documented SQL, as in
tests/unit/quality/test_package_tests.py (the same rows give the same counts).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.support.gatekit import col, companies, table

from keel.context import Context
from keel.quality.gate import gate

pytestmark = pytest.mark.postgres

RAW = (
    "_airbyte_raw_id text, _airbyte_extracted_at timestamptz, _airbyte_meta jsonb, "
    "_airbyte_generation_id bigint"
)


def _items() -> dict[str, Any]:
    regex = "dbt_expectations.expect_column_values_to_match_regex"
    return table(
        "items",
        "product",
        [
            col("id"),
            col(
                "kind",
                tests=[{"dbt_utils.not_accepted_values": {"values": ["spam"]}}],
            ),
            col(
                "name",
                tests=[
                    "dbt_expectations.expect_column_values_to_be_unique",
                    {"dbt_utils.not_null_proportion": {"at_least": 0.9}},
                ],
            ),
            col(
                "code",
                tests=[
                    {regex: {"regex": "^[A-Z]{3}-[0-9]+$"}},
                    {regex: {"regex": "^[A-Z]{3}-[0-9]+$", "flags": "i"}},
                    {
                        "dbt_utils.relationships_where": {
                            "to": "source('hubspot', 'companies')",
                            "field": "id",
                            "from_condition": "kind <> 'test'",
                            "to_condition": "name <> 'closed'",
                        }
                    },
                ],
            ),
            col(
                "score",
                "bigint",
                tests=[
                    {
                        "dbt_expectations.expect_column_values_to_be_between": {
                            "min_value": 0,
                            "max_value": 10,
                        }
                    }
                ],
            ),
            col("updated_at", "timestamp"),
        ],
        tests=[
            {
                "dbt_utils.unique_combination_of_columns": {
                    "combination_of_columns": ["kind", "name"]
                }
            }
        ],
    )


def test_package_tests_on_postgres(pg_project: Callable[..., Path], pg_db: Any) -> None:
    root = pg_project()
    for f in (root / "contracts").glob("*.yml"):
        f.unlink()
    doc = {"version": 2, "sources": [{"name": "hubspot", "tables": [companies(), _items()]}]}
    (root / "contracts" / "hubspot.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
    with Context(root) as ctx:
        ctx.apply()
    pg_db.sql(
        f"CREATE TABLE hubspot_data_raw.companies (id text, name text, updated_at timestamptz, "
        f"{RAW})",
        f"CREATE TABLE hubspot_data_raw.items (id text, kind text, name text, code text, "
        f"score bigint, updated_at timestamptz, {RAW})",
        "INSERT INTO hubspot_data_raw.companies VALUES "
        "('AAA-1', 'open', '2026-01-01T00:00:00Z', 'r1', '2026-01-01T01:00:00Z', '{}', 1), "
        "('BBB-2', 'closed', '2026-01-01T00:00:00Z', 'r2', '2026-01-01T01:00:00Z', '{}', 1)",
    )
    rows = [
        # id, kind, name, code, score
        ("i1", "a", "x", "AAA-1", 0),  # all pass
        ("i2", "a", "x", "bbb-2", 11),  # dup (a,x) and x; regex case; range; parent missing
        ("i3", "spam", None, "BBB-2", None),  # spam; NULL name; parent closed
        ("i4", "test", None, "ZZ", -1),  # NULL name dup; regex fails twice; range; test row
        ("i5", "b", "y", None, 5),
    ]
    values = ", ".join(
        "(" + ", ".join("NULL" if v is None else f"'{v}'" for v in r) + ", "
        "'2026-01-01T00:00:00Z', md5(random()::text), '2026-01-01T02:00:00Z', '{}', 1)"
        for r in rows
    )
    pg_db.sql(f"INSERT INTO hubspot_data_raw.items VALUES {values}")
    with Context(root) as ctx:
        report = gate(ctx.project, ctx.adapter, "hubspot")
    got = {
        r.check.id: (r.status, r.failing_rows, r.failing_values)
        for r in report.stream("items").checks
        if r.check.name not in ("schema", "airbyte_meta_changes")  # keel-only checks
    }
    assert got == {
        # kind in ('spam'): i3
        "not_accepted_values.KIND": ("fail", 1, 1),
        # name groups: x twice, NULL twice -> 2 values, 4 rows
        "expect_column_values_to_be_unique.NAME": ("fail", 4, 2),
        # 3 of 5 names not null = 0.6 < 0.9
        "not_null_proportion.NAME": ("fail", 1, None),
        # anchored, case-sensitive: bbb-2 and ZZ fail; NULL passes
        "expect_column_values_to_match_regex.CODE": ("fail", 2, None),
        # case-insensitive: only ZZ
        "expect_column_values_to_match_regex.CODE#2": ("fail", 1, None),
        # kind <> 'test' and code not null: AAA-1 ok; bbb-2 no parent; BBB-2 parent closed
        "relationships.CODE": ("fail", 2, 2),
        # not (score >= 0 and score <= 10): 11 and -1; NULL passes
        "expect_column_values_to_be_between.SCORE": ("fail", 2, None),
        # (a,x) twice: 1 combination, 2 rows; (spam,NULL) and (test,NULL) differ
        "unique_combination_of_columns": ("fail", 2, 1),
    }


def test_null_safe_duplicates_see_the_promoted_table_on_postgres(
    pg_project: Callable[..., Path], pg_db: Any
) -> None:
    from keel.publish.promote import promote

    spec = table(
        "pairs",
        "product",
        [col("id"), col("kind"), col("name"), col("updated_at", "timestamp")],
        tests=[
            {
                "dbt_utils.unique_combination_of_columns": {
                    "combination_of_columns": ["kind", "name"]
                }
            }
        ],
    )
    root = pg_project()
    for f in (root / "contracts").glob("*.yml"):
        f.unlink()
    doc = {"version": 2, "sources": [{"name": "hubspot", "tables": [spec]}]}
    (root / "contracts" / "hubspot.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
    with Context(root) as ctx:
        ctx.apply()
    pg_db.sql(
        "CREATE TABLE hubspot_data_raw.pairs (id text, kind text, name text, "
        f"updated_at timestamptz, {RAW})"
    )

    def land(rows: list[tuple[Any, ...]], hour: int) -> None:
        values = ", ".join(
            "(" + ", ".join("NULL" if v is None else f"'{v}'" for v in r) + ", "
            f"'2026-01-01T00:00:00Z', md5(random()::text), '2026-01-01T{hour:02d}:00:00Z', "
            "'{}', 1)"
            for r in rows
        )
        pg_db.sql(f"INSERT INTO hubspot_data_raw.pairs VALUES {values}")

    land([("p1", "a", None), ("p2", "b", "x")], 1)  # distinct combinations
    with Context(root) as ctx:
        assert promote(ctx.project, ctx.adapter, "hubspot").stream("pairs").status == "promoted"
    land([("p3", "a", None)], 2)  # repeats the published (a, NULL): NULLs group together
    with Context(root) as ctx:
        report = gate(ctx.project, ctx.adapter, "hubspot")
    r = next(c for c in report.stream("pairs").checks if c.check.name != "schema")
    assert (r.status, r.failing_rows, r.failing_values) == ("fail", 1, 1)
