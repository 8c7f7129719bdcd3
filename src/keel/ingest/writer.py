"""The RAW writer: connector records into ``<SOURCE>_DATA_RAW.<STREAM>``.

Tables are laid out as Airbyte's Snowflake destination lays out a stream
(upper-case names, the stream's typed columns, then ``_AIRBYTE_RAW_ID``,
``_AIRBYTE_EXTRACTED_AT``, ``_AIRBYTE_META``, ``_AIRBYTE_GENERATION_ID``),
created and evolved from the stream's JSON schema: new properties become new
columns, types only widen (:func:`keel.ingest.schema.widen`).

Invariants, which the crash test checks by SIGKILL at random moments:

- **Records commit with the STATE that covers them, in one transaction.**
  Records are buffered per stream; when a STATE arrives and the stream has
  at least ``batch_rows`` covered records, or about ``batch_bytes`` of them,
  or ``commit_seconds`` have passed,
  the covered records are written and the state is upserted into
  ``SOPHIA_OPS.KEEL_STATE`` in one transaction. Records after the last STATE
  are never written; the next run reads them again from the committed state.
  So a kill loses nothing and doubles nothing. (A stream that emits no STATE
  at all, a stateless full refresh, is committed when the read succeeds.)
- **``_AIRBYTE_EXTRACTED_AT`` is the record's emit time** (``emitted_at``), as
  Airbyte's Destinations V2 writes it, so it is not commit order: the gate
  finds a batch by the raw ids it has not judged (:mod:`keel.batch.judged`).
  Records without one get the commit's time, strictly greater than any
  earlier commit of that stream (bumped by 1 µs past the table's newest value
  if the clock lags). ``_AIRBYTE_META.changes`` carries the record's
  ``meta.changes``; a value that does not fit its column is nulled and listed
  there (:mod:`keel.ingest.typecast`), and the commit goes on.
- **Append + Deduped** where the stream has a primary key: one row per key,
  the newest by cursor, then by extraction (set-based, see
  :mod:`keel.adapters.raw`); plain append where it has none.
- Schema changes (CREATE/ALTER) run before the data transaction: on engines
  whose DDL auto-commits they cannot be atomic, and an added column without
  its rows is harmless.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
import pyarrow as pa

from keel.adapters.base import Adapter
from keel.adapters.duckdb import DuckDBAdapter
from keel.adapters.raw import SEQ_COLUMN, RawSql
from keel.errors import IngestError, WarehouseError
from keel.ingest import refresh, state_store
from keel.ingest import schema as S
from keel.ingest.results import ProgressEvent, StreamResult
from keel.ingest.schema import Column
from keel.ingest.typecast import explain, null_unfit

DEFAULT_BATCH_ROWS = 100_000
DEFAULT_BATCH_BYTES = 32 * 1024 * 1024  # of record JSON: wide streams commit sooner
DEFAULT_COMMIT_SECONDS = 30.0
GLOBAL_STATE = "*"  # KEEL_STATE.STREAM of a GLOBAL or legacy state
ONE_TICK = dt.timedelta(microseconds=1)
EMITTED, ROW_META = "__KEEL_EMITTED", "__KEEL_META"  # staged per-record Airbyte values


def raw_schema(source: str) -> str:
    """``<SOURCE>_DATA_RAW``, where Airbyte lands a source."""
    return S.canonical(f"{source}_DATA_RAW")


@dataclass(frozen=True)
class StreamSpec:
    """What the writer needs to know about one configured stream."""

    name: str
    json_schema: Mapping[str, Any]
    primary_key: tuple[str, ...] = ()
    cursor: str | None = None
    sync_mode: str = "incremental"


@dataclass
class _Stream:
    spec: StreamSpec
    result: StreamResult
    columns: dict[str, Column]  # property -> column with its effective (table) type
    table_types: dict[str, str]  # COLUMN -> type, as the table has it now
    buffer: list[dict[str, Any]] = field(default_factory=list)
    # per buffered record: (emitted_at seconds or None, _AIRBYTE_META JSON or None)
    extra: list[tuple[float | None, str | None]] = field(default_factory=list)
    covered: int = 0  # leading buffer records covered by pending_state
    pending_state: dict[str, Any] | None = None
    saw_state: bool = False
    last_extracted_at: dt.datetime | None = None
    failed: bool = False
    generation: int = 0  # _AIRBYTE_GENERATION_ID of this run's rows (keel.ingest.refresh)

    @property
    def table(self) -> str:
        return S.canonical(self.spec.name)


class RawWriter:
    """Buffers records per stream and commits them with their STATE (a ``ReadSink``).

    ``conn`` is an adapter (DuckDB's or PostgreSQL's; others refuse) or a DuckDB
    connection; the SQL is the adapter's (:meth:`~keel.adapters.base.Adapter.raw_writer`).
    """

    def __init__(
        self,
        conn: Any,
        *,
        source: str,
        sync_id: int,
        generation_id: int = 0,
        batch_rows: int = DEFAULT_BATCH_ROWS,
        batch_bytes: int = DEFAULT_BATCH_BYTES,
        commit_seconds: float = DEFAULT_COMMIT_SECONDS,
        raw: RawSql | None = None,
        progress: Callable[[ProgressEvent], None] | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.adapter = conn if isinstance(conn, Adapter) else DuckDBAdapter(connection=conn)
        self.raw = raw or self.adapter.raw_writer()
        self.source = source
        self.schema = raw_schema(source)
        self.sync_id = sync_id
        self.generation_id = generation_id
        self.batch_rows = max(1, batch_rows)
        self.batch_bytes = max(1, batch_bytes)
        self.commit_seconds = commit_seconds
        self.progress = progress
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.committed_states: dict[str, dict[str, Any]] = {}
        self._streams: dict[str, _Stream] = {}
        self._buffers: dict[str, list[dict[str, Any]]] = {}
        self._extras: dict[str, list[tuple[float | None, str | None]]] = {}
        self._pending_global: dict[str, Any] | None = None
        self._last_commit = time.monotonic()
        self._meta = orjson.dumps({"sync_id": sync_id, "changes": []}).decode()

    # -- setup --------------------------------------------------------------------
    def open(self, specs: Sequence[StreamSpec]) -> None:
        """Create or evolve every stream's table and read the committed state."""
        eng = self.raw
        eng.prepare_session()
        state_store.ensure(eng)
        eng.ensure_schema(self.schema)
        existing = {
            S.canonical(t): {S.canonical(c): k for c, k in cols.items()}
            for t, cols in eng.columns(self.schema).items()
        }
        for spec in specs:
            stream = self._evolve(spec, existing.get(S.canonical(spec.name)))
            self._streams[spec.name] = stream
            self._buffers[spec.name] = stream.buffer
            self._extras[spec.name] = stream.extra
        had_rows = [S.canonical(s) for s in self._streams if S.canonical(s) in existing]
        newest = eng.max_extracted_at(self.schema, had_rows)
        gens = refresh.generations(eng, self.schema, had_rows)
        for stream in self._streams.values():
            stream.last_extracted_at = newest.get(stream.table)
            current = gens.get(stream.table)
            if current is None and self.generation_id and stream.table in had_rows:
                current = self.generation_id
            stream.generation = refresh.next_generation(stream.spec.sync_mode, current)
        for name, (state, _records) in state_store.read(eng, self.source).items():
            if state:
                self.committed_states[name] = orjson.loads(state)
                if name in self._streams:
                    self._streams[name].result.state = _stream_state(self.committed_states[name])

    def _evolve(self, spec: StreamSpec, table: dict[str, str] | None) -> _Stream:
        cols = S.columns_from_schema(spec.json_schema)
        S.check_names(spec.name, [c.canonical for c in cols])
        names = {c.name for c in cols}
        for f in (*spec.primary_key, *([spec.cursor] if spec.cursor else [])):
            if f not in names:
                raise IngestError(f"stream {spec.name!r}: field {f!r} is not in its JSON schema")
        result = StreamResult(
            stream=spec.name,
            table=f"{self.schema}.{S.canonical(spec.name)}",
            sync_mode=spec.sync_mode,
            destination_sync_mode=(
                "overwrite"
                if spec.sync_mode == refresh.FULL_REFRESH
                else "append_dedup"
                if spec.primary_key
                else "append"
            ),
            primary_key=list(spec.primary_key),
            cursor=spec.cursor,
        )
        if table is None:
            layout = [(c.canonical, c.type) for c in cols] + list(S.AIRBYTE_COLUMNS)
            self.raw.create_table(self.schema, S.canonical(spec.name), layout)
            result.table_created = True
            return _Stream(spec, result, {c.name: c for c in cols}, dict(layout))
        stream = _Stream(spec, result, {}, table)
        for name, kind in S.AIRBYTE_COLUMNS:
            if name not in table:
                self.raw.add_column(self.schema, stream.table, name, kind)
                table[name] = kind
        for c in cols:
            self._fit(stream, c)
        return stream

    def _fit(self, stream: _Stream, column: Column) -> None:
        """Add or widen ``column`` in the table; remember its effective type."""
        table = stream.table_types
        have = table.get(column.canonical)
        if have is None:
            self.raw.add_column(self.schema, stream.table, column.canonical, column.type)
            stream.result.new_columns.append(column.canonical)
            table[column.canonical] = column.type
        else:
            wide = S.widen(have, column.type)
            if wide != have:
                self.raw.widen_column(self.schema, stream.table, column.canonical, wide)
                stream.result.widened_columns.append(f"{column.canonical}: {have} -> {wide}")
                table[column.canonical] = wide
            column = replace(column, type=wide)
        stream.columns[column.name] = column

    # -- the ReadSink -------------------------------------------------------------------
    def record(
        self, stream: str, data: dict[str, Any], emitted_at: Any = None, meta: Any = None
    ) -> None:
        """Destinations V2: ``_AIRBYTE_EXTRACTED_AT`` is the record's ``emitted_at`` (ms; the
        commit time when absent) and ``_AIRBYTE_META.changes`` carries ``meta.changes``
        (docs.airbyte.com understanding-airbyte/airbyte-metadata-fields)."""
        try:
            self._buffers[stream].append(data)
        except KeyError:
            raise IngestError(
                f"the connector sent a record for stream {stream!r}, which was not selected"
            ) from None
        at = emitted_at / 1000 if isinstance(emitted_at, int | float) and emitted_at > 0 else None
        changes = meta.get("changes") if isinstance(meta, dict) else None
        text = self._meta_json(changes) if isinstance(changes, list) and changes else None
        self._extras[stream].append((at, text))

    def _meta_json(self, changes: list[Any]) -> str:
        return orjson.dumps({"sync_id": self.sync_id, "changes": changes}).decode()

    def state(self, stream: str | None, message: dict[str, Any]) -> None:
        due = time.monotonic() - self._last_commit >= self.commit_seconds
        if stream is None:
            self._pending_global = message
            for s in self._streams.values():
                s.covered = len(s.buffer)
            if due or sum(s.covered for s in self._streams.values()) >= self.batch_rows:
                self._commit_global()
            return
        found = self._streams.get(stream)
        if found is None:
            return  # a state for a stream that was not selected: nothing to commit
        s = found
        s.covered, s.pending_state, s.saw_state = len(s.buffer), message, True
        self._emit("progress", s)
        if due or s.covered >= self.batch_rows or self._too_big(s):
            self._commit([(s, s.covered)], [(s, message)])

    def _too_big(self, s: _Stream) -> bool:
        """Whether the covered records are past ``batch_bytes`` (estimated from the last one)."""
        if not s.covered:
            return False
        return len(orjson.dumps(s.buffer[s.covered - 1])) * s.covered >= self.batch_bytes

    # -- the end --------------------------------------------------------------------------
    def finish(self, *, success: bool) -> dict[str, StreamResult]:
        """Commit what STATEs cover; after a successful read also stateless streams."""
        if self._pending_global is not None:
            self._commit_global()
        for s in self._streams.values():
            if s.failed:
                continue
            if s.pending_state is not None:
                self._commit([(s, s.covered)], [(s, s.pending_state)])
            elif (
                success
                and s.buffer
                and not s.saw_state
                and GLOBAL_STATE not in self.committed_states
            ):
                self._commit([(s, len(s.buffer))], [(s, None)])  # a stateless full refresh
        for s in self._streams.values():
            if success and not s.failed and s.spec.sync_mode == refresh.FULL_REFRESH:
                refresh.drop_older(self.raw, self.schema, s.table, s.generation)
        return self.results()

    def results(self) -> dict[str, StreamResult]:
        for s in self._streams.values():
            s.result.records = s.result.committed + len(s.buffer)
        return {name: s.result for name, s in self._streams.items()}

    # -- commits ------------------------------------------------------------------------------
    def _commit_global(self) -> None:
        message = self._pending_global
        live = [s for s in self._streams.values() if not s.failed]
        self._commit([(s, s.covered) for s in live], [(s, None) for s in live], message)
        self._pending_global = None

    def _commit(
        self,
        batches: Sequence[tuple[_Stream, int]],
        states: Sequence[tuple[_Stream, dict[str, Any] | None]],
        global_state: dict[str, Any] | None = None,
        retry: bool = True,
    ) -> None:
        """One transaction: the first ``n`` buffered records of each stream, and the states."""
        eng = self.raw
        now = self.clock()
        staged = []
        for s, n in batches:
            if n:
                try:
                    staged.append((s, *self._prepare(s, s.buffer[:n])))
                except (IngestError, WarehouseError):
                    s.failed = True
                    raise
        stamps = {id(s): _after(now, s.last_extracted_at) for s, *_ in staged}
        counts = {id(s): n for s, n in batches}
        current: _Stream | None = None
        eng.begin()
        try:
            for s, table, cols in staged:
                current = s
                self._write(s, table, cols, stamps[id(s)])
            current = None
            for s, message in states:
                text = orjson.dumps(message).decode() if message is not None else None
                state_store.upsert(eng, self.source, s.spec.name, text, counts.get(id(s), 0), now)
            if global_state is not None:
                text = orjson.dumps(global_state).decode()
                state_store.upsert(eng, self.source, GLOBAL_STATE, text, 0, now)
            eng.commit()
        except WarehouseError as exc:
            eng.rollback()
            if current is None:
                raise
            _, table, cols = next(x for x in staged if x[0] is current)
            fixed = {*current.spec.primary_key, current.spec.cursor}
            if retry and null_unfit(
                self.raw, current.buffer, current.extra, fixed, table, cols, self._meta_json
            ):
                return self._commit(batches, states, global_state, retry=False)
            current.failed = True
            raise explain(
                self.raw,
                current.spec.name,
                current.spec.primary_key,
                current.buffer,
                table,
                cols,
                exc,
            ) from exc
        self._last_commit = time.monotonic()
        for s, n in batches:
            del s.buffer[:n]
            del s.extra[:n]
            s.covered -= n
            s.result.committed += n
            s.result.batches += 1 if n else 0
            if id(s) in stamps:
                s.last_extracted_at = stamps[id(s)]
        for s, message in states:
            s.pending_state = None
            if message is not None:
                self.committed_states[s.spec.name] = message
                s.result.state = _stream_state(message)
            self._emit("committed", s)
        if global_state is not None:
            self.committed_states[GLOBAL_STATE] = global_state

    def _prepare(self, s: _Stream, records: list[dict[str, Any]]) -> tuple[pa.Table, list[Column]]:
        """Add columns for properties the schema did not declare; the batch as Arrow, with
        each record's emit time and meta (``EMITTED``, ``ROW_META``)."""
        if not all(type(r) is dict for r in records):
            raise IngestError(f"stream {s.spec.name!r}: a record's data is not a JSON object")
        extra = set().union(*records) - s.columns.keys()
        if extra:
            S.check_names(s.spec.name, [S.canonical(p) for p in [*s.columns, *extra]])
            for name in sorted(extra):
                kind = S.infer_type(r.get(name) for r in records)
                self._fit(s, Column(name, S.canonical(name), kind))
        cols = list(s.columns.values())
        batch = S.arrow_batch(records, cols, SEQ_COLUMN)
        per_row = s.extra[: len(records)]
        batch = batch.append_column(EMITTED, pa.array([e for e, _ in per_row], pa.float64()))
        batch = batch.append_column(ROW_META, pa.array([m for _, m in per_row], pa.string()))
        return batch, cols

    def _write(self, s: _Stream, batch: pa.Table, cols: list[Column], at: dt.datetime) -> None:
        eng = self.raw
        sources = [f"c{i}" for i in range(len(cols))]
        layout = [(c.canonical, c.type) for c in cols]
        names = [c.canonical for c in cols] + [n for n, _ in S.AIRBYTE_COLUMNS]
        airbyte: dict[str, object] = {
            S.EXTRACTED_AT: at.isoformat(),
            S.META: self._meta,
            S.GENERATION_ID: s.generation,
        }
        select = eng.typed_select(sources, layout, airbyte, per_row=(EMITTED, ROW_META))
        eng.stage(batch)
        try:
            if s.spec.primary_key:
                key = [S.canonical(k) for k in s.spec.primary_key]
                cursor = S.canonical(s.spec.cursor) if s.spec.cursor else None
                empty = s.last_extracted_at is None and s.result.batches == 0
                eng.merge_dedup(self.schema, s.table, names, key, cursor, select, empty)
            else:
                eng.append(self.schema, s.table, names, select)
        finally:
            eng.unstage()

    def _emit(self, kind: str, s: _Stream) -> None:
        if self.progress is not None:
            read = s.result.committed + len(s.buffer)
            self.progress(
                ProgressEvent(
                    kind="committed" if kind == "committed" else "progress",
                    source=self.source,
                    stream=s.spec.name,
                    records=read,
                    committed=s.result.committed,
                )
            )


def _after(now: dt.datetime, last: dt.datetime | None) -> dt.datetime:
    now = now.astimezone(dt.UTC)
    return now if last is None or now > last else last + ONE_TICK


def _stream_state(message: dict[str, Any]) -> dict[str, Any] | None:
    stream = message.get("stream")
    if isinstance(stream, dict):
        blob = stream.get("stream_state")
        return blob if isinstance(blob, dict) else None
    return None
