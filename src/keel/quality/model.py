"""What a gate (and a promotion) returns: plain values the CLI and the server render.

The JSON shapes are DESIGN section 9's: ``{"source", "streams": [{"stream",
"status", "batch": {"id", "rows"}, "checks": [{"name", "column", "severity",
"status", "failing_rows"}]}]}``, with extra fields (``failing_values``, the
check ``id``, ``message``, samples, quarantined and published row counts) that
never change the meaning of those. Stream statuses: ``passed`` (every error
check passed), ``warned`` (only warnings failed, or rows would be quarantined),
``blocked``, ``promoted``, ``empty`` (no pending rows).

These classes are the one gate report: the CLI renders them, ``--json`` prints
``to_dict()``, ``keel serve`` runs and alerts on them, and a command answered by the
local API reads the server's JSON back with ``SourceReport.from_dict`` (the inverse
of ``to_dict``, the only parser of this shape).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from keel.quality.checks import Check, Severity

CheckStatus = Literal["pass", "warn", "fail"]
StreamStatus = Literal["passed", "warned", "blocked", "promoted", "empty"]
BatchStatus = Literal["pending", "passed", "blocked", "promoted", "forced", "quarantined"]
STREAM_STATUSES: tuple[StreamStatus, ...] = ("passed", "warned", "blocked", "promoted", "empty")
BATCH_STATUSES: tuple[BatchStatus, ...] = (
    "pending",
    "passed",
    "blocked",
    "promoted",
    "forced",
    "quarantined",
)


def _one_of(value: Any, allowed: tuple[Any, ...], default: Any) -> Any:
    return value if value in allowed else default


def _when(value: Any) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else None


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check on one batch."""

    check: Check
    status: CheckStatus
    failing_rows: int = 0
    failing_values: int | None = None  # dbt's count where dbt counts values
    message: str = ""

    @property
    def blocks(self) -> bool:
        return self.status == "fail" and self.check.blocking

    @property
    def name(self) -> str:
        return self.check.name

    @property
    def column(self) -> str | None:
        """The column as the JSON shows it (lower case), or None for a table check."""
        return self.check.column.lower() if self.check.column else None

    @property
    def severity(self) -> str:
        return self.check.severity

    @property
    def key(self) -> str:
        """The check's stable id ("not_null.EMAIL"): its part of an alert's dedup key."""
        return self.check.id

    @property
    def failing(self) -> bool:
        return self.status != "pass"

    @property
    def pages(self) -> bool:
        """A failing error-severity check: the one kind that opens a PagerDuty alert."""
        return self.status == "fail" and self.check.severity == "error"

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CheckResult:
        name = str(d.get("name") or "check")
        column = str(d["column"]) if d.get("column") else None
        default_id = f"{name}.{column}" if column else name
        severity: Severity = "warn" if d.get("severity") == "warn" else "error"
        values = d.get("failing_values")
        return cls(
            check=Check(
                id=str(d.get("id") or default_id), name=name, column=column, severity=severity
            ),
            status=_one_of(d.get("status"), ("pass", "warn", "fail"), "pass"),
            failing_rows=int(d.get("failing_rows") or 0),
            failing_values=int(values) if values is not None else None,
            message=str(d.get("message") or ""),
        )

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
    """The rows of one stream the gate judged together, and what became of them."""

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
    # (rows, hash sum of raw ids) the probe saw: the publish recounts them (keel.batch.judged)
    digest: tuple[int, int] | None = None

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

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Batch:
        published = d.get("published_rows")
        return cls(
            id=str(d["id"]),
            rows=int(d.get("rows") or 0),
            status=_one_of(d.get("status"), BATCH_STATUSES, "pending"),
            after=_when(d.get("watermark")),
            upto=_when(d.get("max_extracted_at")) or dt.datetime.min,
            keys=int(d.get("keys") or 0),
            live=int(d.get("live_rows") or 0),
            deleted=int(d.get("deleted_rows") or 0),
            stale=int(d.get("stale_rows") or 0),
            published=int(published) if published is not None else None,
            quarantined=int(d.get("quarantined_rows") or 0),
            forced_by=d.get("forced_by"),
            reason=d.get("reason"),
            created_at=_when(d.get("created_at")),
        )


@dataclass
class StreamReport:
    """The gate's verdict on one stream: its batch, checks and samples."""

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

    @property
    def failing(self) -> list[CheckResult]:
        return [r for r in self.checks if r.failing]

    @property
    def batch_id(self) -> str | None:
        return self.batch.id if self.batch else None

    @property
    def rows(self) -> int:
        return self.batch.rows if self.batch else 0

    @property
    def published_rows(self) -> int:
        return (self.batch.published or 0) if self.batch else 0

    @property
    def judged(self) -> bool:
        """The gate tested a batch (an empty stream says nothing about its checks)."""
        return self.status != "empty" and self.batch_id is not None

    @classmethod
    def from_dict(cls, source: str, d: Mapping[str, Any]) -> StreamReport:
        batch = d.get("batch") or {}
        samples = d.get("samples") or {}
        return cls(
            source=source,
            stream=str(d["stream"]),
            status=_one_of(d.get("status"), STREAM_STATUSES, "empty"),
            batch=Batch.from_dict(batch) if batch.get("id") else None,
            checks=[CheckResult.from_dict(c) for c in d.get("checks") or ()],
            reason=str(d["reason"]) if d.get("reason") else None,
            samples={
                str(k): [dict(r) for r in v if isinstance(r, Mapping)]
                for k, v in samples.items()
                if isinstance(v, list | tuple)
            },
            notes=[str(n) for n in d.get("notes") or ()],
            masked={str(k): str(v) for k, v in (d.get("masked") or {}).items()},
        )

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
    """How a source's transformation ran after publishing."""

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

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TransformResult:
        code = d.get("exit_code")
        return cls(
            kind=str(d.get("kind") or "transform"),
            command=[str(c) for c in d.get("command") or ()],
            status="failed" if d.get("status") == "failed" else "succeeded",
            exit_code=int(code) if code is not None else None,
            output=str(d.get("output") or ""),
            seconds=float(d.get("seconds") or 0.0),
            run_id=str(d.get("run_id") or ""),
        )


@dataclass
class SourceReport:
    """The gate's (or a run's) report on one source: one per stream."""

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

    @property
    def published_rows(self) -> int:
        return sum(s.published_rows for s in self.streams)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SourceReport:
        """The report again from its JSON (``to_dict``): the local API's answer."""
        source = str(d["source"])
        transform = d.get("transform")
        return cls(
            source=source,
            streams=[StreamReport.from_dict(source, s) for s in d.get("streams") or ()],
            transform=TransformResult.from_dict(transform)
            if isinstance(transform, Mapping)
            else None,
            notes=[str(n) for n in d.get("notes") or ()],
        )

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
