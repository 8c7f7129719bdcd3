"""Human output of gate, promote, run and batches (JSON goes through ``to_dict``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from keel.console import Console
from keel.quality.model import SourceReport, StreamReport

STYLE = {
    "passed": "green",
    "promoted": "green",
    "warned": "yellow",
    "blocked": "bold red",
    "empty": "dim",
}
MAX_SAMPLE_COLUMNS = 8


def stream_title(s: StreamReport) -> str:
    title = f"{s.key}: {s.status.upper()}"
    b = s.batch
    if b is None:
        return f"{title} ({s.reason or 'nothing pending'})"
    title += f"  batch {b.id}, {b.rows} row(s)"
    if b.status in ("promoted", "forced", "quarantined"):
        title += f", {b.published} published"
        if b.quarantined:
            title += f", {b.quarantined} quarantined"
        if b.deleted:
            title += f", {b.deleted} deleted"
        if b.status == "forced":
            title += f" (forced by {b.forced_by}: {b.reason})"
    return title


def render_stream(console: Console, s: StreamReport) -> None:
    console.line(stream_title(s), style=STYLE.get(s.status))
    if s.batch is None:
        return
    rows = []
    for r in s.checks:
        count = "" if r.status == "pass" else str(r.failing_rows)
        if r.failing_values is not None and r.status != "pass":
            count += f" ({r.failing_values} value(s))"
        rows.append(
            (
                r.check.name,
                (r.check.column or "").lower(),
                r.check.severity,
                r.status.upper(),
                count,
                r.message if r.status != "pass" else "",
            )
        )
    console.table(None, ["check", "column", "severity", "status", "failing rows", "detail"], rows)
    if s.blocked:
        console.line("  blocked by:", style="red")
        for r in s.blocking_checks:
            where = f"({(r.check.column or '').lower()})" if r.check.column else ""
            console.line(f"    {r.check.name}{where}: {r.message}", style="red")
    elif s.reason and s.batch.status == "forced":
        console.line(f"  {s.reason}", style="yellow")
    for note in s.notes:
        console.line(f"  note: {note}", style="yellow")
    for check_id, samples in s.samples.items():
        render_samples(console, check_id, samples)
    console.line()


def render_samples(console: Console, check_id: str, samples: Sequence[dict[str, Any]]) -> None:
    if not samples:
        return
    columns = [c for c in samples[0] if not c.startswith("_airbyte")][:MAX_SAMPLE_COLUMNS]
    console.table(
        f"  failing rows of {check_id} (sample, high and sensitive columns masked)",
        columns,
        [[row.get(c) for c in columns] for row in samples],
    )


def render_source(console: Console, report: SourceReport, verb: str) -> None:
    for s in report.streams:
        render_stream(console, s)
    for note in report.notes:
        console.line(f"note: {note}", style="yellow")
    t = report.transform
    if t is not None:
        if t.status == "succeeded":
            console.ok(f"transform ({t.kind}) succeeded in {t.seconds:.1f}s")
        else:
            console.error(
                f"transform ({t.kind}: {' '.join(t.command)}) failed with exit code "
                f"{t.exit_code}; the publish stands. Output (tail):\n{t.output}"
            )
    blocked = [s.key for s in report.streams if s.blocked]
    if blocked:
        console.error(f"{verb}: blocked: {', '.join(blocked)}")
    else:
        done = sum(1 for s in report.streams if s.batch is not None)
        console.ok(f"{verb}: {done} batch(es), none blocked")


def render_batches(console: Console, batches: Sequence[dict[str, Any]]) -> None:
    if not batches:
        console.line("no batches yet")
        return
    rows = []
    for b in batches:
        status = str(b["status"])
        if b.get("superseded_by"):
            status += f" (then in {b['superseded_by']})"
        rows.append(
            (
                b["source"],
                b["stream"],
                b["id"],
                status,
                b["rows"],
                b.get("published_rows") if b.get("published_rows") is not None else "",
                b.get("created_at") or "",
                b.get("forced_by") or "",
            )
        )
    console.table(
        "Batches (newest first)",
        ["source", "stream", "id", "status", "rows", "published", "created_at", "forced by"],
        rows,
    )
