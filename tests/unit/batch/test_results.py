"""The results store on a real DuckDB: a second gate of the same batch replaces the
first one's checks and samples, and the status page reads them back per batch."""

from __future__ import annotations

import datetime as dt
import json

from keel.adapters.duckdb import DuckDBAdapter
from keel.batch import results

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _adapter() -> DuckDBAdapter:
    a = DuckDBAdapter()
    for statement in a.bootstrap_sql():
        a.execute(statement)
    return a


def test_a_second_gate_of_a_batch_replaces_the_first() -> None:
    a = _adapter()
    failing = results.CheckRow("c1", "not_null", "EMAIL", "error", "fail", 2, 2, "2 rows")
    passing = results.CheckRow("c2", "unique", "ID", "error", "pass", 0)
    with a.transaction():
        results.replace(a, ("b1", "gong", "calls"), [failing, passing], {"c1": [{"ID": 1}]}, NOW)
    with a.transaction():
        results.replace(a, ("b1", "gong", "calls"), [passing], {}, NOW)
    with a.transaction():
        results.replace(a, ("b2", "gong", "users"), [failing], {"c1": [{"ID": 7}] * 3}, NOW)
    checks, samples = results.for_batches(a, ["b1", "b2"])
    assert [(c["check_id"], c["status"]) for c in checks["b1"]] == [("c2", "pass")]
    assert [(c["check_name"], c["failing_rows"]) for c in checks["b2"]] == [("not_null", 2)]
    assert ("b1", "c1") not in samples
    assert [json.loads(r) for r in samples[("b2", "c1")]] == [{"ID": 7}] * 3
    assert results.for_batches(a, []) == ({}, {})


def test_samples_are_bounded_and_values_stay_values() -> None:
    a = _adapter()
    hostile = {"NOTE": "x'); DROP TABLE t; --"}
    with a.transaction():
        results.replace(a, ("b'1", "s", "t"), [], {"c": [hostile] * 5}, NOW)
    _, samples = results.for_batches(a, ["b'1"], sample_limit=3)
    assert [json.loads(r) for r in samples[("b'1", "c")]] == [hostile] * 3
