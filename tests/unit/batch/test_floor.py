"""The settled floor (keel.batch.judged): which part of a read needs the judged ids."""

from __future__ import annotations

import datetime as dt

from keel.adapters.duckdb import DuckDBAdapter
from keel.batch.judged import Scope, prune_sql
from keel.batch.window import Window, window_sql

W = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def scope(floor: dt.datetime | None = None, settles: bool = False) -> Scope:
    return Scope("hubspot", "contacts", ("HUBSPOT_DATA_RAW", "CONTACTS"), 72 * HOUR, floor, settles)


def test_without_a_floor_the_read_starts_a_lookback_before_the_watermark() -> None:
    a = DuckDBAdapter()
    sql = window_sql(a, Window(W, W + HOUR, scope()))
    assert "> '2025-12-30T00:00:00+00:00'" in sql
    assert "KEEL_JUDGED" in sql


def test_a_floor_inside_the_lookback_raises_the_lower_bound() -> None:
    a = DuckDBAdapter()
    sql = window_sql(a, Window(W, W + HOUR, scope(W - 2 * HOUR)))
    assert "> '2026-01-01T22:00:00+00:00'" in sql
    assert "KEEL_JUDGED" in sql  # two hours of rows may still hold judged ids


def test_a_floor_at_the_watermark_reads_only_newer_rows_without_the_judged_ids() -> None:
    a = DuckDBAdapter()
    sql = window_sql(a, Window(W, W + HOUR, scope(W)))
    assert sql == (
        "\"_AIRBYTE_EXTRACTED_AT\" > '2026-01-02T00:00:00+00:00' "
        "AND \"_AIRBYTE_EXTRACTED_AT\" <= '2026-01-02T01:00:00+00:00'"
    )


def test_prune_follows_the_floor_a_settled_batch_moves() -> None:
    a = DuckDBAdapter()
    mark = W + HOUR
    assert prune_sql(a, scope(), mark).endswith("<= '2025-12-30T01:00:00+00:00'")
    assert prune_sql(a, scope(settles=True), mark).endswith("<= '2026-01-02T01:00:00+00:00'")
    # an earlier floor stays where it was until a settled batch moves it
    assert prune_sql(a, scope(W, settles=False), mark).endswith("<= '2026-01-02T00:00:00+00:00'")
