"""The gate: test each stream's pending batch as the promoted table would be after it.

:func:`gate` is what ``keel gate`` calls and what ``keel serve`` calls in-process with
its long-lived Context's project and adapter (nothing here holds state between calls).
:class:`GateRun` is the engine :mod:`keel.publish.promote` shares.

Invariants:

- Nothing runs until every selected stream's checks compile against the actual
  RAW tables (:class:`~keel.errors.QualityError` lists every problem with file:line).
- Metadata is read in bulk: one query for columns, one for watermarks, one for
  tags, one probe of every pending window, whatever the number of streams.
- Each stream's checks run as one aggregate statement over its batch
  (:mod:`keel.quality.scan`); failing rows are sampled afterwards, only for failing
  checks, at most ``sample_limit`` per check, with high and sensitive columns masked.
- Streams are judged parents first. A relationships check sees the parent as it will
  be: the promoted parent, plus (when only gating) the parent's pending batch if the
  parent passed in this run. When promoting, parents are published before their
  children are judged, so the promoted parent is exact.
- Results, samples and the batch record are written in one transaction; the batch id
  is a function of the window, so gating the same pending rows twice rewrites the
  same records instead of adding new ones.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from keel import ops_tables as ops
from keel.adapters.base import Adapter
from keel.batch import judged, reads
from keel.batch.judged import Scope
from keel.batch.window import Layout, batch_id
from keel.errors import KeelError, Problem, QualityError
from keel.project.loaded import Project, Stream
from keel.project.tests_spec import did_you_mean, parse_relation
from keel.quality import masking
from keel.quality.checks import Check, compile_checks
from keel.quality.evaluate import evaluate, jsonable
from keel.quality.model import Batch, SourceReport, StreamReport
from keel.quality.record import record_gate
from keel.quality.scan import ParentRef, ScanBuilder

MASKED_LEVELS = masking.MASKED_LEVELS


@dataclass(frozen=True)
class Target:
    """What a gate runs on: a source, or one stream of it."""

    source: str
    stream: str | None = None

    @classmethod
    def parse(cls, project: Project, text: str) -> Target:
        """``SOURCE`` or ``SOURCE.STREAM``; an unknown name is an error with a hint."""
        source, _, stream = text.partition(".")
        if source not in project.sources:
            raise KeelError(
                f"unknown source {source!r}"
                + (f" ({hint})" if (hint := did_you_mean(source, set(project.sources))) else "")
            )
        if stream and f"{source}.{stream}" not in project.streams:
            names = {s.name for s in project.streams_of(source)}
            hint = did_you_mean(stream, names) or f"streams: {', '.join(sorted(names))}"
            raise KeelError(f"source {source} has no stream {stream!r} ({hint})")
        return cls(source, stream or None)


def parents_of(stream: Stream) -> list[str]:
    """``source.stream`` of every relationships target of ``stream``."""
    out = []
    for test in stream.all_tests:
        if test.name == "relationships":
            rel = parse_relation(str(test.args.get("to", "")))
            if rel:
                out.append(f"{rel[0]}.{rel[1]}")
    return out


def order_streams(streams: list[Stream]) -> list[Stream]:
    """Parents before children (relationships within the list), otherwise declaration
    order; streams caught in a cycle follow in declaration order."""
    keys = [s.key for s in streams]
    deps = {s.key: {p for p in parents_of(s) if p in keys and p != s.key} for s in streams}
    by_key = {s.key: s for s in streams}
    done: list[str] = []
    while len(done) < len(keys):
        ready = [k for k in keys if k not in done and deps[k] <= set(done)]
        done += ready[:1] or [k for k in keys if k not in done]
    return [by_key[k] for k in done]


@dataclass
class Verdict:
    """One stream's judgement and what publishing it needs."""

    stream: Stream
    report: StreamReport
    layout: Layout | None = None
    builder: ScanBuilder | None = None
    bad_rows: int = 0  # live rows failing an error-severity row-level check
    quarantine: bool = False  # publish without the bad rows (on_fail: quarantine_rows)


@dataclass
class GateRun:
    """One gate (or promotion) over one source: metadata read once, streams judged in order.

    ``publishing``: parents' pending batches are never counted as present (they are
    published before their children are judged, or not at all).
    """

    project: Project
    adapter: Adapter
    target: Target
    publishing: bool = False
    sample_limit: int = 10
    now: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    selected: list[Stream] = field(init=False)
    order: list[Stream] = field(init=False)
    columns: reads.Columns = field(init=False)
    pending: dict[str, reads.Pending] = field(init=False)
    tags: dict[tuple[str, str], str] = field(init=False)
    checks: dict[str, list[Check]] = field(init=False)
    verdicts: dict[str, Verdict] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        p, a, t = self.project, self.adapter, self.target
        streams = p.streams_of(t.source)
        self.selected = [s for s in streams if t.stream is None or s.name == t.stream]
        needed = {s.key for s in self.selected}
        if not self.publishing:  # a preview needs the verdict of same-source ancestors
            frontier = list(self.selected)
            while frontier:
                for parent in parents_of(frontier.pop()):
                    if (
                        parent not in needed
                        and parent in p.streams
                        and p.streams[parent].source == t.source
                    ):
                        needed.add(parent)
                        frontier.append(p.streams[parent])
        self.order = order_streams([s for s in streams if s.key in needed])
        related = {k: p.streams[k] for s in self.order for k in parents_of(s) if k in p.streams}
        tables = {(ops.OPS_SCHEMA, table.name) for table in reads.GATE_TABLES}
        for s in [*self.order, *related.values()]:
            tables |= {(s.raw_schema, s.table), (s.data_schema, s.table)}
        self.columns = reads.read_columns(a, tables)
        reads.require_ops(a, self.columns)
        self._compile(related)
        marks = reads.read_watermarks(a, {t.source})
        landed = [s for s in self.order if self.raw_columns(s) is not None]
        if a.change_streams:  # DDL, auto-committed: before anything reads the streams
            for s in landed:
                a.execute(judged.create_stream_sql(a, Scope.of(s)))
        self.pending = reads.probe(
            a,
            [
                (
                    s.key,
                    (s.raw_schema, s.table),
                    reads.pending_window(s, marks.get((s.source, s.name)), self._settled(s)),
                )
                for s in landed
            ],
        )
        self.tags = (
            {}
            if a.caps.native_tags
            else reads.read_tags(a, {x for s in self.order for x in (s.raw_schema, s.data_schema)})
        )

    def _settled(self, s: Stream) -> dt.datetime | None:
        """The newest extraction time a batch takes now (``meta.keel.settle_seconds``, at
        least ``max_lateness_seconds``): rows emitted more recently wait for the next batch,
        so a loader committing rows a little late does not change the batch between the
        gate and its publish (which would roll the publish back, again and again under a
        steady load). None: no bound."""
        settle = s.keel.wait_seconds
        if not settle or self.adapter.change_streams:  # a stream's batch is all it holds
            return None
        return self.now() - dt.timedelta(seconds=settle)

    def raw_columns(self, s: Stream) -> list[tuple[str, str]] | None:
        return self.columns.get((s.raw_schema, s.table))

    def promoted_columns(self, s: Stream) -> list[tuple[str, str]] | None:
        return self.columns.get((s.data_schema, s.table))

    def _compile(self, related: dict[str, Stream]) -> None:
        problems: list[Problem] = []
        self.checks = {}
        parent_cols = {
            r.key: [c for c, _ in cols] if (cols := self.raw_columns(r)) is not None else None
            for r in related.values()
        }
        for s in self.order:
            raw = self.raw_columns(s)
            if raw is None:
                continue  # nothing landed yet: reported as empty, checked once it has
            checks, found = compile_checks(
                s, [c for c, _ in raw], parent_cols, self.adapter.dialect.name
            )
            self.checks[s.key] = checks
            problems += found
        if problems:
            raise QualityError(_problems_text(problems))

    # ---- judging ------------------------------------------------------------------------

    def layout(self, s: Stream) -> Layout:
        return Layout.of(s, self.raw_columns(s) or [], self.promoted_columns(s))

    def pii_levels(self, s: Stream) -> dict[str, str | None]:
        """Column -> tagged pii_level (contract or warehouse tag; the stricter wins),
        None when untagged."""
        levels: dict[str, str | None] = {c.name: c.tag.get("pii_level") for c in s.columns}
        prefix = f"{s.raw_schema}.{s.table}."
        for (kind, name), value in self.tags.items():
            if kind == "column" and name.startswith(prefix):
                try:
                    level = json.loads(value).get("pii_level")
                except (ValueError, AttributeError):
                    level = None
                column = name[len(prefix) :]
                if level is not None and (level in MASKED_LEVELS or not levels.get(column)):
                    levels[column] = str(level)
        return levels

    def masked(self, s: Stream) -> dict[str, str]:
        """Masked column -> why: only columns known to be harmless are shown
        (keel.quality.masking)."""
        return masking.before_sampling(self.raw_columns(s) or [], self.pii_levels(s))

    def parent_refs(self, s: Stream, checks: list[Check]) -> dict[str, ParentRef]:
        refs: dict[str, ParentRef] = {}
        for check in checks:
            if check.name != "relationships":
                continue
            rel = parse_relation(str(check.args.get("to", "")))
            parent = self.project.streams.get(f"{rel[0]}.{rel[1]}") if rel else None
            if parent is None:
                continue
            field_name = str(check.args.get("field", "")).upper()
            promoted = (parent.data_schema, parent.table)
            pcols = self.promoted_columns(parent)
            has = pcols is not None and field_name in {c for c, _ in pcols}
            ref = ParentRef(field_name, promoted if has else None)
            seen = self.verdicts.get(parent.key)
            pend = self.pending.get(parent.key)
            if (
                not self.publishing
                and seen is not None
                and pend is not None
                and pend.rows
                and seen.report.status in ("passed", "warned")
                and seen.layout is not None
            ):
                ref = ParentRef(field_name, ref.promoted, seen.layout, pend.window)
            refs[check.id] = ref
        return refs

    def judge(self, s: Stream) -> Verdict:
        """Judge one stream's pending batch and record the results (streams in order)."""
        a = self.adapter
        report = StreamReport(s.source, s.name, "empty")
        raw = self.raw_columns(s)
        pend = self.pending.get(s.key)
        if raw is None or pend is None or pend.rows == 0 or pend.window.upto is None:
            report.reason = (
                f"{s.raw_schema}.{s.table} does not exist yet"
                if raw is None
                else "no rows after the watermark"
            )
            verdict = Verdict(s, report)
            self.verdicts[s.key] = verdict
            return verdict
        layout = self.layout(s)
        checks = self.checks.get(s.key, [])
        builder = ScanBuilder(a, layout, pend.window, checks, self.parent_refs(s, checks))
        scan = builder.aggregate()
        try:
            values = scan.decode(a.fetch(scan.sql, "gate")[0])
        except KeelError as exc:
            raise KeelError(f"the gate scan of {s.key} failed: {exc}") from exc
        window, upto = pend.window, pend.window.upto
        batch = Batch(
            batch_id(s.source, s.name, window),
            _int(values["raw_rows"]),
            "passed",
            window.after,
            upto,
            keys=_int(values["keys"]),
            live=_int(values["live"]),
            deleted=_int(values["deleted"]),
            stale=_int(values["stale"]),
            first=pend.first,
            digest=(pend.rows, pend.digest),
        )
        report.batch = batch
        outcome = evaluate(s, layout, checks, values, self.now(), self.project.streams)
        report.checks = outcome.results
        bad = _int(values.get("bad_rows", 0))
        verdict = Verdict(s, report, layout, builder, bad)
        blocking = report.blocking_checks
        if (
            blocking
            and s.keel.on_fail == "quarantine_rows"
            and all(r.check.row_level for r in blocking)
        ):
            verdict.quarantine = True
            batch.quarantined = bad
            report.notes.append(
                f"{bad} row(s) fail a row-level check: quarantined on promote "
                "(meta.keel.on_fail: quarantine_rows)"
            )
            blocking = []
        if blocking:
            report.status, batch.status = "blocked", "blocked"
            report.reason = "blocked by " + "; ".join(
                f"{r.check.name}({(r.check.column or '').lower()}): {r.message}"
                if r.check.column
                else f"{r.check.name}: {r.message}"
                for r in blocking
            )
        else:
            warned = verdict.quarantine or any(r.status != "pass" for r in report.checks)
            report.status = "warned" if warned else "passed"
        self._sample(verdict)
        record_gate(a, verdict.report, self.now())
        self.verdicts[s.key] = verdict
        return verdict

    def _sample(self, verdict: Verdict) -> None:
        failing = [
            r.check.id
            for r in verdict.report.checks
            if r.status != "pass" and r.check.row_level and r.failing_rows
        ]
        if not failing or verdict.builder is None or self.sample_limit <= 0:
            return
        s = verdict.stream
        masked = self.masked(s)
        sql, names = verdict.builder.failing_rows(failing, frozenset(masked), self.sample_limit)
        if not sql:
            return
        rows = []
        for row in self.adapter.fetch(sql, "sample"):
            sample = {n.lower(): jsonable(v) for n, v in zip(names, row[1:], strict=True)}
            verdict.report.samples.setdefault(str(row[0]), []).append(sample)
            rows.append(sample)
        masking.after_sampling(rows, self.raw_columns(s) or [], self.pii_levels(s), masked)
        verdict.report.masked = {c.lower(): why for c, why in sorted(masked.items())}
        line = masking.note(masked)
        if line and rows:
            verdict.report.notes.append(line)

    def published(self, s: Stream) -> None:
        """After ``s`` was published: its promoted table exists with every RAW column."""
        raw = self.raw_columns(s) or []
        have = {c for c, _ in self.promoted_columns(s) or []}
        merged = list(self.promoted_columns(s) or []) + [(c, t) for c, t in raw if c not in have]
        self.columns[(s.data_schema, s.table)] = merged


def _int(value: object) -> int:
    """A count from the warehouse (int, or Decimal where SUM returns NUMERIC)."""
    return int(value) if isinstance(value, int | float | decimal.Decimal) else 0


def _problems_text(problems: list[Problem]) -> str:
    ordered = sorted(problems, key=lambda p: (p.file, p.line or 0, p.message))
    n = len(ordered)
    head = f"the contracts do not fit the warehouse ({n} problem{'s' if n != 1 else ''}):"
    return "\n".join([head, *("  " + p.render() for p in ordered)])


def gate(
    project: Project,
    adapter: Adapter,
    target: str | Target,
    *,
    sample_limit: int = 10,
    now: Callable[[], dt.datetime] | None = None,
    progress: Callable[[StreamReport], None] | None = None,
) -> SourceReport:
    """Test the pending batch of every selected stream; record and return the verdicts.

    Publishes nothing. Exit code 1 belongs to the caller when ``report.blocked``.
    ``progress`` is called after each stream (selected or not) is judged.
    """
    t = target if isinstance(target, Target) else Target.parse(project, target)
    kwargs: dict[str, Any] = {"sample_limit": sample_limit}
    if now is not None:
        kwargs["now"] = now
    run = GateRun(project, adapter, t, **kwargs)
    report = SourceReport(t.source)
    selected = {s.key for s in run.selected}
    for s in run.order:
        verdict = run.judge(s)
        if s.key in selected:
            report.streams.append(verdict.report)
        if progress is not None:
            progress(verdict.report)
    return report
