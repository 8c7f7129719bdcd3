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

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.server import ServerThread, wait_until  # noqa: E402

from keel.context import Context  # noqa: E402
from keel.events.server import build  # noqa: E402
from keel.project.init import write_project  # noqa: E402

TOKEN = "bench-token"
SOURCES = ("gong", "hubspot", "slack", "netsuite")


def prepare(root: Path) -> None:
    write_project(root)
    text = (root / "keel.yml").read_text()
    for s in SOURCES:
        text = text.replace(f"connection_name: {s}-to-snowflake", f"connection_id: conn-{s}")
    (root / "keel.yml").write_text(text)
    with Context(root) as ctx:
        ctx.apply()


def bodies(posts: int, repeat_share: float, seed: int = 7) -> list[tuple[int, bytes]]:
    """(job id, body) in send order: every repeat comes after its original."""
    rng = random.Random(seed)
    distinct = int(posts * (1 - repeat_share))
    template = json.loads((ROOT.parent / "shared/airbyte/webhook-sync-succeeded.json").read_text())
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


async def fire(
    url: str, items: list[tuple[int, bytes]], concurrency: int
) -> list[tuple[int, float, str]]:
    sem = asyncio.Semaphore(concurrency)
    results: list[tuple[int, float, str]] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:

        async def one(body: bytes) -> None:
            async with sem:
                start = time.perf_counter()
                r = await client.post(f"/hooks/airbyte/{TOKEN}", content=body)
                results.append(
                    (r.status_code, time.perf_counter() - start, r.json().get("status", ""))
                )

        await asyncio.gather(*(one(b) for _, b in items))
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
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="keel-bench-events-"))
    try:
        prepare(work / "p")
        out = run_load(work / "p", args.posts, args.concurrency)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out["machine"] = (
        f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    sys.stdout.write(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
