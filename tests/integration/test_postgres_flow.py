"""keel's whole flow on PostgreSQL: the RAW writer, then ``keel demo``'s steps with the same
verdicts as on DuckDB.

Uses the PostgreSQL fixtures of ``tests/integration/conftest.py`` (a fresh database and
role prefix per test; skipped without a server, failing under CI).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from keel.adapters.postgres import PostgresAdapter
from keel.demo import run_demo
from keel.errors import IngestError
from keel.ingest.writer import RawWriter, StreamSpec

pytestmark = pytest.mark.postgres

SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": ["null", "string"]},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}
T0, T1, T2 = "2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z"


def _state(cursor: str) -> dict[str, Any]:
    return {
        "type": "STREAM",
        "stream": {"stream_descriptor": {"name": "orders"}, "stream_state": {"updated_at": cursor}},
    }


class Clock:
    """A fixed clock the test moves by hand (no wall-clock time)."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def adapter(pg_db: Any) -> Iterator[PostgresAdapter]:
    pg = PostgresAdapter(dsn=pg_db.admin_dsn)
    yield pg
    pg.close()


def _writer(
    adapter: PostgresAdapter,
    schema: dict[str, Any] = SCHEMA,
    *,
    clock: Clock | None = None,
    batch_rows: int = 1,
) -> RawWriter:
    writer = RawWriter(adapter, source="shop", sync_id=7, batch_rows=batch_rows, clock=clock)
    writer.open([StreamSpec("orders", schema, ("id",), "updated_at")])
    return writer


def _state_row(pg_db: Any) -> tuple[Any, ...]:
    rows = pg_db.rows(
        "SELECT state, records FROM sophia_ops.keel_state "
        "WHERE source = 'shop' AND stream = 'orders'"
    )
    return (json.loads(rows[0][0]), rows[0][1]) if rows else ()


def test_pg_writer_dedups_by_cursor_then_extraction(adapter: PostgresAdapter, pg_db: Any) -> None:
    clock = Clock()
    w = _writer(adapter, clock=clock, batch_rows=100)
    # one batch: two versions of id 1 (the newer cursor wins, whatever the arrival order),
    # two of id 2 with the same cursor (the later arrival wins)
    w.record("orders", {"id": 1, "name": "new", "updated_at": T1})
    w.record("orders", {"id": 1, "name": "old", "updated_at": T0})
    w.record("orders", {"id": 2, "name": "first", "updated_at": T0})
    w.record("orders", {"id": 2, "name": "second", "updated_at": T0})
    w.state("orders", _state(T1))
    w.finish(success=True)
    assert pg_db.rows("SELECT id, name FROM shop_data_raw.orders ORDER BY id") == [
        (1, "new"),
        (2, "second"),
    ]
    # a later sync: an older cursor for id 1 loses, an equal cursor for id 2 wins (extracted
    # later), id 3 is new; the replaced row carries the new extraction time
    clock.now += dt.timedelta(hours=1)
    w = _writer(adapter, clock=clock, batch_rows=100)
    w.record("orders", {"id": 1, "name": "stale", "updated_at": T0})
    w.record("orders", {"id": 2, "name": "third", "updated_at": T0})
    w.record("orders", {"id": 3, "name": "c", "updated_at": T2})
    w.state("orders", _state(T2))
    w.finish(success=True)
    rows = pg_db.rows(
        "SELECT id, name, _airbyte_extracted_at, _airbyte_generation_id, "
        "_airbyte_meta ->> 'sync_id', length(_airbyte_raw_id) "
        "FROM shop_data_raw.orders ORDER BY id"
    )
    first, second = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC), clock.now
    assert [r[:3] for r in rows] == [(1, "new", first), (2, "third", second), (3, "c", second)]
    assert {r[3:] for r in rows} == {(0, "7", 36)}
    types = pg_db.rows(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'shop_data_raw' AND table_name = 'orders' ORDER BY ordinal_position"
    )
    assert types == [
        ("id", "bigint"),
        ("name", "text"),
        ("updated_at", "timestamp with time zone"),
        ("_airbyte_raw_id", "text"),
        ("_airbyte_extracted_at", "timestamp with time zone"),
        ("_airbyte_meta", "jsonb"),
        ("_airbyte_generation_id", "bigint"),
    ]


def test_pg_writer_commits_state_with_its_records_and_resumes(
    adapter: PostgresAdapter, pg_db: Any
) -> None:
    w = _writer(adapter, batch_rows=2)
    w.record("orders", {"id": 1, "name": "a", "updated_at": T0})
    w.state("orders", _state(T0))  # 1 covered record < batch_rows: not committed yet
    assert _state_row(pg_db) == ()
    w.record("orders", {"id": 2, "name": "b", "updated_at": T1})
    w.state("orders", _state(T1))  # 2 covered: records and state in one transaction
    assert _state_row(pg_db) == (_state(T1), 2)
    w.record("orders", {"id": 3, "name": "c", "updated_at": T2})  # no STATE covers it
    w.finish(success=False)
    assert pg_db.rows("SELECT id FROM shop_data_raw.orders ORDER BY id") == [(1,), (2,)]
    assert _state_row(pg_db) == (_state(T1), 2)
    # the next run starts from the committed state
    again = _writer(adapter)
    assert again.committed_states == {"orders": _state(T1)}
    assert again.results()["orders"].state == {"updated_at": T1}


def test_pg_writer_bad_value_commits_nothing_and_names_the_field(
    adapter: PostgresAdapter, pg_db: Any
) -> None:
    w = _writer(adapter, batch_rows=2)
    w.record("orders", {"id": 1, "name": "a", "updated_at": T0})
    w.record("orders", {"id": 2, "name": "b", "updated_at": "not a time"})
    with pytest.raises(IngestError, match="field 'updated_at' has 1 value"):
        w.state("orders", _state(T1))
    assert pg_db.rows("SELECT count(*) FROM shop_data_raw.orders") == [(0,)]
    assert _state_row(pg_db) == ()
    assert pg_db.rows("SELECT count(*) FROM pg_tables WHERE schemaname LIKE 'pg_temp%'") == [(0,)]


def test_pg_writer_evolves_the_table(adapter: PostgresAdapter, pg_db: Any) -> None:
    w = _writer(adapter)
    w.record("orders", {"id": 1, "name": "a", "updated_at": T0})
    w.state("orders", _state(T0))
    w.finish(success=True)
    # the schema gains a property and id widens to number; a record brings an undeclared one
    wider = {
        "type": "object",
        "properties": {
            **SCHEMA["properties"],
            "id": {"type": "number"},
            "email": {"type": ["null", "string"]},
        },
    }
    w = _writer(adapter, wider)
    result = w.results()["orders"]
    assert result.new_columns == ["EMAIL"]
    assert result.widened_columns == ["ID: BIGINT -> DOUBLE"]
    w.record("orders", {"id": 2.5, "name": "b", "updated_at": T1, "email": "x@y", "tier": 3})
    w.state("orders", _state(T1))
    w.finish(success=True)
    assert pg_db.rows("SELECT id, name, email, tier FROM shop_data_raw.orders ORDER BY id") == [
        (1.0, "a", None, None),
        (2.5, "b", "x@y", 3),
    ]
    types = dict(
        pg_db.rows(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'shop_data_raw' AND table_name = 'orders'"
        )
    )
    assert (types["id"], types["email"], types["tier"]) == ("double precision", "text", "bigint")


# ---- the demo flow on both engines ---------------------------------------------------------


def _verdicts(out: dict[str, Any]) -> dict[str, Any]:
    """What the demo decided, engine-independent: statuses, failing checks, row counts."""

    def streams(key: str) -> dict[str, dict[str, Any]]:
        return {f"{x['source']}.{s['stream']}": s for x in out[key] for s in x["streams"]}

    sync1, sync2 = streams("sync1"), streams("sync2")
    contacts = sync2["hubspot.contacts"]
    return {
        "sync1_status": {k: s["status"] for k, s in sync1.items()},
        "sync2_status": {k: s["status"] for k, s in sync2.items()},
        "contacts_failing": sorted(
            (c["name"], c["column"], c["failing_rows"])
            for c in contacts["checks"]
            if c["status"] == "fail"
        ),
        "sync1_published": {
            k: (s.get("batch") or {}).get("published_rows") for k, s in sync1.items()
        },
        "sync2_published": {
            k: (s.get("batch") or {}).get("published_rows") for k, s in sync2.items()
        },
        "records": (out["sync1_records"], out["sync2_records"]),
        "classified": [(c["object"], c["tag"]) for c in out["classified"]],
        "coverage": {
            k: out["audit"]["tag_coverage"][k]["percent"] for k in ("tables", "critical_columns")
        },
    }


def test_demo_flow_has_the_same_verdicts_on_postgres_and_duckdb(
    pg_project: Callable[..., Path], pg_db: Any, tmp_path: Path
) -> None:
    duck = _verdicts(run_demo(tmp_path / "duck"))
    pg = _verdicts(run_demo(pg_project(), write=False))

    # DuckDB's verdicts are the ones test_demo.py asserts; PostgreSQL's are the same
    assert set(duck["sync1_status"].values()) == {"promoted"}
    assert duck["sync2_status"]["hubspot.contacts"] == "blocked"
    assert duck["contacts_failing"] == [
        ("accepted_values", "lifecycle_stage", 1),
        ("not_null", "email", 1),
        ("relationships", "company_id", 1),
    ]
    assert duck["coverage"] == {"tables": 100.0, "critical_columns": 100.0}
    for key in duck:
        assert pg[key] == duck[key], key

    # and the warehouse holds what the verdicts say
    published = pg["sync1_published"]["hubspot.contacts"]
    assert published and pg_db.rows("SELECT count(*) FROM hubspot_data.contacts") == [(published,)]
    assert pg_db.rows(
        "SELECT count(*) FROM hubspot_data.contacts "
        "WHERE email IS NULL OR lifecycle_stage = 'Subscriber'"
    ) == [(0,)]
    # publish created the table and, in the same transaction, served it through keel's
    # masking view: its data is in the base schema, APP reads the promoted name masked
    assert pg_db.rows("SELECT count(*) FROM hubspot_data_base.contacts") == [(published,)]
    app = pg_db.login("u_app", pg_db.role("SOPHIA_AI_APP_ROLE"))
    with psycopg.connect(app) as conn:
        masked = conn.execute(
            b"SELECT count(*) FROM hubspot_data.contacts WHERE email = '***MASKED***'"
        ).fetchall()
    assert masked == [(published,)]
    assert pg_db.rows(
        "SELECT status FROM sophia_ops.keel_batches WHERE stream = 'contacts' ORDER BY created_at"
    ) == [("promoted",), ("blocked",)]
    assert pg_db.rows(
        "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'gong_data_raw' "
        "AND table_name = 'calls' AND column_name = 'customer_email'"
    ) == [(1,)]


def test_publish_on_postgres_leaves_no_drift_for_the_next_apply(
    pg_project: Callable[..., Path],
) -> None:
    out = run_demo(pg_project(), write=False)
    assert out["corrected"] == []


@pytest.mark.postgres
def test_a_forked_postgres_connection_is_independent(pg_project: Callable[..., Path]) -> None:
    from keel.context import Context

    with Context(pg_project()) as ctx:
        ctx.apply()
        worker = ctx.fork()
        try:
            assert worker.adapter is not ctx.adapter
            worker.adapter.begin()
            worker.adapter.execute('CREATE TABLE "sophia_ops"."fork_probe" (x int)')
            # not committed: the main connection does not see it
            seen = ctx.adapter.fetch(
                "SELECT count(*) FROM pg_tables WHERE tablename = 'fork_probe'"
            )
            assert seen == [(0,)]
            worker.adapter.rollback()
        finally:
            worker.close()
