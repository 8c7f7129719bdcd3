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


def test_the_floor_moves_to_the_newest_extraction_only_with_a_promise_and_never_down() -> None:
    upto = W - HOUR
    assert scope().next_floor(upto) is None
    assert scope(W - 2 * HOUR).next_floor(upto) == W - 2 * HOUR
    assert scope(settles=True).next_floor(upto) == upto
    assert scope(W, settles=True).next_floor(upto) == W  # a batch of late rows only


def test_prune_keeps_a_lookback_of_ids_whatever_the_floor() -> None:
    """Transformations read a batch's rows through its judged ids: the floor prunes none."""
    a = DuckDBAdapter()
    mark = W + HOUR
    for s in (scope(), scope(W, settles=True)):
        assert prune_sql(a, s, mark).endswith("<= '2025-12-30T01:00:00+00:00'")
