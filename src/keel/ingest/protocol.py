"""Speak the Airbyte protocol to a source connector executable.

A source is any executable that answers ``spec``, ``check --config C``,
``discover --config C`` and ``read --config C --catalog CAT [--state S]``
with JSON lines on stdout. :class:`Connector` runs one command at a time:

- config, catalog and state go to files in a private temporary directory
  (mode 0600) that is removed afterwards; their values are never logged or
  put into an error message (a config holds secrets);
- RECORD lines are the hot path: parsed with orjson and handed to the sink as
  plain dicts, no pydantic model per record. Every other message is
  validated with ``airbyte_protocol.models.AirbyteMessage``;
- LOG messages, and stdout lines that are not JSON at all (libraries that
  print), go to the ``on_log`` callback; a line that starts like JSON but does
  not parse is an :class:`IngestError` naming its line number and stream;
- a TRACE error becomes an :class:`IngestError` carrying the connector's own
  message and stream, raised once the connector has finished (a source may
  carry on with other streams after one fails, as the Airbyte CDK does);
- a non-zero exit is an :class:`IngestError` with the tail of stderr.

stderr is drained on a thread, so a chatty connector cannot block on a full
pipe. If the caller stops reading (the sink raised), the process is killed.
"""

from __future__ import annotations

import collections
import os
import re
import subprocess
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

import orjson
from airbyte_protocol.models import (
    AirbyteCatalog,
    AirbyteConnectionStatus,
    AirbyteMessage,
    ConfiguredAirbyteCatalog,
    ConnectorSpecification,
    TraceType,
    Type,
)
from pydantic import ValidationError

from keel.errors import IngestError
from keel.ingest.guard import Redactor, Timeouts, Watchdog, kill_group

LogCallback = Callable[[str, str], None]  # (level, message)
STDERR_TAIL_LINES = 20
_STREAM_IN_LINE = re.compile(rb'"stream"\s*:\s*"((?:[^"\\]|\\.)*)"')


class ReadSink(Protocol):
    """Where ``read`` delivers what the connector emits, in emission order."""

    def record(
        self, stream: str, data: dict[str, Any], emitted_at: Any = None, meta: Any = None
    ) -> None:
        """A RECORD: its data, and Airbyte's ``emitted_at`` (ms) and ``meta`` when sent."""

    def state(self, stream: str | None, message: dict[str, Any]) -> None:
        """A STATE message; ``stream`` is None for GLOBAL and legacy state."""


@dataclass(frozen=True)
class ConnectorFailure:
    """A TRACE error the connector reported."""

    message: str
    stream: str | None
    failure_type: str | None


class ConnectorError(IngestError):
    """The connector reported errors (TRACE messages); ``failures`` lists them all."""

    def __init__(self, message: str, failures: list[ConnectorFailure]) -> None:
        super().__init__(message)
        self.failures = failures
        self.stream = failures[0].stream if failures else None


class Connector:
    """One source connector, run as a subprocess per command."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        name: str | None = None,
        on_log: LogCallback | None = None,
        env: Mapping[str, str] | None = None,
        timeouts: Timeouts | None = None,
    ) -> None:
        if not command:
            raise IngestError("a connector command needs at least one argument")
        self.command = list(command)
        self.name = name or Path(self.command[-1]).name
        self.on_log = on_log
        self.env = dict(env) if env is not None else None
        self.timeouts = timeouts or Timeouts()
        self.redact = Redactor(None)  # the running command's config values, masked

    # -- the four commands -------------------------------------------------
    def spec(self) -> ConnectorSpecification:
        found = self._expect("spec", {}, Type.SPEC)
        assert found.spec is not None
        return found.spec

    def check(self, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        found = self._expect("check", {"config": config}, Type.CONNECTION_STATUS)
        status = found.connectionStatus
        assert status is not None
        if status.message:
            return status.model_copy(update={"message": self.redact(status.message)})
        return status

    def discover(self, config: Mapping[str, Any]) -> AirbyteCatalog:
        found = self._expect("discover", {"config": config}, Type.CATALOG)
        assert found.catalog is not None
        return found.catalog

    def read(
        self,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: Sequence[Mapping[str, Any]] | None,
        sink: ReadSink,
    ) -> None:
        """Run ``read`` and deliver every record and state to ``sink``, in order."""
        files: dict[str, object] = {
            "config": config,
            "catalog": catalog.model_dump(mode="json", exclude_none=True, by_alias=True),
        }
        if state:
            files["state"] = list(state)
        self._run("read", files, lambda msg: None, sink)

    # -- machinery ---------------------------------------------------------
    def _expect(self, verb: str, files: dict[str, object], kind: Type) -> AirbyteMessage:
        found: list[AirbyteMessage] = []

        def keep(message: AirbyteMessage) -> None:
            if message.type == kind and not found:
                found.append(message)

        self._run(verb, files, keep, None)
        if not found:
            raise IngestError(f"{self.name} {verb} printed no {kind.value} message")
        return found[0]

    def _run(
        self,
        verb: str,
        files: dict[str, object],
        on_message: Callable[[AirbyteMessage], None],
        sink: ReadSink | None,
    ) -> None:
        self.redact = Redactor(files.get("config"))
        with tempfile.TemporaryDirectory(prefix="keel-connector-") as tmp:
            args = [*self.command, verb]
            for key, value in files.items():
                path = Path(tmp) / f"{key}.json"
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(orjson.dumps(value))
                args += [f"--{key}", str(path)]
            try:
                proc = subprocess.Popen(
                    args,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env=self.env,
                    bufsize=1 << 20,
                    start_new_session=True,  # its own process group: killed as a whole
                )
            except OSError as exc:
                raise IngestError(f"cannot run connector {self.name}: {exc.strerror}") from exc
            assert proc.stdout is not None and proc.stderr is not None
            tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
            drain = threading.Thread(target=_drain, args=(proc.stderr, tail), daemon=True)
            drain.start()
            idle = self.timeouts.read_idle if verb == "read" else None
            watchdog = Watchdog(proc, self.timeouts.total(verb), idle)
            try:
                reader = _Reader(self, verb, on_message, sink, watchdog.progress)
                failures = reader.consume(proc.stdout)
                code = proc.wait()
            finally:
                watchdog.stop()
                kill_group(proc)
                proc.wait()
                drain.join(timeout=5)
                proc.stdout.close()
        if watchdog.expired:
            raise IngestError(
                f"{self.name} {verb} {watchdog.expired}; it was stopped (keel.yml: "
                "sources.<name>.timeouts)"
            )
        if failures:
            raise _failure_error(self.name, failures)
        if code != 0:
            text = self.redact("\n".join(tail).strip())
            detail = f":\n{text}" if text else " (nothing on stderr)"
            raise IngestError(f"{self.name} {verb} exited with code {code}{detail}")


class _Reader:
    """The stdout loop: one instance per command run."""

    def __init__(
        self,
        connector: Connector,
        verb: str,
        on_message: Callable[[AirbyteMessage], None],
        sink: ReadSink | None,
        progress: Callable[[], None] = lambda: None,
    ) -> None:
        self.progress = progress
        self.connector = connector
        self.verb = verb
        self.on_message = on_message
        self.sink = sink
        self.failures: list[ConnectorFailure] = []
        self.last_stream: str | None = None

    def consume(self, stdout: IO[bytes]) -> list[ConnectorFailure]:
        sink = self.sink
        on_record = sink.record if sink is not None else None
        loads = orjson.loads
        lineno = 0
        progress = self.progress
        for line in stdout:
            lineno += 1
            progress()
            if line[:1] != b"{":
                self._plain(line, lineno)
                continue
            try:
                msg = loads(line)
                if msg["type"] == "RECORD":
                    record = msg["record"]
                    stream = record["stream"]
                    if on_record is not None:
                        on_record(
                            stream, record["data"], record.get("emitted_at"), record.get("meta")
                        )
                    self.last_stream = stream
                    continue
            except orjson.JSONDecodeError as exc:
                raise self._bad_line(line, lineno, f"is not valid JSON ({exc})") from exc
            except (KeyError, TypeError) as exc:
                raise self._bad_line(line, lineno, "is not an Airbyte message") from exc
            self._other(msg, line, lineno)
        return self.failures

    def _plain(self, line: bytes, lineno: int) -> None:
        text = line.decode("utf-8", "replace").strip()
        if not text:
            return
        if text.startswith("{"):  # leading whitespace before JSON
            self._other(self._parse(text.encode(), lineno), line, lineno)
        elif self.connector.on_log is not None:
            self.connector.on_log("INFO", self.connector.redact(text))

    def _parse(self, line: bytes, lineno: int) -> Any:
        try:
            return orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise self._bad_line(line, lineno, f"is not valid JSON ({exc})") from exc

    def _other(self, raw: Any, line: bytes, lineno: int) -> None:
        try:
            message = AirbyteMessage.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise self._bad_line(
                line, lineno, f"is not a valid Airbyte message ({where}: {first['msg']})"
            ) from exc
        if message.type == Type.RECORD:  # reached only via leading whitespace
            assert message.record is not None
            if self.sink is not None:
                r = raw["record"]
                self.sink.record(r["stream"], r["data"], r.get("emitted_at"), r.get("meta"))
        elif message.type == Type.STATE:
            self._state(raw["state"], message, line, lineno)
        elif message.type == Type.LOG:
            assert message.log is not None
            if self.connector.on_log is not None:
                text = self.connector.redact(message.log.message)
                self.connector.on_log(message.log.level.value, text)
        elif message.type == Type.TRACE:
            trace = message.trace
            assert trace is not None
            if trace.type == TraceType.ERROR and trace.error is not None:
                err = trace.error
                stream = err.stream_descriptor.name if err.stream_descriptor else None
                kind = err.failure_type.value if err.failure_type else None
                text = self.connector.redact(err.message)
                self.failures.append(ConnectorFailure(text, stream, kind))
        self.on_message(message)

    def _state(self, raw: dict[str, Any], message: AirbyteMessage, line: bytes, n: int) -> None:
        state = message.state
        assert state is not None
        stream: str | None = None
        if state.stream is not None:
            stream = state.stream.stream_descriptor.name
        elif state.global_ is None and state.data is None:
            raise self._bad_line(line, n, "is a STATE message without stream, global or data")
        if self.sink is not None:
            self.sink.state(stream, raw)

    def _bad_line(self, line: bytes, lineno: int, what: str) -> IngestError:
        match = _STREAM_IN_LINE.search(line)
        stream = match.group(1).decode("utf-8", "replace") if match else self.last_stream
        where = f" (stream {stream})" if stream else ""
        name, verb = self.connector.name, self.verb
        return IngestError(f"{name} {verb}: line {lineno} of its output{where} {what}")


def _drain(pipe: IO[bytes], tail: collections.deque[str]) -> None:
    for raw in pipe:
        text = raw.decode("utf-8", "replace").rstrip()
        if text:
            tail.append(text)
    pipe.close()


def _failure_error(name: str, failures: list[ConnectorFailure]) -> ConnectorError:
    first = failures[0]
    where = f" on stream {first.stream}" if first.stream else ""
    kind = " (configuration error)" if first.failure_type == "config_error" else ""
    more = f" (and {len(failures) - 1} more error(s))" if len(failures) > 1 else ""
    return ConnectorError(f"{name} failed{where}{kind}: {first.message}{more}", failures)
