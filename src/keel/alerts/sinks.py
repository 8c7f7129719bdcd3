"""Sinks: where an outbox row is delivered. Slack incoming webhook, PagerDuty Events API
v2, and a console/file sink (JSON lines) for local use.

Invariants:
- a sink turns one delivery attempt into an :class:`Outcome` and never raises for
  the peer's behaviour: 2xx is delivered; 429 (with ``Retry-After`` seconds), 408,
  5xx, timeouts and connection errors are retried; any other 4xx fails for good;
- the secret (the webhook URL, the routing key) lives only in the sink object: it is
  added to the request when it is sent, never stored, logged, put in ``repr`` or in an
  error message (errors pass through :func:`~keel.alerts.model.redact`);
- HTTP calls have timeouts (connect, read, write, pool);
- httpx logs every request URL at INFO, and a Slack webhook URL is a secret: a filter
  on the ``httpx`` logger (installed once, by the first HTTP sink) cuts every URL in
  its records down to the host.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import os
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import httpx

from keel.alerts.model import redact
from keel.alerts.outbox import OutboxRow

OutcomeKind = Literal["delivered", "retry", "failed"]
DEFAULT_TIMEOUT = 10.0
MAX_RETRY_AFTER = 3600.0


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    error: str | None = None
    retry_after: float | None = None  # seconds the peer asked us to wait (429)
    status: int | None = None

    @property
    def ok(self) -> bool:
        return self.kind == "delivered"


class Sink(Protocol):
    name: str

    def send(self, row: OutboxRow) -> Outcome: ...

    def close(self) -> None: ...


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """``Retry-After`` as seconds (a number of seconds or an HTTP date), capped at an hour."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        seconds = (when - (now or dt.datetime.now(dt.UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def secret_parts(secret: str) -> list[str]:
    """The secret and, for a URL, its path, query and long path segments (a peer may
    echo the path alone), longest first."""
    parts = {secret}
    url = urllib.parse.urlsplit(secret)
    if url.scheme and url.netloc:
        if url.path not in ("", "/"):
            parts.add(url.path)
            parts.update(seg for seg in url.path.split("/") if len(seg) >= 8)
        if url.query:
            parts.add(url.query)
    return sorted((p for p in parts if p), key=len, reverse=True)


class RedactUrls(logging.Filter):
    """Rewrite a log record's arguments so that no URL path or query survives."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact(str(v)) if isinstance(v, httpx.URL | str) else v for v in record.args
            )
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install_log_redaction() -> None:
    """Add :class:`RedactUrls` to the ``httpx`` logger (once)."""
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, RedactUrls) for f in logger.filters):
        logger.addFilter(RedactUrls())


def make_client(timeout: float = DEFAULT_TIMEOUT) -> httpx.Client:
    install_log_redaction()
    return httpx.Client(
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        headers={"User-Agent": "keel-alerts"},
    )


class HttpSink:
    """POST a JSON body; classify the answer. Subclasses say where and with what body."""

    name = "http"

    def __init__(self, secret: str, client: httpx.Client | None = None, timeout: float = 10.0):
        install_log_redaction()
        self._secret = secret
        self._own_client = client is None
        self._client = client or make_client(timeout)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(secret=***)"

    def _url(self) -> str:
        raise NotImplementedError

    def _body(self, row: OutboxRow) -> dict[str, Any]:
        return row.payload

    def redact(self, text: str) -> str:
        return redact(text, secret_parts(self._secret))

    def send(self, row: OutboxRow) -> Outcome:
        try:
            response = self._client.post(self._url(), json=self._body(row))
        except httpx.TimeoutException as exc:
            return Outcome("retry", self.redact(f"timeout ({type(exc).__name__})"))
        except httpx.HTTPError as exc:  # connection refused, reset, protocol errors
            return Outcome("retry", self.redact(f"{type(exc).__name__}: {exc}"))
        return self.classify(response)

    def classify(self, response: httpx.Response) -> Outcome:
        code = response.status_code
        if 200 <= code < 300:
            return Outcome("delivered", status=code)
        error = self.redact(f"HTTP {code}: {response.text[:300].strip()}")
        if code == 429:
            wait = parse_retry_after(response.headers.get("retry-after"))
            return Outcome("retry", error, retry_after=wait, status=code)
        if code >= 500 or code == 408:
            return Outcome("retry", error, status=code)
        return Outcome("failed", error, status=code)

    def close(self) -> None:
        if self._own_client:
            self._client.close()


class SlackSink(HttpSink):
    """Slack incoming webhook: POST ``{"text", "blocks"}``; 200 with body ``ok``."""

    name = "slack"

    def __init__(self, webhook_url: str, client: httpx.Client | None = None, timeout: float = 10.0):
        super().__init__(webhook_url, client, timeout)

    def _url(self) -> str:
        return self._secret


class PagerDutySink(HttpSink):
    """PagerDuty Events API v2: POST the event with ``routing_key`` added; 202 accepted."""

    name = "pagerduty"

    def __init__(
        self,
        routing_key: str,
        events_url: str = "https://events.pagerduty.com/v2/enqueue",
        client: httpx.Client | None = None,
        timeout: float = 10.0,
    ):
        super().__init__(routing_key, client, timeout)
        self.events_url = events_url

    def _url(self) -> str:
        return self.events_url

    def _body(self, row: OutboxRow) -> dict[str, Any]:
        return {**row.payload, "routing_key": self._secret}


class ConsoleSink:
    """Append one JSON line per alert to a file (``.keel/alerts.log`` by default)."""

    name = "console"

    def __init__(self, path: Path):
        self.path = path

    def __repr__(self) -> str:
        return f"ConsoleSink({str(self.path)!r})"

    def send(self, row: OutboxRow) -> Outcome:
        line = json.dumps(
            {
                "alert_id": row.alert_id,
                "dedup_key": row.dedup_key,
                "action": row.action,
                "created_at": row.created_at.isoformat(),
                **row.payload,
            },
            sort_keys=True,
            default=str,
            ensure_ascii=False,
        )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            return Outcome("retry", f"cannot write {self.path}: {exc.strerror or exc}")
        return Outcome("delivered")

    def close(self) -> None:
        pass
