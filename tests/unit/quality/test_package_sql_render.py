"""The regex test rendered for each engine (Snowflake cannot be reached: rendered only).

Documented facts encoded here: Snowflake ``REGEXP_INSTR(subject, pattern, position,
occurrence, option, regex_parameters)`` returns the position of a match or 0, with
``'c'`` case-sensitive and ``'i'`` case-insensitive parameters; dbt-expectations'
default implementation is ``regexp_instr(...) > 0`` (a search, not a full match).
DuckDB ``regexp_matches(s, p[, options])`` is a partial match; PostgreSQL ``~`` and
``~*`` are POSIX partial matches, case-sensitive and insensitive.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from keel.adapters.duckdb import DuckDBAdapter
from keel.adapters.postgres import PostgresAdapter
from keel.adapters.snowflake import SnowflakeAdapter
from keel.quality.package_sql import regex_sql


@pytest.mark.parametrize(
    ("cls", "flags", "expected"),
    [
        (DuckDBAdapter, "", "regexp_matches(CAST(x AS VARCHAR), '^a\\d$')"),
        (DuckDBAdapter, "i", "regexp_matches(CAST(x AS VARCHAR), '^a\\d$', 'i')"),
        (PostgresAdapter, "", "CAST(x AS VARCHAR) ~ '^a\\d$'"),
        (PostgresAdapter, "i", "CAST(x AS VARCHAR) ~* '^a\\d$'"),
        (SnowflakeAdapter, "", "REGEXP_INSTR(CAST(x AS VARCHAR), '^a\\\\d$', 1, 1, 0, 'c') > 0"),
        (SnowflakeAdapter, "i", "REGEXP_INSTR(CAST(x AS VARCHAR), '^a\\\\d$', 1, 1, 0, 'i') > 0"),
    ],
)
def test_regex_per_engine(cls: type, flags: str, expected: str) -> None:
    adapter = cls.__new__(cls)  # rendering needs only the dialect: no connection
    sb = SimpleNamespace(a=adapter)
    assert regex_sql(sb, "x", "^a\\d$", flags) == expected  # type: ignore[arg-type]


def test_a_quote_in_the_pattern_stays_inside_the_literal() -> None:
    sb = SimpleNamespace(a=SnowflakeAdapter.__new__(SnowflakeAdapter))
    sql = regex_sql(sb, "x", "it's", "")  # type: ignore[arg-type]
    assert "'it''s'" in sql or "'it\\'s'" in sql
