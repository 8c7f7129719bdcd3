"""DuckDB reads a table's columns with pragma_table_info (its catalog listings first build
their built-in views): the same answer as information_schema, a missing table left out,
and an open transaction never aborted by the lookup."""

from __future__ import annotations

import pytest

from keel.adapters.base import Adapter
from keel.adapters.duckdb import DuckDBAdapter


@pytest.fixture
def a() -> DuckDBAdapter:
    a = DuckDBAdapter(":memory:")
    a.execute('CREATE SCHEMA "S"')
    a.execute('CREATE TABLE "S"."T" ("ID" BIGINT, "Email" VARCHAR, "AT" TIMESTAMPTZ, "J" JSON)')
    a.execute('CREATE TABLE "S"."U" ("X" DECIMAL(18,3))')
    a.execute('CREATE VIEW "S"."V" AS SELECT "ID" FROM "S"."T"')
    return a


def test_the_same_columns_and_types_as_the_catalog(a: DuckDBAdapter) -> None:
    tables = [("S", "T"), ("S", "U"), ("S", "V")]
    fast = a.table_columns(tables)
    assert fast == Adapter.table_columns(a, tables)
    assert fast[("S", "T")] == [
        ("ID", "BIGINT"),
        ("EMAIL", "VARCHAR"),
        ("AT", "TIMESTAMP WITH TIME ZONE"),
        ("J", "JSON"),
    ]
    assert fast[("S", "U")] == [("X", "DECIMAL(18,3)")]


def test_a_missing_table_is_left_out(a: DuckDBAdapter) -> None:
    found = a.table_columns([("S", "T"), ("S", "NOPE"), ("NOSCHEMA", "T")])
    assert list(found) == [("S", "T")]
    assert a.table_columns([]) == {}


def test_an_open_transaction_survives_a_missing_table(a: DuckDBAdapter) -> None:
    with a.transaction():
        a.execute('INSERT INTO "S"."U" VALUES (1.5)')
        a.execute('ALTER TABLE "S"."U" ADD COLUMN "Y" VARCHAR')  # uncommitted: still seen
        found = a.table_columns([("S", "U"), ("S", "NOPE")])
        assert found == {("S", "U"): [("X", "DECIMAL(18,3)"), ("Y", "VARCHAR")]}
        a.execute('INSERT INTO "S"."U" VALUES (2.5, \'b\')')
    assert a.fetch('SELECT COUNT(*) FROM "S"."U"') == [(2,)]
    assert not a.in_transaction
