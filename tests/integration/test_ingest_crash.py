"""SIGKILL ingestion at random moments; the resumed result must be exact.

Each trial ingests the demo Slack source into a fresh DuckDB file in a child
process, kills the child's whole process group (keel and its connector) with
SIGKILL at a random moment, twice, then lets a last run finish. The RAW tables
must then hold exactly the demo source's deterministic sequence up to the
committed state: no record lost, none doubled, the newest version of each key.
Odd trials use streams without a primary key (plain append), where a doubled
record would show as an extra row.

``KEEL_CRASH_TRIALS`` (default 20) sets the number of trials and
``KEEL_CRASH_SEED`` the random seed (printed on failure to reproduce a run).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from keel.ingest.demo import clean_records, latest_versions, position_of
from keel.project.sophia import STREAMS

pytestmark = pytest.mark.slow

SOURCE = "slack"
CONFIG = {"records_per_sync": 4000, "state_every": 50}
BATCH_ROWS = 200
CHILD = textwrap.dedent(
    """
    import json, sys
    import duckdb
    from keel.ingest.runner import demo_command, ingest_source
    path, source, config, batch_rows = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
    conn = duckdb.connect(path)
    ingest_source(conn, source=source, command=demo_command(source), config=config,
                  batch_rows=int(batch_rows))
    conn.close()
    """
)


def _start(db: Path, config: dict[str, Any]) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-c", CHILD, str(db), SOURCE, json.dumps(config), str(BATCH_ROWS)]
    return subprocess.Popen(args, start_new_session=True, stderr=subprocess.PIPE)


def _run_to_end(db: Path, config: dict[str, Any]) -> float:
    started = time.monotonic()
    proc = _start(db, config)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()
    return time.monotonic() - started


def _kill_at(db: Path, config: dict[str, Any], delay: float) -> None:
    proc = _start(db, config)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        assert proc.stderr is not None
        proc.stderr.close()


def _value(value: Any, data_type: str) -> Any:
    if value is None:
        return None
    if data_type == "timestamp":
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if data_type == "date":
        return dt.date.fromisoformat(value)
    return value


def _check(db: Path, keyed: bool, where: str) -> int:
    conn = duckdb.connect(str(db))
    try:
        conn.execute("SET TimeZone = 'UTC'")
        states = {
            stream: (json.loads(state), records)
            for stream, state, records in conn.execute(
                "SELECT STREAM, STATE, RECORDS FROM SOPHIA_OPS.KEEL_STATE WHERE SOURCE = ?",
                [SOURCE],
            ).fetchall()
        }
        total = 0
        for stream, spec in STREAMS[SOURCE].items():
            state, records = states[stream]
            cursor = state["stream"]["stream_state"]["updated_at"]
            end = position_of(cursor) + 1
            assert records == end, f"{where} {stream}: {records} committed for {end} positions"
            sequence = clean_records(SOURCE, stream, 42, 0, end)
            cols = [c["name"] for c in spec["columns"]]
            types = [c["data_type"] for c in spec["columns"]]
            names = ", ".join(c.upper() for c in cols)
            table = f"{SOURCE.upper()}_DATA_RAW.{stream.upper()}"
            rows = conn.execute(f"SELECT {names} FROM {table}").fetchall()
            want = [
                tuple(_value(r[c], t) for c, t in zip(cols, types, strict=True))
                for r in (latest_versions(sequence).values() if keyed else sequence)
            ]
            assert sorted(rows) == sorted(want), f"{where} {stream}: RAW differs from the source"
            raw_ids = conn.execute(
                f"SELECT count(*), count(DISTINCT _AIRBYTE_RAW_ID) FROM {table}"
            ).fetchone()
            assert raw_ids == (len(want), len(want))
            total += len(rows)
        return total
    finally:
        conn.close()


def test_sigkill_at_random_points_loses_and_doubles_nothing(tmp_path: Path) -> None:
    trials = int(os.environ.get("KEEL_CRASH_TRIALS", "20"))
    seed = int(os.environ.get("KEEL_CRASH_SEED", str(random.randrange(1 << 30))))
    rng = random.Random(seed)
    duration = _run_to_end(tmp_path / "calibrate.duckdb", CONFIG)
    for trial in range(trials):
        keyed = trial % 2 == 0
        config = {**CONFIG, "primary_key": keyed}
        db = tmp_path / f"trial{trial}.duckdb"
        # the first kill anywhere (start-up included), the second while batches are written
        delays = [round(rng.uniform(0.0, duration), 3), round(rng.uniform(0.4, 1.0) * duration, 3)]
        where = f"trial {trial} (KEEL_CRASH_SEED={seed}, kills after {delays} s, keyed={keyed})"
        for delay in delays:
            _kill_at(db, config, delay)
        _run_to_end(db, config)
        assert _check(db, keyed, where) > 0, where
