"""No identifier or literal reaches SQL unquoted: names and values with quotes,
semicolons and unicode survive a round trip through a real engine unchanged."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from keel.adapters.duckdb import DuckDBAdapter
from keel.plan.model import Change
from keel.resources import Grant, TagKey
from keel.sql import SNOWFLAKE, ident, literal, quote

# printable text incl. quotes, semicolons, backslashes, unicode; no NUL, no surrogates
text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=30,
)
nasty = st.one_of(
    text,
    st.sampled_from(
        [
            'a"b',
            "x'; DROP TABLE t; --",
            '"; DROP SCHEMA s; --',
            "名前",
            "Ω≈ç√",
            "a\\b",
            "''",
            '""',
        ]
    ),
)


def test_quote_examples() -> None:
    assert ident('we"ird') == '"we""ird"'
    assert literal("it's") == "'it''s'"
    assert literal("a\\b") == "'a\\b'"
    assert quote("a\\b", "literal", SNOWFLAKE) == "'a\\\\b'"
    assert literal(None) == "NULL" and literal(True) == "TRUE" and literal(3) == "3"
    with pytest.raises(ValueError):
        ident("a\x00b")
    with pytest.raises(ValueError):
        ident("")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=nasty, value=nasty)
def test_literals_round_trip(name: str, value: str) -> None:
    con = duckdb.connect()
    assert con.execute(f"SELECT {literal(value)} AS {ident(name)}").fetchone() == (value,)
    assert con.execute(f"SELECT {literal(value)} AS {ident(name)}").description[0][0] == name


@settings(max_examples=40, deadline=None)
@given(schema=nasty, table=nasty, value=nasty, role=nasty)
def test_changes_with_hostile_names_round_trip(
    schema: str, table: str, value: str, role: str
) -> None:
    assume(schema.lower() not in {"main", "information_schema", "pg_catalog", "temp", "sophia_ops"})
    a = DuckDBAdapter(":memory:")
    for s in a.render(Change("bootstrap_ops", "SOPHIA_OPS")).sql:
        a.execute(s)
    for s in a.render(Change("create_schema", schema)).sql:
        a.execute(s)
    a.execute(f"CREATE TABLE IF NOT EXISTS {a.ident(schema, table)} ({a.ident(value)} INTEGER)")
    key = TagKey("table", f"{schema}.{table}")
    change = Change(
        "set_tag", "t", after=value, data={"object_type": "table", "object_name": key.object_name}
    )
    for s in a.render(change).sql:
        a.execute(s)
    g = {"role": role, "privilege": "SELECT", "target": "ALL_TABLES", "object_name": schema}
    for s in a.render(Change("grant", "g", data=g)).sql:
        a.execute(s)
    state = a.read_state({schema.upper()}, {role})
    assert schema.upper() in state.schemas  # names are reported in canonical upper case
    assert state.tables[(schema.upper(), table.upper())].columns == ((value.upper(), "INTEGER"),)
    assert state.tags[key] == value
    assert Grant(role, "SELECT", "ALL_TABLES", schema) in state.grants
