"""The local writer lays rows out as Airbyte's Destinations V2 does (docs.airbyte.com
understanding-airbyte/airbyte-metadata-fields): ``_airbyte_extracted_at`` is when the
record was pulled (the RECORD's ``emitted_at``, epoch milliseconds), ``_airbyte_meta`` is
``{"sync_id", "changes": [{"field", "change", "reason"}]}`` carrying the record's own
``meta.changes``, and a value that does not fit its column is written as null with a
``NULLED`` / ``DESTINATION_TYPECAST_ERROR`` change while the commit goes on."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import duckdb
import pytest

from keel.errors import IngestError
from keel.ingest.writer import RawWriter, StreamSpec

SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "score": {"type": ["null", "integer"]},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}
T0 = "2026-01-01T00:00:00Z"
STATE = {"type": "STREAM", "stream": {"stream_descriptor": {"name": "orders"}, "stream_state": {}}}
EMITTED = 1_767_225_600_000  # 2026-01-01T00:00:00Z in ms
SOURCE_CHANGE = {"field": "note", "change": "TRUNCATED", "reason": "SOURCE_FIELD_SIZE_LIMITATION"}


@pytest.fixture
def conn() -> Any:
    c = duckdb.connect()
    yield c
    c.close()


def _writer(conn: Any) -> RawWriter:
    w = RawWriter(conn, source="shop", sync_id=42, batch_rows=1)
    w.open([StreamSpec("orders", SCHEMA, ("id",), "updated_at")])
    return w


def _rows(conn: Any) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT ID, SCORE, _AIRBYTE_EXTRACTED_AT, CAST(_AIRBYTE_META AS VARCHAR) "
        "FROM SHOP_DATA_RAW.ORDERS ORDER BY ID"
    ).fetchall()


def test_extraction_time_is_the_emit_time_and_meta_changes_are_carried(conn: Any) -> None:
    w = _writer(conn)
    w.record("orders", {"id": 1, "score": 5, "updated_at": T0}, EMITTED, None)
    w.record(
        "orders",
        {"id": 2, "score": 6, "updated_at": T0},
        EMITTED - 60_000,
        {"changes": [SOURCE_CHANGE]},
    )
    w.state("orders", STATE)
    w.finish(success=True)
    (one, two) = _rows(conn)
    assert one[2] == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert two[2] == dt.datetime(2025, 12, 31, 23, 59, tzinfo=dt.UTC)  # emitted a minute before
    assert json.loads(one[3]) == {"sync_id": 42, "changes": []}
    assert json.loads(two[3]) == {"sync_id": 42, "changes": [SOURCE_CHANGE]}


def test_a_value_that_does_not_fit_is_nulled_and_recorded(conn: Any) -> None:
    w = _writer(conn)
    w.record("orders", {"id": 1, "score": 5, "updated_at": T0}, EMITTED)
    w.record(
        "orders",
        {"id": 2, "score": "many", "updated_at": T0},
        EMITTED,
        {"changes": [SOURCE_CHANGE]},
    )
    w.state("orders", STATE)
    result = w.finish(success=True)["orders"]
    assert result.committed == 2
    (one, two) = _rows(conn)
    assert one[1] == 5 and json.loads(one[3])["changes"] == []
    assert two[1] is None
    assert json.loads(two[3])["changes"] == [
        SOURCE_CHANGE,
        {"field": "score", "change": "NULLED", "reason": "DESTINATION_TYPECAST_ERROR"},
    ]


def test_a_key_that_does_not_fit_is_still_an_error(conn: Any) -> None:
    w = _writer(conn)
    w.record("orders", {"id": "two", "score": 1, "updated_at": T0}, EMITTED)
    with pytest.raises(IngestError, match="field 'id'"):
        w.state("orders", STATE)


def _refresh(conn: Any, keys: list[int]) -> None:
    w = RawWriter(conn, source="shop", sync_id=42, batch_rows=1)
    w.open([StreamSpec("orders", SCHEMA, (), None, sync_mode="full_refresh")])
    for k in keys:
        w.record("orders", {"id": k, "score": k, "updated_at": T0}, EMITTED)
    result = w.finish(success=True)["orders"]  # a stateless full refresh commits at the end
    assert result.destination_sync_mode == "overwrite"


def test_full_refresh_overwrites_and_raises_the_generation(conn: Any) -> None:
    """A stream without a cursor is full_refresh_overwrite: its rows are not appended again
    on each run, keys the source dropped disappear, and each refresh is a new generation."""
    _refresh(conn, [1, 2, 3])
    _refresh(conn, [1, 2])
    rows = conn.execute(
        "SELECT ID, _AIRBYTE_GENERATION_ID FROM SHOP_DATA_RAW.ORDERS ORDER BY ID"
    ).fetchall()
    assert rows == [(1, 1), (2, 1)]
    _refresh(conn, [5])
    assert conn.execute(
        "SELECT ID, _AIRBYTE_GENERATION_ID FROM SHOP_DATA_RAW.ORDERS"
    ).fetchall() == [(5, 2)]


def test_a_failed_refresh_keeps_the_previous_generation(conn: Any) -> None:
    _refresh(conn, [1, 2])
    w = RawWriter(conn, source="shop", sync_id=43, batch_rows=1)
    w.open([StreamSpec("orders", SCHEMA, (), None, sync_mode="full_refresh")])
    w.record("orders", {"id": 9, "score": 9, "updated_at": T0}, EMITTED)
    w.finish(success=False)
    assert conn.execute("SELECT ID FROM SHOP_DATA_RAW.ORDERS ORDER BY ID").fetchall() == [
        (1,),
        (2,),
    ]
