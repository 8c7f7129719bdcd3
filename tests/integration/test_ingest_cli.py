"""keel ingest as a user runs it: demo sources into the _RAW schemas, incremental, faults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb


def _count(project: Path, table: str, where: str = "TRUE") -> int:
    con = duckdb.connect(str(project / ".keel/warehouse.duckdb"), read_only=True)
    try:
        return int(con.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()[0])
    finally:
        con.close()


def test_ingest_fills_the_raw_schemas_then_reads_only_new_rows(project: Path, keel: Any) -> None:
    assert keel("apply", "--yes", project=project).exit_code == 0
    first = keel("ingest", "--json", project=project)
    assert first.exit_code == 0, first.stderr
    streams = {
        f"{r['source']}.{s['stream']}": s for r in first.json()["sources"] for s in r["streams"]
    }
    assert len(streams) == 11
    assert all(s["committed"] == s["records"] > 0 for s in streams.values())
    before = _ids(project)
    assert len(before) == len(set(before)) <= streams["hubspot.contacts"]["committed"]
    assert _count(project, "HUBSPOT_DATA_RAW.CONTACTS", "_AIRBYTE_RAW_ID IS NULL") == 0
    # the second sync reads only records after the committed cursor
    second = keel("ingest", "hubspot", "--json", project=project).json()["sources"][0]
    new = {s["stream"]: s for s in second["streams"]}
    assert (
        new["contacts"]["state"]["updated_at"] > streams["hubspot.contacts"]["state"]["updated_at"]
    )
    latest = _count(
        project,
        "HUBSPOT_DATA_RAW.CONTACTS",
        f"UPDATED_AT > TIMESTAMP '{streams['hubspot.contacts']['state']['updated_at'][:19]}'",
    )
    # every row past the old cursor came from the second sync (updates of known ids included),
    # and nothing before it was read again
    assert 0 < latest <= new["contacts"]["records"]
    after = _ids(project)
    assert len(after) == len(set(after))  # Append + Deduped: one row per key
    assert set(before) <= set(after) and len(after) > len(before)
    # new tables are untagged until the next apply; then the audit is whole again
    assert keel("audit", project=project).exit_code == 1
    assert keel("apply", "--yes", project=project).exit_code == 0
    assert keel("audit", project=project).exit_code == 0


def _ids(project: Path) -> list[str]:
    con = duckdb.connect(str(project / ".keel/warehouse.duckdb"), read_only=True)
    try:
        return [r[0] for r in con.execute("SELECT ID FROM HUBSPOT_DATA_RAW.CONTACTS").fetchall()]
    finally:
        con.close()


def test_fault_option_injects_nulls(project: Path, keel: Any) -> None:
    keel("apply", "--yes", project=project)
    keel("ingest", "hubspot", project=project)
    r = keel(
        "ingest", "hubspot", "--fault", "null:hubspot.contacts.email:3", "--json", project=project
    )
    assert r.exit_code == 0, r.stderr
    assert _count(project, "HUBSPOT_DATA_RAW.CONTACTS", "EMAIL IS NULL") == 3


def test_bad_input_is_one_clear_message(project: Path, keel: Any) -> None:
    r = keel("ingest", "nope", project=project)
    assert (
        r.exit_code == 1 and "unknown source(s): nope" in r.stderr and "Traceback" not in r.stderr
    )
    r = keel("ingest", "--fault", "exploded:contacts", project=project)
    assert r.exit_code == 1 and "expected KIND:[SOURCE.]STREAM" in r.stderr
