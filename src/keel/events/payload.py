"""Airbyte's notification webhook body, parsed; nothing it sends is dropped unseen.

Airbyte POSTs ``{"text", "blocks", "data"}`` once per notification, with no signature and
no retry (shared/reference/airbyte.md; examples in tests/fixtures/airbyte/). ``data`` comes
only with sync success and failure, and only since Airbyte 0.59; before that, and for every
other notification type, there is only the Slack ``text`` (and ``blocks``). The types
(Airbyte's "Manage notifications" page): failed syncs, successful syncs, automated
connection updates, connection updates requiring action (a breaking schema change),
warning - repeated failures, sync disabled - repeated failures, and a "test" message.

Kinds keel records:
- ``sync_succeeded`` / ``sync_failed``: an outcome (from ``data``, or from the text:
  "... succeeded" / "... failed", the job id from "Job ID: N" or a ``/jobs/N`` link, the
  connection id from a ``/connections/<id>`` link, its name from the text or the blocks);
- ``connection_disabled``, ``disable_warning``, ``schema_change``: recorded and alerted;
- ``connection_update``, ``sync_started`` (started / queued / running: never an outcome)
  and ``notice`` (a text keel cannot read): recorded and shown, nothing run;
- ``ping``: Airbyte's test message, acknowledged.
A body that is not a JSON object, or whose ``data`` is malformed, is rejected (HTTP 400).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from keel.errors import WebhookError

OUTCOMES = frozenset({"sync_succeeded", "sync_failed"})
ALERT_KINDS = frozenset({"sync_failed", "connection_disabled", "disable_warning", "schema_change"})
RECORD_ONLY = frozenset({"sync_started", "connection_update", "notice"})


class _Ref(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str | None = None
    name: str | None = None


class _Data(BaseModel):
    model_config = ConfigDict(extra="allow")
    jobId: int | str
    connection: _Ref
    success: bool
    workspace: _Ref | None = None
    source: _Ref | None = None
    errorMessage: str | None = None
    errorType: str | None = None
    recordsCommitted: int | None = None
    finishedAt: str | None = None

    @field_validator("jobId")
    @classmethod
    def _job(cls, value: int | str) -> int | str:
        if str(value).strip() == "":
            raise ValueError("jobId is empty")
        return value


class _Body(BaseModel):
    model_config = ConfigDict(extra="allow")
    text: str | None = None
    blocks: list[Any] | None = None
    data: _Data | None = None


@dataclass(frozen=True)
class SyncEvent:
    job_id: str
    connection_id: str | None
    connection_name: str | None
    success: bool
    error: str | None
    records: int | None
    kind: str  # see the module docstring
    key: str | None = None  # the event id of a notification without a job outcome
    source: str | None = None  # set by the poller, which already knows the keel source

    @property
    def event_id(self) -> str:
        if self.key:
            return self.key
        return f"airbyte-job-{self.job_id}"


_JOB = re.compile(r"(?:Job ID|job)[:#\s]+(\d+)|/jobs?/(\d+)", re.IGNORECASE)
# a link to the connection, or the "Connection ID: <uuid>" line of Airbyte's text-only notices
_CONN_LINK = re.compile(r"(?:/connections/|Connection ID:\s*)([0-9a-fA-F-]{6,})")
_CONN_NAME = re.compile(r"Your connection (.+?) from .+? to ", re.IGNORECASE)
_LINK_NAME = re.compile(r"<[^|>]*/connections/[^|>]*\|([^>]+)>")
_KINDS = (  # the first pattern that matches the text decides
    ("ping", re.compile(r"\bthis is a test\b|\btest (?:message|notification)\b", re.I)),
    ("disable_warning", re.compile(r"will be (?:automatically )?disabled", re.I)),
    ("connection_disabled", re.compile(r"\b(?:was|has been|were) (?:automatically )?disabled", re.I)),
    ("connection_update", re.compile(r"schema (?:was |has been )?(?:automatically )?(?:updated|changed)|non-breaking", re.I)),
    ("schema_change", re.compile(r"breaking (?:schema )?change|requires? (?:your )?action", re.I)),
    ("sync_failed", re.compile(r"\bfail(?:ed|ure)\b", re.I)),
    ("sync_succeeded", re.compile(r"\bsucce(?:eded|ss|ssful)\b", re.I)),
    ("sync_started", re.compile(r"\b(?:started|starting|queued|pending|running)\b", re.I)),
)  # fmt: skip


def _texts(raw: dict[str, Any]) -> str:
    """The ``text`` and every text inside ``blocks``, one per line."""
    out = [str(raw.get("text") or "")]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "text" and isinstance(v, str):
                    out.append(v)
                else:
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(raw.get("blocks"))
    return "\n".join(t for t in out if t)


def parse_text(raw: dict[str, Any], body: bytes) -> SyncEvent:
    """A notification without ``data``: kind, job and connection from its text and links."""
    text = _texts(raw)
    kind = next((k for k, pattern in _KINDS if pattern.search(text)), "notice")
    if kind == "ping":
        return SyncEvent("", None, None, True, None, None, "ping")
    job = _JOB.search(text)
    job_id = next((g for g in job.groups() if g), "") if job else ""
    link = _CONN_LINK.search(text)
    name_m = _CONN_NAME.search(text) or _LINK_NAME.search(text)
    name = name_m.group(1).strip() if name_m else None
    digest = hashlib.sha256(body).hexdigest()[:16]
    key = None
    if kind not in OUTCOMES or not job_id:  # only a job outcome shares the webhook's event id
        key = f"airbyte-{kind}-{job_id or digest}"
    return SyncEvent(
        job_id=job_id or kind,
        connection_id=link.group(1) if link else None,
        connection_name=name,
        success=kind != "sync_failed",
        error=text[:2000] if kind in ALERT_KINDS else None,
        records=None,
        kind=kind,
        key=key,
    )


def parse_webhook(body: bytes) -> SyncEvent:
    """Parse and validate a webhook body; WebhookError (HTTP 400) says what is wrong."""
    try:
        raw: Any = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WebhookError(f"body is not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise WebhookError("body is not a JSON object")
    try:
        parsed = _Body.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise WebhookError(f"not an Airbyte notification: {where}: {first['msg']}") from exc
    if parsed.data is None:
        if parsed.text is None and not parsed.blocks:
            raise WebhookError("not an Airbyte notification: no data, no text and no blocks")
        return parse_text(raw, body)
    d = parsed.data
    if not (d.connection.id or d.connection.name):
        raise WebhookError("not an Airbyte notification: data.connection has no id or name")
    return SyncEvent(
        job_id=str(d.jobId),
        connection_id=d.connection.id,
        connection_name=d.connection.name,
        success=d.success,
        error=d.errorMessage,
        records=d.recordsCommitted,
        kind="sync_succeeded" if d.success else "sync_failed",
    )
