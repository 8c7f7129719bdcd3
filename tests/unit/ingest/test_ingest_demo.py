"""The demo sources: determinism, realistic clean data, and every fault switch."""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from keel.errors import IngestError
from keel.ingest.demo import source as demo
from keel.ingest.demo.__main__ import main
from keel.ingest.demo.faults import accepted_values, parent_of, parse_fault_option
from keel.project.sophia import STREAMS

Message = dict[str, Any]


def _configured(source: str, streams: list[str] | None = None) -> dict[str, Any]:
    names = streams or list(STREAMS[source])
    return {"streams": [{"stream": {"name": n}, "sync_mode": "incremental"} for n in names]}


def _read(source: str, raw: dict[str, Any], state: object = None) -> list[Message]:
    config = demo.parse_config(source, raw)
    return list(demo.read(config, _configured(source), state))


def _records(messages: list[Message], stream: str | None = None) -> list[dict[str, Any]]:
    return [
        m["record"]["data"]
        for m in messages
        if m["type"] == "RECORD" and (stream is None or m["record"]["stream"] == stream)
    ]


def _states(messages: list[Message]) -> list[Message]:
    return [m["state"] for m in messages if m["type"] == "STATE"]


def _next_state(messages: list[Message]) -> list[Message]:
    """The last STATE per stream, as the --state file of the next read."""
    last: dict[str, Message] = {}
    for s in _states(messages):
        last[s["stream"]["stream_descriptor"]["name"]] = s
    return list(last.values())


def _strip(messages: list[Message]) -> list[Message]:
    out = []
    for m in messages:
        if m["type"] == "RECORD":
            m = {**m, "record": {**m["record"], "emitted_at": 0}}
        out.append(m)
    return out


def test_same_config_same_output_other_seed_other_data() -> None:
    raw = {"records_per_sync": 60, "seed": 7}
    assert _strip(_read("hubspot", raw)) == _strip(_read("hubspot", raw))
    other = _records(_read("hubspot", {**raw, "seed": 8}))
    assert other != _records(_read("hubspot", raw))


@pytest.mark.parametrize("source", list(STREAMS))
def test_records_fit_the_contract_columns_and_types(source: str) -> None:
    messages = _read(source, {"records_per_sync": 40})
    for stream, spec in STREAMS[source].items():
        rows = _records(messages, stream)
        assert len(rows) == 40
        for row in rows:
            assert list(row) == [c["name"] for c in spec["columns"]]
            for c in spec["columns"]:
                _assert_type(row[c["name"]], c["data_type"])


def _assert_type(value: Any, data_type: str) -> None:
    if data_type == "varchar":
        assert isinstance(value, str) and value
    elif data_type == "bigint":
        assert isinstance(value, int) and not isinstance(value, bool)
    elif data_type == "double":
        assert isinstance(value, float)
    elif data_type == "boolean":
        assert isinstance(value, bool)
    elif data_type == "timestamp":
        assert dt.datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None
    elif data_type == "date":
        dt.date.fromisoformat(value)


@pytest.mark.parametrize("source", list(STREAMS))
def test_clean_data_holds_relationships_and_accepted_values_over_syncs(source: str) -> None:
    state: list[Message] | None = None
    ids: dict[str, set[str]] = {s: set() for s in STREAMS[source]}
    for _sync in range(3):
        messages = _read(source, {"records_per_sync": 150}, state)
        for stream in STREAMS[source]:
            ids[stream] |= {r["id"] for r in _records(messages, stream)}
        for stream, spec in STREAMS[source].items():
            rows = _records(messages, stream)
            for c in spec["columns"]:
                allowed, parent = accepted_values(c), parent_of(c)
                values = {r[c["name"]] for r in rows}
                if allowed:
                    assert values <= set(allowed), (stream, c["name"])
                if parent:
                    assert values <= ids[parent], (stream, c["name"])
        state = _next_state(messages)


def test_sequence_has_updates_ordered_by_cursor_and_resumes_from_state() -> None:
    first = _read("slack", {"records_per_sync": 100, "state_every": 30})
    rows = _records(first, "channels")
    cursors = [r["updated_at"] for r in rows]
    assert cursors == sorted(cursors) and len(set(cursors)) == len(cursors)
    assert len({r["id"] for r in rows}) == 90  # every tenth record updates an earlier id
    states = [s for s in _states(first) if s["stream"]["stream_descriptor"]["name"] == "channels"]
    assert [s["stream"]["stream_state"]["updated_at"] for s in states] == [
        cursors[29],
        cursors[59],
        cursors[89],
        cursors[99],
    ]
    second = _read("slack", {"records_per_sync": 100}, _next_state(first))
    assert _records(second, "channels") == demo.clean_records("slack", "channels", 42, 100, 200)


def test_realistic_values() -> None:
    messages = _read("netsuite", {"records_per_sync": 30})
    employees = _records(messages, "employees")
    assert all(re.fullmatch(r"\d{3}-\d{2}-\d{4}", e["ssn"]) for e in employees)
    assert all(re.fullmatch(r"[a-z.0-9]+@northwind\.com", e["email"]) for e in employees)
    customers = _records(messages, "customers")
    assert all(re.fullmatch(r"\+1 \d{3} 555 \d{4}", c["phone"]) for c in customers)
    calls = _records(_read("gong", {"records_per_sync": 5}), "calls")
    assert all(len(c["transcript"]) > 1000 for c in calls)


def _faulted(kind: str, stream: str, **fault: Any) -> tuple[list[Message], list[Message]]:
    source = next(s for s in STREAMS if stream in STREAMS[s])
    raw = {"records_per_sync": 50}
    clean = _read(source, raw)
    bad = _read(source, {**raw, "faults": [{"kind": kind, "stream": stream, **fault}]})
    assert _strip(bad) == _strip(
        _read(source, {**raw, "faults": [{"kind": kind, "stream": stream, **fault}]})
    )
    return clean, bad


def test_fault_null() -> None:
    clean, bad = _faulted("null", "contacts", count=4)
    assert sum(r["email"] is None for r in _records(bad, "contacts")) == 4  # default column
    assert all(r["email"] for r in _records(clean, "contacts"))
    _, other = _faulted("null", "contacts", column="phone")
    assert sum(r["phone"] is None for r in _records(other, "contacts")) == 3


def test_fault_duplicate_pk_emits_a_different_twin_with_the_same_key() -> None:
    clean, bad = _faulted("duplicate_pk", "contacts", count=2)
    rows = _records(bad, "contacts")
    assert len(rows) == len(_records(clean, "contacts")) + 2
    twins = [(a, b) for a, b in zip(rows, rows[1:], strict=False) if a["id"] == b["id"]]
    assert len(twins) == 2
    for a, b in twins:
        assert a["updated_at"] == b["updated_at"]
        assert a != b


def test_fault_bad_value() -> None:
    _, bad = _faulted("bad_value", "deals", count=5)
    column = next(c for c in STREAMS["hubspot"]["deals"]["columns"] if c["name"] == "deal_stage")
    allowed = set(accepted_values(column) or [])
    assert allowed
    outside = [r["deal_stage"] for r in _records(bad, "deals") if r["deal_stage"] not in allowed]
    assert len(outside) == 5


def test_fault_orphan_fk() -> None:
    _, bad = _faulted("orphan_fk", "invoices")
    customers = {r["id"] for r in _records(bad, "customers")}
    assert sum(r["customer_id"] not in customers for r in _records(bad, "invoices")) == 3


def test_fault_late_rows_keep_the_state_moving_forward() -> None:
    clean, bad = _faulted("late", "channels", count=2)
    first_cursor = _records(clean, "channels")[0]["updated_at"]
    late = [r for r in _records(bad, "channels") if r["updated_at"] < first_cursor]
    assert len(late) == 2
    assert _next_state(bad) == _next_state(clean)


def test_fault_new_and_removed_columns_change_records_and_schema() -> None:
    _, added = _faulted("new_column", "users", column="timezone")
    assert all(r["timezone"].startswith("timezone ") for r in _records(added, "users"))
    _, removed = _faulted("removed_column", "users")
    assert all("is_bot" not in r for r in _records(removed, "users"))  # default: last plain
    config = demo.parse_config(
        "slack",
        {
            "faults": [
                {"kind": "new_column", "stream": "users", "column": "timezone"},
                {"kind": "removed_column", "stream": "users", "column": "email"},
            ]
        },
    )
    streams = {s["name"]: s for s in demo.catalog(config)["catalog"]["streams"]}
    props = streams["users"]["json_schema"]["properties"]
    assert props["timezone"] == {"type": ["null", "string"]}
    assert "email" not in props
    assert "name" in streams["channels"]["json_schema"]["properties"]  # other streams untouched


def test_bad_configs_report_every_problem() -> None:
    with pytest.raises(demo.DemoConfigError) as info:
        demo.parse_config(
            "hubspot",
            {
                "bogus": 1,
                "records_per_sync": {"nope": 3},
                "faults": [
                    {"kind": "explode", "stream": "deals"},
                    {"kind": "null", "stream": "tickets"},
                    {"kind": "bad_value", "stream": "companies"},
                    {"kind": "removed_column", "stream": "deals", "column": "id"},
                    {"kind": "null", "stream": "deals", "count": 0},
                ],
            },
        )
    problems = info.value.problems
    assert len(problems) == 7
    assert any("unknown setting 'bogus'" in p for p in problems)
    assert any("no accepted_values column" in p for p in problems)
    assert any("cannot be removed" in p for p in problems)


def test_catalog_offers_key_cursor_and_both_sync_modes() -> None:
    streams = demo.catalog(demo.parse_config("gong", {}))["catalog"]["streams"]
    assert [s["name"] for s in streams] == ["users", "calls"]
    for s in streams:
        assert s["source_defined_primary_key"] == [["id"]]
        assert s["default_cursor_field"] == ["updated_at"]
        assert s["supported_sync_modes"] == ["full_refresh", "incremental"]
    calls = streams[1]["json_schema"]["properties"]
    assert calls["duration_seconds"] == {"type": ["null", "integer"]}
    assert calls["started_at"]["format"] == "date-time"
    keyless = demo.catalog(demo.parse_config("gong", {"primary_key": False}))["catalog"]
    assert "source_defined_primary_key" not in keyless["streams"][0]


def _main(tmp_path: Path, *argv: str, config: object = None) -> tuple[int, list[Message]]:
    args = list(argv)
    if config is not None:
        path = tmp_path / "config.json"
        path.write_bytes(orjson.dumps(config))
        args += ["--config", str(path)]
    out = io.BytesIO()
    code = main(args, out)
    return code, [orjson.loads(line) for line in out.getvalue().splitlines()]


def test_main_speaks_the_protocol(tmp_path: Path) -> None:
    code, (msg,) = _main(tmp_path, "gong", "spec")
    assert code == 0 and msg["type"] == "SPEC"
    assert msg["spec"]["connectionSpecification"]["properties"]["api_token"]["airbyte_secret"]
    code, (msg,) = _main(tmp_path, "gong", "check", config={"seed": "x"})
    assert code == 0 and msg["connectionStatus"]["status"] == "FAILED"
    code, (msg,) = _main(tmp_path, "gong", "discover", config={"faults": [{"kind": "x"}]})
    assert code == 1
    assert msg["trace"]["error"]["failure_type"] == "config_error"


def test_fail_after_is_a_trace_error_and_exit_1(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.json"
    catalog.write_bytes(orjson.dumps(_configured("slack")))
    code, messages = _main(
        tmp_path, "slack", "read", "--catalog", str(catalog), config={"fail_after": 7}
    )
    assert code == 1
    assert len(_records(messages)) == 7
    assert messages[-1]["trace"]["error"]["failure_type"] == "system_error"


def test_module_runs_as_a_connector_executable() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "keel.ingest.demo", "slack", "spec"],
        capture_output=True,
        check=True,
    )
    assert orjson.loads(done.stdout)["type"] == "SPEC"


def test_fault_cli_syntax() -> None:
    assert parse_fault_option("null:hubspot.contacts.email:5", ["slack"]) == (
        "hubspot",
        {"kind": "null", "stream": "contacts", "column": "email", "count": 5},
    )
    assert parse_fault_option("late:channels", ["gong", "slack"]) == (
        "slack",
        {"kind": "late", "stream": "channels"},
    )
    with pytest.raises(IngestError, match="'users' is in several sources"):
        parse_fault_option("null:users", ["gong", "slack"])
    with pytest.raises(IngestError, match="KIND one of null, duplicate_pk"):
        parse_fault_option("explode:users", ["gong"])
    with pytest.raises(IngestError, match="COUNT must be a positive whole number"):
        parse_fault_option("null:gong.users:zero", ["gong"])
