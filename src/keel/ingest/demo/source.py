"""The demo connector's four commands, as Airbyte message dicts.

Catalogs derive from :data:`keel.project.sophia.STREAMS`, so demo data always
fits the contracts ``keel init`` writes. Every stream has the source-defined
primary key ``[["id"]]`` and cursor ``["updated_at"]`` and supports
``full_refresh`` and ``incremental``.

A read emits, per selected stream (parents before children), the next
``records_per_sync`` positions of its sequence after the state's cursor
(:mod:`keel.ingest.demo.data`), a STREAM state every ``state_every`` records
and one at the end, with the faults of the config applied
(:mod:`keel.ingest.demo.faults`). The same config and state give the same
bytes, apart from ``emitted_at``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from keel.ingest.demo.data import SourceData, position_of, timestamp
from keel.ingest.demo.faults import FAULT_KINDS, Fault, FaultPlan, resolve_faults, schema_changes
from keel.project.sophia import STREAMS

SOURCES = tuple(STREAMS)
DEFAULT_SEED = 42
DEFAULT_RECORDS_PER_SYNC = 100
DEFAULT_STATE_EVERY = 1000
Message = dict[str, Any]

_JSON_TYPES: dict[str, dict[str, Any]] = {
    "varchar": {"type": ["null", "string"]},
    "bigint": {"type": ["null", "integer"]},
    "double": {"type": ["null", "number"]},
    "boolean": {"type": ["null", "boolean"]},
    "timestamp": {
        "type": ["null", "string"], "format": "date-time", "airbyte_type": "timestamp_with_timezone",
    },
    "date": {"type": ["null", "string"], "format": "date"},
}  # fmt: skip

SPEC: dict[str, Any] = {
    "documentationUrl": "https://docs.airbyte.com/understanding-airbyte/airbyte-protocol",
    "connectionSpecification": {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "keel demo source",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "seed": {"type": "integer", "default": DEFAULT_SEED},
            "records_per_sync": {
                "description": "Records per stream per read: a number, or {stream: number}.",
                "oneOf": [
                    {"type": "integer", "minimum": 0},
                    {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
                ],
                "default": DEFAULT_RECORDS_PER_SYNC,
            },
            "state_every": {"type": "integer", "minimum": 1, "default": DEFAULT_STATE_EVERY},
            "primary_key": {
                "type": "boolean", "default": True,
                "description": "false: streams have no primary key (plain append).",
            },
            "faults": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["kind", "stream"],
                    "properties": {
                        "kind": {"enum": list(FAULT_KINDS)},
                        "stream": {"type": "string"},
                        "column": {"type": "string"},
                        "count": {"type": "integer", "minimum": 1},
                    },
                },
            },
            "fail_after": {
                "type": "integer", "minimum": 0,
                "description": "Fail the read (TRACE error, exit 1) after this many records.",
            },
            "api_token": {
                "type": "string", "airbyte_secret": True,
                "description": "Ignored: shows that secrets stay out of logs and errors.",
            },
        },
    },
    "supportsIncremental": True,
    "supported_destination_sync_modes": ["append", "append_dedup"],
}  # fmt: skip


class DemoConfigError(ValueError):
    """The config is invalid; ``problems`` lists everything wrong with it."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class DemoFailure(RuntimeError):
    """The ``fail_after`` switch fired."""


@dataclass(frozen=True)
class DemoConfig:
    source: str
    seed: int = DEFAULT_SEED
    records_per_sync: int = DEFAULT_RECORDS_PER_SYNC
    per_stream: Mapping[str, int] = field(default_factory=dict)
    state_every: int = DEFAULT_STATE_EVERY
    faults: tuple[Fault, ...] = ()
    primary_key: bool = True
    fail_after: int | None = None

    def records_for(self, stream: str) -> int:
        return self.per_stream.get(stream, self.records_per_sync)


def _int(raw: Mapping[str, Any], key: str, default: int, low: int, problems: list[str]) -> int:
    value = raw.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        problems.append(f"{key} must be an integer >= {low}")
        return default
    return value


def parse_config(source: str, raw: object) -> DemoConfig:
    """Validate a demo config; all problems are reported together."""
    if source not in STREAMS:
        raise DemoConfigError([f"unknown demo source {source!r} (one of {', '.join(SOURCES)})"])
    if not isinstance(raw, Mapping):
        raise DemoConfigError(["the config must be a JSON object"])
    problems: list[str] = []
    allowed = set(SPEC["connectionSpecification"]["properties"])
    problems += [f"unknown setting {k!r}" for k in raw if k not in allowed]
    seed = _int(raw, "seed", DEFAULT_SEED, -(2**62), problems)
    state_every = _int(raw, "state_every", DEFAULT_STATE_EVERY, 1, problems)
    per_stream: dict[str, int] = {}
    records = DEFAULT_RECORDS_PER_SYNC
    rps = raw.get("records_per_sync", DEFAULT_RECORDS_PER_SYNC)
    if isinstance(rps, Mapping):
        for stream, n in rps.items():
            if stream not in STREAMS[source]:
                problems.append(f"records_per_sync: {source} has no stream {stream!r}")
            elif not isinstance(n, int) or isinstance(n, bool) or n < 0:
                problems.append(f"records_per_sync.{stream} must be an integer >= 0")
            else:
                per_stream[stream] = n
    else:
        records = _int(raw, "records_per_sync", DEFAULT_RECORDS_PER_SYNC, 0, problems)
    primary_key = raw.get("primary_key", True)
    if not isinstance(primary_key, bool):
        problems.append("primary_key must be true or false")
    fail_after = raw.get("fail_after")
    if fail_after is not None:
        fail_after = _int(raw, "fail_after", 0, 0, problems)
    faults, fault_problems = resolve_faults(source, raw.get("faults"))
    problems += fault_problems
    if problems:
        raise DemoConfigError(problems)
    return DemoConfig(
        source, seed, records, per_stream, state_every, tuple(faults), bool(primary_key), fail_after
    )


def json_schema(source: str, stream: str, faults: tuple[Fault, ...] = ()) -> dict[str, Any]:
    """The stream's JSON schema: every column nullable, typed from its ``data_type``."""
    added, removed = schema_changes(list(faults), stream)
    props = {
        c["name"]: dict(_JSON_TYPES[c["data_type"]])
        for c in STREAMS[source][stream]["columns"]
        if c["name"] not in removed
    }
    for name in added:
        props[name] = {"type": ["null", "string"]}
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "additionalProperties": True,
        "properties": props,
    }


def catalog(config: DemoConfig) -> Message:
    """The CATALOG message of ``discover``."""
    streams = []
    for name in STREAMS[config.source]:
        stream: dict[str, Any] = {
            "name": name,
            "json_schema": json_schema(config.source, name, config.faults),
            "supported_sync_modes": ["full_refresh", "incremental"],
            "source_defined_cursor": True,
            "default_cursor_field": ["updated_at"],
            "is_resumable": True,
        }
        if config.primary_key:
            stream["source_defined_primary_key"] = [["id"]]
        streams.append(stream)
    return {"type": "CATALOG", "catalog": {"streams": streams}}


def check(source: str, raw: object) -> Message:
    try:
        parse_config(source, raw)
    except DemoConfigError as exc:
        status = {"status": "FAILED", "message": f"invalid config: {exc}"}
    else:
        status = {"status": "SUCCEEDED"}
    return {"type": "CONNECTION_STATUS", "connectionStatus": status}


def stream_cursors(state: object) -> dict[str, str]:
    """``updated_at`` per stream from a ``--state`` file (per-stream or legacy)."""
    cursors: dict[str, str] = {}
    if isinstance(state, list):
        for msg in state:
            stream = msg.get("stream") if isinstance(msg, dict) else None
            if isinstance(stream, dict):
                name = (stream.get("stream_descriptor") or {}).get("name")
                blob = stream.get("stream_state") or {}
                if name and isinstance(blob, dict) and isinstance(blob.get("updated_at"), str):
                    cursors[name] = blob["updated_at"]
    elif isinstance(state, dict):
        for name, blob in state.items():
            if isinstance(blob, dict) and isinstance(blob.get("updated_at"), str):
                cursors[name] = blob["updated_at"]
    return cursors


def _state(stream: str, cursor: str | None) -> Message:
    blob = {"updated_at": cursor} if cursor is not None else {}
    return {
        "type": "STATE",
        "state": {
            "type": "STREAM",
            "stream": {"stream_descriptor": {"name": stream}, "stream_state": blob},
        },
    }


def read(config: DemoConfig, configured: Mapping[str, Any], state: object) -> Iterator[Message]:
    """The messages of ``read``: records, states and a few logs, in order."""
    selected = {s["stream"]["name"]: s for s in configured.get("streams", [])}
    unknown = [n for n in selected if n not in STREAMS[config.source]]
    if unknown:
        raise DemoConfigError([f"the catalog selects unknown stream(s): {', '.join(unknown)}"])
    data = SourceData(config.source, config.seed)
    cursors = stream_cursors(state)
    emitted_at = int(time.time() * 1000)
    sent = 0
    for name in STREAMS[config.source]:
        if name not in selected:
            continue
        incremental = selected[name].get("sync_mode") == "incremental"
        cursor = cursors.get(name) if incremental else None
        start = position_of(cursor) + 1 if cursor else 0
        n = config.records_for(name)
        yield _log(f"reading {config.source}.{name}: {n} records from position {start}")
        plan = FaultPlan(data, name, list(config.faults), n)
        for offset in range(n):
            if config.fail_after is not None and sent >= config.fail_after:
                raise DemoFailure(f"{name}: the demo source failed on purpose after {sent} records")
            position = start + offset
            record = data.record(name, position)
            for rec in plan.apply(offset, position, record) if plan else (record,):
                yield {
                    "type": "RECORD",
                    "record": {"stream": name, "data": rec, "emitted_at": emitted_at},
                }
            sent += 1
            if (offset + 1) % config.state_every == 0 or offset == n - 1:
                yield _state(name, timestamp(position))
        if n == 0:
            yield _state(name, cursor)


def _log(message: str) -> Message:
    return {"type": "LOG", "log": {"level": "INFO", "message": message}}


def clean_records(source: str, stream: str, seed: int, start: int, stop: int) -> list[Message]:
    """Positions ``start`` to ``stop - 1`` of a stream's sequence, without faults."""
    data = SourceData(source, seed)
    return [data.record(stream, i) for i in range(start, stop)]


def latest_versions(records: list[Message], key: str = "id") -> dict[Any, Message]:
    """What Append + Deduped keeps of ``records`` (in emission order): the newest
    ``updated_at`` per key, the later arrival on a tie, a NULL cursor losing to any."""
    kept: dict[Any, Message] = {}
    for rec in records:
        old = kept.get(rec.get(key))
        new_cursor, old_cursor = rec.get("updated_at"), old.get("updated_at") if old else None
        if (
            old is None
            or old_cursor is None
            or (new_cursor is not None and new_cursor >= old_cursor)
        ):
            kept[rec.get(key)] = rec
    return kept
