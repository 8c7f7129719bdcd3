"""The one scan with every package test, rendered for Snowflake and parsed by sqlglot's
Snowflake dialect (Snowflake cannot be reached here; DuckDB and PostgreSQL run it).

Documented Snowflake facts the SQL relies on: ``IS [NOT] DISTINCT FROM`` is null-safe
equality; ``REGEXP_INSTR`` returns 0 when nothing matches; ``CAST(x AS VARCHAR)``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlglot
from tests.support.gatekit import Kit, companies
from tests.unit.quality.test_package_tests import items

from keel.adapters.snowflake import SnowflakeAdapter
from keel.batch.window import Layout, Window
from keel.quality.checks import compile_checks
from keel.quality.scan import ScanBuilder


def test_every_package_test_renders_parseable_snowflake_sql(tmp_path: Path) -> None:
    regex = "dbt_expectations.expect_column_values_to_match_regex"
    spec = items(
        {
            "kind": [{"dbt_utils.not_accepted_values": {"values": ["spam"]}}],
            "name": [
                "dbt_expectations.expect_column_values_to_be_unique",
                {"dbt_utils.not_null_proportion": {"at_least": 0.5}},
            ],
            "code": [{regex: {"regex": "^[A-Z]\\\\d$", "flags": "i"}}],
            "score": [{"dbt_expectations.expect_column_values_to_be_between": {"min_value": 0}}],
        },
        table_tests=[
            {
                "dbt_utils.unique_combination_of_columns": {
                    "combination_of_columns": ["kind", "name"]
                }
            },
            {"dbt_utils.recency": {"field": "updated_at", "datepart": "day", "interval": 1}},
            {"dbt_expectations.expect_table_row_count_to_be_between": {"min_value": 1}},
        ],
    )
    kit = Kit(tmp_path, [companies(), spec])
    stream = kit.ctx.project.streams["hubspot.items"]
    kit.close()
    raw = [(c.name, "VARCHAR") for c in stream.columns]
    checks, problems = compile_checks(stream, [c for c, _ in raw], {})
    assert problems == []
    layout = Layout.of(stream, raw, raw)  # the promoted table exists: every branch renders
    adapter = SnowflakeAdapter.__new__(SnowflakeAdapter)
    window = Window(None, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    scan = ScanBuilder(adapter, layout, window, checks).aggregate()
    parsed = sqlglot.parse_one(scan.sql, read="snowflake")
    assert parsed is not None
    assert "IS NOT DISTINCT FROM" in scan.sql
    assert "REGEXP_INSTR(CAST(" in scan.sql
    assert {s.split(":")[0] for s in scan.slots} >= {
        "not_accepted_values.KIND",
        "expect_column_values_to_be_unique.NAME",
        "not_null_proportion.NAME",
        "expect_column_values_to_match_regex.CODE",
        "expect_column_values_to_be_between.SCORE",
        "unique_combination_of_columns",
        "recency.UPDATED_AT",
        "row_count",
    }
