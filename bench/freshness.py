"""Commit-to-publish latency of a source loaded continuously (Snowpipe Streaming style).

A writer commits 100 rows every 0.1 s (1,000 rows/s) into ``HUBSPOT_DATA_RAW.PINGS`` for
``--seconds`` (60), each row stamped with its emit time as ``_AIRBYTE_EXTRACTED_AT`` and a
few (``--late`` share) emitted up to 10 s before their commit. keel serve's event service
runs in the same process (DuckDB allows one writing process) and publishes the source:

- ``--trigger changes``: no webhook; the watcher probes RAW and publishes (events/watcher.py);
- ``--trigger webhook``: every commit is followed by an Airbyte notification (the best a
  webhook can do: one per sync), handled by the event service as in production.

Latency of a row = the publish that took it (``KEEL_JUDGED.JUDGED_AT``) minus its commit
(recorded by the writer). Prints p50/p99/max and checks every row was published once.

Run: uv run python bench/freshness.py [--seconds 60] [--trigger changes|webhook]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from keel.context import Context  # noqa: E402
from keel.events.server import build  # noqa: E402
from keel.project.init import write_project  # noqa: E402

TOKEN = "bench-token"
CONTRACT = {
    "version": 2,
    "sources": [
        {
            "name": "hubspot",
            "tables": [
                {
                    "name": "pings",
                    "meta": {
                        "entity_type": "event",
                        "keel": {"primary_key": ["id"], "cursor": "updated_at"},
                    },
                    "columns": [
                        {"name": "id", "data_type": "varchar", "data_tests": ["not_null"]},
                        {"name": "name", "data_type": "varchar"},
                        {"name": "updated_at", "data_type": "timestamp"},
                    ],
                }
            ],
        }
    ],
}
RAW = '"HUBSPOT_DATA_RAW"."PINGS"'


def prepare(root: Path, trigger: str, settle: float) -> None:
    write_project(root)
    for f in (root / "contracts").glob("*.yml"):
        f.unlink()
    contract = json.loads(json.dumps(CONTRACT))
    contract["sources"][0]["tables"][0]["meta"]["keel"]["settle_seconds"] = settle
    (root / "contracts" / "hubspot.yml").write_text(yaml.safe_dump(contract, sort_keys=False))
    doc = yaml.safe_load((root / "keel.yml").read_text())
    hub = doc["sources"]["hubspot"]
    hub["trigger"] = trigger
    hub["changes"] = {"min_rows": 1000, "quiet": 1.0, "max_wait": 10, "probe_every": 0.5}
    hub.pop("airbyte", None)
    hub["airbyte"] = {"connection_id": "conn-hubspot"}
    (root / "keel.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
    with Context(root) as ctx:
        a = ctx.adapter
        for sql in a.bootstrap_sql():
            a.execute(sql)
        for schema in ("HUBSPOT_DATA_RAW", "HUBSPOT_DATA"):
            a.execute(f"CREATE SCHEMA IF NOT EXISTS {a.ident(schema)}")
        a.execute(
            f"CREATE TABLE {RAW} (ID VARCHAR, NAME VARCHAR, UPDATED_AT TIMESTAMPTZ, "
            "_AIRBYTE_RAW_ID VARCHAR, _AIRBYTE_EXTRACTED_AT TIMESTAMPTZ, _AIRBYTE_META JSON, "
            "_AIRBYTE_GENERATION_ID BIGINT)"
        )


def webhook(job: int) -> bytes:
    body = json.loads((ROOT / "tests/fixtures/airbyte/webhook-sync-succeeded.json").read_text())
    body["data"]["jobId"] = job
    body["data"]["connection"] = {"id": "conn-hubspot", "name": "hubspot"}
    return json.dumps(body).encode()


def write(
    service: Any, seconds: float, late: float, trigger: str, commits: dict[str, float]
) -> None:
    """1,000 rows/s in commits of 100; ``commits``: raw id -> commit time (epoch s)."""
    ctx = service.ctx.fork()
    a = ctx.adapter
    start, n, job = time.monotonic(), 0, 0
    try:
        while time.monotonic() - start < seconds:
            tick = start + (n // 100) * 0.1
            time.sleep(max(0.0, tick - time.monotonic()))
            ids, values = [], []
            now = dt.datetime.now(dt.UTC)
            for i in range(100):
                lag = 10 * ((n + i) % 97) / 97 if (n + i) % 100 < late * 100 else 0.05
                raw = uuid.uuid4().hex
                ids.append(raw)
                emitted = now - dt.timedelta(seconds=lag)
                values.append(
                    f"({a.lit(f'p{n + i}')}, 'x', {a.lit(now)}, {a.lit(raw)}, {a.lit(emitted)}, "
                    "'{}', 0)"
                )
            a.execute(f"INSERT INTO {RAW} VALUES {', '.join(values)}")  # autocommit: one commit
            committed = time.time()
            for raw in ids:
                commits[raw] = committed
            n += 100
            if trigger == "webhook":
                job += 1
                service.accept(webhook(job))
    finally:
        ctx.close()


def run(seconds: float, trigger: str, late: float, settle: float) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="keel-fresh-"))
    os.environ["KEEL_WEBHOOK_TOKEN"] = TOKEN
    try:
        root = tmp / "proj"
        prepare(root, trigger, settle)
        _app, service, _ = build(root, poll=False)
        commits: dict[str, float] = {}

        async def main() -> None:
            await service.start()
            writer = threading.Thread(target=write, args=(service, seconds, late, trigger, commits))
            writer.start()
            while writer.is_alive():
                await asyncio.sleep(0.2)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                with service.locked() as a:
                    done = a.fetch('SELECT count(*) FROM "SOPHIA_OPS"."KEEL_JUDGED"')[0][0]
                if done >= len(commits):
                    break
                await asyncio.sleep(0.5)
            await service.stop()

        asyncio.run(main())
        with service.locked() as a:
            judged = a.fetch('SELECT "RAW_ID", "JUDGED_AT" FROM "SOPHIA_OPS"."KEEL_JUDGED"')
            published = a.fetch('SELECT count(*), count(DISTINCT "ID") FROM "HUBSPOT_DATA"."PINGS"')
        service.ctx.close()
        latencies = sorted(
            max(0.0, at.timestamp() - commits[raw]) for raw, at in judged if raw in commits
        )
        q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
        return {
            "trigger": trigger,
            "settle_seconds": settle,
            "seconds": seconds,
            "rows_written": len(commits),
            "rows_judged": len(judged),
            "rows_published": published[0][0],
            "distinct_published": published[0][1],
            "p50_s": round(q[49], 2),
            "p99_s": round(q[98], 2),
            "max_s": round(latencies[-1], 2) if latencies else None,
            "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--trigger", choices=["changes", "webhook"], default="changes")
    p.add_argument("--late", type=float, default=0.05, help="share of rows emitted late")
    p.add_argument(
        "--settle",
        type=float,
        default=None,
        help="meta.keel.settle_seconds (default: 15 with trigger changes, rows are up to 10 s "
        "late; 0 with webhooks, a sync is committed before its notification)",
    )
    args = p.parse_args()
    settle = args.settle if args.settle is not None else (15 if args.trigger == "changes" else 0)
    result = run(args.seconds, args.trigger, args.late, settle)
    print(json.dumps(result, indent=2))
    ok = result["rows_judged"] == result["rows_written"] == result["distinct_published"]
    if not ok or (result["p99_s"] or 0) >= 60:
        sys.exit(1)


if __name__ == "__main__":
    main()
