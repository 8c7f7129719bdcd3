"""``keel ingest``: run the sources' connectors locally into their _RAW schemas."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from keel.cli_common import command, open_context

if TYPE_CHECKING:
    from keel.console import Console
    from keel.ingest.results import ProgressEvent


@contextlib.contextmanager
def stream_bars(console: Console) -> Iterator[Any]:
    """A progress bar per stream (records read, committed, rate) while ingesting."""
    if console.json_mode or console.quiet or not console.err.is_terminal:
        yield lambda event: None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description:<28}"),
        TextColumn("{task.completed:>10,.0f} records"),
        TextColumn("{task.fields[committed]:>10,} committed"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=console.err,
        transient=True,
    ) as bars:
        tasks: dict[str, Any] = {}

        def on_event(event: ProgressEvent) -> None:
            if event.kind == "log" and event.level in ("ERROR", "FATAL"):
                console.warn(f"{event.source}: {event.message}")
            if not event.stream:
                return
            key = f"{event.source}.{event.stream}"
            if key not in tasks:
                tasks[key] = bars.add_task(key, total=None, committed=0, rate="")
            task = tasks[key]
            if event.kind == "progress":
                bars.update(task, completed=event.records)
                speed = bars.tasks[task].speed
                bars.update(task, rate=f"{speed:,.0f}/s" if speed else "")
            elif event.kind == "committed":
                bars.update(task, committed=event.committed)

        yield on_event


def render(console: Console, results: list[Any]) -> None:
    rows = []
    for r in results:
        for s in r.streams:
            notes = []
            if s.table_created:
                notes.append("new table")
            if s.new_columns:
                notes.append("new columns: " + ", ".join(s.new_columns))
            rows.append(
                (
                    f"{r.source}.{s.stream}",
                    s.sync_mode,
                    f"{s.records:,}",
                    f"{s.committed:,}",
                    "; ".join(notes),
                )
            )
    console.table(
        "Ingested into the _RAW schemas", ["stream", "mode", "read", "committed", "notes"], rows
    )


def register(main: click.Group) -> None:
    @main.command()
    @click.argument("sources", nargs=-1)
    @click.option(
        "--fault",
        "faults",
        multiple=True,
        metavar="KIND:[SOURCE.]STREAM[.COLUMN][:COUNT]",
        help="Demo sources only: inject a fault into this sync (null, duplicate_pk, "
        "bad_value, orphan_fk, late, new_column, removed_column). Repeatable.",
    )
    @command
    def ingest(
        sources: tuple[str, ...],
        faults: tuple[str, ...],
        project_dir: Path,
        json_mode: bool,
        console: Console,
    ) -> None:
        """Run the sources' connectors locally into <SOURCE>_DATA_RAW (all when none given)."""
        from keel.ingest.demo.faults import parse_fault_option
        from keel.ingest.results import IngestFailed

        with open_context(project_dir, console) as ctx:
            names = list(sources) or list(ctx.project.sources)
            by_source: dict[str, list[dict[str, Any]]] = {}
            for text in faults:
                source, fault = parse_fault_option(text, names)
                by_source.setdefault(source, []).append(fault)
            with stream_bars(console) as on_event:
                try:
                    results = ctx.ingest(
                        names,
                        by_source,
                        progress=on_event,
                        on_install=lambda m: console.line(m),
                    )
                except IngestFailed as exc:
                    if json_mode:
                        console.emit_json({"sources": [exc.result.to_dict()], "error": exc.message})
                    else:
                        render(console, [exc.result])
                    raise
        if json_mode:
            console.emit_json({"sources": [r.to_dict() for r in results]})
            return
        render(console, results)
        console.line(
            "New tables and columns are untagged until the next `keel apply` "
            "(keel audit lists them); `keel gate SOURCE` tests the new batch."
        )

    _ = ingest
