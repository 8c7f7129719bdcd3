"""On Snowflake a batch is what a table stream on the RAW table holds: created once, read by
the gate, consumed by the MERGE of the publish transaction (the offset moves when that
transaction commits, never on a read, never on a rollback: docs.snowflake.com
user-guide/streams-intro). Run on the recording stand-in (tests/support/snowflake_duck.py,
streams in tests/support/snowflake_streams.py). ``KEEL_WRITE_GOLDEN=1`` rewrites the golden
file after a deliberate change."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from tests.support.flows import load_raw
from tests.support.snowflake_duck import Warehouse

from keel.adapters.snowflake import SnowflakeAdapter
from keel.context import Context
from keel.errors import KeelError

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "snowflake" / "stream_batch.sql"
STREAM = '"SOPHIA_OPS"."KEEL_STREAM__HUBSPOT_DATA_RAW__COMPANIES"'
RAW = '"SOPHIA"."HUBSPOT_DATA_RAW"."COMPANIES"'


@pytest.fixture
def warehouse(project: Path) -> Warehouse:
    load_raw(project)
    return Warehouse(project / ".keel" / "warehouse.duckdb")


def _adapter(wh: Warehouse) -> SnowflakeAdapter:
    adapter = SnowflakeAdapter(wh.connect(), wh.database)
    adapter.reopen = lambda: SnowflakeAdapter(wh.connect(), wh.database)
    return adapter


def _has_data(wh: Warehouse, table: str = "COMPANIES") -> bool:
    name = f'"SOPHIA"."SOPHIA_OPS"."KEEL_STREAM__HUBSPOT_DATA_RAW__{table}"'
    cur = wh.connect().cursor().execute(f"SELECT SYSTEM$STREAM_HAS_DATA('{name}')")
    return bool(cur.fetchall()[0][0])


def _one(wh: Warehouse, sql: str) -> Any:
    return wh.root.execute(sql).fetchall()[0][0]


def _normalized(statements: list[str]) -> list[str]:
    out = []
    for s in statements:
        s = re.sub(r"\d{8}T\d{6}-[0-9a-f]{8}", "<BATCH>", s)
        out.append(re.sub(r"'\d{4}-\d\d-\d\dT[\d:.]+\+00:00'", "<TS>", s))
    return out


def test_the_stream_is_consumed_in_the_publish_transaction(
    project: Path, warehouse: Warehouse
) -> None:
    wh = warehouse
    with Context(project, adapter=_adapter(wh)) as ctx:
        first = ctx.promote("hubspot")
        assert first.stream("companies").status == "promoted"
        assert first.stream("contacts").status == "blocked"  # two null emails
        published = _one(wh, 'SELECT count(*) FROM "SOPHIA"."HUBSPOT_DATA"."COMPANIES"')
        assert published > 0
        assert not _has_data(wh)  # consumed by the MERGE's commit
        assert _has_data(wh, "CONTACTS")  # blocked: nothing consumed it, its rows wait

        # a row committed now with an extraction time long before the watermark
        wh.root.execute(
            f"""INSERT INTO {RAW} SELECT 'late-1', "NAME", "DOMAIN", "INDUSTRY",
            "ANNUAL_REVENUE", "UPDATED_AT", 'raw-late-1', TIMESTAMPTZ '2000-01-01 00:00:00+00',
            "_AIRBYTE_META", "_AIRBYTE_GENERATION_ID" FROM {RAW} LIMIT 1"""
        )
        assert _has_data(wh)
        start = len(wh.log.statements)
        late = ctx.promote("hubspot.companies")
        assert late.stream("companies").status == "promoted"
        assert late.stream("companies").batch.rows == 1
        log = wh.log.statements[start:]
        assert _one(wh, 'SELECT count(*) FROM "SOPHIA"."HUBSPOT_DATA"."COMPANIES"') == (
            published + 1
        )
        assert not _has_data(wh)
        assert ctx.promote("hubspot.companies").stream("companies").status == "empty"

    create = next(s for s in log if s.startswith("CREATE STREAM"))
    probe = next(s for s in log if s.startswith("SELECT 'hubspot.companies' AS k"))
    merge_at = next(i for i, s in enumerate(log) if s.startswith('MERGE INTO "HUBSPOT_DATA"'))
    begin = max(i for i in range(merge_at) if log[i] == "BEGIN")
    commit = log.index("COMMIT", merge_at)
    got = _normalized([create, probe, *log[begin : commit + 1]])
    assert f"FROM {STREAM} WHERE" in got[1]
    merge = next(s for s in got if s.startswith("MERGE INTO"))
    assert f"FROM {STREAM} " in merge and '_AIRBYTE_EXTRACTED_AT" <=' not in merge
    if os.environ.get("KEEL_WRITE_GOLDEN"):
        GOLDEN.write_text(";\n".join(got) + ";\n")
    expected = [s.strip() for s in GOLDEN.read_text().split(";\n") if s.strip()]
    assert got == expected
    wh.close()


def test_a_rolled_back_publish_leaves_the_stream_where_it_was(
    project: Path, warehouse: Warehouse
) -> None:
    warehouse.close()
    failing = Warehouse(
        project / ".keel" / "warehouse.duckdb", refuse=r'^MERGE INTO "HUBSPOT_DATA"'
    )
    with Context(project, adapter=_adapter(failing)) as ctx, pytest.raises(KeelError):
        ctx.promote("hubspot.companies")
    assert _has_data(failing)
    log = failing.log.statements
    assert log[-1] == "ROLLBACK" or "ROLLBACK" in log[-3:]
    failing.close()
