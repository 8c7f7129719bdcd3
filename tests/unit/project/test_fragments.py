"""Contract SQL fragments: one scalar expression over the stream's columns, or refused.

The hostile cases are the ones from issue 11 (dollar quoting and ``E'...'`` strings
closing the gate's parentheses, ``COPY ... TO``, ``read_text``, other schemas) and
more. Each runs in every engine's dialect; the engine-side proof (nothing dropped,
nothing written) is in ``tests/integration/test_hostile_fragments.py``.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from keel.project.fragments import FragmentError, fragment_problem, fragment_sql

DIALECTS = ("duckdb", "postgres", "snowflake")
COLUMNS = {"ID", "NAME", "EMAIL", "SCORE", "UPDATED_AT", "_AIRBYTE_EXTRACTED_AT"}

ATTACK = "DROP SCHEMA HUBSPOT_DATA CASCADE"
HOSTILE = [
    # issue 11, defect 1: the lexer let these close the gate's parentheses
    f"$$'$$ IS NOT NULL) THEN 1 ELSE 0 END FROM \"__KEEL_B\") SELECT 1; {ATTACK}; -- '",
    f"E'\\'' IS NOT NULL) THEN 1 ELSE 0 END FROM \"__KEEL_B\") SELECT 1; {ATTACK}; -- '",
    f'name = $$x$$ OR name = $$\'$$ IS NOT NULL) THEN 1 END FROM "__KEEL_B"); {ATTACK}; --$$',
    "name <> E'\\''",
    "name <> $$it's$$",
    "name <> $q$it's$q$",
    "COPY (SELECT * FROM HUBSPOT_DATA.CONTACTS) TO '/tmp/keel_leak.csv'",
    "(SELECT count(*) FROM SOPHIA_OPS.KEEL_APPLY_LOG) > 0",
    "EXISTS (SELECT 1 FROM SOPHIA_OPS.KEEL_APPLY_LOG)",
    "id IN (SELECT id FROM HUBSPOT_DATA.CONTACTS)",
    "SOPHIA_OPS.KEEL_APPLY_LOG.ID IS NULL",
    "c.id IS NULL",
    "read_text('/etc/hostname') IS NOT NULL",
    "length(read_text('/etc/hostname')) > 0",
    "pg_read_file('/etc/passwd') <> ''",
    "current_setting('data_directory') <> ''",
    "set_config('search_path', 'x', false) = 'x'",
    "getenv('HOME') <> ''",
    "pg_sleep(3600) IS NULL",
    "lo_export(1, '/tmp/x') = 1",
    "nextval('seq') > 0",
    "1 = 1; DROP TABLE x",
    f"1 = 1); {ATTACK}; --",
    "1 = 1) OR (1 = 1",
    "id = ?",
    "id = $1",
    "*",
    "count(*) > 0",
    "row_number() OVER () > 1",
    "id::regclass IS NULL",
    "name = X'41'",
    "(" * 3000 + "1" + ")" * 3000,
    "NOT " * 200 + "TRUE",
    "name = 'x" + "a" * 5000 + "'",
    "name = '\x00'",
    "   ",
]
LEGAL = [
    "score > 0",
    "email LIKE '%@%'",
    "upper(name) IN ('A', 'B')",
    "CAST(score AS BIGINT) > 3 AND name <> ''",
    "updated_at >= current_date - INTERVAL '3 days'",
    "coalesce(score, 0) BETWEEN 0 AND 100",
    "name IS NOT NULL",
    "length(trim(email)) > 3",
    "CASE WHEN score > 1 THEN TRUE ELSE FALSE END",
    "_airbyte_extracted_at > '2020-01-01'",
    # strings holding an attack are only strings
    f"name <> 'a'') OR 1=1; {ATTACK}; --'",
    "name <> 'back\\slash'",
]


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_fragments_are_refused_in_every_dialect(dialect: str, text: str) -> None:
    why = fragment_problem(text, dialect, COLUMNS)
    assert why, f"accepted in {dialect}: {text[:80]!r}"


@pytest.mark.parametrize("dialect", ("duckdb", "postgres"))
@pytest.mark.parametrize("text", LEGAL, ids=range(len(LEGAL)))
def test_ordinary_fragments_are_accepted_and_rendered(dialect: str, text: str) -> None:
    out = fragment_sql(text, dialect, COLUMNS)
    assert fragment_sql(out, dialect, COLUMNS) == out  # the rendering is a fixed point


def test_reasons_name_what_is_wrong() -> None:
    assert fragment_problem("name <> $$x$$", "postgres") == (
        "it uses a dollar-quoted string: write strings as '...'"
    )
    assert fragment_problem("name <> E'x'", "postgres") == (
        "it uses an E'...' escape string: write strings as '...'"
    )
    assert fragment_problem("read_text('/etc/hostname') IS NULL", "duckdb") == (
        "function READ_TEXT is not allowed in contract SQL"
    )
    assert fragment_problem("1=1; DROP TABLE x", "duckdb") == (
        "it holds 2 statements, not one expression"
    )
    assert fragment_problem("(SELECT 1) = 1", "duckdb") == "it contains a subquery"
    assert fragment_problem("SOPHIA_OPS.T.X = 1", "duckdb") == (
        "it names SOPHIA_OPS.T.X: only the stream's own columns, unqualified"
    )
    assert fragment_problem("nope = 1", "duckdb", COLUMNS) == (
        "column 'nope' is not a column of this table"
    )
    assert fragment_problem("(" * 1900 + "1" + ")" * 1900, "duckdb") in (
        "it is nested too deeply",
        f"it is nested more than {64} levels deep",
    )


def test_comments_are_dropped_from_what_runs() -> None:
    assert fragment_sql("score > 0 -- */ DROP", "duckdb", COLUMNS) == "score > 0"
    assert fragment_sql("score > 0 /* x */", "postgres", COLUMNS) == "score > 0"


def test_a_column_level_expression_includes_its_column() -> None:
    assert fragment_sql("> 0", "postgres", COLUMNS, column="SCORE") == "SCORE > 0"
    with pytest.raises(FragmentError, match="holds 2 statements"):
        fragment_sql("> 0; DROP TABLE t", "duckdb", COLUMNS, column="SCORE")


SQLISH = st.lists(
    st.sampled_from([*"abcxyz_019 '\"$();,.*+-/<>=!|\\\n\t", "SELECT", "E'", "$$", "read_text"]),
    max_size=30,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(text=st.one_of(SQLISH, st.text(max_size=60)), dialect=st.sampled_from(DIALECTS))
@example(text=".0.0", dialect="duckdb")  # read as one number, written back as a dotted name
def test_any_text_is_a_reason_or_a_fixed_point(text: str, dialect: str) -> None:
    try:
        out = fragment_sql(text, dialect, COLUMNS | {"A", "B", "C", "X", "Y", "Z"})
    except FragmentError as why:
        assert str(why)
        return
    assert fragment_sql(out, dialect, COLUMNS | {"A", "B", "C", "X", "Y", "Z"}) == out
