"""Every statement in the runtime golden files (tests/golden/snowflake/publish_companies.sql,
event_store.sql) parses with sqlglot's Snowflake dialect as a real statement, not as an
opaque command; the one exception is a column tag (``ALTER TABLE t MODIFY COLUMN c SET
TAG``), for which sqlglot has no parser (the plan goldens are checked the same way in
tests/integration/test_snowflake_account.py)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
import sqlglot
from sqlglot import expressions as exp

GOLDEN = Path(__file__).parent / "snowflake"
COLUMN_TAG = re.compile(r'ALTER TABLE \S+ MODIFY COLUMN "[^"]+" SET TAG \S+ = \'.*\'', re.S)


def statements(name: str) -> list[str]:
    text = (GOLDEN / name).read_text()
    # the goldens carry placeholders for a run's batch id and timestamps
    text = text.replace("<BATCH>", "b").replace("<TS>", "'2026-01-01T00:00:00+00:00'")
    return [s.strip() for s in text.split(";\n") if s.strip()]


@pytest.mark.parametrize("name", ["publish_companies.sql", "event_store.sql"])
def test_runtime_golden_statements_parse_as_snowflake(name: str) -> None:
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    found = statements(name)
    assert found
    for statement in found:
        tree = sqlglot.parse_one(statement, read="snowflake")
        if isinstance(tree, exp.Command):
            assert COLUMN_TAG.fullmatch(statement), statement
    kinds = {type(sqlglot.parse_one(s, read="snowflake")).__name__ for s in found}
    assert {"Merge", "Commit"} <= kinds
