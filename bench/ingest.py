"""Ingestion throughput: the RAW writer alone, and end to end with a connector.

    uv run python bench/ingest.py                  # 1,000,000 narrow records
    uv run python bench/ingest.py --records 200000 --json

Scenarios (DuckDB file in a temporary folder, removed afterwards):

- ``writer/initial``: records of the demo ``slack.channels`` stream (5 columns)
  generated in memory first (not timed), then fed to :class:`RawWriter` with a
  STATE every 1,000 records and a commit every 100,000: typed Arrow batches,
  in-batch dedup, state upsert, one transaction per batch. Target: >= 100,000
  records/s on a 2-core machine.
- ``writer/incremental``: the next N positions of the same sequence into the
  now full table (a tenth are updates of existing keys): the set-based
  DELETE + INSERT against a table of ~0.9 N rows.
- ``writer/wide``: ``gong.calls`` with multi-KB transcripts, reported in MB/s too.
- ``end-to-end``: ``ingest_source`` with the demo connector as a subprocess
  (``python -m keel.ingest.demo slack``): generation, JSON lines over a
  pipe, parsing with orjson, writing. Bound by the Python connector.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

from keel.ingest.demo import SourceData, json_schema, timestamp
from keel.ingest.runner import demo_command, ingest_source
from keel.ingest.writer import RawWriter, StreamSpec

STATE_EVERY = 1_000
BATCH_ROWS = 100_000


def _state(stream: str, position: int) -> dict[str, Any]:
    return {
        "type": "STREAM",
        "stream": {
            "stream_descriptor": {"name": stream},
            "stream_state": {"updated_at": timestamp(position)},
        },
    }


def _writer_run(
    conn: duckdb.DuckDBPyConnection, source: str, stream: str, start: int, n: int
) -> dict[str, Any]:
    data = SourceData(source, 42)
    records = [data.record(stream, i) for i in range(start, start + n)]
    size = sum(len(json.dumps(r)) for r in records[:1000]) / min(n, 1000) * n
    writer = RawWriter(conn, source=source, sync_id=start, batch_rows=BATCH_ROWS)
    writer.open([StreamSpec(stream, json_schema(source, stream), ("id",), "updated_at")])
    add, commit = writer.record, writer.state
    began = time.perf_counter()
    for offset, record in enumerate(records, 1):
        add(stream, record)
        if offset % STATE_EVERY == 0 or offset == n:
            commit(stream, _state(stream, start + offset - 1))
    result = writer.finish(success=True)[stream]
    seconds = time.perf_counter() - began
    assert result.committed == n
    return {
        "records": n,
        "seconds": round(seconds, 2),
        "records_per_s": round(n / seconds),
        "mb_per_s": round(size / seconds / 1e6, 1),
        "batches": result.batches,
    }


def _end_to_end(conn: duckdb.DuckDBPyConnection, n: int) -> dict[str, Any]:
    config = {"records_per_sync": {"channels": n}, "state_every": STATE_EVERY}
    began = time.perf_counter()
    result = ingest_source(
        conn,
        source="slack",
        command=demo_command("slack"),
        config=config,
        streams=["channels"],
        batch_rows=BATCH_ROWS,
    )
    seconds = time.perf_counter() - began
    assert result.committed == n
    return {"records": n, "seconds": round(seconds, 2), "records_per_s": round(n / seconds)}


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"DuckDB {duckdb.__version__}, {platform.system()} {platform.release()}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="narrow records")
    parser.add_argument("--wide-records", type=int, default=50_000, help="gong calls")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    n = args.records
    results: dict[str, Any] = {"machine": _machine()}
    with tempfile.TemporaryDirectory(prefix="keel-bench-") as tmp:
        conn = duckdb.connect(str(Path(tmp) / "writer.duckdb"))
        results["writer/initial"] = _writer_run(conn, "slack", "channels", 0, n)
        results["writer/incremental"] = _writer_run(conn, "slack", "channels", n, n)
        results["writer/wide"] = _writer_run(conn, "gong", "calls", 0, args.wide_records)
        conn.close()
        conn = duckdb.connect(str(Path(tmp) / "e2e.duckdb"))
        results["end-to-end"] = _end_to_end(conn, n)
        conn.close()
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(results.pop("machine"))
    print(f"{'scenario':<20} {'records':>10} {'seconds':>8} {'records/s':>10} {'MB/s':>6}")
    for name, r in results.items():
        mb = r.get("mb_per_s", "")
        print(f"{name:<20} {r['records']:>10,} {r['seconds']:>8} {r['records_per_s']:>10,} {mb:>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
