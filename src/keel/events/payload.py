"""Airbyte's notification webhook body, validated.

Airbyte POSTs ``{"text", "blocks", "data"}`` once per sync (``data`` only for
success and failure), with no signature and no retry. A body that is not
JSON, or whose ``data`` lacks the job id, connection or outcome, is rejected
(HTTP 400); a body with only ``text`` is Airbyte's "test" notification and is
acknowledged without a run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from keel.errors import WebhookError


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
    data: _Data | None = None


@dataclass(frozen=True)
class SyncEvent:
    job_id: str
    connection_id: str | None
    connection_name: str | None
    success: bool
    error: str | None
    records: int | None
    kind: str  # sync_succeeded | sync_failed | ping

    @property
    def event_id(self) -> str:
        return f"airbyte-job-{self.job_id}"


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
        if parsed.text is None:
            raise WebhookError("not an Airbyte notification: no data and no text")
        return SyncEvent("", None, None, True, None, None, "ping")
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
