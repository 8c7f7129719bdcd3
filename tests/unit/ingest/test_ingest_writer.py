"""The RAW writer: state commits, dedup, extraction times, schema evolution, bad values."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any

import duckdb
import pytest

from keel.errors import IngestError
from keel.ingest.writer import RawWriter, StreamSpec

UTC = dt.UTC
SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": ["null", "string"]},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}
T0 = "2026-01-01T00:00:00Z"
T1 = "2026-01-01T00:00:01Z"
T2 = "2026-01-01T00:00:02Z"


def _state(stream: str, cursor: str) -> dict[str, Any]:
    return {
        "type": "STREAM",
        "stream": {"stream_descriptor": {"name": stream}, "stream_state": {"updated_at": cursor}},
    }


def _writer(
    conn: duckdb.DuckDBPyConnection,
    schema: dict[str, Any] = SCHEMA,
    *,
    key: tuple[str, ...] = ("id",),
    cursor: str | None = "updated_at",
    batch_rows: int = 1,
    clock: Callable[[], dt.datetime] | None = None,
    sync_id: int = 1,
) -> RawWriter:
    writer = RawWriter(conn, source="shop", sync_id=sync_id, batch_rows=batch_rows, clock=clock)
    writer.open([StreamSpec("orders", schema, key, cursor)])
    return writer


def _rows(conn: duckdb.DuckDBPyConnection, cols: str = "ID, NAME") -> list[tuple[Any, ...]]:
    return conn.execute(f"SELECT {cols} FROM SHOP_DATA_RAW.ORDERS ORDER BY ID, NAME").fetchall()


def _stored_state(conn: duckdb.DuckDBPyConnection, stream: str = "orders") -> tuple[Any, ...]:
    row = conn.execute(
        "SELECT STATE, RECORDS FROM SOPHIA_OPS.KEEL_STATE WHERE SOURCE = 'shop' AND STREAM = ?",
        [stream],
    ).fetchone()
    assert row is not None
    return (json.loads(row[0]) if row[0] else None, row[1])


def test_records_commit_only_together_with_their_state(conn: duckdb.DuckDBPyConnection) -> None:
    w = _writer(conn)
    w.record("orders", {"id": 1, "name": "a", "updated_at": T0})
    w.record("orders", {"id": 2, "name": "b", "updated_at": T1})
    w.state("orders", _state("orders", T1))
    w.record("orders", {"id": 3, "name": "c", "updated_at": T2})  # after the last state
    result = w.finish(success=True)["orders"]
    assert _rows(conn) == [(1, "a"), (2, "b")]
    assert _stored_state(conn) == (_state("orders", T1), 2)
    assert (result.records, result.committed, result.uncommitted) == (3, 2, 1)
    assert result.state == {"updated_at": T1}


def test_commits_wait_for_batch_rows_and_finish_commits_the_rest(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    w = _writer(conn, batch_rows=3)
    for n in range(1, 6):
        w.record("orders", {"id": n, "name": "x", "updated_at": T0})
        w.state("orders", _state("orders", f"2026-01-01T00:00:0{n}Z"))
        if n == 2:
            assert conn.execute("SELECT count(*) FROM SHOP_DATA_RAW.ORDERS").fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM SHOP_DATA_RAW.ORDERS").fetchone() == (3,)
    result = w.finish(success=False)["orders"]  # a failed read still commits covered records
    assert (result.committed, result.batches) == (5, 2)
    assert _stored_state(conn) == (_state("orders", "2026-01-01T00:00:05Z"), 5)


def test_a_stream_without_any_state_commits_only_after_a_successful_read(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    w = _writer(conn)
    w.record("orders", {"id": 1, "name": "a", "updated_at": T0})
    w.finish(success=False)
    assert _rows(conn) == []
    w = _writer(conn)
    w.record("orders", {"id": 1, "name": "a", "updated_at": T0})
    assert w.finish(success=True)["orders"].committed == 1
    assert _rows(conn) == [(1, "a")]
    assert _stored_state(conn) == (None, 1)


def test_dedup_newest_cursor_wins_then_latest_arrival(conn: duckdb.DuckDBPyConnection) -> None:
    w = _writer(conn)
    w.record("orders", {"id": 1, "name": "v1", "updated_at": T1})
    w.record("orders", {"id": 2, "name": "v1", "updated_at": T1})
    w.record("orders", {"id": 3, "name": "first", "updated_at": T1})
    w.record("orders", {"id": 3, "name": "second", "updated_at": T1})  # same key, same cursor
    w.record("orders", {"id": 4, "name": None, "updated_at": None})
    w.state("orders", _state("orders", T1))
    w.record("orders", {"id": 1, "name": "v2", "updated_at": T2})  # newer: replaces
    w.record("orders", {"id": 2, "name": "late", "updated_at": T0})  # older: loses
    w.record("orders", {"id": 4, "name": "known", "updated_at": T0})  # beats a NULL cursor
    w.record("orders", {"id": 5, "name": "new", "updated_at": T2})
    w.state("orders", _state("orders", T2))
    w.finish(success=True)
    assert _rows(conn) == [(1, "v2"), (2, "v1"), (3, "second"), (4, "known"), (5, "new")]
    times = dict(
        conn.execute("SELECT ID, _AIRBYTE_EXTRACTED_AT FROM SHOP_DATA_RAW.ORDERS").fetchall()
    )
    assert times[1] > times[2]  # the replaced key carries the new batch's time
    assert times[2] == times[3]  # rows the batch did not replace keep their own
    assert times[1] == times[5]


def test_plain_append_without_a_key(conn: duckdb.DuckDBPyConnection) -> None:
    w = _writer(conn, key=())
    for name in ("a", "a", "b"):
        w.record("orders", {"id": 1, "name": name, "updated_at": T0})
    w.state("orders", _state("orders", T0))
    result = w.finish(success=True)["orders"]
    assert result.destination_sync_mode == "append"
    assert _rows(conn) == [(1, "a"), (1, "a"), (1, "b")]


def test_extraction_time_strictly_increases_even_if_the_clock_does_not(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    stuck = dt.datetime(2030, 1, 1, tzinfo=UTC)
    for run in range(2):  # a second writer reads the table's newest value
        at = stuck - dt.timedelta(days=run)  # the clock even goes back for the second run
        w = _writer(conn, clock=lambda at=at: at)
        for n in range(3):
            w.record("orders", {"id": 10 * run + n, "name": "x", "updated_at": T0})
            w.state("orders", _state("orders", T0))
        w.finish(success=True)
    stamps = [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT _AIRBYTE_EXTRACTED_AT FROM SHOP_DATA_RAW.ORDERS ORDER BY 1"
        ).fetchall()
    ]
    assert len(stamps) == 6
    assert stamps[0] == stuck
    assert all(
        b - a == dt.timedelta(microseconds=1) for a, b in zip(stamps, stamps[1:], strict=False)
    )


def test_airbyte_columns_and_typed_layout(conn: duckdb.DuckDBPyConnection) -> None:
    schema = {
        "properties": {
            "id": {"type": "integer"},
            "price": {"type": "number"},
            "paid": {"type": "boolean"},
            "day": {"type": "string", "format": "date"},
            "updated_at": {"type": "string", "format": "date-time"},
            "address": {"type": "object"},
            "tags": {"type": "array"},
        }
    }
    w = _writer(conn, schema, sync_id=77)
    w.record(
        "orders",
        {"id": 1, "price": 2, "paid": True, "day": "2026-02-03",
         "updated_at": "2026-01-01T10:00:00", "address": {"city": "Oslo"}, "tags": ["a", "b"]},
    )  # fmt: skip
    w.state("orders", _state("orders", T0))
    w.finish(success=True)
    layout = conn.execute("DESCRIBE SHOP_DATA_RAW.ORDERS").fetchall()
    assert [(r[0], r[1]) for r in layout] == [
        ("ID", "BIGINT"), ("PRICE", "DOUBLE"), ("PAID", "BOOLEAN"), ("DAY", "DATE"),
        ("UPDATED_AT", "TIMESTAMP WITH TIME ZONE"), ("ADDRESS", "JSON"), ("TAGS", "JSON"),
        ("_AIRBYTE_RAW_ID", "VARCHAR"), ("_AIRBYTE_EXTRACTED_AT", "TIMESTAMP WITH TIME ZONE"),
        ("_AIRBYTE_META", "JSON"), ("_AIRBYTE_GENERATION_ID", "BIGINT"),
    ]  # fmt: skip
    row = conn.execute(
        "SELECT PRICE, DAY, UPDATED_AT, ADDRESS->>'city', TAGS->>1, _AIRBYTE_RAW_ID, "
        "_AIRBYTE_META, _AIRBYTE_GENERATION_ID FROM SHOP_DATA_RAW.ORDERS"
    ).fetchone()
    assert row is not None
    assert row[:5] == (
        2.0,
        dt.date(2026, 2, 3),
        dt.datetime(2026, 1, 1, 10, tzinfo=UTC),
        "Oslo",
        "b",
    )
    uuid.UUID(row[5])
    assert json.loads(row[6]) == {"sync_id": 77, "changes": []}
    assert row[7] == 0


def test_schema_evolution_adds_and_widens_never_narrows(conn: duckdb.DuckDBPyConnection) -> None:
    def props(n: dict[str, Any], **more: Any) -> dict[str, Any]:
        return {"properties": {"id": {"type": "integer"}, "n": n, **more}}

    w = _writer(conn, props({"type": "integer"}), cursor=None)
    w.record("orders", {"id": 1, "n": 5})
    w.state("orders", _state("orders", T0))
    w.finish(success=True)

    w = _writer(conn, props({"type": "number"}, note={"type": "string"}), cursor=None)
    result = w.finish(success=True)["orders"]
    assert result.new_columns == ["NOTE"]
    assert result.widened_columns == ["N: BIGINT -> DOUBLE"]
    w = _writer(conn, props({"type": "string"}), cursor=None)
    assert w.finish(success=True)["orders"].widened_columns == ["N: DOUBLE -> VARCHAR"]
    w = _writer(conn, props({"type": "integer"}), cursor=None)  # narrower: ignored
    w.record("orders", {"id": 2, "n": 7})
    w.state("orders", _state("orders", T1))
    assert w.finish(success=True)["orders"].widened_columns == []
    types = dict(
        conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'ORDERS'"
        ).fetchall()
    )
    assert types["N"] == "VARCHAR" and types["NOTE"] == "VARCHAR"
    assert conn.execute("SELECT ID, N FROM SHOP_DATA_RAW.ORDERS ORDER BY ID").fetchall() == [
        (1, "5.0"), (2, "7"),
    ]  # fmt: skip


def test_properties_outside_the_schema_become_new_columns(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    w = _writer(conn)
    w.record("orders", {"id": 1, "name": "a", "updated_at": T0, "score": 3})
    w.record("orders", {"id": 2, "name": "b", "updated_at": T0, "score": 4.5, "flag": True})
    w.state("orders", _state("orders", T0))
    result = w.finish(success=True)["orders"]
    assert result.new_columns == ["FLAG", "SCORE"]
    assert _rows(conn, "ID, SCORE, FLAG") == [(1, 3.0, None), (2, 4.5, True)]


def test_a_value_that_does_not_fit_names_stream_and_field_and_keeps_commits(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    w = _writer(conn)
    w.record("orders", {"id": 1, "name": "a", "updated_at": T0})
    w.state("orders", _state("orders", T0))
    w.record("orders", {"id": "2", "name": "b", "updated_at": T1})  # a numeric string casts
    w.record("orders", {"id": "two", "name": "c", "updated_at": T1})
    with pytest.raises(IngestError) as info:
        w.state("orders", _state("orders", T1))
    message = str(info.value)
    assert "stream 'orders'" in message and "field 'id'" in message
    assert "1 value(s)" in message and "BIGINT" in message
    result = w.finish(success=False)["orders"]  # the failed stream is not retried
    assert result.committed == 1
    assert _rows(conn) == [(1, "a")]
    assert _stored_state(conn) == (_state("orders", T0), 1)


def test_global_state_commits_every_stream(conn: duckdb.DuckDBPyConnection) -> None:
    w = RawWriter(conn, source="shop", sync_id=1, batch_rows=1)
    w.open([StreamSpec("orders", SCHEMA, ("id",), "updated_at"), StreamSpec("refunds", SCHEMA)])
    w.record("orders", {"id": 1, "updated_at": T0})
    w.record("refunds", {"id": 9, "updated_at": T0})
    w.state(None, {"type": "GLOBAL", "global": {"stream_states": []}})
    w.finish(success=True)
    assert conn.execute("SELECT count(*) FROM SHOP_DATA_RAW.REFUNDS").fetchone() == (1,)
    assert _stored_state(conn, "*")[0] == {"type": "GLOBAL", "global": {"stream_states": []}}
    assert w.committed_states["*"]["type"] == "GLOBAL"


def test_wide_records_commit_by_size(conn: duckdb.DuckDBPyConnection) -> None:
    w = RawWriter(conn, source="shop", sync_id=1, batch_rows=10**6, batch_bytes=5_000)
    w.open([StreamSpec("orders", SCHEMA, ("id",), "updated_at")])
    for n in range(4):
        w.record("orders", {"id": n, "name": "x" * 2_000, "updated_at": T0})
        w.state("orders", _state("orders", T0))
    assert w.results()["orders"].batches == 1  # 3 records of ~2 KB passed 5,000 bytes
    assert w.finish(success=True)["orders"].batches == 2


def test_record_data_must_be_an_object(conn: duckdb.DuckDBPyConnection) -> None:
    w = _writer(conn)
    w.record("orders", [1, 2])  # type: ignore[arg-type]
    with pytest.raises(IngestError, match="stream 'orders': a record's data is not a JSON object"):
        w.state("orders", _state("orders", T0))
    with pytest.raises(IngestError, match="stream 'missing', which was not selected"):
        w.record("missing", {"id": 1})
