"""The Airbyte protocol runner against a scriptable fake connector."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from airbyte_protocol.models import ConfiguredAirbyteCatalog, Status
from ingest_fakes import catalog_message, record, state

from keel.errors import IngestError
from keel.ingest.catalog import configure_catalog
from keel.ingest.protocol import Connector, ConnectorError

SECRET = "s3cr3t-token-value"


class Sink:
    def __init__(self, stop_after: int | None = None) -> None:
        self.events: list[tuple[str, Any]] = []
        self.stop_after = stop_after

    def record(
        self, stream: str, data: dict[str, Any], emitted_at: Any = None, meta: Any = None
    ) -> None:
        self.events.append(("record", (stream, data)))
        if self.stop_after is not None and len(self.events) >= self.stop_after:
            raise IngestError("the sink gave up")

    def state(self, stream: str | None, message: dict[str, Any]) -> None:
        self.events.append(("state", (stream, message)))


def _catalog() -> ConfiguredAirbyteCatalog:
    from airbyte_protocol.models import AirbyteCatalog

    found = catalog_message({"s": {"id": {"type": "integer"}}})["catalog"]
    return configure_catalog(AirbyteCatalog.model_validate(found))


def _read(
    command: list[str], lines: list[Any], *, sink: Sink | None = None, **plan: Any
) -> tuple[Sink, list[tuple[str, str]]]:
    logs: list[tuple[str, str]] = []
    sink = sink or Sink()
    config = {"api_token": SECRET, "read": {"stdout": lines, **plan}}
    connector = Connector(command, name="fake", on_log=lambda lvl, msg: logs.append((lvl, msg)))
    connector.read(config, _catalog(), None, sink)
    return sink, logs


def test_records_and_states_arrive_in_order(fake_connector: list[str]) -> None:
    lines = [record("s", {"id": 1}), record("s", {"id": 2}), state("s", 2), record("s", {"id": 3})]
    sink, _ = _read(fake_connector, lines)
    assert [kind for kind, _ in sink.events] == ["record", "record", "state", "record"]
    assert sink.events[1] == ("record", ("s", {"id": 2}))
    stream, message = sink.events[2][1]
    assert stream == "s"
    assert message["stream"]["stream_state"] == {"updated_at": 2}


def test_logs_and_plain_stdout_lines_go_to_the_callback(fake_connector: list[str]) -> None:
    log = {"type": "LOG", "log": {"level": "WARN", "message": "slow API"}}
    sink, logs = _read(fake_connector, [log, "a library printed this", "", record("s", {"id": 1})])
    assert ("WARN", "slow API") in logs
    assert ("INFO", "a library printed this") in logs
    assert sink.events == [("record", ("s", {"id": 1}))]


def test_malformed_json_line_names_line_and_stream(fake_connector: list[str]) -> None:
    lines = [record("s", {"id": 1}), '{"type": "RECORD", "record": {"stream": "s", "data": {"id"']
    with pytest.raises(IngestError) as info:
        _read(fake_connector, lines)
    assert "line 2" in str(info.value)
    assert "stream s" in str(info.value)
    assert "not valid JSON" in str(info.value)


def test_malformed_line_without_stream_uses_the_last_stream_seen(
    fake_connector: list[str],
) -> None:
    with pytest.raises(IngestError, match=r"line 2 of its output \(stream s\)"):
        _read(fake_connector, [record("s", {"id": 1}), "{oops"])


def test_json_that_is_not_an_airbyte_message_is_an_error(fake_connector: list[str]) -> None:
    with pytest.raises(IngestError, match="line 1 .* not a valid Airbyte message"):
        _read(fake_connector, [{"type": "BOGUS"}])
    with pytest.raises(IngestError, match="line 1 .* not an Airbyte message"):
        _read(fake_connector, [{"no_type": 1}])


def test_trace_error_carries_the_connectors_message_and_stream(fake_connector: list[str]) -> None:
    trace = {
        "type": "TRACE",
        "trace": {
            "type": "ERROR",
            "emitted_at": 0,
            "error": {
                "message": "401 Unauthorized from the API",
                "failure_type": "config_error",
                "stream_descriptor": {"name": "s"},
            },
        },
    }
    with pytest.raises(ConnectorError) as info:
        _read(fake_connector, [record("s", {"id": 1}), trace], exit=1)
    err = info.value
    assert "401 Unauthorized from the API" in str(err)
    assert "on stream s" in str(err)
    assert "configuration error" in str(err)
    assert err.stream == "s"
    assert len(err.failures) == 1


def test_nonzero_exit_reports_the_tail_of_stderr(fake_connector: list[str]) -> None:
    stderr = "".join(f"noise {n}\n" for n in range(50)) + "Traceback: KeyError 'x'\n"
    with pytest.raises(IngestError) as info:
        _read(fake_connector, [record("s", {"id": 1})], stderr=stderr, exit=3)
    text = str(info.value)
    assert "exited with code 3" in text
    assert "Traceback: KeyError 'x'" in text
    assert "noise 0\n" not in text  # only the tail
    assert SECRET not in text


def test_config_goes_to_a_private_file_that_is_removed(fake_connector: list[str]) -> None:
    sink, logs = _read(fake_connector, [], files=True)
    report = json.loads(logs[0][1])
    assert report["--config"] == "0o600"
    assert report["catalog"]["streams"][0]["sync_mode"] == "incremental"
    assert report["catalog"]["streams"][0]["destination_sync_mode"] == "append_dedup"
    assert SECRET not in logs[0][1]
    config_path = Path(report["config_path"])
    assert not config_path.exists()


def test_state_file_is_passed_to_read(fake_connector: list[str]) -> None:
    logs: list[tuple[str, str]] = []
    connector = Connector(fake_connector, on_log=lambda lvl, msg: logs.append((lvl, msg)))
    saved = [state("s", 41)["state"]]
    connector.read({"read": {"files": True}}, _catalog(), saved, Sink())
    assert json.loads(logs[0][1])["state"] == saved


def test_a_failing_sink_kills_the_connector(fake_connector: list[str], tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    with pytest.raises(IngestError, match="the sink gave up"):
        _read(fake_connector, [], sink=Sink(stop_after=100), forever=str(pid_file))
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_spec_check_discover(fake_connector: list[str]) -> None:
    status = {"status": "FAILED", "message": "bad token"}
    cat = catalog_message({"s": {"id": {"type": "integer"}}})
    connector = Connector(fake_connector)
    with pytest.raises(IngestError, match="printed no SPEC message"):
        connector.spec()  # the fake has no config for spec, so it prints nothing
    config = {
        "check": {"stdout": [{"type": "CONNECTION_STATUS", "connectionStatus": status}]},
        "discover": {"stdout": [{"type": "LOG", "log": {"level": "INFO", "message": "hi"}}, cat]},
    }
    assert connector.check(config).status == Status.FAILED
    assert [s.name for s in connector.discover(config).streams] == ["s"]


def test_missing_executable_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="cannot run connector"):
        Connector([str(tmp_path / "nope")]).discover({})
