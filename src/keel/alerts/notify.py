"""What the gate and the event service call: configuration, ``notify`` and the sender.

- :func:`notify` (the event service's ``Notifier``) builds the alerts one event calls
  for and enqueues them; it reads what is open and writes the new rows in one
  transaction, and never touches the network;
- :func:`sender_for` builds the background :class:`~keel.alerts.sender.AlertSender`
  with the project's sinks;
- a sink is enabled when its secret is set (Slack ``webhook_url``, PagerDuty
  ``routing_key``) or, for the console sink, when it has a path. Secrets are read
  from the project when a sink is built, never stored in the outbox.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from keel.adapters.base import Adapter
from keel.alerts import build, outbox
from keel.alerts.model import Alert, SinkName, SyncFailure
from keel.alerts.outbox import utcnow
from keel.alerts.sender import DEFAULT_BACKOFF, AlertMetrics, AlertSender, Backoff
from keel.alerts.sinks import ConsoleSink, PagerDutySink, Sink, SlackSink
from keel.batch.events import EventStore
from keel.errors import KeelError
from keel.project.models import Alerts
from keel.quality.model import SourceReport, TransformResult

if TYPE_CHECKING:
    from keel.context import Context
    from keel.project.loaded import Project

GATE_KINDS = frozenset({"gate", "promote", "run"})
# What an alert is about: the gate's own report for the gate kinds, else a few named fields.
Details = SourceReport | Mapping[str, Any]
KINDS = GATE_KINDS | {"sync_failed", "sync_succeeded", "run_failed", "transform_failed"}


def _secret(value: Any) -> str:
    return value.get_secret_value() if value is not None else ""


def enabled_sinks(alerts: Alerts) -> frozenset[SinkName]:
    out: set[SinkName] = set()
    if _secret(alerts.slack.webhook_url):
        out.add("slack")
    if _secret(alerts.pagerduty.routing_key):
        out.add("pagerduty")
    if alerts.console.path:
        out.add("console")
    return frozenset(out)


def routing_for(project: Project) -> build.Routing:
    return build.Routing(enabled_sinks(project.spec.alerts), project.spec.serve.public_url)


def sinks_for(
    alerts: Alerts, root: Path, *, client: httpx.Client | None = None, timeout: float = 10.0
) -> dict[str, Sink]:
    """The enabled sinks with their secrets. Each HTTP sink owns its client (closed with
    it) unless ``client`` is given (then the caller closes it)."""
    sinks: dict[str, Sink] = {}
    enabled = enabled_sinks(alerts)
    if "slack" in enabled:
        sinks["slack"] = SlackSink(_secret(alerts.slack.webhook_url), client, timeout)
    if "pagerduty" in enabled:
        sinks["pagerduty"] = PagerDutySink(
            _secret(alerts.pagerduty.routing_key), alerts.pagerduty.events_url, client, timeout
        )
    if "console" in enabled and alerts.console.path:
        path = Path(alerts.console.path)
        sinks["console"] = ConsoleSink(path if path.is_absolute() else root / path)
    return sinks


def sender_for(
    ctx: Context,
    *,
    metrics: AlertMetrics | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
    backoff: Backoff = DEFAULT_BACKOFF,
    interval: float = 1.0,
    timeout: float = 10.0,
) -> AlertSender:
    """The sender for a project, on its own connection (``ctx.adapter.fork()``), made in
    the sender's thread. Call ``start()`` when serving and ``stop()``/``astop()`` at exit."""
    sinks = sinks_for(ctx.project.spec.alerts, ctx.root, timeout=timeout)
    return AlertSender(
        lambda: ctx.adapter.fork(),
        sinks,
        clock,
        backoff=backoff,
        interval=interval,
        metrics=metrics,
    )


def alerts_for(
    a: Adapter,
    routing: build.Routing,
    kind: str,
    details: Details,
    now: dt.datetime,
) -> list[Alert]:
    """The alerts an event calls for (reads what is open; writes nothing)."""
    if kind not in KINDS:
        raise KeelError(f"unknown alert kind {kind!r} (one of {', '.join(sorted(KINDS))})")
    if isinstance(details, SourceReport):
        if kind not in GATE_KINDS:
            raise KeelError(f"a {kind} alert is not built from a gate report")
        keys = outbox.open_keys(a, details.source + "/")
        return build.gate_alerts(details, routing, keys, now)
    if kind in GATE_KINDS:
        raise KeelError(f"a {kind} alert needs the gate's report (keel.quality.model.SourceReport)")
    source = str(details.get("source") or "")
    if kind == "sync_failed":
        out: list[Alert] = []
        for failure in _sync_failures(a, details):
            out += build.sync_failure_alerts(failure, routing, now)
        return out
    if kind == "sync_succeeded":
        keys = outbox.open_keys(a, source + "/")
        return build.sync_recovered_alerts(source, str(details.get("job_id")), routing, keys)
    if kind == "run_failed":
        error = str(details.get("error") or "unknown error")
        run_id = details.get("run_id")
        return build.run_failure_alerts(
            source, error, routing, now, str(run_id) if run_id else None
        )
    transform = TransformResult.from_dict(details.get("transform") or details)
    return build.transform_alerts(
        source, transform, routing, outbox.open_keys(a, source + "/"), now
    )


def enqueue_event(
    a: Adapter,
    routing: build.Routing,
    kind: str,
    details: Details,
    *,
    now: dt.datetime | None = None,
    in_transaction: bool = False,
) -> list[str]:
    """Build and enqueue in one transaction (the caller's, with ``in_transaction``).
    Returns the ids of the rows inserted (none when the event was enqueued before)."""
    stamp = now or utcnow()
    if in_transaction:
        alerts = alerts_for(a, routing, kind, details, stamp)
        return outbox.enqueue(a, alerts, now=stamp, in_transaction=True)
    with a.transaction():
        alerts = alerts_for(a, routing, kind, details, stamp)
        return outbox.enqueue(a, alerts, now=stamp, in_transaction=True)


def notify(ctx: Context, kind: str, details: Details) -> None:
    """The event service's Notifier: enqueue the alerts for ``kind`` on ``ctx.adapter``.

    Kinds: ``gate`` (details = the gate's SourceReport),
    ``sync_failed`` (``source`` and ``events``: KEEL_EVENTS ids, or ``job_id``,
    ``connection_id``, ``connection_name``, ``error``), ``sync_succeeded`` (``source``,
    ``job_id``), ``run_failed`` (``source``, ``error``), ``transform_failed``
    (``source``, ``transform``). Raises KeelError (the caller logs it and goes on)."""
    enqueue_event(ctx.adapter, routing_for(ctx.project), kind, details)


def _sync_failures(a: Adapter, details: Mapping[str, Any]) -> list[SyncFailure]:
    source = str(details["source"]) if details.get("source") else None
    event_ids = [str(e) for e in details.get("events") or ()]
    if not event_ids:
        return [
            SyncFailure(
                job_id=str(details.get("job_id") or "unknown"),
                connection_id=details.get("connection_id"),
                connection_name=details.get("connection_name"),
                error=details.get("error"),
                source=source,
            )
        ]
    rows = EventStore(a).failures(event_ids)
    found = {r[0] for r in rows}
    out = [
        SyncFailure(str(job), conn_id, conn_name, _error_of(payload), source)
        for _, job, conn_id, conn_name, payload in rows
    ]
    for missing in (e for e in event_ids if e not in found):
        out.append(SyncFailure(missing.removeprefix("airbyte-job-"), None, None, None, source))
    return out


def _error_of(payload: str | None) -> str | None:
    """Airbyte's ``data.errorMessage`` (with ``errorType``) from a stored webhook body."""
    try:
        body = json.loads(payload or "{}")
        data = body.get("data") or {}
    except (ValueError, AttributeError):
        return None
    if not isinstance(data, dict):
        return None
    message, kind = data.get("errorMessage"), data.get("errorType")
    if not message:  # a text-only notification (connection disabled, schema change, legacy)
        text = body.get("text")
        return text.strip()[:500] if isinstance(text, str) and text.strip() else None
    return f"[{kind}] {message}" if kind else str(message)
