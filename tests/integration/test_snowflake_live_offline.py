"""The live module's flow without an account: one HubSpot sync landed in _RAW through the
Snowflake adapter (tests/support/snowflake_landing, the code the live test runs), then gate
and promote on the Snowflake adapter over the stand-in (tests/support/snowflake_duck), so
the live test's landing SQL and its expectations are exercised on every run."""

from __future__ import annotations

from pathlib import Path

from tests.support.snowflake_duck import Warehouse
from tests.support.snowflake_landing import land_one_sync

from keel.adapters.snowflake import SnowflakeAdapter
from keel.context import Context
from keel.project.init import write_project


def test_the_live_flow_lands_gates_and_publishes_on_the_stand_in(tmp_path: Path) -> None:
    project = tmp_path / "sf"
    write_project(project)
    with Context(project) as ctx:
        ctx.apply()
    wh = Warehouse(project / ".keel" / "warehouse.duckdb")
    try:
        adapter = SnowflakeAdapter(wh.connect(), wh.database)
        with Context(project, adapter=adapter) as ctx:
            landed = land_one_sync(tmp_path / "local", ctx.adapter)
            report = ctx.promote("hubspot").to_dict()
        assert set(landed) == {"COMPANIES", "CONTACTS", "DEALS"}
        assert all(n > 0 for n in landed.values())
        inserts = [s for s in wh.log.statements if s.startswith('INSERT INTO "HUBSPOT_DATA_RAW"')]
        assert inserts and all("UNION ALL SELECT" in s or s.count("SELECT") == 1 for s in inserts)
        assert any("PARSE_JSON(?)" in s for s in inserts)  # _AIRBYTE_META, a VARIANT
        assert all("?" in s and "'" not in s for s in inserts)  # values only as binds
        streams = {s["stream"]: s for s in report["streams"]}
        assert streams["companies"]["status"] == "promoted"
        published = wh.root.execute(
            'SELECT count(*) FROM "SOPHIA"."HUBSPOT_DATA"."COMPANIES"'
        ).fetchall()[0][0]
        assert published == landed["COMPANIES"]
    finally:
        wh.close()
