"""Golden SQL for keel's own tables on Snowflake (tests/golden/snowflake/*.sql): the event
store's statements, run through the Snowflake adapter on a recording connection
(tests/support/snowflake_duck), which also refuses what Snowflake refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.events import Event
from tests.support.snowflake_duck import Warehouse

from keel.adapters.snowflake import SnowflakeAdapter
from keel.batch.events import EventStore
from keel.errors import WarehouseError

GOLDEN = Path(__file__).parent / "snowflake"


def golden(name: str) -> list[str]:
    return [s.strip() for s in (GOLDEN / name).read_text().split(";\n") if s.strip()]


@pytest.fixture
def wh(tmp_path: Path) -> Warehouse:
    wh = Warehouse(tmp_path / "sf.duckdb")
    a = SnowflakeAdapter(wh.connect(), wh.database)
    for statement in a.bootstrap_sql():
        a.execute(statement)
    wh.log.entries.clear()
    wh.log.threads.clear()
    return wh


def test_event_store_statements(wh: Warehouse) -> None:
    store = EventStore(SnowflakeAdapter(wh.connect(), wh.database))
    body = '{"data": {"jobId": 7}}'
    assert store.record_many(
        [(Event("airbyte-job-7", "7", "conn-1", "HubSpot"), "hubspot", body, "queued")]
    ) == {"airbyte-job-7"}
    again = [(Event("airbyte-job-7", "7", "conn-1", "HubSpot"), "hubspot", body, "queued")]
    assert store.record_many(again) == set()
    store.set_status(["airbyte-job-7"], "running")
    store.set_status(["airbyte-job-7"], "done", "blocked")
    assert store.kinds(["airbyte-job-7"]) == {"airbyte-job-7": "sync_succeeded"}
    assert [e.status for e in store.open_events()] == []
    assert wh.log.statements == golden("event_store.sql")
    bound = [values for sql, values in wh.log.entries if values]
    assert bound[0] == (
        "airbyte-job-7",
        "7",
        "conn-1",
        "HubSpot",
        "sync_succeeded",
        "hubspot",
        body,
        "queued",
        None,
        None,
    )


def test_the_stand_in_refuses_what_snowflake_refuses(wh: Warehouse) -> None:
    a = SnowflakeAdapter(wh.connect(), wh.database)
    with pytest.raises(WarehouseError, match="ON CONFLICT"):
        a.execute('INSERT INTO "T" VALUES (1) ON CONFLICT DO NOTHING')
    a.begin()
    with pytest.raises(WarehouseError, match="DDL inside an open transaction"):
        a.execute('CREATE TABLE "SOPHIA_OPS"."X" ("A" VARCHAR)')
    a.rollback()
