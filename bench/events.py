"""Webhook intake under a burst: 1,000 posts, 20% of them repeats of earlier job ids.

Starts `keel serve`'s app on a loopback port (in-process, uvicorn) with the real
gate behind it, fires the posts from an asyncio client (64 in flight), then
waits for the queue to drain and checks the outcome: every distinct job stored
and processed exactly once, repeats answered as duplicates, no 5xx.

Run: uv run python bench/events.py [--posts 1000] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.server import ServerThread, wait_until  # noqa: E402

from keel.context import Context  # noqa: E402
from keel.events.server import build  # noqa: E402
from keel.project.init import connection_name, write_project  # noqa: E402

TOKEN = "bench-token"
SOURCES = ("gong", "hubspot", "slack", "netsuite")


def prepare(root: Path) -> None:
    write_project(root)
    text = (root / "keel.yml").read_text()
    for s in SOURCES:
        text = text.replace(f"connection_name: {connection_name(s)}", f"connection_id: conn-{s}")
    (root / "keel.yml").write_text(text)
    with Context(root) as ctx:
        ctx.apply()


def bodies(posts: int, repeat_share: float, seed: int = 7) -> list[tuple[int, bytes]]:
    """(job id, body) in send order: every repeat comes after its original."""
    rng = random.Random(seed)
    distinct = int(posts * (1 - repeat_share))
    template = json.loads((ROOT / "tests/fixtures/airbyte/webhook-sync-succeeded.json").read_text())
    order: list[int] = list(range(distinct))
    for _ in range(posts - distinct):
        order.insert(rng.randrange(1, len(order) + 1), -1)
    out, seen = [], []
    for item in order:
        job = rng.choice(seen) if item < 0 and seen else (item if item >= 0 else 0)
        if item >= 0:
            seen.append(item)
        body = dict(template)
        body["data"] = {
            **template["data"],
            "jobId": 10_000 + job,
            "connection": {"id": f"conn-{SOURCES[job % 4]}", "name": "x"},
        }
        out.append((10_000 + job, json.dumps(body).encode()))
    return out


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, path: str, body: bytes
) -> tuple[int, dict[str, Any]]:
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    code = int(lines[0].split()[1])
    length = next(
        int(v) for k, _, v in (x.partition(":") for x in lines[1:]) if k.lower() == "content-length"
    )
    return code, json.loads(await reader.readexactly(length))


async def fire(
    url: str, items: list[tuple[int, bytes]], concurrency: int
) -> list[tuple[int, float, str]]:
    """Post every body over ``concurrency`` keep-alive connections (a minimal HTTP/1.1
    client: httpx's async pool, not the server, was the bottleneck at this load)."""
    host, port = url.removeprefix("http://").split(":")
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for _, body in items:
        queue.put_nowait(body)
    results: list[tuple[int, float, str]] = []

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while not queue.empty():
                body = queue.get_nowait()
                start = time.perf_counter()
                code, answer = await _request(reader, writer, host, f"/hooks/airbyte/{TOKEN}", body)
                results.append((code, time.perf_counter() - start, str(answer.get("status", ""))))
        finally:
            writer.close()
            await writer.wait_closed()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return results


def run_load(
    root: Path, posts: int = 1000, concurrency: int = 64, repeat_share: float = 0.2
) -> dict[str, Any]:
    os.environ["KEEL_WEBHOOK_TOKEN"] = TOKEN
    items = bodies(posts, repeat_share)
    app, service, _ = build(root, poll=False)
    with ServerThread(app) as srv:
        start = time.perf_counter()
        results = asyncio.run(fire(srv.url, items, concurrency))
        elapsed = time.perf_counter() - start
        drained = wait_until(lambda: service.queue_depth() == 0, 300)
        with service.locked() as a:
            stored = a.fetch(
                'SELECT "STATUS", count(*), count(DISTINCT "JOB_ID") FROM '
                '"SOPHIA_OPS"."KEEL_EVENTS" GROUP BY 1'
            )
    return _summary(posts, concurrency, items, results, elapsed, drained, stored)


def run_load_subprocess(
    root: Path, posts: int, concurrency: int, repeat_share: float = 0.2
) -> dict[str, Any]:
    """The same burst against `keel serve` in its own process, as it runs in production."""
    import signal
    import subprocess

    import duckdb
    from tests.support.server import free_port, healthz

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "KEEL_WEBHOOK_TOKEN": TOKEN}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "keel",
            "serve",
            "--no-poll",
            "--port",
            str(port),
            "--project",
            str(root),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def health() -> dict[str, Any]:
        return healthz(url)

    try:
        if not wait_until(lambda: bool(health()), 60):
            raise RuntimeError("keel serve did not start")
        items = bodies(posts, repeat_share)
        start = time.perf_counter()
        results = asyncio.run(fire(url, items, concurrency))
        elapsed = time.perf_counter() - start
        drained = wait_until(lambda: health().get("queue_depth") == 0, 300)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)
    con = duckdb.connect(str(root / ".keel/warehouse.duckdb"), read_only=True)
    try:
        stored = con.execute(
            'SELECT "STATUS", count(*), count(DISTINCT "JOB_ID") FROM '
            '"SOPHIA_OPS"."KEEL_EVENTS" GROUP BY 1'
        ).fetchall()
    finally:
        con.close()
    return _summary(posts, concurrency, items, results, elapsed, drained, stored)


def _summary(
    posts: int,
    concurrency: int,
    items: list[tuple[int, bytes]],
    results: list[tuple[int, float, str]],
    elapsed: float,
    drained: bool,
    stored: list[tuple[Any, ...]],
) -> dict[str, Any]:
    latencies = sorted(lat for _, lat, _ in results)
    codes: dict[int, int] = {}
    answers: dict[str, int] = {}
    for code, _, status in results:
        codes[code] = codes.get(code, 0) + 1
        answers[status] = answers.get(status, 0) + 1
    return {
        "posts": posts,
        "distinct_jobs": len({j for j, _ in items}),
        "concurrency": concurrency,
        "seconds": round(elapsed, 3),
        "accepted_per_s": round(posts / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        "max_ms": round(latencies[-1] * 1000, 2),
        "status_codes": codes,
        "answers": answers,
        "drained": drained,
        "stored": {s: {"events": n, "jobs": d} for s, n, d in stored},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="run the server in this process (client and server share the GIL)",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="keel-bench-events-"))
    try:
        prepare(work / "p")
        run = run_load if args.in_process else run_load_subprocess
        out = run(work / "p", args.posts, args.concurrency)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out["server"] = "in-process" if args.in_process else "keel serve (own process)"
    out["machine"] = (
        f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    sys.stdout.write(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
