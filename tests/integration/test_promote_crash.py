"""Kill ``keel promote`` at random moments: the promoted table and the watermark are both
before or both after the batch, never in between, never duplicated; the next promote
finishes the job.

Trials: 20 by default, ``KEEL_CRASH_TRIALS`` to change. Each trial copies a prepared
warehouse (batch 1 promoted, batch 2 landed: updates, new keys, deletes), starts
``keel promote hubspot`` as a process and SIGKILLs it somewhere between start-up and a
little after the time an uninterrupted promote takes.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
from tests.support.gatekit import T0, Kit, col, companies

pytestmark = pytest.mark.slow

ROWS = 200_000


def _state(db: Path) -> tuple[Any, list[tuple[Any, ...]], int, int]:
    con = duckdb.connect(str(db))
    try:
        mark = con.execute('SELECT "EXTRACTED_AT" FROM "SOPHIA_OPS"."KEEL_WATERMARKS"').fetchall()
        rows = con.execute(
            'SELECT "ID", "NAME", "UPDATED_AT" FROM "HUBSPOT_DATA"."COMPANIES" ORDER BY "ID"'
        ).fetchall()
        count, keys = con.execute(
            'SELECT count(*), count(DISTINCT "ID") FROM "HUBSPOT_DATA"."COMPANIES"'
        ).fetchone()
    finally:
        con.close()
    return (mark[0][0] if mark else None), rows, count, keys


def _prepare(tmp: Path) -> tuple[Path, Path]:
    spec = companies()
    spec["columns"].append(col("_ab_cdc_deleted_at", "timestamp"))
    k = Kit(tmp, [spec])
    a = k.ctx.adapter
    k.create_raw("companies", k.contract_columns("companies"))
    first = T0 + dt.timedelta(hours=1)
    a.execute(f"""INSERT INTO {k.raw("companies")} SELECT 'c' || i, 'name ' || i,
        TIMESTAMPTZ '2026-01-01', NULL, 'r1-' || i, {a.lit(first)}, '{{}}', 1 FROM range({ROWS}) t(i)""")
    k.promote()
    second = T0 + dt.timedelta(hours=2)
    # batch 2: every third key updated, a tenth deleted, ROWS/2 new keys (RAW deduplicated)
    a.execute(f"""DELETE FROM {k.raw("companies")} WHERE CAST(substr("ID", 2) AS BIGINT) % 3 = 0
        OR CAST(substr("ID", 2) AS BIGINT) % 10 = 1""")
    a.execute(f"""INSERT INTO {k.raw("companies")} SELECT 'c' || i, 'renamed ' || i,
        TIMESTAMPTZ '2026-01-02', CASE WHEN i % 10 = 1 THEN TIMESTAMPTZ '2026-01-02' END,
        'r2-' || i, {a.lit(second)}, '{{}}', 1
        FROM range({ROWS + ROWS // 2}) t(i)
        WHERE i >= {ROWS} OR i % 3 = 0 OR i % 10 = 1""")
    k.close()
    return k.root, k.root / ".keel" / "warehouse.duckdb"


def _promote(root: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "keel", "promote", "hubspot", "--project", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )


def test_kill_promote_at_random_points(tmp_path: Path) -> None:
    trials = int(os.environ.get("KEEL_CRASH_TRIALS", "20"))
    root, db = _prepare(tmp_path / "template")
    template = tmp_path / "template.duckdb"
    shutil.copy(db, template)
    before = _state(db)
    # an uninterrupted promote: the "after" state and how long it takes
    start = time.perf_counter()
    assert _promote(root).wait(timeout=300) == 0
    duration = time.perf_counter() - start
    after = _state(db)
    assert before[0] != after[0] and before[1] != after[1]
    # deleted: a tenth of the old keys; deletes of new keys insert nothing
    assert after[2] == after[3] == ROWS - ROWS // 10 + ROWS // 2 - ROWS // 20
    rng = random.Random(int(os.environ.get("KEEL_CRASH_SEED", "4")))
    seen = {"before": 0, "after": 0}
    for trial in range(trials):
        shutil.copy(template, db)
        for extra in db.parent.glob("warehouse.duckdb.wal"):
            extra.unlink()
        proc = _promote(root)
        time.sleep(rng.uniform(0.3, 1.05) * duration)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        state = _state(db)
        assert state[2] == state[3], f"trial {trial}: duplicated keys"
        if state[0] == before[0]:
            assert state[1] == before[1], f"trial {trial}: watermark before, table changed"
            seen["before"] += 1
        else:
            assert state[0] == after[0], f"trial {trial}: watermark {state[0]}"
            assert state[1] == after[1], f"trial {trial}: watermark after, table differs"
            seen["after"] += 1
        # whatever happened, the next promote ends in the after state
        assert _promote(root).wait(timeout=300) == 0
        final = _state(db)
        assert final[0] == after[0] and final[1] == after[1]
    assert sum(seen.values()) == trials
    sys.stdout.write(f"crash trials: {seen} (uninterrupted promote {duration:.2f}s)\n")
