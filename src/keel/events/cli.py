"""``keel serve``: the event service."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from keel.cli_common import command

if TYPE_CHECKING:
    from keel.console import Console


def register(main: click.Group) -> None:
    @main.command()
    @click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
    @click.option("--port", default=8787, show_default=True, type=int, help="Port to listen on.")
    @click.option(
        "--poll/--no-poll",
        default=True,
        show_default=True,
        help="Poll Airbyte's jobs API for syncs the webhook missed (when configured).",
    )
    @command
    def serve(
        host: str, port: int, poll: bool, project_dir: Path, json_mode: bool, console: Console
    ) -> None:
        """Run the event service: Airbyte webhooks -> gate -> publish, status page, metrics."""
        from keel.events.server import build, run

        app, service, token_note = build(project_dir, console, poll=poll)
        url = service.ctx.project.spec.serve.public_url.rstrip("/")
        if not json_mode:
            console.ok(f"keel serve on http://{host}:{port} (status page: http://{host}:{port}/)")
            console.line(f"Airbyte webhook URL: {url}/hooks/airbyte/<KEEL_WEBHOOK_TOKEN>")
            if token_note:
                console.warn(token_note)
        run(app, host, port)

    _ = serve


def describe(value: Any) -> str:  # pragma: no cover - kept for symmetry with other parts
    return str(value)
