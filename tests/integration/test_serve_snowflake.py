"""keel serve on Snowflake, end to end, without an account: the event service and the real
gate run on the Snowflake adapter over a recording connection (tests/support/snowflake_duck:
every statement recorded, then run on DuckDB holding one landed sync). Webhook in, the
event stored by MERGE with its body bound, gate and publish statements out, event done."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from tests.support.flows import load_raw
from tests.support.server import ServerThread, wait_until
from tests.support.snowflake_duck import Warehouse

from keel.adapters.snowflake import SnowflakeAdapter
from keel.context import Context
from keel.errors import KeelError
from keel.events.intake import MAX_TEXT
from keel.events.server import build

SHARED = Path(__file__).resolve().parents[1] / "fixtures" / "airbyte"  # Airbyte's examples
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "snowflake"
TOKEN = "sf-token"
IDS = {"hubspot": "conn-hubspot"}
EVENTS = '"SOPHIA"."SOPHIA_OPS"."KEEL_EVENTS"'


# a long value with a quote, under the intake's text cap (longer text is cut, issue 11)
NOTE = "x" * (MAX_TEXT - 100) + "'; DROP TABLE t; --"


def payload(job: int) -> bytes:
    body = json.loads((SHARED / "webhook-sync-succeeded.json").read_text())
    body["data"]["jobId"] = job
    body["data"]["connection"] = {"id": IDS["hubspot"], "name": "hubspot to warehouse"}
    body["data"]["note"] = NOTE
    return json.dumps(body).encode()


def snowflake(wh: Warehouse) -> SnowflakeAdapter:
    adapter = SnowflakeAdapter(wh.connect(), wh.database)
    adapter.reopen = lambda: SnowflakeAdapter(wh.connect(), wh.database)
    return adapter


@pytest.fixture
def warehouse(project: Path, monkeypatch: pytest.MonkeyPatch) -> Warehouse:
    monkeypatch.setenv("KEEL_WEBHOOK_TOKEN", TOKEN)
    load_raw(project, IDS)
    return Warehouse(project / ".keel" / "warehouse.duckdb")


def test_a_webhook_runs_the_gate_and_publishes_on_snowflake(
    project: Path, warehouse: Warehouse
) -> None:
    ctx = Context(project, adapter=snowflake(warehouse))
    app, service, _ = build(project, poll=False, context=ctx)
    with ServerThread(app) as srv, httpx.Client(base_url=srv.url, timeout=30) as http:
        r = http.post(f"/hooks/airbyte/{TOKEN}", content=payload(7))
        assert r.status_code == 202 and r.json()["status"] == "queued", r.text
        again = http.post(f"/hooks/airbyte/{TOKEN}", content=payload(7))
        assert again.json()["status"] == "duplicate"
        assert wait_until(lambda: service.queue_depth() == 0, 60)
    log = warehouse.log.statements
    stored = [s for s in log if s.startswith(f"MERGE INTO {EVENTS}")]
    assert len(stored) == 2  # the first stored the event, the repeat inserted nothing
    assert "WHEN NOT MATCHED THEN INSERT" in stored[0] and "DROP TABLE" not in "".join(log)
    assert any(NOTE in str(v) for _, values in warehouse.log.entries for v in values)  # bound

    # the gate: columns, watermarks, the pending window, results; then the publish
    assert any("information_schema.columns" in s for s in log)
    assert any('INTO "SOPHIA"."SOPHIA_OPS"."KEEL_DQ_RESULTS"' in s for s in log)
    # data tables are named in the session's database (the connection's ``database``);
    # the publish is read as its worker thread sent it (the alert outbox runs beside it)
    first = next(i for i, s in enumerate(log) if s.startswith('MERGE INTO "HUBSPOT_DATA"."COM'))
    log = warehouse.log.statements_of(warehouse.log.thread_of(first))
    merge = next(i for i, s in enumerate(log) if s.startswith('MERGE INTO "HUBSPOT_DATA"."COM'))
    begin = max(i for i in range(merge) if log[i] == "BEGIN")
    commit = next(i for i in range(merge, len(log)) if log[i] == "COMMIT")
    ddl = [
        i
        for i, s in enumerate(log)
        if s.startswith('CREATE TABLE IF NOT EXISTS "HUBSPOT_DATA"."COM')
    ]
    assert ddl and max(ddl) < begin  # DDL before the transaction: it would commit it
    inside = log[begin:commit]
    assert any(s.startswith('DELETE FROM "SOPHIA"."SOPHIA_OPS"."KEEL_WATERMARKS"') for s in inside)
    assert any(s.startswith('INSERT INTO "SOPHIA"."SOPHIA_OPS"."KEEL_WATERMARKS"') for s in inside)

    # the event is done; the companies batch was published, contacts (null emails) blocked
    done = warehouse.root.execute(
        f'SELECT "STATUS", "ERROR" FROM {EVENTS} WHERE "JOB_ID" = ?', ["7"]
    ).fetchall()
    assert done == [("done", "blocked")]
    published = warehouse.root.execute(
        'SELECT count(*) FROM "SOPHIA"."HUBSPOT_DATA"."COMPANIES"'
    ).fetchall()
    assert published[0][0] > 0
    assert not any(re.search(r"ON CONFLICT|RETURNING", s) for s in log)
    assert normalized(log[min(ddl) : commit + 1]) == golden("publish_companies.sql")
    warehouse.close()


def normalized(statements: list[str]) -> list[str]:
    """Statements with the run's timestamps and batch ids replaced by placeholders."""
    out = []
    for s in statements:
        s = re.sub(r"\d{8}T\d{6}-[0-9a-f]{8}", "<BATCH>", s)
        out.append(re.sub(r"'\d{4}-\d\d-\d\dT[\d:.]+\+00:00'", "<TS>", s))
    return out


def golden(name: str) -> list[str]:
    text = (GOLDEN / name).read_text()
    return [s.strip() for s in text.split(";\n") if s.strip()]


def test_a_failed_publish_on_snowflake_rolls_back(project: Path, warehouse: Warehouse) -> None:
    """The MERGE fails: ROLLBACK follows, the watermark has not moved, nothing is published."""
    warehouse.close()
    failing = Warehouse(
        project / ".keel" / "warehouse.duckdb", refuse=r'^MERGE INTO "HUBSPOT_DATA"'
    )
    with Context(project, adapter=snowflake(failing)) as ctx, pytest.raises(KeelError):
        ctx.promote("hubspot.companies")
    log = failing.log.statements
    merge = next(i for i, s in enumerate(log) if s.startswith('MERGE INTO "HUBSPOT_DATA"'))
    assert log[merge + 1] == "ROLLBACK"
    assert failing.root.execute(
        'SELECT count(*) FROM "SOPHIA"."SOPHIA_OPS"."KEEL_WATERMARKS"'
    ).fetchall() == [(0,)]
    assert failing.root.execute(
        'SELECT count(*) FROM "SOPHIA"."HUBSPOT_DATA"."COMPANIES"'
    ).fetchall() == [(0,)]
    failing.close()
