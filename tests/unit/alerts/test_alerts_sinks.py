"""Sinks against httpx.MockTransport: what is sent, how answers are classified, no secrets."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from keel.alerts.outbox import OutboxRow
from keel.alerts.sinks import ConsoleSink, PagerDutySink, SlackSink, parse_retry_after

WEBHOOK = "https://hooks.slack.example/services/T0/B0/WEBHOOKSECRET"
ROUTING = "R0UTINGKEYSECRET0123456789abcdef"
NOW = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)


def row(payload: dict[str, Any], sink: str = "slack") -> OutboxRow:
    return OutboxRow("id1", sink, "k", "post", payload, "pending", 0, NOW, NOW)


def client(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler), timeout=1.0)


def test_slack_posts_the_stored_body_to_the_webhook() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text="ok")

    with client(handler) as c:
        outcome = SlackSink(WEBHOOK, c).send(row({"text": "hi", "blocks": []}))
    assert outcome.ok and outcome.status == 200
    assert str(seen[0].url) == WEBHOOK and seen[0].method == "POST"
    assert json.loads(seen[0].content) == {"text": "hi", "blocks": []}


def test_pagerduty_adds_the_routing_key_only_to_the_request() -> None:
    seen: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(202, json={"status": "success", "dedup_key": "k"})

    stored = {"event_action": "resolve", "dedup_key": "k"}
    with client(handler) as c:
        sink = PagerDutySink(ROUTING, "https://events.pd.example/v2/enqueue", c)
        assert sink.send(row(stored, "pagerduty")).ok
    assert seen == [{"event_action": "resolve", "dedup_key": "k", "routing_key": ROUTING}]
    assert "routing_key" not in stored
    assert ROUTING not in repr(sink) and WEBHOOK not in repr(SlackSink(WEBHOOK, c))


@pytest.mark.parametrize(
    ("status", "headers", "kind", "retry_after"),
    [
        (500, {}, "retry", None),
        (503, {}, "retry", None),
        (408, {}, "retry", None),
        (429, {"Retry-After": "7"}, "retry", 7.0),
        (429, {}, "retry", None),
        (400, {}, "failed", None),
        (403, {}, "failed", None),
        (404, {}, "failed", None),
        (410, {}, "failed", None),
    ],
)
def test_answers_are_classified(
    status: int, headers: dict[str, str], kind: str, retry_after: float | None
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:  # echoes the secrets back
        body = f"invalid_payload {request.url} {request.content.decode()}"
        return httpx.Response(status, headers=headers, text=body)

    with client(handler) as c:
        for sink in (SlackSink(WEBHOOK, c), PagerDutySink(ROUTING, "https://pd.example/x", c)):
            outcome = sink.send(row({"text": "x"}))
            assert (outcome.kind, outcome.retry_after, outcome.status) == (
                kind,
                retry_after,
                status,
            )
            assert outcome.error is not None and outcome.error.startswith(f"HTTP {status}: ")
            assert "WEBHOOKSECRET" not in outcome.error and ROUTING not in outcome.error


@pytest.mark.parametrize(
    "exc",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("timed out"), httpx.RemoteProtocolError("x")],
)
def test_transport_errors_are_retried_without_the_url(exc: Exception) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    with client(handler) as c:
        outcome = SlackSink(WEBHOOK, c).send(row({"text": "x"}))
    assert outcome.kind == "retry" and outcome.error
    assert "WEBHOOKSECRET" not in outcome.error


def test_httpx_request_log_lines_lose_the_webhook_path(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG), client(lambda r: httpx.Response(200, text="ok")) as c:
        SlackSink(WEBHOOK, c).send(row({"text": "x"}))
    assert "hooks.slack.example" in caplog.text  # the request was logged ...
    assert "WEBHOOKSECRET" not in caplog.text  # ... without its secret


def test_retry_after_parsing() -> None:
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after("999999") == 3600.0
    assert parse_retry_after("") is None and parse_retry_after("soon") is None
    assert parse_retry_after("nan") is None
    later = "Wed, 01 May 2024 00:00:30 GMT"
    assert parse_retry_after(later, NOW) == 30.0


def test_console_sink_appends_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "alerts.log"
    sink = ConsoleSink(path)
    assert sink.send(row({"kind": "gate", "text": "a"})).ok
    assert sink.send(row({"kind": "gate", "text": "b"})).ok
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert [x["text"] for x in lines] == ["a", "b"]
    assert lines[0]["alert_id"] == "id1" and lines[0]["dedup_key"] == "k"
    (tmp_path / "file").write_text("")
    blocked = ConsoleSink(tmp_path / "file" / "alerts.log").send(row({"text": "c"}))
    assert blocked.kind == "retry" and blocked.error and "cannot write" in blocked.error
