"""Issue 11, defect 2: no webhook body stops the intake (real HTTP, real DuckDB).

Thousands of hostile bodies (the issue's NUL byte, unpaired surrogate, 5,000-digit job
id, ``[`` x 3,000 and ``{"a":`` x 100,000 nesting, a 900 KB connection id, plus a seeded
corpus of random bytes, random JSON and mutations of Airbyte's own example) each get a
202 or a 4xx naming the problem, never a 5xx; then a valid webhook is stored and run;
``/metrics`` counts every refusal. Slow-loris connections are closed by the server.
"""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from tests.integration import test_events_server
from tests.integration.test_events_server import TOKEN, Recorder, events, payload
from tests.support.server import ServerThread

from keel.events.deadline import protocol
from keel.events.server import build

HOSTILE_VALUES: list[Any] = [
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "x" * 900_000,
    "line\nbreak",
    "",
    "   ",
    -1,
    10**30,
    1.5,
    True,
    None,
    [],
    {"$ne": 1},
    "'; DROP SCHEMA SOPHIA_OPS CASCADE; --",
    "<script>alert(1)</script>",
    "\u202egnp.exe",
    "😀" * 50,
]
FIELDS = [("jobId",), ("connection", "id"), ("connection", "name"), ("success",), ("connection",)]


def fixed_corpus() -> list[bytes]:
    valid = payload("succeeded", 1)
    out = [
        b"[" * 3000,
        b'{"a":' * 100_000,
        b'{"data": {"jobId": ' + b"9" * 5000 + b', "connection": {"id": "x"}, "success": true}}',
        b"\xff\xfe\x00",
        b"",
        b"null",
        b"[]",
        b'"just a string"',
        b'{"data": NaN}',
        b'{"data": {"jobId": 1e400}}',
        json.dumps({"text": "t" * 500_000}).encode(),
    ]
    for value in HOSTILE_VALUES:
        for field in FIELDS:
            body = json.loads(json.dumps(valid))
            target = body["data"]
            for key in field[:-1]:
                target = target[key]
            target[field[-1]] = value
            out.append(json.dumps(body).encode())
    return out


def random_corpus(n: int, seed: int = 11) -> list[bytes]:
    rng = random.Random(seed)
    valid = json.dumps(payload("succeeded", 1)).encode()

    def value(depth: int = 0) -> Any:
        kind = rng.randrange(8 if depth < 4 else 5)
        if kind == 0:
            return rng.randrange(-(10**25), 10**25)
        if kind == 1:
            return "".join(chr(rng.randrange(0, 0x11000)) for _ in range(rng.randrange(12)))
        if kind == 2:
            return rng.choice(HOSTILE_VALUES)
        if kind == 3:
            return rng.random() * 10.0 ** rng.randrange(300)
        if kind == 4:
            return rng.choice([True, False, None])
        if kind == 5:
            return [value(depth + 1) for _ in range(rng.randrange(4))]
        return {str(value(depth + 1))[:20]: value(depth + 1) for _ in range(rng.randrange(4))}

    out = []
    for i in range(n):
        mode = i % 4
        if mode == 0:
            out.append(bytes(rng.randrange(256) for _ in range(rng.randrange(80))))
        elif mode == 1:
            out.append(
                json.dumps(value(), ensure_ascii=rng.random() < 0.5).encode(
                    "utf-8", "surrogatepass"
                )
            )
        elif mode == 2:
            cut = bytearray(valid)
            for _ in range(rng.randrange(1, 6)):
                cut[rng.randrange(len(cut))] = rng.randrange(256)
            out.append(bytes(cut))
        else:
            body = json.loads(valid)
            body["data"][rng.choice(["jobId", "connection", "success", "recordsCommitted"])] = (
                value()
            )
            body["data"]["connection"] = body["data"].get("connection") or {"id": "x"}
            out.append(json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    return out


def server(app: Any, deadline: float = 10.0) -> ServerThread:
    srv = ServerThread(app)
    srv.server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=srv.port,
            log_level="error",
            lifespan="on",
            http=protocol(deadline),
        )
    )
    srv.thread = threading.Thread(target=srv.server.run, daemon=True)
    return srv


# the same project (Gong found by connection id) and recorder as the event server tests
served = test_events_server.served


def test_fuzzed_webhooks_never_stop_the_intake(
    served: tuple[Path, Recorder], caplog: pytest.LogCaptureFixture
) -> None:
    project, rec = served
    app, service, _ = build(project, poll=False, runner=rec.run, notify=rec.notify)
    bodies = fixed_corpus() + random_corpus(2000)
    statuses: dict[int, int] = {}
    with server(app) as srv, httpx.Client(base_url=srv.url, timeout=20) as http:
        hook = f"/hooks/airbyte/{TOKEN}"
        for raw in bodies:
            r = http.post(hook, content=raw, headers={"content-type": "application/json"})
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            assert r.status_code < 500, (r.status_code, r.text, raw[:200])
            if r.status_code >= 400:
                assert r.json()["error"], raw[:200]
        ok = http.post(hook, json=payload("succeeded", 424242))
        assert ok.status_code == 202 and ok.json()["status"] == "queued", ok.text
        deadline = time.monotonic() + 30
        while service.queue_depth() and time.monotonic() < deadline:
            time.sleep(0.05)
        metrics = http.get("/metrics").text
        assert http.get("/healthz").json()["status"] == "ok"
    assert set(statuses) <= {202, 400, 413}, statuses
    assert statuses[400] > 1000
    assert f'keel_events_rejected_total{{status="400"}} {statuses[400]}' in metrics
    assert "keel_events_errors_total 0" in metrics
    assert ("424242", "gong", "sync_succeeded", "done") in events(project)
    assert "Traceback" not in caplog.text
    assert all(len(r.getMessage()) < 2000 for r in caplog.records)


def test_slow_connections_are_closed(served: tuple[Path, Recorder]) -> None:
    project, rec = served
    app, service, _ = build(project, poll=False, runner=rec.run, notify=rec.notify)
    with server(app, deadline=0.5) as srv, httpx.Client(base_url=srv.url, timeout=10) as http:
        head_only = socket.create_connection(("127.0.0.1", srv.port))
        head_only.sendall(b"POST /hooks/airbyte/x HTTP/1.1\r\nHost: a\r\n")  # never ends
        short_body = socket.create_connection(("127.0.0.1", srv.port))
        short_body.sendall(
            f"POST /hooks/airbyte/{TOKEN} HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n{{".encode()
        )
        silent = socket.create_connection(("127.0.0.1", srv.port))
        for conn in (head_only, short_body, silent):
            conn.settimeout(5)
            started = time.monotonic()
            assert conn.recv(1024) == b""  # closed by the server, unanswered
            assert time.monotonic() - started < 5
            conn.close()
        # the server still answers, and counts what it closed
        assert http.post(f"/hooks/airbyte/{TOKEN}", json=payload("succeeded", 7)).status_code == 202
        closed = http.get("/metrics").text.split("keel_connections_closed_slow_total ")[-1]
        assert float(closed.split()[0]) >= 3


def test_an_unexpected_intake_error_is_counted_and_the_loop_goes_on(
    served: tuple[Path, Recorder], monkeypatch: pytest.MonkeyPatch
) -> None:
    project, rec = served
    app, service, _ = build(project, poll=False, runner=rec.run, notify=rec.notify)
    real = service.submit_many
    calls = {"n": 0}

    def flaky(items: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("a bug in storing")
        return real(items)

    monkeypatch.setattr(service, "submit_many", flaky)
    with server(app) as srv, httpx.Client(base_url=srv.url, timeout=20) as http:
        hook = f"/hooks/airbyte/{TOKEN}"
        first = http.post(hook, json=payload("succeeded", 501))
        assert first.status_code == 503
        assert first.json() == {"error": "internal error storing the event (RuntimeError)"}
        again = http.post(hook, json=payload("succeeded", 502))
        assert again.status_code == 202 and again.json()["status"] == "queued"
        assert http.get("/healthz").json()["status"] == "ok"
        metrics = http.get("/metrics").text
    assert 'keel_events_errors_total{stage="intake"} 1' in metrics
