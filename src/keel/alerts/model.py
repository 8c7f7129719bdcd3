"""Alert values: what an alert is, the gate result it is built from, and the helpers
every part of the package shares (ids, dedup keys, redaction).

Invariants:
- an :class:`Alert` carries no secret: the sink is named, its URL or routing key is
  looked up from the project's ``alerts`` block when the alert is sent;
- the same event always yields the same idempotency ``key`` and so the same
  ``alert_id`` (a hash of the key): enqueueing it twice stores one row;
- a dedup key is at most 255 characters (PagerDuty's limit); a longer one keeps a
  readable prefix and ends with a hash of the whole, so two keys never collide;
- gate input is plain data (DESIGN section 9's JSON); unknown fields are ignored.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

SinkName = Literal["slack", "pagerduty", "console"]
Action = Literal["trigger", "resolve", "post"]
SINKS: tuple[SinkName, ...] = ("slack", "pagerduty", "console")

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
MAX_DEDUP_KEY = 255


@dataclass(frozen=True)
class Alert:
    """One message for one sink. ``payload`` is the body without secrets."""

    sink: SinkName
    dedup_key: str
    action: Action
    payload: Mapping[str, Any]
    key: str  # idempotency key: the same event gives the same key

    @property
    def alert_id(self) -> str:
        return alert_id(self.key)


def alert_id(key: str) -> str:
    """The outbox primary key of the event whose idempotency key is ``key``."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def dedup_key(*parts: str) -> str:
    """``a/b/c`` from its parts, capped at 255 characters without losing uniqueness."""
    key = "/".join(parts)
    if len(key) <= MAX_DEDUP_KEY:
        return key
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    return key[: MAX_DEDUP_KEY - len(digest) - 1] + "~" + digest


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>|]+")
_HOST = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)(?:[^@/]*@)?([^/?#]*)")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every secret replaced by ``***`` and every URL cut to its host.

    Webhook URLs carry their secret in the path, so no URL survives whole."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")

    def cut(match: re.Match[str]) -> str:
        head = _HOST.match(match.group(0))
        return f"{head.group(1)}{head.group(2)}/***" if head else "***"

    return _URL.sub(cut, text)


# ---- the gate result, as DESIGN section 9 prints it ---------------------------------------


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    status: str  # pass | warn | fail
    severity: str = "error"  # error | warn
    column: str | None = None
    failing_rows: int = 0
    failing_values: int | None = None
    id: str | None = None  # "not_null.EMAIL": stable across runs

    @property
    def key(self) -> str:
        """The check's part of a dedup key: its id, else name and column."""
        if self.id:
            return self.id
        return f"{self.name}.{self.column}" if self.column else self.name

    @property
    def failing(self) -> bool:
        return self.status != "pass"

    @property
    def pages(self) -> bool:
        """A failing error-severity check: the one kind that opens a PagerDuty alert."""
        return self.status == "fail" and self.severity == "error"

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CheckOutcome:
        values = d.get("failing_values")
        return cls(
            name=str(d.get("name") or "check"),
            status=str(d.get("status") or "pass"),
            severity=str(d.get("severity") or "error"),
            column=str(d["column"]) if d.get("column") else None,
            failing_rows=int(d.get("failing_rows") or 0),
            failing_values=int(values) if values is not None else None,
            id=str(d["id"]) if d.get("id") else None,
        )


@dataclass(frozen=True)
class StreamOutcome:
    stream: str
    status: str  # passed | warned | blocked | promoted | empty
    batch_id: str | None = None
    rows: int = 0
    checks: tuple[CheckOutcome, ...] = ()
    reason: str | None = None
    # check id -> sample rows, already masked by the gate (high and sensitive columns)
    samples: Mapping[str, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)

    @property
    def judged(self) -> bool:
        """The gate tested a batch (an empty stream says nothing about its checks)."""
        return self.status != "empty" and self.batch_id is not None

    @property
    def blocked(self) -> bool:
        return self.status == "blocked"

    @property
    def failing(self) -> tuple[CheckOutcome, ...]:
        return tuple(c for c in self.checks if c.failing)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> StreamOutcome:
        batch = d.get("batch") or {}
        raw_samples = d.get("samples") or {}
        samples = {
            str(k): tuple(r for r in v if isinstance(r, Mapping))
            for k, v in raw_samples.items()
            if isinstance(v, list | tuple)
        }
        return cls(
            stream=str(d["stream"]),
            status=str(d.get("status") or "empty"),
            batch_id=str(batch["id"]) if batch.get("id") else None,
            rows=int(batch.get("rows") or 0),
            checks=tuple(CheckOutcome.from_dict(c) for c in d.get("checks") or ()),
            reason=str(d["reason"]) if d.get("reason") else None,
            samples=samples,
        )


@dataclass(frozen=True)
class TransformOutcome:
    kind: str
    status: str  # succeeded | failed
    exit_code: int | None = None
    run_id: str | None = None
    output: str = ""

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TransformOutcome:
        code = d.get("exit_code")
        return cls(
            kind=str(d.get("kind") or "transform"),
            status=str(d.get("status") or "succeeded"),
            exit_code=int(code) if code is not None else None,
            run_id=str(d["run_id"]) if d.get("run_id") else None,
            output=str(d.get("output") or ""),
        )


@dataclass(frozen=True)
class GateOutcome:
    """``keel gate --json`` / ``keel promote --json`` / ``keel run --json``, parsed."""

    source: str
    streams: tuple[StreamOutcome, ...] = ()
    transform: TransformOutcome | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> GateOutcome:
        transform = d.get("transform")
        return cls(
            source=str(d["source"]),
            streams=tuple(StreamOutcome.from_dict(s) for s in d.get("streams") or ()),
            transform=TransformOutcome.from_dict(transform)
            if isinstance(transform, Mapping)
            else None,
        )


@dataclass(frozen=True)
class SyncFailure:
    """An Airbyte sync that failed (from the webhook or the jobs poller)."""

    job_id: str
    connection_id: str | None
    connection_name: str | None
    error: str | None
    source: str | None = None  # the keel source the connection belongs to, when known

    @property
    def connection(self) -> str:
        return self.connection_name or self.connection_id or "unknown connection"
