"""The DuckDB sampler: bounded, one expression per table, text and JSON values back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

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


def _five_tables() -> tuple[DuckDBAdapter, list[tuple[str, str, tuple[str, ...]]]]:
    """RAW.T0..T4 of 1,000 rows each (column C: 'v<table>-<row>') and their sample targets."""
    a = DuckDBAdapter(":memory:")
    a.execute("CREATE SCHEMA raw")
    for n in range(5):
        a.execute(f"CREATE TABLE raw.t{n} AS SELECT 'v{n}-' || i AS c FROM range(1000) r(i)")
    return a, [("RAW", f"T{n}", ("C",)) for n in range(5)]


def test_duckdb_sample_is_bounded_and_chunked() -> None:
    a, targets = _five_tables()
    out = a.sample(targets, 3, chunk=2)
    assert all(len(out[("RAW", f"T{n}", "C")]) == 3 for n in range(5))
    assert a.queries["sample"] == 3  # ceil(5 / 2): the count grows with tables / chunk only
    a.close()


def test_duckdb_sample_chunks_come_in_the_order_of_the_targets() -> None:
    a, targets = _five_tables()
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


def test_a_reader_that_stops_early_leaves_no_query_running() -> None:
    """Classification failing part way closes the sample reader: queued sample queries are
    cancelled and running ones finish, so the connection closes cleanly and the first
    error is the one the user sees (DuckDB refuses to close a busy connection)."""
    a = DuckDBAdapter(":memory:")
    a.execute("CREATE SCHEMA raw")
    targets = []
    for n in range(40):
        a.execute(f"CREATE TABLE raw.t{n} AS SELECT 'v' || i AS c FROM range(20000) r(i)")
        targets.append(("RAW", f"T{n}", ("C",)))
    for _ in range(5):
        parts = a.sample_chunks(targets, 3, chunk=1)
        next(parts)
        parts.close()  # what governance.desired does when classification raises
        assert a.fetch("SELECT 1") == [(1,)]
    a.close()


def test_a_failing_classification_is_the_error_the_user_sees(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A snapshot whose classification raises part way: that error comes out (not DuckDB's
    'connection is busy'), and the warehouse closes cleanly afterwards."""
    from keel.context import Context
    from keel.governance import desired
    from keel.project.init import write_project

    root = tmp_path / "proj"
    write_project(root)
    ctx = Context(root)
    a = ctx.adapter
    for sql in a.bootstrap_sql():
        a.execute(sql)
    a.execute('CREATE SCHEMA IF NOT EXISTS "SLACK_DATA_RAW"')
    for n in range(300):
        a.execute(
            f'CREATE TABLE "SLACK_DATA_RAW"."EXTRA_{n}" AS '
            f"SELECT 'v' || i AS \"NOTE_{n}\" FROM range(50) r(i)"
        )
    calls = iter(range(10**6))

    def failing(*args: object, **kw: object) -> object:
        if next(calls) == 5:
            raise RuntimeError("a classifier bug")
        return real(*args, **kw)

    real = desired.classify_column
    monkeypatch.setattr(desired, "classify_column", failing)
    readers: list[Any] = []
    chunks = a.sample_chunks

    def recorded(*args: Any, **kw: Any) -> Any:
        readers.append(chunks(*args, **kw))
        return readers[-1]

    monkeypatch.setattr(a, "sample_chunks", recorded)
    with pytest.raises(RuntimeError, match="a classifier bug"):
        ctx.snapshot()
    # the reader was closed before the error left keel, not left suspended in the traceback
    # with its queries running (DuckDB then refuses to close a busy connection)
    assert readers and readers[0].gi_frame is None
    ctx.close()
