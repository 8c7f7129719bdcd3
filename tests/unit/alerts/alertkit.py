"""Helpers for the alert tests: keel's ops tables on DuckDB, a clock moved by hand."""

from __future__ import annotations

import datetime as dt

from keel import ops_tables as ops
from keel.adapters.duckdb import DuckDBAdapter

START = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)


class FakeClock:
    """A clock the test moves by hand; every reading is tz-aware UTC."""

    def __init__(self, start: dt.datetime = START):
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> dt.datetime:
        self.now += dt.timedelta(seconds=seconds)
        return self.now


def make_ops(a: DuckDBAdapter) -> DuckDBAdapter:
    """Create SOPHIA_OPS.KEEL_ALERTS and KEEL_EVENTS (what the alerts read and write)."""
    a.execute(f"CREATE SCHEMA IF NOT EXISTS {a.ident(ops.OPS_SCHEMA)}")
    for table in (ops.KEEL_ALERTS, ops.KEEL_EVENTS):
        a.execute(ops.create_table_sql(table, a.dialect, a.norm, a.type_map))
    return a
