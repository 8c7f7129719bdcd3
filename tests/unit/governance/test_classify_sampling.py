"""The DuckDB sampler: bounded, one expression per table, text and JSON values back."""

from __future__ import annotations

import json

from keel.adapters.duckdb import DuckDBAdapter


def test_duckdb_sample_returns_text_and_json_values() -> None:
    a = DuckDBAdapter(":memory:")
    a.execute("CREATE SCHEMA raw")
    a.execute('CREATE TABLE raw.users (id INTEGER, "Email" VARCHAR, profile JSON, note VARCHAR)')
    a.execute(
        "INSERT INTO raw.users VALUES "
        '(1, \'ann@acme.com\', \'{"real_name": "Ann Lee", "tags": [1, 2]}\', NULL), '
        "(2, 'wei@globex.io', NULL, 'met at the fair'), "
        "(3, NULL, '[\"x\"]', 'it''s \"quoted\"')"
    )
    a.execute("CREATE TABLE raw.empty (name VARCHAR)")
    out = a.sample([("RAW", "USERS", ("EMAIL", "PROFILE", "NOTE")), ("RAW", "EMPTY", ("NAME",))], 5)
    assert out[("RAW", "USERS", "EMAIL")] == ["ann@acme.com", "wei@globex.io"]
    profiles = [json.loads(v) for v in out[("RAW", "USERS", "PROFILE")]]
    assert profiles == [{"real_name": "Ann Lee", "tags": [1, 2]}, ["x"]]
    assert out[("RAW", "USERS", "NOTE")] == ["met at the fair", 'it\'s "quoted"']
    assert out[("RAW", "EMPTY", "NAME")] == []
    assert a.queries["sample"] == 1
    a.close()


def test_duckdb_sample_is_bounded_and_chunked() -> None:
    a = DuckDBAdapter(":memory:")
    a.execute("CREATE SCHEMA raw")
    targets = []
    for n in range(5):
        a.execute(f"CREATE TABLE raw.t{n} AS SELECT 'v' || i AS c FROM range(1000) r(i)")
        targets.append(("RAW", f"T{n}", ("C",)))
    out = a.sample(targets, 3, chunk=2)
    assert all(len(out[("RAW", f"T{n}", "C")]) == 3 for n in range(5))
    assert a.queries["sample"] == 3  # ceil(5 / 2): the count grows with tables / chunk only
    a.close()


def test_duckdb_sample_chunks_come_in_the_order_of_the_targets() -> None:
    a = DuckDBAdapter(":memory:")
    a.execute("CREATE SCHEMA raw")
    targets = []
    for n in range(5):
        a.execute(f"CREATE TABLE raw.t{n} AS SELECT 'v{n}-' || i AS c FROM range(1000) r(i)")
        targets.append(("RAW", f"T{n}", ("C",)))
    parts = a.sample_chunks(targets, 2, chunk=2)
    first = next(parts)  # a caller classifies these while the rest are read
    assert sorted(first) == [("RAW", "T0", "C"), ("RAW", "T1", "C")]
    rest = list(parts)
    assert [sorted(p) for p in rest] == [
        [("RAW", "T2", "C"), ("RAW", "T3", "C")],
        [("RAW", "T4", "C")],
    ]
    for part in [first, *rest]:
        for (_, table, _), values in part.items():
            assert len(values) == 2  # bounded: 2 of 1,000 rows, each from its own table
            assert all(v.startswith(f"v{table[1:]}-") for v in values)
    assert a.queries["sample"] == 3
    a.close()
