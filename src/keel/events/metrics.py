"""``GET /metrics`` in Prometheus text format: counters and gauges written here, and the
freshness histogram through the Prometheus client library (``prometheus_client``: bucket
arithmetic and exposition of histograms are what it is for).

``keel_commit_to_publish_seconds{source,stream}``: per published batch, the seconds from
its oldest row's ``_AIRBYTE_EXTRACTED_AT`` to the publish. Loaders stamp that column at
or before the row's commit (Airbyte: when the record was pulled), so it is an upper bound
of the batch's commit-to-publish time.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Histogram, generate_latest

FRESHNESS_BUCKETS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600)

HELP = {
    "keel_events_received_total": ("counter", "Webhook and poller events accepted, by kind."),
    "keel_events_duplicate_total": ("counter", "Events whose job id was seen before."),
    "keel_events_rejected_total": ("counter", "Webhook posts refused, by HTTP status."),
    "keel_events_errors_total": ("counter", "Unexpected intake errors, by stage (loop goes on)."),
    "keel_connections_closed_slow_total": (
        "counter",
        "Connections closed for not sending a complete request in time.",
    ),
    "keel_gate_runs_total": ("counter", "Gate runs, by result."),
    "keel_publish_rows_total": ("counter", "Rows published out of _RAW."),
    "keel_alert_deliveries_total": ("counter", "Alerts delivered, by sink."),
    "keel_alert_failures_total": ("counter", "Alert delivery attempts that failed, by sink."),
    "keel_queue_depth": ("gauge", "Events waiting for or in a run."),
}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
        self.gauges: dict[str, Callable[[], float]] = {}
        self.registry = CollectorRegistry()
        self.freshness = Histogram(
            "keel_commit_to_publish_seconds",
            "Seconds from a published batch's oldest _AIRBYTE_EXTRACTED_AT to its publish.",
            ["source", "stream"],
            buckets=FRESHNESS_BUCKETS,
            registry=self.registry,
        )

    def published(self, report: Any, at: Any) -> None:
        """Observe every batch ``report`` (a gate/promote SourceReport) published at ``at``."""
        for s in report.streams:
            batch = s.batch
            if s.status != "promoted" or batch is None or batch.first is None:
                continue
            seconds = max(0.0, (at - batch.first).total_seconds())
            self.freshness.labels(source=s.source, stream=s.stream).observe(seconds)

    def inc(self, name: str, amount: float = 1, **labels: str) -> None:
        with self._lock:
            self._values[(name, tuple(sorted(labels.items())))] += amount  # type: ignore[assignment]

    def value(self, name: str, **labels: str) -> float:
        with self._lock:
            return float(self._values[(name, tuple(sorted(labels.items())))])

    def render(self) -> str:
        lines: list[str] = []
        with self._lock:
            snapshot = dict(self._values)
        gauges = {name: fn() for name, fn in self.gauges.items()}
        for name, (kind, text) in HELP.items():
            lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
            if name in gauges:
                lines.append(f"{name} {gauges[name]:g}")
                continue
            series = [(labels, v) for (n, labels), v in sorted(snapshot.items()) if n == name]
            if not series:
                lines.append(f"{name} 0")
            for labels, v in series:
                text_labels = ",".join(f'{k}="{_escape(val)}"' for k, val in labels)
                lines.append(f"{name}{{{text_labels}}} {v:g}" if text_labels else f"{name} {v:g}")
        return "\n".join(lines) + "\n" + generate_latest(self.registry).decode()
