"""Write-audit-publish: gate each stream, then publish what passed, parents first.

:func:`promote` is what ``keel promote`` and ``keel run`` call. Per stream:

1. judge the pending batch (:class:`keel.quality.gate.GateRun`, publishing mode: the
   parents' promoted tables are exact because parents were published just before);
2. blocked (and not ``force``): publish nothing, keep the watermark; the next gate
   re-tests everything pending, so a fixing batch publishes both;
3. otherwise one transaction: MERGE into ``<SOURCE>_DATA.<STREAM>``, the watermark
   moved to the batch's newest extraction, the promoted table's tags, the batch's
   status (``promoted``, ``forced`` with who and why, or ``quarantined`` with the
   failing rows kept in ``SOPHIA_OPS.KEEL_QUARANTINE``). Before writing, the
   transaction re-reads the watermark and the window's row count: if either moved
   since the gate, it rolls back and says so (nothing half-published).

DDL (create the promoted table, add or widen columns; native tags) runs inside the
transaction where the engine's DDL is transactional, else just before ``BEGIN``
(it is idempotent, and an empty table or a new column without rows is harmless).
A crash at any point leaves the promoted table and the watermark both before or
both after the batch; replaying a batch changes nothing (MERGE keys, wins_sql).
After the streams, the source's transformation runs when something was published;
its failure is reported and recorded, and never undoes the publish.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from keel.adapters.base import Adapter
from keel.batch import batches, judged, watermarks
from keel.batch import quarantine as quarantine_store
from keel.batch.judged import Scope
from keel.batch.window import Layout, Window, relation_sql, window_sql
from keel.errors import KeelError
from keel.project.loaded import Project, tag_json
from keel.publish import merge
from keel.publish.transform import BatchWindow
from keel.quality.gate import GateRun, Target, Verdict
from keel.quality.model import SourceReport, StreamReport
from keel.resources import TagKey


class StaleBatchError(KeelError):
    """The pending rows changed between the gate and the publish (run promote again)."""


def _contract_tags(v: Verdict) -> dict[TagKey, str]:
    s, layout = v.stream, v.layout
    assert layout is not None
    data = ".".join(layout.data)
    present = set(layout.names)
    out = {TagKey("table", data): tag_json(s.tag)}
    for c in s.columns:
        if c.critical and c.name in present:
            out[TagKey("column", f"{data}.{c.name}")] = tag_json(c.tag)
    return out


def publish(
    run: GateRun,
    v: Verdict,
    *,
    forced_by: str | None = None,
    reason: str | None = None,
) -> None:
    """Publish one judged batch (see the module docstring for the guarantees)."""
    a: Adapter = run.adapter
    layout, report, batch = v.layout, v.report, v.report.batch
    if layout is None or batch is None or batch.upto is None:
        raise KeelError(f"{v.stream.key} has no batch to publish")  # pragma: no cover
    # late rows may all be older than the watermark: it never moves back
    mark = max(batch.after, batch.upto) if batch.after is not None else batch.upto
    now = run.now()
    quarantine = v.quarantine and forced_by is None
    ddl = merge.ddl_sql(a, _target(a, layout))
    recorded = run.tags
    wanted = merge.promoted_tags(layout, recorded, _contract_tags(v))
    tag_sql = merge.tag_sqls(a, wanted, recorded)
    early = [] if a.caps.transactional_ddl else ddl + (tag_sql if a.caps.native_tags else [])
    for sql in early:
        a.execute(sql)
    status = "forced" if forced_by else "quarantined" if quarantine and v.bad_rows else "promoted"
    with a.transaction():
        for sql in a.snapshot_sql:  # first: every statement below reads one snapshot
            a.execute(sql)
        if a.caps.transactional_ddl:
            if ddl and layout.promoted is not None:  # masking views would block ALTER TYPE
                for sql in a.unmasking_sql(*layout.data):
                    a.execute(sql)
            for sql in ddl:
                a.execute(sql)
        if layout.promoted is None or (ddl and a.caps.transactional_ddl):
            # a table keel just created or altered: hide masked columns before anyone can
            # read it (on PostgreSQL the schema's default privileges would grant the whole
            # table) and rebuild its masking view over the new columns
            for sql in a.masking_sql(*layout.data):
                a.execute(sql)
        window = _verify(a, v)
        quarantined = 0
        if quarantine and v.builder is not None:
            quarantined = _quarantine(run, v, now)
        a.execute(merge.merge_sql(a, _target(a, layout), window, batch.id if quarantined else None))
        scope = window.scope
        assert scope is not None
        if not a.change_streams:
            # the batch's raw ids are judged, from the MERGE's snapshot (keel.batch.judged)
            relation, where = relation_sql(a, layout.raw, window), window_sql(a, window)
            a.execute(judged.record_sql(a, scope, batch.id, now, relation, where))
            a.execute(judged.prune_sql(a, scope, mark))
        floor = None if a.change_streams else scope.next_floor(batch.upto)
        for sql in watermarks.move_sql(a, layout.source, layout.stream, mark, batch.id, now, floor):
            a.execute(sql)
        if not a.caps.native_tags:
            for sql in tag_sql:
                a.execute(sql)
        published = batch.live - quarantined
        decision = batches.Decision(
            status, now, published, quarantined, batch.deleted, forced_by, reason
        )
        for sql in batches.decide_sql(
            a, batch.id, layout.source, layout.stream, decision, batch.after
        ):
            a.execute(sql)
    batch.status = status  # type: ignore[assignment]
    batch.published, batch.quarantined = published, quarantined
    batch.forced_by, batch.reason = forced_by, reason
    report.status = "promoted"
    run.published(v.stream)


def _target(a: Adapter, layout: Layout) -> Layout:
    """The relation publish writes, asked again after masking may have moved it: the
    promoted name, or where a masking engine keeps its data (a base table)."""
    return replace(layout, data=a.published_relation(*layout.data))


def _verify(a: Adapter, v: Verdict) -> Window:
    """The batch's window, read again in the publish snapshot; refuses a stale batch."""
    layout, batch = v.layout, v.report.batch
    assert layout is not None and batch is not None
    found = watermarks.read_one(a, layout.source, layout.stream)
    mark = found.at if found else None
    window = Window(batch.after, batch.upto, Scope.of(v.stream, found.settled if found else None))
    relation, where = relation_sql(a, layout.raw, window), window_sql(a, window)
    count, digest = judged.fingerprint(
        a.fetch(judged.fingerprint_sql(a, relation, where), "probe")[0]
    )
    probed = batch.digest or (batch.rows, digest)
    if mark != batch.after or count != batch.rows or (count, digest) != probed:
        raise StaleBatchError(
            f"{v.stream.key}: the pending rows changed since the gate (watermark "
            f"{mark} vs {batch.after}, {count} rows vs {batch.rows}); nothing was "
            "published. Run keel promote again."
        )
    return window


def _quarantine(run: GateRun, v: Verdict, now: dt.datetime) -> int:
    a, layout, batch = run.adapter, v.layout, v.report.batch
    assert v.builder is not None and layout is not None and batch is not None
    ids = [r.check.id for r in v.report.blocking_checks if r.check.row_level]
    sql, names, check_ids = v.builder.quarantine_rows(ids)
    if not sql:
        return 0
    rows = a.fetch(sql, "quarantine")
    records = merge.quarantine_rows(
        v.stream.source, v.stream.name, batch.id, layout, names, check_ids, rows, now
    )
    for stmt in quarantine_store.replace_sql(a, batch.id, records):
        a.execute(stmt)
    return len(records)


def promote(
    project: Project,
    adapter: Adapter,
    target: str | Target,
    *,
    force: bool = False,
    reason: str | None = None,
    actor: str | None = None,
    transform: bool = True,
    sample_limit: int = 10,
    now: Callable[[], dt.datetime] | None = None,
    runner: Callable[..., Any] | None = None,
    progress: Callable[[StreamReport], None] | None = None,
) -> SourceReport:
    """Gate, then publish every stream that passed (blocked ones too with ``force``).

    ``force`` needs a ``reason``; the batch records who (``actor``, default the OS
    user) and why. ``transform``: run the source's transformation afterwards when
    anything was published (``runner`` replaces ``subprocess.run``, for tests).
    ``progress`` is called after each stream is judged and, when it passed, published.
    """
    if force and not (reason and reason.strip()):
        raise KeelError("--force needs --reason TEXT: a forced promotion is logged with why")
    t = target if isinstance(target, Target) else Target.parse(project, target)
    kwargs: dict[str, Any] = {"sample_limit": sample_limit, "publishing": True}
    if now is not None:
        kwargs["now"] = now
    run = GateRun(project, adapter, t, **kwargs)
    report = SourceReport(t.source)
    published: list[str] = []
    windows: list[BatchWindow] = []
    for s in run.order:
        v = run.judge(s)
        report.streams.append(v.report)
        if v.report.batch is not None and (force or not v.report.blocked):
            if v.report.blocked:
                publish(run, v, forced_by=actor or adapter.current_user(), reason=reason)
                v.report.reason = f"published by force ({reason}) although {v.report.reason}"
            else:
                publish(run, v)
            published.append(v.report.batch.id)
            b = v.report.batch
            windows.append(BatchWindow(s.name, b.id, b.first, b.upto, b.published or 0))
        if progress is not None:
            progress(v.report)
    if transform and published:
        from keel.publish.transform import run_transform

        report.transform = run_transform(
            project, adapter, t.source, published, run.now(), runner=runner, windows=windows
        )
    return report
