"""The stores of KEEL_BATCHES and KEEL_QUARANTINE on a real DuckDB: the gate's row and
its first CREATED_AT, the publish's decision and supersession, the one listing, and the
quarantined rows the MERGE leaves out."""

from __future__ import annotations

import datetime as dt

import pytest

from keel import ops_tables as ops
from keel.adapters.duckdb import DuckDBAdapter
from keel.batch import batches, quarantine
from keel.batch.batches import BatchRow, Decision
from keel.batch.quarantine import QuarantineRow

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


def _adapter() -> DuckDBAdapter:
    a = DuckDBAdapter()
    for statement in a.bootstrap_sql():
        a.execute(statement)
    return a


def _row(batch_id: str, stream: str = "calls", **kw: object) -> BatchRow:
    values: dict[str, object] = {
        "source": "gong",
        "stream": stream,
        "status": "blocked",
        "rows": 3,
        "min_extracted_at": T0,
        "max_extracted_at": T0 + H,
        "created_at": T0,
        "decided_at": T0,
        "watermark": None,
    }
    values.update(kw)
    return BatchRow(batch_id, **values)


def test_the_rows_follow_the_tables_columns() -> None:
    assert tuple(ops.KEEL_BATCHES.column_names) == batches.COLUMNS
    assert tuple(ops.KEEL_QUARANTINE.column_names) == quarantine.COLUMNS


def test_replace_keeps_one_row_per_batch_and_created_at_reads_it_back() -> None:
    a = _adapter()
    assert batches.created_at(a, "b1") is None
    with a.transaction():
        batches.replace(a, _row("b1", created_at=T0 - H, message="first"))
    with a.transaction():
        batches.replace(a, _row("b1", status="passed", message="second"))
    assert batches.created_at(a, "b1") == T0
    [row] = batches.recent(a)
    assert (row.batch_id, row.status, row.message) == ("b1", "passed", "second")


def test_recent_is_newest_first_per_source_and_bounded() -> None:
    a = _adapter()
    with a.transaction():
        batches.replace(a, _row("old", created_at=T0))
        batches.replace(a, _row("new", created_at=T0 + 2 * H))
        batches.replace(a, _row("mid", "users", created_at=T0 + H, source="hub'spot"))
    assert [r.batch_id for r in batches.recent(a)] == ["new", "mid", "old"]
    assert [r.batch_id for r in batches.recent(a, "gong")] == ["new", "old"]
    assert [r.batch_id for r in batches.recent(a, "hub'spot")] == ["mid"]
    assert [r.batch_id for r in batches.recent(a, limit=1)] == ["new"]
    assert batches.recent(a, "nobody") == []
    picked = batches.recent(a, limit=1)[0].pick(("status", "batch_id", "rows"))
    assert list(picked.items()) == [("status", "blocked"), ("batch_id", "new"), ("rows", 3)]


def test_a_decision_marks_the_earlier_gates_of_the_same_rows() -> None:
    a = _adapter()
    mark = T0 - H
    with a.transaction():
        batches.replace(a, _row("blocked-first", watermark=mark))
        batches.replace(a, _row("passed-first", status="passed", watermark=mark))
        batches.replace(a, _row("other-window", watermark=T0))
        batches.replace(a, _row("other-stream", "users", watermark=mark))
        batches.replace(a, _row("fix", status="passed", watermark=mark))
    decision = Decision("forced", T0 + H, 2, 1, 0, "ana", "it's fine")
    with a.transaction():
        for sql in batches.decide_sql(a, "fix", "gong", "calls", decision, mark):
            a.execute(sql)
    got = {r.batch_id: r for r in batches.recent(a)}
    fix = got["fix"]
    assert (fix.status, fix.published_rows, fix.quarantined_rows, fix.deleted_rows) == (
        "forced",
        2,
        1,
        0,
    )
    assert (fix.forced_by, fix.reason, fix.superseded_by) == ("ana", "it's fine", None)
    assert {k: r.superseded_by for k, r in got.items() if k != "fix"} == {
        "blocked-first": "fix",
        "passed-first": "fix",
        "other-window": None,
        "other-stream": None,
    }


def test_a_first_window_supersedes_by_a_null_watermark() -> None:
    a = _adapter()
    with a.transaction():
        batches.replace(a, _row("before"))
        batches.replace(a, _row("windowed", watermark=T0))
        batches.replace(a, _row("b"))
    decision = Decision("promoted", T0, 3, 0, 0)
    with a.transaction():
        for sql in batches.decide_sql(a, "b", "gong", "calls", decision, None):
            a.execute(sql)
    got = {r.batch_id: (r.status, r.superseded_by) for r in batches.recent(a)}
    assert got == {
        "b": ("promoted", None),
        "before": ("blocked", "b"),
        "windowed": ("blocked", None),
    }


def _held(batch_id: str, raw_id: str) -> QuarantineRow:
    return QuarantineRow(batch_id, "gong", "calls", raw_id, '["k"]', "not_null.ID", "{}", T0)


def test_quarantine_replaces_a_batchs_rows_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    a = _adapter()
    monkeypatch.setattr(quarantine, "CHUNK", 2)
    first = quarantine.replace_sql(a, "b1", [_held("b1", f"r{i}") for i in range(5)])
    assert [s.split(" ", 1)[0] for s in first] == ["DELETE", "INSERT", "INSERT", "INSERT"]
    with a.transaction():
        for sql in first + quarantine.replace_sql(a, "b2", [_held("b2", "x")]):
            a.execute(sql)
        for sql in quarantine.replace_sql(a, "b1", [_held("b1", "r9")]):
            a.execute(sql)
    kept = a.fetch('SELECT "BATCH_ID", "RAW_ID" FROM "SOPHIA_OPS"."KEEL_QUARANTINE" ORDER BY 1, 2')
    assert kept == [("b1", "r9"), ("b2", "x")]
    assert quarantine.replace_sql(a, "b3", []) == [
        a.delete_sql(ops.KEEL_QUARANTINE, {"BATCH_ID": "b3"})
    ]


def test_excluded_leaves_out_only_the_batchs_quarantined_rows() -> None:
    a = _adapter()
    with a.transaction():
        for sql in quarantine.replace_sql(a, "b'1", [_held("b'1", "r1")]):
            a.execute(sql)
        for sql in quarantine.replace_sql(a, "b2", [_held("b2", "r2")]):
            a.execute(sql)
    kept = quarantine.excluded_sql(a, "b'1", a.ident("T", "ID"))
    rows = a.fetch(
        f"SELECT {a.ident('ID')} FROM (VALUES ('r1'), ('r2'), ('r3')) AS {a.ident('T')}"
        f"({a.ident('ID')}) WHERE {kept} ORDER BY 1"
    )
    assert rows == [("r2",), ("r3",)]
