"""Ingest one source: discover, configure, read, and commit into its _RAW schema.

:func:`ingest_source` is what ``keel ingest`` and ``keel run`` call, once per
source. It reads the committed state from ``SOPHIA_OPS.KEEL_STATE``, so each
run continues where the last committed batch ended, whether the previous run
finished, failed or was killed.

A failure (the connector's error, a record that does not fit its stream, a
refused statement) raises :class:`IngestFailed` after committing whatever
STATEs already covered; its message and its ``result`` say how many records
per stream were committed.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from keel.errors import KeelError
from keel.ingest.catalog import configure_catalog, dedup_cursor, key_fields, state_for_read
from keel.ingest.guard import Timeouts
from keel.ingest.protocol import Connector
from keel.ingest.results import IngestFailed, ProgressEvent, SourceResult, StreamResult
from keel.ingest.writer import (
    DEFAULT_BATCH_BYTES,
    DEFAULT_BATCH_ROWS,
    DEFAULT_COMMIT_SECONDS,
    RawWriter,
    StreamSpec,
    raw_schema,
)

if TYPE_CHECKING:
    from keel.adapters.base import Adapter
    from keel.adapters.duckdb_lib import duckdb

DEMO_SOURCES = ("gong", "hubspot", "slack", "netsuite")


def demo_command(source: str) -> list[str]:
    """The argv of keel's built-in demo connector for ``source`` (gong, hubspot, slack, netsuite)."""
    return [sys.executable, "-m", "keel.ingest.demo", source]


def ingest_source(
    conn: duckdb.DuckDBPyConnection | Adapter,
    *,
    source: str,
    command: Sequence[str],
    config: Mapping[str, Any],
    streams: Sequence[str] | None = None,
    progress: Callable[[ProgressEvent], None] | None = None,
    cursors: Mapping[str, Sequence[str]] | None = None,
    primary_keys: Mapping[str, Sequence[Sequence[str]]] | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
    commit_seconds: float = DEFAULT_COMMIT_SECONDS,
    sync_id: int | None = None,
    env: Mapping[str, str] | None = None,
    timeouts: Mapping[str, Any] | None = None,
) -> SourceResult:
    """Run ``command`` (a source connector) and land ``streams`` (all when None).

    ``conn`` is a DuckDB connection, or the adapter of a DuckDB or PostgreSQL warehouse
    (the writer's engine follows from it; other engines are refused).

    ``cursors`` and ``primary_keys`` (stream -> field path(s)) apply where the
    source defines none, e.g. from the contract's ``meta.keel``. A commit
    happens at a STATE once ``batch_rows`` records or about ``batch_bytes`` of
    record JSON are covered, or ``commit_seconds`` after the previous one.
    ``timeouts`` (keel.yml ``sources.<name>.timeouts``: spec, check, discover, read,
    read_idle seconds) bound each connector command; see :mod:`keel.ingest.guard`.
    """
    sync_id = sync_id if sync_id is not None else time.time_ns() // 1_000_000

    def emit(event: ProgressEvent) -> None:
        if progress is not None:
            progress(event)

    def on_log(level: str, message: str) -> None:
        emit(ProgressEvent("log", source, level=level, message=message))

    connector = Connector(
        command, name=f"source {source}", on_log=on_log, env=env, timeouts=Timeouts.of(timeouts)
    )
    catalog = connector.discover(config)
    configured = configure_catalog(
        catalog, streams, cursors=cursors, primary_keys=primary_keys, sync_id=sync_id
    )
    specs = [
        StreamSpec(
            name=c.stream.name,
            json_schema=c.stream.json_schema,
            primary_key=tuple(key_fields(c)),
            cursor=dedup_cursor(c),
            sync_mode=c.sync_mode.value,
        )
        for c in configured.streams
    ]
    writer = RawWriter(
        conn,
        source=source,
        sync_id=sync_id,
        batch_rows=batch_rows,
        batch_bytes=batch_bytes,
        commit_seconds=commit_seconds,
        progress=progress,
    )
    writer.open(specs)
    result = SourceResult(source=source, schema=raw_schema(source), sync_id=sync_id)
    emit(ProgressEvent("discovered", source, message=", ".join(s.name for s in specs)))
    state = state_for_read(writer.committed_states, configured)
    try:
        connector.read(config, configured, state, writer)
    except KeelError as exc:
        late: KeelError | None = None
        try:
            writer.finish(success=False)
        except KeelError as again:  # the first failure is the one to report
            late = again
        result.streams = list(writer.results().values())
        result.error = str(exc)
        raise IngestFailed(_failure_message(source, exc, result.streams, late), result) from exc
    result.streams = list(writer.finish(success=True).values())
    emit(ProgressEvent("finished", source, records=result.records, committed=result.committed))
    return result


def _failure_message(
    source: str, exc: KeelError, streams: list[StreamResult], late: KeelError | None
) -> str:
    done = ", ".join(f"{s.stream} {s.committed}" for s in streams) or "nothing"
    text = f"ingesting {source} failed: {exc}\ncommitted before the failure (records): {done}"
    if late is not None:
        text += f"\nand committing the rest failed too: {late}"
    return text
