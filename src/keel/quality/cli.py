"""Commands of the data-quality gate, registered on the keel command group.

``keel gate``, ``keel promote``, ``keel batches``, ``keel run``: each parses its
options, calls one library function with the Context's project and adapter,
and renders the result (JSON with ``--json``, DESIGN section 9). Exit code 1
when a stream is blocked (or a transformation or ingest failed). Importing this
module costs only click: the gate loads when a command runs.

While ``keel serve`` runs for the project (``.keel/serve.json``), gate, promote and
batches run inside the server (keel.events.localapi) and print the same output; with
``--json`` that path imports neither duckdb nor pydantic nor yaml nor rich.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import click

from keel.cli_common import command, open_context

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


def via_server(
    project_dir: Path, method: str, path: str, body: dict[str, Any] | None = None
) -> tuple[Any] | None:
    """``(answer,)`` from the project's running ``keel serve``; None when none runs."""
    from keel.events.localapi import ServerError, request

    try:
        return request(project_dir, method, path, body)
    except ServerError as exc:
        from keel.errors import KeelError

        if exc.status == 401:
            raise KeelError(
                "keel serve refused the local API secret in .keel/serve.json; restart "
                "keel serve, or stop it to run this command on its own"
            ) from exc
        raise KeelError(exc.message) from exc


def _finish(console: Console, report: Any, verb: str) -> None:
    """Print a SourceReport (JSON or for people); exit 1 unless it is ok."""
    if console.json_mode:
        console.emit_json(report.to_dict())
    else:
        from keel.quality.render import render_source

        render_source(console, report, verb)
    if not report.ok:
        sys.exit(1)


def _served_report(console: Console, answer: dict[str, Any], verb: str) -> None:
    """Print the server's report as the in-process command would; exit 1 unless ok."""
    ok = bool(answer.pop("ok", False))
    answer.pop("blocked", None)
    if console.json_mode:
        console.emit_json(answer)
    else:
        from keel.quality.model import SourceReport
        from keel.quality.render import render_source

        render_source(console, SourceReport.from_dict(answer), verb)
    if not ok:
        sys.exit(1)


@click.command()
@TARGET
@SAMPLES
@command
def gate(target: str, samples: int, project_dir: Path, json_mode: bool, console: Console) -> None:
    """Test the pending batch of SOURCE (or one stream); exit 1 when blocked."""
    served = via_server(
        project_dir, "POST", f"/api/gate/{quote(target, safe='')}", {"samples": samples}
    )
    if served is not None:
        _served_report(console, served[0], "gate")
        return
    with open_context(project_dir, console) as ctx, console.progress("gating") as bar:
        report = ctx.gate(target, sample_limit=samples, progress=lambda _: bar.advance())
    _finish(console, report, "gate")


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

    if reason and not force:
        raise KeelError("--reason goes with --force")
    body = {"force": force, "reason": reason, "transform": not no_transform, "samples": samples}
    served = via_server(project_dir, "POST", f"/api/promote/{quote(target, safe='')}", body)
    if served is not None:
        _served_report(console, served[0], "promote")
        return
    with open_context(project_dir, console) as ctx, console.progress("promoting") as bar:
        report = ctx.promote(
            target,
            force=force,
            reason=reason,
            transform=not no_transform,
            sample_limit=samples,
            progress=lambda _: bar.advance(),
        )
    _finish(console, report, "promote")


@click.command()
@click.argument("source", required=False)
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 100_000))
@command
def batches(
    source: str | None, limit: int, project_dir: Path, json_mode: bool, console: Console
) -> None:
    """Pending, blocked and promoted batches (newest first)."""
    query = {"full": 1, "limit": limit, **({"source": source} if source else {})}
    served = via_server(project_dir, "GET", f"/api/batches?{urlencode(query)}")
    if served is not None:
        found = served[0]
    else:
        with open_context(project_dir, console) as ctx:
            found = ctx.batches(source, limit=limit)
    from keel.quality.render import render_batches

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
    from keel.quality.render import render_source

    with open_context(project_dir, console) as ctx:
        report = ctx.run(source, transform=not no_transform, sample_limit=samples)
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
