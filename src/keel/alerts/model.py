"""Alert values: what an alert is, and the helpers every part of the package shares
(ids, dedup keys, redaction). Alerts are built from the gate's own report
(:class:`keel.quality.model.SourceReport`), never from a copy of it.

Invariants:
- an :class:`Alert` carries no secret: the sink is named, its URL or routing key is
  looked up from the project's ``alerts`` block when the alert is sent;
- the same event always yields the same idempotency ``key`` and so the same
  ``alert_id`` (a hash of the key): enqueueing it twice stores one row;
- a dedup key is at most 255 characters (PagerDuty's limit); a longer one keeps a
  readable prefix and ends with a hash of the whole, so two keys never collide;
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
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
