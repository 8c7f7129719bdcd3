"""A loader appends to a RAW table while keel gates and publishes in a loop, and both are
killed at random (SIGKILL) again and again. Afterwards: every key's newest version is
published exactly once, no row was skipped or judged twice, and rows failing a check were
never published.

The loader behaves as Airbyte does where keel could go wrong: ``_airbyte_extracted_at`` is
the record's emit time, up to ten minutes before its commit (docs.airbyte.com
understanding-airbyte/airbyte-metadata-fields), so rows commit at and below a watermark
that has already moved; transactions of several rows commit in any order. PostgreSQL: the
one engine here where two processes write one warehouse at the same time.

Trials: 20 by default, ``KEEL_CRASH_TRIALS`` to change.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.support.gatekit import companies

from keel.context import Context

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

RAW_COLUMNS = (
    "_airbyte_raw_id text, _airbyte_extracted_at timestamptz, _airbyte_meta jsonb, "
    "_airbyte_generation_id bigint"
)

LOADER = r"""
import os, random, time
import psycopg
conn = psycopg.connect(os.environ["KEEL_PG_DSN"], autocommit=True)
rng = random.Random()
while True:
    with conn.transaction():
        for _ in range(rng.randint(1, 20)):
            bad = rng.random() < 0.05
            key = f"bad{rng.randint(0, 9)}" if bad else f"c{rng.randint(0, 49)}"
            lag = rng.choice([0, 0, 0.5, 2, 30, 600])
            conn.execute(
                "INSERT INTO hubspot_data_raw.companies VALUES (%s, %s, "
                "timestamptz '2026-01-01' + nextval('public.versions') * interval '1 second', "
                "gen_random_uuid()::text, clock_timestamp() - make_interval(secs => %s), "
                "'{}', 1)",
                (key, None if bad else f"name {key}", lag),
            )
    time.sleep(rng.random() * 0.02)
"""

PUBLISHER = r"""
import sys, time
from pathlib import Path
from keel.context import Context
from keel.publish.promote import StaleBatchError
with Context(Path(sys.argv[1])) as ctx:
    while True:
        try:
            ctx.promote("hubspot")
        except StaleBatchError:
            pass  # rows committed between the gate and the publish: the next loop takes them
        time.sleep(0.02)
"""


def _start(code: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
    )


def _kill(p: subprocess.Popen[bytes]) -> None:
    if p.poll() is None:
        p.send_signal(signal.SIGKILL)
    p.wait()
    err = (p.stderr.read() if p.stderr else b"").decode(errors="replace")
    if p.stderr:
        p.stderr.close()
    assert p.returncode == -signal.SIGKILL, f"a process died on its own:\n{err}"


def test_concurrent_loader_and_publisher_killed_at_random(
    pg_project: Callable[..., Path], pg_db: Any
) -> None:
    root = pg_project()
    for f in (root / "contracts").glob("*.yml"):
        f.unlink()
    spec = companies(on_fail="quarantine_rows")
    doc = {"version": 2, "sources": [{"name": "hubspot", "tables": [spec]}]}
    (root / "contracts" / "hubspot.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
    with Context(root) as ctx:
        ctx.apply()
    pg_db.sql(
        "CREATE SEQUENCE public.versions",
        f"CREATE TABLE hubspot_data_raw.companies (id text, name text, updated_at timestamptz, "
        f"{RAW_COLUMNS})",
    )
    rng = random.Random(int(os.environ.get("KEEL_CRASH_SEED", "14")))
    trials = int(os.environ.get("KEEL_CRASH_TRIALS", "20"))
    procs = {"loader": _start(LOADER), "publisher": _start(PUBLISHER, str(root))}
    again = {"loader": lambda: _start(LOADER), "publisher": lambda: _start(PUBLISHER, str(root))}
    try:
        for _ in range(trials):
            time.sleep(rng.uniform(0.3, 1.5))
            for name in rng.choice([["loader"], ["publisher"], ["loader", "publisher"]]):
                _kill(procs[name])
                procs[name] = again[name]()
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()
    for p in procs.values():
        _kill(p)  # killed above: it must not have died on its own before

    # the loader is gone: drain what is pending
    with Context(root) as ctx:
        for _ in range(3):
            ctx.promote("hubspot")

    raw = pg_db.rows("SELECT id, name, updated_at, _airbyte_raw_id FROM hubspot_data_raw.companies")
    assert len(raw) > 100
    newest: dict[str, tuple[Any, ...]] = {}
    for row in raw:
        if row[1] is not None and (row[0] not in newest or row[2] > newest[row[0]][2]):
            newest[row[0]] = row
    published = pg_db.rows(
        "SELECT id, name, updated_at, _airbyte_raw_id FROM hubspot_data.companies"
    )
    ids = [r[0] for r in published]
    assert len(ids) == len(set(ids)), "a key published twice"
    assert not [i for i in ids if i.startswith("bad")], "a row failing not_null was published"
    assert {r[0]: r for r in published} == newest, "a key's newest version is not the one published"

    judged = pg_db.rows("SELECT raw_id, count(*) FROM sophia_ops.keel_judged GROUP BY raw_id")
    assert all(n == 1 for _, n in judged), "a row judged twice"
    assert {r for r, _ in judged} == {r[3] for r in raw}, "a row was never judged"
    # the failing rows were kept aside (one per key and batch: the batch is deduplicated)
    quarantined = {r for (r,) in pg_db.rows("SELECT raw_id FROM sophia_ops.keel_quarantine")}
    assert quarantined <= {r[3] for r in raw if r[1] is None}
    assert {r[0] for r in raw if r[3] in quarantined} == {r[0] for r in raw if r[1] is None}
