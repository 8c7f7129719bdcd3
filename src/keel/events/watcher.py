"""Sources without webhooks: ``trigger: changes`` (issue 14), and a fallback for every source.

Snowpipe Streaming and Openflow load continuously and send no sync-complete notification.
For a source with ``trigger: changes`` keel serve probes its RAW tables every
``changes.probe_every`` seconds and runs the gate and publish when

- at least ``changes.min_rows`` rows are pending and none landed for ``changes.quiet``
  seconds (a burst settles into one batch), or
- rows have been pending for ``changes.max_wait`` seconds (a steady stream never waits
  longer than that).

The probe is cheap: on PostgreSQL it reads the statistics' insert counters
(``pg_stat_user_tables.n_tup_ins``, no table read); on DuckDB it counts the rows extracted
after the newest extraction time it saw (row-group zone maps skip the older rows, as RAW
is appended in about extraction order); on Snowflake it asks
``SYSTEM$STREAM_HAS_DATA`` (table-version metadata; no false negatives by design,
docs.snowflake.com sql-reference/functions/system_stream_has_data). A row that commits
with an extraction time below what the probe saw is not counted, but the next gate takes
it (the gate reads every pending row), and ``fallback_seconds`` runs every source, whatever
its trigger, at least that often: a missed webhook or a late row never waits forever.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from keel.batch import judged, reads
from keel.batch.window import EXTRACTED_AT, utc
from keel.errors import KeelError

if TYPE_CHECKING:
    from keel.context import Context
    from keel.events.service import EventService
    from keel.project.models import ChangesTrigger

log = logging.getLogger("keel.events")


@dataclass
class Watch:
    """What the watcher knows about one source since its last run."""

    last_run: float
    rows: int = 0  # rows seen landing since the last run
    first_seen: float | None = None
    last_growth: float | None = None
    seen: dict[str, dt.datetime | None] = field(default_factory=dict)  # table -> newest ext
    inserted: dict[str, int] = field(default_factory=dict)  # table -> insert counter (PG)


def due(trigger: str, spec: ChangesTrigger, fallback: float, w: Watch, now: float) -> str | None:
    """Why the source should run now (``max_wait``, ``changes``, ``fallback``), or None."""
    if trigger == "changes" and w.rows and w.first_seen is not None:
        if now - w.first_seen >= spec.max_wait:
            return "max_wait"
        quiet = w.last_growth is not None and now - w.last_growth >= spec.quiet
        if w.rows >= spec.min_rows and quiet:
            return "changes"
    if fallback and now - w.last_run >= fallback:
        return "fallback"
    return None


def observe(w: Watch, landed: int, now: float) -> None:
    if landed > 0:
        w.rows += landed
        w.first_seen = now if w.first_seen is None else w.first_seen
        w.last_growth = now


class ChangeWatcher:
    def __init__(self, service: EventService, clock: Any = time.monotonic):
        self.service = service
        self.clock = clock
        project = service.ctx.project
        self.sources = {
            name: spec
            for name, spec in project.sources.items()
            if spec.trigger == "changes" or spec.fallback_seconds
        }
        start = clock()
        self.watches = {name: Watch(start) for name in self.sources}
        ticks = [s.changes.probe_every for s in self.sources.values() if s.trigger == "changes"]
        self.tick = min([*ticks, 5.0])
        self.runs: list[tuple[str, str]] = []  # (source, why), for tests and the log

    def probe(self, ctx: Context) -> None:
        """One cheap query per engine for every ``trigger: changes`` source."""
        a = ctx.adapter
        for name, spec in self.sources.items():
            if spec.trigger != "changes":
                continue
            w = self.watches[name]
            streams = list(ctx.project.streams_of(name))
            if a.change_streams:
                landed = 0
                for s in streams:
                    try:
                        found = a.fetch(judged.has_data_sql(a, judged.Scope.of(s)), "probe")
                        landed += 1 if found and found[0][0] else 0
                    except KeelError:  # no stream yet: the first gate creates it
                        landed += 1
                observe(w, landed, self.clock())
                continue
            counters = a.inserted_sql([(s.raw_schema, s.table) for s in streams])
            if counters is not None:  # PostgreSQL: the statistics' insert counters
                try:
                    counts = {a.canon(t): int(n or 0) for _, t, n in a.fetch(counters, "probe")}
                except KeelError:
                    continue
                landed = sum(
                    max(0, n - w.inserted.get(t, 0)) if t in w.inserted else n
                    for t, n in counts.items()
                )
                w.inserted = counts
                observe(w, landed, self.clock())
                continue
            if not w.seen:  # start from the watermarks: rows after them are pending
                marks = reads.read_watermarks(a, {name}, floors=False)
                w.seen = {
                    s.table: m.at if (m := marks.get((s.source, s.name))) else None for s in streams
                }
            parts = []
            for s in streams:
                after = w.seen.get(s.table)
                where = f"{a.ident(EXTRACTED_AT)} > {a.lit(after)}" if after else "1 = 1"
                parts.append(
                    f"SELECT {a.lit(s.table)} AS t, COUNT(*) AS n, MAX({a.ident(EXTRACTED_AT)}) "
                    f"AS m FROM {a.ident(s.raw_schema, s.table)} WHERE {where}"
                )
            try:
                rows = a.fetch(" UNION ALL ".join(parts), "probe") if parts else []
            except KeelError:  # a RAW table not landed yet
                continue
            landed = 0
            for table, n, newest in rows:
                landed += int(n or 0)
                if newest is not None:
                    w.seen[table] = utc(newest)
            observe(w, landed, self.clock())

    def run(self, name: str, why: str) -> None:
        """Gate and publish ``name`` (never at the same time as its event runs)."""
        service = self.service
        old = self.watches[name]
        self.watches[name] = Watch(self.clock(), seen=old.seen, inserted=old.inserted)
        self.runs.append((name, why))
        try:
            outcome = service.run_exclusive(name, lambda ctx: service.runner(ctx, name))
        except KeelError as exc:
            service.metrics.inc("keel_gate_runs_total", result="error")
            log.error("%s run of %s failed: %s", why, name, exc.message)
            return
        result = "blocked" if outcome.blocked else "passed"
        service.metrics.inc("keel_gate_runs_total", result=result)
        service.metrics.inc("keel_publish_rows_total", float(outcome.published_rows))
        service.metrics.published(outcome.gate, dt.datetime.now(dt.UTC))
        service.last_outcome[name] = outcome
        settles = any(s.keel.wait_seconds for s in service.ctx.project.streams_of(name))
        if settles and outcome.published_rows:
            # rows still inside settle_seconds waited for a later batch: look again after
            # max_wait even if nothing new lands (a quiet tail is not left to the fallback)
            observe(self.watches[name], 1, self.clock())

    def step(self, ctx: Context) -> None:
        self.probe(ctx)
        now = self.clock()
        for name, spec in self.sources.items():
            why = due(spec.trigger, spec.changes, spec.fallback_seconds, self.watches[name], now)
            if why is not None:
                self.run(name, why)

    async def loop(self) -> None:
        if not self.sources:
            return
        ctx = self.service.ctx.fork()
        try:
            while True:
                await asyncio.sleep(self.tick)
                try:
                    await asyncio.to_thread(self.step, ctx)
                except Exception:  # a bug must not stop the watching
                    log.exception("watching sources failed")
        finally:
            ctx.close()
