"""Catalog configuration and JSON-schema typing."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from airbyte_protocol.models import AirbyteCatalog, DestinationSyncMode, SyncMode

from keel.errors import IngestError
from keel.ingest import schema as S
from keel.ingest.catalog import configure_catalog, dedup_cursor, key_fields, state_for_read


def _stream(name: str, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": name,
        "json_schema": {"type": "object", "properties": {"id": {"type": "integer"}}},
        "supported_sync_modes": ["full_refresh", "incremental"],
    }
    base.update(extra)
    return base


def _catalog(*streams: dict[str, Any]) -> AirbyteCatalog:
    return AirbyteCatalog.model_validate({"streams": list(streams)})


def test_source_defined_key_and_cursor_make_incremental_dedup() -> None:
    cat = _catalog(
        _stream(
            "users",
            source_defined_cursor=True,
            default_cursor_field=["updated_at"],
            source_defined_primary_key=[["id"]],
        )
    )
    (s,) = configure_catalog(cat, sync_id=7).streams
    assert s.sync_mode == SyncMode.incremental
    assert s.cursor_field == ["updated_at"]
    assert s.primary_key == [["id"]]
    assert s.destination_sync_mode == DestinationSyncMode.append_dedup
    assert s.sync_id == 7
    assert key_fields(s) == ["id"]
    assert dedup_cursor(s) == "updated_at"


def test_given_key_and_cursor_apply_when_the_source_has_none() -> None:
    cat = _catalog(_stream("events"), _stream("logs", supported_sync_modes=["full_refresh"]))
    configured = configure_catalog(
        cat,
        cursors={"events": ["ts"], "logs": ["ts"]},
        primary_keys={"events": [["event_id"]]},
    )
    events, logs = configured.streams
    assert (events.sync_mode, events.cursor_field) == (SyncMode.incremental, ["ts"])
    assert events.primary_key == [["event_id"]]
    assert logs.sync_mode == SyncMode.full_refresh  # no incremental support
    assert logs.cursor_field is None
    assert logs.destination_sync_mode == DestinationSyncMode.append  # no key


def test_no_cursor_means_full_refresh() -> None:
    (s,) = configure_catalog(_catalog(_stream("s", source_defined_primary_key=[["id"]]))).streams
    assert s.sync_mode == SyncMode.full_refresh
    assert s.destination_sync_mode == DestinationSyncMode.append_dedup


def test_selection_and_unknown_streams_with_hints() -> None:
    cat = _catalog(_stream("users"), _stream("purchases"), _stream("products"))
    assert [s.stream.name for s in configure_catalog(cat, ["purchases"]).streams] == ["purchases"]
    with pytest.raises(IngestError) as info:
        configure_catalog(cat, ["user", "zzz"])
    assert "'user' (did you mean 'users'?)" in str(info.value)
    assert "'zzz'" in str(info.value)
    assert "products, purchases, users" in str(info.value)


def test_nested_primary_key_is_refused() -> None:
    cat = _catalog(_stream("s", source_defined_primary_key=[["a", "b"]]))
    (s,) = configure_catalog(cat).streams
    with pytest.raises(IngestError, match="nested primary key a.b"):
        key_fields(s)


def test_state_goes_back_only_to_selected_incremental_streams() -> None:
    cat = _catalog(
        _stream("a", source_defined_cursor=True, default_cursor_field=["u"]),
        _stream("b"),  # full refresh
    )
    configured = configure_catalog(cat)
    committed = {"a": {"type": "STREAM", "n": 1}, "b": {"n": 2}, "gone": {"n": 3}}
    assert state_for_read(committed, configured) == [{"type": "STREAM", "n": 1}]
    assert state_for_read({"*": {"type": "GLOBAL"}}, configured) == [{"type": "GLOBAL"}]


@pytest.mark.parametrize(
    ("prop", "expected"),
    [
        ({"type": "integer"}, S.BIGINT),
        ({"type": ["null", "number"]}, S.DOUBLE),
        ({"type": "number", "airbyte_type": "integer"}, S.BIGINT),
        ({"type": ["null", "integer", "number"]}, S.DOUBLE),
        ({"type": "boolean"}, S.BOOLEAN),
        ({"type": "string"}, S.VARCHAR),
        ({"type": "string", "format": "date"}, S.DATE),
        ({"type": "string", "format": "date-time"}, S.TIMESTAMPTZ),
        (
            {"type": "string", "format": "date-time", "airbyte_type": "timestamp_without_timezone"},
            S.TIMESTAMP,
        ),
        ({"type": "object", "properties": {}}, S.JSON),
        ({"type": ["null", "array"]}, S.JSON),
        ({"type": ["string", "integer"]}, S.JSON),
        ({"anyOf": [{"type": "null"}, {"type": "integer"}]}, S.BIGINT),
        ({}, S.JSON),
    ],
)
def test_property_types(prop: dict[str, Any], expected: str) -> None:
    assert S.property_type(prop) == expected


def test_widening_never_narrows() -> None:
    assert S.widen(S.BIGINT, S.DOUBLE) == S.DOUBLE
    assert S.widen(S.DOUBLE, S.BIGINT) == S.DOUBLE
    assert S.widen(S.DOUBLE, S.VARCHAR) == S.VARCHAR
    assert S.widen(S.VARCHAR, S.BIGINT) == S.VARCHAR
    assert S.widen(S.DATE, S.TIMESTAMPTZ) == S.TIMESTAMPTZ
    assert S.widen(S.BOOLEAN, S.BIGINT) == S.VARCHAR
    assert S.widen(S.JSON, S.VARCHAR) == S.VARCHAR
    assert S.infer_type([None, 1, 2.5]) == S.DOUBLE
    assert S.infer_type([None, None]) == S.VARCHAR


def test_to_arrow_falls_back_to_text_for_the_engine_to_cast() -> None:
    assert S.to_arrow([1, None, 3], S.BIGINT).type == pa.int64()
    mixed = S.to_arrow([1, "2", None], S.BIGINT)
    assert mixed.type == pa.string()
    assert mixed.to_pylist() == ["1", "2", None]
    assert S.to_arrow([{"a": 1}, None, [1]], S.JSON).to_pylist() == ['{"a":1}', None, "[1]"]
    assert S.to_arrow([True, {"x": 1}], S.VARCHAR).to_pylist() == ["true", '{"x":1}']
