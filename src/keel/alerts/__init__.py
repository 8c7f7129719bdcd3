"""Alerts: an outbox in SOPHIA_OPS.KEEL_ALERTS, Slack, PagerDuty and a console sink.

    build      gate result / failed sync / failed run -> Alert values (pure)
    outbox     enqueue, open PagerDuty keys, due heads, outcomes (SQL via the adapter)
    sinks      Slack webhook, PagerDuty Events API v2, JSON-lines file
    sender     AlertSender: the background delivery loop, backoff, metrics
    notify     notify() for the event service and the gate; sender_for()

The gate never waits for the network: it enqueues rows; the sender delivers them.
"""

from keel.alerts.build import Routing
from keel.alerts.model import Alert, SyncFailure
from keel.alerts.notify import (
    enabled_sinks,
    enqueue_event,
    notify,
    routing_for,
    sender_for,
    sinks_for,
)
from keel.alerts.outbox import enqueue, open_keys
from keel.alerts.sender import AlertMetrics, AlertSender, Backoff

__all__ = [
    "Alert",
    "AlertMetrics",
    "AlertSender",
    "Backoff",
    "Routing",
    "SyncFailure",
    "enabled_sinks",
    "enqueue",
    "enqueue_event",
    "notify",
    "open_keys",
    "routing_for",
    "sender_for",
    "sinks_for",
]
