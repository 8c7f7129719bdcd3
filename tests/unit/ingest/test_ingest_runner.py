"""ingest_source end to end: demo connector subprocess -> DuckDB RAW tables."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import duckdb
import pytest
from ingest_fakes import catalog_message, record, state

from keel.errors import IngestError
from keel.ingest.demo import clean_records, latest_versions, parse_config, read, timestamp
from keel.ingest.results import IngestFailed, ProgressEvent
from keel.ingest.runner import demo_command, ingest_source


def _ingest(conn: duckdb.DuckDBPyConnection, source: str, config: dict[str, Any], **kw: Any) -> Any:
    return ingest_source(
        conn, source=source, command=demo_command(source), config=config, batch_rows=50, **kw
    )


def _table(
    conn: duckdb.DuckDBPyConnection, table: str, cols: str = "ID, UPDATED_AT"
) -> dict[Any, Any]:
    rows = conn.execute(f"SELECT {cols} FROM {table}").fetchall()
    return {r[0]: r[1:] for r in rows}


def _ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_two_runs_land_the_deduplicated_sequence(conn: duckdb.DuckDBPyConnection) -> None:
    events: list[ProgressEvent] = []
    config = {"records_per_sync": 120, "state_every": 25}
    first = _ingest(conn, "slack", config, progress=events.append)
    assert [s.stream for s in first.streams] == ["channels", "users", "messages"]
    assert first.records == first.committed == 360
    second = _ingest(conn, "slack", config)
    assert second.stream("messages").state == {"updated_at": "2026-01-01T00:03:59Z"}
    for stream in ("channels", "users", "messages"):
        expected = latest_versions(clean_records("slack", stream, 42, 0, 240))
        got = _table(conn, f"SLACK_DATA_RAW.{stream.upper()}")
        assert got == {k: (_ts(v["updated_at"]),) for k, v in expected.items()}
    kinds = {e.kind for e in events}
    assert {"discovered", "log", "progress", "committed", "finished"} <= kinds
    assert any(e.kind == "log" and "reading slack.channels" in (e.message or "") for e in events)
    assert json.loads(json.dumps(second.to_dict()))["streams"][0]["records"] == 120


def test_selected_streams_only(conn: duckdb.DuckDBPyConnection) -> None:
    result = _ingest(conn, "gong", {"records_per_sync": 10}, streams=["users"])
    assert [s.stream for s in result.streams] == ["users"]
    tables = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'GONG_DATA_RAW'"
    ).fetchall()
    assert tables == [("USERS",)]
    with pytest.raises(IngestError, match="did you mean 'calls'"):
        _ingest(conn, "gong", {}, streams=["call"])


def test_connector_failure_keeps_and_reports_what_was_committed(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    config = {"records_per_sync": 100, "state_every": 20, "fail_after": 130}
    with pytest.raises(IngestFailed) as info:
        _ingest(conn, "hubspot", config)
    err = info.value
    assert "failed on purpose after 130 records" in str(err)
    assert "companies 100, contacts 20, deals 0" in str(err)
    assert err.result.stream("contacts").uncommitted == 10
    assert err.result.to_dict()["status"] == "failed"
    committed = latest_versions(clean_records("hubspot", "contacts", 42, 0, 20))
    assert set(_table(conn, "HUBSPOT_DATA_RAW.CONTACTS")) == set(committed)  # positions 0-19
    # the next run resumes from the committed state and loses nothing
    _ingest(conn, "hubspot", {"records_per_sync": 100, "state_every": 20})
    expected = latest_versions(clean_records("hubspot", "contacts", 42, 0, 120))
    assert set(_table(conn, "HUBSPOT_DATA_RAW.CONTACTS")) == set(expected)


def test_record_that_does_not_fit_its_schema(
    conn: duckdb.DuckDBPyConnection, fake_connector: list[str]
) -> None:
    props = {
        "id": {"type": "integer"},
        "qty": {"type": "integer"},
        "updated_at": {"type": "string"},
    }
    lines = [record("orders", {"id": n, "qty": n, "updated_at": str(n)}) for n in range(5)]
    # a key that does not fit (a value of another field would be nulled: Destinations V2)
    lines += [state("orders", "4"), record("orders", {"id": "five", "qty": 5, "updated_at": "5"})]
    lines += [state("orders", "5")]
    config = {
        "api_token": "hunter2",
        "discover": {"stdout": [catalog_message({"orders": props})]},
        "read": {"stdout": lines},
    }
    with pytest.raises(IngestFailed) as info:
        ingest_source(conn, source="shop", command=fake_connector, config=config, batch_rows=1)
    text = str(info.value)
    assert "stream 'orders': field 'id'" in text
    assert "record with id='five'" in text
    assert "committed before the failure (records): orders 5" in text
    assert "hunter2" not in text
    assert conn.execute("SELECT count(*) FROM SHOP_DATA_RAW.ORDERS").fetchone() == (5,)


def test_faults_land_in_raw_as_the_source_sent_them(conn: duckdb.DuckDBPyConnection) -> None:
    _ingest(conn, "slack", {"records_per_sync": 40})
    faults = [
        {"kind": "new_column", "stream": "users", "column": "timezone"},
        {"kind": "removed_column", "stream": "users", "column": "email"},
        {"kind": "duplicate_pk", "stream": "channels", "count": 2},
        {"kind": "orphan_fk", "stream": "messages", "count": 4},
    ]
    result = _ingest(conn, "slack", {"records_per_sync": 40, "faults": faults})
    users = result.stream("users")
    assert users.new_columns == ["TIMEZONE"]
    assert users.records == 40
    emails = conn.execute(
        "SELECT count(*) FILTER (WHERE EMAIL IS NULL), count(*) FILTER (WHERE TIMEZONE IS NOT NULL)"
        " FROM SLACK_DATA_RAW.USERS"
    ).fetchone()
    touched = len(latest_versions(clean_records("slack", "users", 42, 40, 80)))
    assert emails == (touched, touched)  # rows of the second sync: no email, a timezone
    channels = conn.execute("SELECT ID, count(*) FROM SLACK_DATA_RAW.CHANNELS GROUP BY ID")
    assert all(n == 1 for _, n in channels.fetchall())
    assert result.stream("channels").records == 42  # 40 + 2 twins, deduplicated
    orphans = conn.execute(
        "SELECT count(*) FROM SLACK_DATA_RAW.MESSAGES m "
        "WHERE NOT EXISTS (SELECT 1 FROM SLACK_DATA_RAW.CHANNELS c WHERE c.ID = m.CHANNEL_ID)"
    ).fetchone()
    # what the source sent in the second sync, deduplicated over both syncs, as RAW keeps it
    config = parse_config("slack", {"records_per_sync": 40, "faults": faults})
    resume = [{"stream": {"stream_descriptor": {"name": "messages"},
                          "stream_state": {"updated_at": timestamp(39)}}}]  # fmt: skip
    catalog = {"streams": [{"stream": {"name": "messages"}, "sync_mode": "incremental"}]}
    sent = [m["record"]["data"] for m in read(config, catalog, resume) if m["type"] == "RECORD"]
    kept = latest_versions(clean_records("slack", "messages", 42, 0, 40) + sent)
    channels = set(_table(conn, "SLACK_DATA_RAW.CHANNELS"))
    expected = sum(m["channel_id"] not in channels for m in kept.values())
    assert orphans == (expected,)
    assert 1 <= expected <= 4  # an orphan may be replaced by a later clean update
