"""Commands of the data-quality gate, registered on the keel command group.

``keel gate``, ``keel promote``, ``keel batches``, ``keel run``: each parses its
options, calls one library function with the Context's project and adapter,
and renders the result (JSON with ``--json``, DESIGN section 9). Exit code 1
when a stream is blocked (or a transformation or ingest failed). Importing this
module costs only click: the gate loads when a command runs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from keel.clikit import command, open_context

if TYPE_CHECKING:
    from keel.console import Console

TARGET = click.argument("target", metavar="SOURCE[.STREAM]")
SAMPLES = click.option(
    "--samples",
    default=10,
    show_default=True,
    type=click.IntRange(0, 1000),
    help="Failing rows sampled per failing check (masked).",
)


@click.command()
@TARGET
@SAMPLES
@command
def gate(target: str, samples: int, project_dir: Path, json_mode: bool, console: Console) -> None:
    """Test the pending batch of SOURCE (or one stream); exit 1 when blocked."""
    from keel.quality.gate import gate as run_gate
    from keel.quality.render import render_source

    with open_context(project_dir, console) as ctx, console.progress("gating") as bar:
        report = run_gate(
            ctx.project, ctx.adapter, target, sample_limit=samples, progress=lambda _: bar.advance()
        )
    if json_mode:
        console.emit_json(report.to_dict())
    else:
        render_source(console, report, "gate")
    if not report.ok:
        sys.exit(1)


@click.command()
@TARGET
@click.option("--force", is_flag=True, help="Publish blocked batches too (needs --reason).")
@click.option("--reason", help="Why a blocked batch is forced (logged with who forced it).")
@click.option("--no-transform", is_flag=True, help="Do not run the source's transformation.")
@SAMPLES
@command
def promote(
    target: str,
    force: bool,
    reason: str | None,
    no_transform: bool,
    samples: int,
    project_dir: Path,
    json_mode: bool,
    console: Console,
) -> None:
    """Gate, then publish passing batches into <SOURCE>_DATA (parents first)."""
    from keel.errors import KeelError
    from keel.publish.promote import promote as run_promote
    from keel.quality.render import render_source

    if reason and not force:
        raise KeelError("--reason goes with --force")
    with open_context(project_dir, console) as ctx, console.progress("promoting") as bar:
        report = run_promote(
            ctx.project,
            ctx.adapter,
            target,
            force=force,
            reason=reason,
            transform=not no_transform,
            sample_limit=samples,
            progress=lambda _: bar.advance(),
        )
    if json_mode:
        console.emit_json(report.to_dict())
    else:
        render_source(console, report, "promote")
    if not report.ok:
        sys.exit(1)


@click.command()
@click.argument("source", required=False)
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 100_000))
@command
def batches(
    source: str | None, limit: int, project_dir: Path, json_mode: bool, console: Console
) -> None:
    """Pending, blocked and promoted batches (newest first)."""
    from keel.publish.batches import list_batches
    from keel.quality.render import render_batches

    with open_context(project_dir, console) as ctx:
        found = list_batches(ctx.project, ctx.adapter, source, limit=limit)
    if json_mode:
        console.emit_json(found)
    else:
        render_batches(console, found)


@click.command()
@click.argument("source")
@click.option("--no-transform", is_flag=True, help="Do not run the source's transformation.")
@SAMPLES
@command
def run(
    source: str,
    no_transform: bool,
    samples: int,
    project_dir: Path,
    json_mode: bool,
    console: Console,
) -> None:
    """Ingest, gate, promote and transform SOURCE: what a sync event triggers."""
    from keel.publish.pipeline import run_source
    from keel.quality.render import render_source

    with open_context(project_dir, console) as ctx:
        report = run_source(ctx, source, transform=not no_transform, sample_limit=samples)
    if json_mode:
        console.emit_json(report.to_dict())
    else:
        ingest = report.ingest
        if ingest.get("status") == "failed":
            console.error(f"ingest failed: {ingest.get('message')}")
        elif ingest.get("status") == "skipped":
            console.warn(str(ingest.get("message")))
        if report.promote is not None:
            render_source(console, report.promote, "run")
    if not report.ok:
        sys.exit(1)


COMMANDS = (gate, promote, batches, run)


def register(main: click.Group) -> None:
    """Add the gate's commands to ``main`` (idempotent)."""
    for cmd in COMMANDS:
        if cmd.name not in main.commands:
            main.add_command(cmd)
