"""Builders: from a gate result, a failed sync, a failed run, the alerts to enqueue.

Pure functions of their inputs (what is currently open comes in as ``open_keys``,
read from the outbox by :func:`keel.alerts.outbox.open_keys`); nothing here touches
the network or the warehouse.

Invariants:
- one Slack message (and one console record) per gate run, grouping its failures;
  it is sent when a stream is blocked or a check failed; warnings alone stay quiet;
- one PagerDuty ``trigger`` per failing error-severity check, ``dedup_key`` =
  ``source/stream/check``; a blocked stream with no such check triggers
  ``source/stream/gate``; a check still failing in a new batch triggers again
  (PagerDuty folds it into the open alert; the details carry the latest counts);
- a ``resolve`` is built only for a key in ``open_keys`` (a trigger was sent
  before) whose stream was judged again and no longer fails it; an empty stream
  (nothing pending) resolves nothing;
- source-level keys: ``source/_airbyte/sync`` (a failed sync; resolved by the next
  successful one), ``source/_keel/run`` (a run that raised; resolved by the next gate
  result), ``source/_transform/run`` (resolved by the next successful transform);
- idempotency keys name the occurrence (batch ids, job id, transform run id), so the
  same result handed over twice enqueues nothing new.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from keel.alerts import messages as m
from keel.alerts.model import Action, Alert, SinkName, SyncFailure, dedup_key, redact, truncate
from keel.quality.model import SourceReport, StreamReport, TransformResult

SAMPLE_VALUES = 3
ERROR_CHARS = 500


@dataclass(frozen=True)
class Routing:
    """Where alerts go: the enabled sinks and the status page's address."""

    sinks: frozenset[SinkName]
    public_url: str
    sample_values: int = SAMPLE_VALUES  # per failing check in Slack; 0 shows none


def _alert(sink: SinkName, dk: str, action: Action, payload: Mapping[str, Any], key: str) -> Alert:
    return Alert(sink, dk, action, dict(payload), f"{key}|{sink}|{action}|{dk}")


def _source_key(source: str, *parts: str) -> str:
    return dedup_key(source, *parts)


def run_key(source: str) -> str:
    return _source_key(source, "_keel", "run")


def sync_key(source: str) -> str:
    return _source_key(source, "_airbyte", "sync")


def transform_key(source: str) -> str:
    return _source_key(source, "_transform", "run")


def _resolve(routing: Routing, dk: str, occurrence: str) -> list[Alert]:
    if "pagerduty" not in routing.sinks:
        return []
    return [_alert("pagerduty", dk, "resolve", m.pagerduty_resolve(dk), occurrence)]


def _notice(
    routing: Routing,
    *,
    kind: str,
    source: str,
    dk: str,
    occurrence: str,
    title: str,
    lines: list[str],
    summary: str,
    details: Mapping[str, Any],
    now: dt.datetime,
) -> list[Alert]:
    """A one-off failure: a Slack post, a console record, a PagerDuty trigger."""
    url = m.stream_url(routing.public_url, source)
    out: list[Alert] = []
    if "slack" in routing.sinks:
        out.append(_alert("slack", source, "post", m.notice_message(title, lines, url), occurrence))
    if "pagerduty" in routing.sinks:
        body = m.pagerduty_trigger(
            dk,
            summary,
            source=f"keel:{source}",
            component=source,
            group=source,
            klass=kind,
            details={**details, "status_page": url},
            url=url,
            timestamp=now.isoformat(),
        )
        out.append(_alert("pagerduty", dk, "trigger", body, occurrence))
    if "console" in routing.sinks:
        record = {"kind": kind, "source": source, "at": now.isoformat(), "text": summary}
        out.append(_alert("console", source, "post", {**record, **details}, occurrence))
    return out


# ---- gate results ---------------------------------------------------------------------------


def _check_trigger(
    routing: Routing, source: str, s: StreamReport, now: dt.datetime
) -> tuple[list[Alert], set[str]]:
    url = m.stream_url(routing.public_url, source, s.stream)
    occurrence = f"gate|{source}|{s.stream}|{s.batch_id}"
    alerts: list[Alert] = []
    keys: set[str] = set()
    batch = (s.batch_id or "")[:12]
    for c in s.checks:
        if not c.pages:
            continue
        dk = dedup_key(source, s.stream, c.key)
        keys.add(dk)
        on = f" on {c.column.lower()}" if c.column else ""
        summary = (
            f"keel: {source}.{s.stream} {s.status}: {c.name}{on} failed for "
            f"{c.failing_rows} of {s.rows} rows (batch {batch})"
        )
        details = {
            "source": source,
            "stream": s.stream,
            "check": c.key,
            "check_name": c.name,
            "column": c.column,
            "severity": c.severity,
            "failing_rows": c.failing_rows,
            "failing_values": c.failing_values,
            "batch_id": s.batch_id,
            "batch_rows": s.rows,
            "stream_status": s.status,
            "status_page": url,
        }
        body = m.pagerduty_trigger(
            dk,
            summary,
            source=f"keel:{source}.{s.stream}",
            component=s.stream,
            group=source,
            klass=c.name,
            details=details,
            url=url,
            timestamp=now.isoformat(),
        )
        alerts.append(_alert("pagerduty", dk, "trigger", body, occurrence))
    if s.blocked and not keys:
        dk = dedup_key(source, s.stream, "gate")
        keys.add(dk)
        reason = redact(s.reason or "blocked by the gate")
        body = m.pagerduty_trigger(
            dk,
            f"keel: {source}.{s.stream} held back (batch {batch}): {reason}",
            source=f"keel:{source}.{s.stream}",
            component=s.stream,
            group=source,
            klass="gate",
            details={"batch_id": s.batch_id, "batch_rows": s.rows, "reason": reason},
            url=url,
            timestamp=now.isoformat(),
        )
        alerts.append(_alert("pagerduty", dk, "trigger", body, occurrence))
    return alerts, keys


def gate_alerts(
    gate: SourceReport,
    routing: Routing,
    open_keys: Collection[str],
    now: dt.datetime,
) -> list[Alert]:
    """The alerts one gate run calls for (possibly none)."""
    source = gate.source
    out: list[Alert] = []
    triggers: list[str] = []
    resolves: list[str] = []
    for s in gate.streams:
        if not s.judged:
            continue
        alerts, failing = _check_trigger(routing, source, s, now)
        if "pagerduty" in routing.sinks:
            out += alerts
        triggers += sorted(failing)
        prefix = f"{source}/{s.stream}/"
        for dk in sorted(k for k in open_keys if k.startswith(prefix) and k not in failing):
            out += _resolve(routing, dk, f"gate|{source}|{s.stream}|{s.batch_id}")
            resolves.append(dk)
    batches = ",".join(f"{s.stream}:{s.batch_id}:{s.status}" for s in gate.streams if s.judged)
    run_occurrence = f"gate|{source}|{batches or now.isoformat()}"
    if run_key(source) in open_keys:
        out += _resolve(routing, run_key(source), run_occurrence)
        resolves.append(run_key(source))
    if gate.transform is not None:
        out += transform_alerts(source, gate.transform, routing, open_keys, now)
    shown = [s for s in gate.streams if s.judged and (s.blocked or s.failing)]
    loud = any(s.blocked or any(c.status == "fail" for c in s.checks) for s in shown)
    if not loud:
        shown = []
    if shown and "slack" in routing.sinks:
        msg = m.gate_message(source, shown, routing.public_url, routing.sample_values)
        out.append(_alert("slack", source, "post", msg, run_occurrence))
    if (shown or resolves) and "console" in routing.sinks:
        out.append(
            _alert(
                "console",
                source,
                "post",
                _gate_record(source, shown, triggers, resolves, now, routing.public_url),
                run_occurrence,
            )
        )
    return out


def _gate_record(
    source: str,
    shown: list[StreamReport],
    triggers: list[str],
    resolves: list[str],
    now: dt.datetime,
    public_url: str,
) -> dict[str, Any]:
    return {
        "kind": "gate",
        "source": source,
        "at": now.isoformat(),
        "text": m.gate_fallback(source, shown) if shown else f"keel: {source} recovered",
        "status_page": m.stream_url(public_url, source),
        "streams": [
            {
                "stream": s.stream,
                "status": s.status,
                "batch_id": s.batch_id,
                "rows": s.rows,
                "reason": s.reason,
                "failing_checks": [
                    {
                        "check": c.key,
                        "name": c.name,
                        "column": c.column,
                        "severity": c.severity,
                        "status": c.status,
                        "failing_rows": c.failing_rows,
                        "samples": [dict(r) for r in s.samples.get(c.key, ())[:3]],
                    }
                    for c in s.failing
                ],
            }
            for s in shown
        ],
        "pagerduty": {"trigger": triggers, "resolve": resolves},
    }


def transform_alerts(
    source: str,
    transform: TransformResult,
    routing: Routing,
    open_keys: Collection[str],
    now: dt.datetime,
) -> list[Alert]:
    """A failed transform alerts; a succeeded one resolves an open transform alert.

    The transform's output stays out of Slack and PagerDuty (it may echo data);
    the console record carries its redacted tail."""
    dk = transform_key(source)
    occurrence = f"transform|{source}|{transform.run_id or now.isoformat()}"
    if not transform.failed:
        return _resolve(routing, dk, occurrence) if dk in open_keys else []
    code = "" if transform.exit_code is None else f" (exit code {transform.exit_code})"
    summary = f"keel: the {transform.kind} transform of {source} failed{code}"
    alerts = _notice(
        routing,
        kind="transform_failed",
        source=source,
        dk=dk,
        occurrence=occurrence,
        title=f"keel: {source} transform failed",
        lines=[
            f"The {m.escape(transform.kind)} transform after publishing *{m.escape(source)}* "
            f"failed{code}. Its output is in the keel log and the status page."
        ],
        summary=summary,
        details={"transform": transform.kind, "exit_code": transform.exit_code},
        now=now,
    )
    tail = redact("\n".join(transform.output.splitlines()[-20:]))
    return [
        Alert(a.sink, a.dedup_key, a.action, {**a.payload, "output": tail}, a.key)
        if a.sink == "console"
        else a
        for a in alerts
    ]


# ---- failures outside the gate ------------------------------------------------------------


def sync_failure_alerts(failure: SyncFailure, routing: Routing, now: dt.datetime) -> list[Alert]:
    """An Airbyte sync failed: connection name and id, job id, the error (redacted)."""
    source = failure.source or f"airbyte:{failure.connection}"
    error = truncate(redact(failure.error or "no error message"), ERROR_CHARS)
    ident = f" ({failure.connection_id})" if failure.connection_id else ""
    return _notice(
        routing,
        kind="sync_failed",
        source=source,
        dk=sync_key(source),
        occurrence=f"sync|{failure.job_id}",
        title=f"keel: Airbyte sync of {failure.connection} failed",
        lines=[
            f"*Connection:* {m.escape(failure.connection)}{m.escape(ident)}",
            f"*Job:* {m.code(failure.job_id)}"
            + (f" · *source:* {m.escape(failure.source)}" if failure.source else ""),
            f"*Error:* {m.code(error)}",
            "Nothing new was gated or published for it.",
        ],
        summary=truncate(
            f"keel: Airbyte sync of {failure.connection} failed (job {failure.job_id}): {error}",
            m.SUMMARY_CHARS,
        ),
        details={
            "connection_id": failure.connection_id,
            "connection_name": failure.connection_name,
            "job_id": failure.job_id,
            "error": error,
        },
        now=now,
    )


def sync_recovered_alerts(
    source: str, job_id: str, routing: Routing, open_keys: Collection[str]
) -> list[Alert]:
    """A successful sync resolves the source's open sync-failure alert, if any."""
    dk = sync_key(source)
    return _resolve(routing, dk, f"sync|{job_id}") if dk in open_keys else []


def run_failure_alerts(
    source: str, error: str, routing: Routing, now: dt.datetime, run_id: str | None = None
) -> list[Alert]:
    """``keel run`` raised for a source (the gate could not run): nothing was published."""
    text = truncate(redact(error), ERROR_CHARS)
    return _notice(
        routing,
        kind="run_failed",
        source=source,
        dk=run_key(source),
        occurrence=f"run|{source}|{run_id or now.isoformat()}",
        title=f"keel: the run for {source} failed",
        lines=[f"*Error:* {m.code(text)}", "Nothing new was published for this source."],
        summary=truncate(f"keel: the run for {source} failed: {text}", m.SUMMARY_CHARS),
        details={"error": text},
        now=now,
    )
