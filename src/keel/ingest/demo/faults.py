"""Fault switches for the demo sources: bad data on purpose, deterministically.

A sync's config may carry ``faults: [{kind, stream, column?, count?}]``; they
apply to the records that sync emits (``count`` records, default 3, spread
evenly over the sync; the same config and state always hit the same records):

``null``
    ``column`` (default: the first ``not_null``-tested column other than id
    and cursor) is null.
``duplicate_pk``
    each hit record is followed by a *different* record (another entity's
    content) with the same ``id`` and the same ``updated_at``: two source rows
    claiming one key. Append + Deduped keeps exactly one row per key, the one
    that arrived last (same cursor, same extraction), so the RAW table shows
    the twin and never two rows; the fault proves the writer's dedup and the
    lost original is the kind of silent loss a contract cannot see. Against
    a stream without a primary key both rows land, and ``unique`` fails.
``bad_value``
    ``column`` (default: the first ``accepted_values`` column) holds a value
    outside the accepted set: a case variant (``Customer``), the commonest
    real-world failure of that test.
``orphan_fk``
    ``column`` (default: the first ``relationships`` column) points at a
    parent id that no parent sequence ever creates.
``late``
    ``updated_at`` is set 30 days back: a row arriving late. A late *update*
    loses against the newer version already stored; a late *new* row lands.
    The stream's state still advances to the sync's last position.
``new_column``
    every record, and the discovered schema, get an extra string property
    ``column`` (default ``notes``).
``removed_column``
    ``column`` (default: the last column that is not the key, cursor or a
    reference) is dropped from every record and from the discovered schema.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from keel.errors import IngestError
from keel.ingest.demo.data import DAY, ORPHAN_BASE, SourceData, timestamp
from keel.project.sophia import STREAMS

FAULT_KINDS = (
    "null", "duplicate_pk", "bad_value", "orphan_fk", "late", "new_column", "removed_column",
)  # fmt: skip
DEFAULT_COUNT = 3
DEFAULT_NEW_COLUMN = "notes"
LATE_BY = 30 * DAY
_KEYS = ("id", "updated_at")


@dataclass(frozen=True)
class Fault:
    """One resolved fault: ``column`` filled in where the kind has a default."""

    kind: str
    stream: str
    column: str | None = None
    count: int = DEFAULT_COUNT

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "stream": self.stream,
            "column": self.column,
            "count": self.count,
        }


def _tests(column: Mapping[str, Any]) -> list[Any]:
    return list(column.get("data_tests") or column.get("tests") or [])


def _has_test(column: Mapping[str, Any], name: str) -> bool:
    return any(t == name or (isinstance(t, dict) and name in t) for t in _tests(column))


def accepted_values(column: Mapping[str, Any]) -> list[str] | None:
    for t in _tests(column):
        if isinstance(t, dict) and "accepted_values" in t:
            return list(t["accepted_values"]["arguments"]["values"])
    return None


def parent_of(column: Mapping[str, Any]) -> str | None:
    """The parent stream a ``relationships`` test points at (``source('x', 'parent')``)."""
    for t in _tests(column):
        if isinstance(t, dict) and "relationships" in t:
            target = str(t["relationships"]["arguments"]["to"])
            return target.rsplit(",", 1)[-1].strip(" ')\"")
    return None


def _default_column(kind: str, columns: list[dict[str, Any]]) -> str | None:
    names: list[str] = [str(c["name"]) for c in columns]
    if kind == "null":
        tested = [str(c["name"]) for c in columns if _has_test(c, "not_null")]
        candidates = [n for n in tested if n not in _KEYS] or [n for n in names if n not in _KEYS]
        return candidates[0] if candidates else None
    if kind == "bad_value":
        return next((str(c["name"]) for c in columns if accepted_values(c)), None)
    if kind == "orphan_fk":
        return next((str(c["name"]) for c in columns if parent_of(c)), None)
    if kind == "new_column":
        return DEFAULT_NEW_COLUMN
    if kind == "removed_column":
        plain = [c["name"] for c in columns if c["name"] not in _KEYS and not parent_of(c)]
        return plain[-1] if plain else None
    return None  # duplicate_pk and late work on the key and the cursor


def resolve_faults(source: str, raw: object) -> tuple[list[Fault], list[str]]:
    """Validate ``faults`` from a config; returns the faults and every problem found."""
    if raw is None:
        return [], []
    if not isinstance(raw, list):
        return [], ["faults must be a list of {kind, stream, column?, count?}"]
    faults: list[Fault] = []
    problems: list[str] = []
    for n, item in enumerate(raw, 1):
        where = f"faults[{n}]"
        if not isinstance(item, Mapping):
            problems.append(f"{where} must be an object with kind and stream")
            continue
        kind, stream = item.get("kind"), item.get("stream")
        if kind not in FAULT_KINDS:
            problems.append(f"{where}: kind {kind!r} is not one of {', '.join(FAULT_KINDS)}")
            continue
        if stream not in STREAMS[source]:
            offered = ", ".join(STREAMS[source])
            problems.append(f"{where}: {source} has no stream {stream!r} (it has {offered})")
            continue
        count = item.get("count", DEFAULT_COUNT)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            problems.append(f"{where}: count must be a positive integer")
            continue
        columns = STREAMS[source][stream]["columns"]
        names = [c["name"] for c in columns]
        column = item.get("column") or _default_column(kind, columns)
        problem = _column_problem(kind, stream, column, names, columns)
        if problem:
            problems.append(f"{where}: {problem}")
            continue
        faults.append(Fault(kind, stream, column, count))
    return faults, problems


def _column_problem(
    kind: str, stream: str, column: str | None, names: list[str], columns: list[dict[str, Any]]
) -> str | None:
    if kind in ("duplicate_pk", "late"):
        return None
    if column is None:
        need = {"bad_value": "accepted_values", "orphan_fk": "relationships"}.get(kind, "suitable")
        return f"stream {stream!r} has no {need} column for {kind}; name one with column"
    if kind == "new_column":
        return f"column {column!r} already exists in {stream!r}" if column in names else None
    if column not in names:
        return f"stream {stream!r} has no column {column!r}"
    if kind == "removed_column" and column in _KEYS:
        return f"{column!r} is the key or the cursor and cannot be removed"
    spec = next(c for c in columns if c["name"] == column)
    if kind == "bad_value" and not accepted_values(spec):
        return f"column {column!r} has no accepted_values to break"
    if kind == "orphan_fk" and not parent_of(spec):
        return f"column {column!r} has no relationships test to break"
    return None


class FaultPlan:
    """The faults of one stream in one sync of ``n`` records."""

    def __init__(self, data: SourceData, stream: str, faults: list[Fault], n: int) -> None:
        self.data = data
        self.stream = stream
        self.columns = {c["name"]: c for c in STREAMS[data.source][stream]["columns"]}
        self.faults = [f for f in faults if f.stream == stream]
        self.every = [f for f in self.faults if f.kind in ("new_column", "removed_column")]
        self.hits: dict[int, list[Fault]] = {}
        for fault in self.faults:
            if fault in self.every:
                continue
            count = min(fault.count, n)
            for j in range(count):
                offset = (2 * j + 1) * n // (2 * count)
                self.hits.setdefault(offset, []).append(fault)

    def __bool__(self) -> bool:
        return bool(self.faults)

    def apply(self, offset: int, position: int, record: dict[str, Any]) -> list[dict[str, Any]]:
        """The records to emit for the sync's ``offset``-th record (one, or two for a twin)."""
        out = [record]
        for fault in self.hits.get(offset, ()):
            if fault.kind == "duplicate_pk":
                twin = self.data.record(self.stream, position, entity=ORPHAN_BASE + position)
                twin["id"], twin["updated_at"] = record["id"], record["updated_at"]
                out.append(twin)
            elif fault.kind == "late":
                record["updated_at"] = timestamp(position - LATE_BY)
            else:
                assert fault.column is not None
                record[fault.column] = self._bad(fault, position, record[fault.column])
        for fault in self.every:
            assert fault.column is not None
            for rec in out:
                if fault.kind == "new_column":
                    rec[fault.column] = f"{fault.column} {position}"
                else:
                    rec.pop(fault.column, None)
        return out

    def _bad(self, fault: Fault, position: int, value: Any) -> Any:
        if fault.kind == "null":
            return None
        spec = self.columns[fault.column or ""]
        if fault.kind == "orphan_fk":
            parent = parent_of(spec)
            assert parent is not None
            return self.data.id_of(parent, ORPHAN_BASE + position)
        allowed = set(accepted_values(spec) or [])
        text = str(value)
        for candidate in (text.capitalize(), text.upper(), text.lower(), f"{text}_legacy"):
            if candidate not in allowed:
                return candidate
        return f"{text}_legacy"


def schema_changes(faults: list[Fault], stream: str) -> tuple[list[str], list[str]]:
    """Columns a stream's discovered schema gains and loses under ``faults``."""
    added = [f.column for f in faults if f.stream == stream and f.kind == "new_column" and f.column]
    removed = [
        f.column for f in faults if f.stream == stream and f.kind == "removed_column" and f.column
    ]
    return added, removed


def parse_fault_option(text: str, sources: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """``KIND:[SOURCE.]STREAM[.COLUMN][:COUNT]`` (the CLI's ``--fault``) -> (source, fault).

    ``null:hubspot.contacts.email:5``, ``late:channels``, ``new_column:users.timezone``.
    Without SOURCE the stream must belong to exactly one of ``sources``.
    """
    kind, _, rest = text.partition(":")
    target, _, count_text = rest.partition(":")
    if kind not in FAULT_KINDS or not target:
        raise IngestError(
            f"--fault {text!r}: expected KIND:[SOURCE.]STREAM[.COLUMN][:COUNT] "
            f"with KIND one of {', '.join(FAULT_KINDS)}"
        )
    parts = target.split(".")
    if parts[0] in STREAMS and len(parts) > 1:
        owners, parts = [parts[0]], parts[1:]
    else:
        owners = [s for s in sources if s in STREAMS and parts[0] in STREAMS[s]]
    if len(owners) != 1 or parts[0] not in STREAMS[owners[0]] or len(parts) > 2:
        where = "several sources" if len(owners) > 1 else "no demo source"
        raise IngestError(f"--fault {text!r}: stream {parts[0]!r} is in {where}; use SOURCE.STREAM")
    fault: dict[str, Any] = {"kind": kind, "stream": parts[0]}
    if len(parts) == 2:
        fault["column"] = parts[1]
    if count_text:
        if not count_text.isdigit() or int(count_text) < 1:
            raise IngestError(f"--fault {text!r}: COUNT must be a positive whole number")
        fault["count"] = int(count_text)
    return owners[0], fault
