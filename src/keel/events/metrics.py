"""Counters for ``GET /metrics`` in Prometheus text format (no client library needed)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

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
        return "\n".join(lines) + "\n"
