"""What a gate (and a promotion) returns: plain values the CLI and the server render.

The JSON shapes are DESIGN section 9's: ``{"source", "streams": [{"stream",
"status", "batch": {"id", "rows"}, "checks": [{"name", "column", "severity",
"status", "failing_rows"}]}]}``, with extra fields (``failing_values``, the
check ``id``, ``message``, samples, quarantined and published row counts) that
never change the meaning of those. Stream statuses: ``passed`` (every error
check passed), ``warned`` (only warnings failed, or rows would be quarantined),
``blocked``, ``promoted``, ``empty`` (no pending rows).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from keel.quality.checks import Check

CheckStatus = Literal["pass", "warn", "fail"]
StreamStatus = Literal["passed", "warned", "blocked", "promoted", "empty"]
BatchStatus = Literal["pending", "passed", "blocked", "promoted", "forced", "quarantined"]


@dataclass(frozen=True)
class CheckResult:
    check: Check
    status: CheckStatus
    failing_rows: int = 0
    failing_values: int | None = None  # dbt's count where dbt counts values
    message: str = ""

    @property
    def blocks(self) -> bool:
        return self.status == "fail" and self.check.blocking

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.check.id,
            "name": self.check.name,
            "column": self.check.column.lower() if self.check.column else None,
            "severity": self.check.severity,
            "status": self.status,
            "failing_rows": self.failing_rows,
            "failing_values": self.failing_values,
            "message": self.message,
        }


@dataclass
class Batch:
    id: str
    rows: int  # RAW rows in the window
    status: BatchStatus
    after: dt.datetime | None  # the watermark (exclusive)
    upto: dt.datetime  # the newest _AIRBYTE_EXTRACTED_AT in the window (inclusive)
    keys: int = 0  # rows after deduplication by key
    live: int = 0  # rows the MERGE inserts or updates
    deleted: int = 0  # keys the MERGE deletes
    stale: int = 0  # rows older than the promoted row of their key (dropped)
    published: int | None = None
    quarantined: int = 0
    forced_by: str | None = None
    reason: str | None = None
    first: dt.datetime | None = None  # the oldest _AIRBYTE_EXTRACTED_AT in the window
    created_at: dt.datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rows": self.rows,
            "status": self.status,
            "watermark": self.after.isoformat() if self.after else None,
            "max_extracted_at": self.upto.isoformat(),
            "keys": self.keys,
            "live_rows": self.live,
            "deleted_rows": self.deleted,
            "stale_rows": self.stale,
            "published_rows": self.published,
            "quarantined_rows": self.quarantined,
            "forced_by": self.forced_by,
            "reason": self.reason,
            "created_at": self.created_at.isoformat() if self.created_at else None,
        }


@dataclass
class StreamReport:
    source: str
    stream: str
    status: StreamStatus
    batch: Batch | None = None
    checks: list[CheckResult] = field(default_factory=list)
    reason: str | None = None  # why blocked (or why nothing happened)
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # check id -> rows
    notes: list[str] = field(default_factory=list)
    masked: dict[str, str] = field(default_factory=dict)  # sample column -> why masked

    @property
    def key(self) -> str:
        return f"{self.source}.{self.stream}"

    @property
    def blocked(self) -> bool:
        return self.status == "blocked"

    @property
    def blocking_checks(self) -> list[CheckResult]:
        return [r for r in self.checks if r.blocks]

    def to_dict(self) -> dict[str, Any]:
        return {
            "stream": self.stream,
            "status": self.status,
            "batch": self.batch.to_dict() if self.batch else {"id": None, "rows": 0},
            "checks": [r.to_dict() for r in self.checks],
            "reason": self.reason,
            "samples": self.samples,
            "masked": self.masked,
            "notes": self.notes,
        }


@dataclass
class TransformResult:
    kind: str  # dbt | command
    command: list[str]
    status: Literal["succeeded", "failed"]
    exit_code: int | None
    output: str  # the tail of stdout and stderr
    seconds: float
    run_id: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "command": self.command,
            "status": self.status,
            "exit_code": self.exit_code,
            "output": self.output,
            "seconds": round(self.seconds, 3),
            "run_id": self.run_id,
        }


@dataclass
class SourceReport:
    source: str
    streams: list[StreamReport] = field(default_factory=list)
    transform: TransformResult | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return any(s.blocked for s in self.streams)

    @property
    def ok(self) -> bool:
        transform_ok = self.transform is None or self.transform.status == "succeeded"
        return not self.blocked and transform_ok

    def stream(self, name: str) -> StreamReport:
        return next(s for s in self.streams if s.stream == name)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "source": self.source,
            "streams": [s.to_dict() for s in self.streams],
        }
        if self.transform is not None:
            out["transform"] = self.transform.to_dict()
        if self.notes:
            out["notes"] = self.notes
        return out
