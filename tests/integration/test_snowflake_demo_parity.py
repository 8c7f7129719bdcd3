"""The Sophia demo flow gives the same gate verdicts and published counts through the
Snowflake adapter's SQL as on DuckDB (issue 12, "Done when", last bullet).

Two copies of the demo project ingest the same deterministic demo data on DuckDB (ingest
is Airbyte's job in production). One gates and publishes every demo source on the DuckDB
adapter; the other on the Snowflake adapter over tests/support/snowflake_duck, which runs
the SQL keel sends Snowflake (qmark binds, no ON CONFLICT / RETURNING / FILTER, no DDL
inside a transaction, Snowflake literal escapes) on the same kind of data. Both run the
demo's two syncs: sync 1 clean, sync 2 with HubSpot contact faults and a new Gong column."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tests.support.snowflake_duck import Warehouse

from keel.adapters.snowflake import SnowflakeAdapter
from keel.context import Context
from keel.demo import SYNC2_FAULTS
from keel.project.init import write_project
from keel.sql import DUCKDB, quote


def outcome(reports: list[Any]) -> dict[str, Any]:
    """Per stream: verdict, each check's status and failing rows, batch and published rows."""
    out: dict[str, Any] = {}
    for report in reports:
        for s in report.to_dict()["streams"]:
            batch = s["batch"]
            out[f"{report.source}.{s['stream']}"] = {
                "status": s["status"],
                "checks": sorted(
                    (c["name"], c["column"] or "", c["status"], c["failing_rows"])
                    for c in s["checks"]
                ),
                "rows": batch.get("rows"),
                "published": batch.get("published_rows"),
            }
    return out


SENT: list[str] = []  # what the Snowflake side sent, to show it ran Snowflake's SQL


def promote_all(project: Path, snowflake: bool) -> dict[str, Any]:
    if not snowflake:
        with Context(project) as ctx:
            return outcome([ctx.promote(source) for source in ctx.project.sources])
    wh = Warehouse(project / ".keel" / "warehouse.duckdb")
    try:
        adapter = SnowflakeAdapter(wh.connect(), wh.database)
        with Context(project, adapter=adapter) as ctx:
            return outcome([ctx.promote(source) for source in ctx.project.sources])
    finally:
        SENT.extend(wh.log.statements)
        wh.close()


def counts(project: Path) -> dict[str, int]:
    """Rows in every promoted table, read from the warehouse file itself."""
    import duckdb

    con = duckdb.connect(str(project / ".keel" / "warehouse.duckdb"), read_only=True)
    try:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema LIKE '%\\_DATA' ESCAPE '\\' ORDER BY 1, 2"
        ).fetchall()
        return {
            f"{s}.{t}": con.execute(
                f"SELECT count(*) FROM {quote(s, 'ident', DUCKDB)}.{quote(t, 'ident', DUCKDB)}"
            ).fetchone()[0]
            for s, t in tables
        }
    finally:
        con.close()


def ingest(project: Path, faults: dict[str, Any] | None = None) -> None:
    with Context(project) as ctx:
        ctx.ingest(faults=faults)
        ctx.apply()


def test_the_demo_flow_gives_the_same_verdicts_and_counts_on_snowflake(tmp_path: Path) -> None:
    SENT.clear()
    duck, snow = tmp_path / "duck", tmp_path / "snow"
    write_project(duck, engine="duckdb")
    with Context(duck) as ctx:
        ctx.apply()
    ingest(duck)
    shutil.copytree(duck, snow)  # the same landed sync 1 on both

    first = promote_all(duck, snowflake=False), promote_all(snow, snowflake=True)
    assert first[0] == first[1]
    assert {s["status"] for s in first[0].values()} == {"promoted"}
    assert counts(duck) == counts(snow) and sum(counts(duck).values()) > 0

    ingest(duck, SYNC2_FAULTS)
    ingest(snow, SYNC2_FAULTS)
    second = promote_all(duck, snowflake=False), promote_all(snow, snowflake=True)
    assert second[0] == second[1]
    contacts = second[1]["hubspot.contacts"]
    assert contacts["status"] == "blocked"
    assert {(n, c) for n, c, st, _ in contacts["checks"] if st == "fail"} == {
        ("not_null", "email"),
        ("accepted_values", "lifecycle_stage"),
        ("relationships", "company_id"),
    }
    assert counts(duck) == counts(snow)
    merges = [x for x in SENT if x.startswith("MERGE INTO ")]
    assert len({m.split()[2] for m in merges}) >= len(first[0])  # every stream's table
