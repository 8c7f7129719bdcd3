"""Assemble the event service for ``keel serve`` (and for tests): context, runner,
alerts, poller, app; and run it under uvicorn."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from keel.console import Console
from keel.context import Context
from keel.errors import KeelError
from keel.events import localapi
from keel.events.app import create_app
from keel.events.service import EventService, Notifier, Runner
from keel.publish.pipeline import RunReport

log = logging.getLogger("keel.events")


def default_runner() -> Runner:
    """gate + promote + transform for one source: Airbyte already loaded the data, so the
    ingest step is skipped; the outcome says whether any stream was blocked."""

    def run(ctx: Context, source: str) -> RunReport:
        return ctx.run(source, ingest=False)

    return run


def default_notifier() -> Notifier:
    from keel.alerts.notify import notify

    return notify


def build(
    root: Path,
    console: Console | None = None,
    poll: bool = True,
    runner: Runner | None = None,
    notify: Notifier | None = None,
    context: Context | None = None,
) -> tuple[Any, EventService, str | None]:
    """The app and its service for the project in ``root`` (or the given ``context``,
    whose warehouse connection the server then owns)."""
    ctx = context or Context(root, console)
    project = ctx.project
    token = project.spec.serve.token.get_secret_value() if project.spec.serve.token else ""
    if not token:
        raise KeelError(
            "serve.token is not set: set KEEL_WEBHOOK_TOKEN (the secret part of the "
            "webhook URL Airbyte calls); without it every webhook would be refused"
        )
    ctx.adapter  # noqa: B018 - open the warehouse now: a locked DuckDB file fails here, clearly
    service = EventService(ctx, runner or default_runner(), notify or default_notifier())
    pollers: list[Any] = [_AlertLoop(service)]
    note = None
    if poll and project.spec.airbyte is not None:
        from keel.events.poller import JobPoller

        pollers.append(JobPoller(service, project.spec.airbyte))
    elif poll:
        note = "no airbyte block in keel.yml: the jobs poller is off (webhooks only)"
    app = create_app(service, token, pollers, api_secret=localapi.new_secret())
    return app, service, note


def listen_on(app: Any, host: str, port: int) -> None:
    """Tell the app its address: once started it writes ``.keel/serve.json`` (the local
    API for keel gate, promote and batches) and removes it when it stops."""
    app.state.keel_address = (host, port)


class _AlertLoop:
    """The alert sender as a background task of the server: started and stopped with it,
    woken whenever the service queues an alert."""

    def __init__(self, service: EventService):
        from keel.alerts.notify import sender_for
        from keel.alerts.sender import AlertMetrics

        metrics = AlertMetrics(hook=lambda name, sink: service.metrics.inc(name, sink=sink))
        self.sender = sender_for(service.ctx, metrics=metrics)
        service.on_alert = self.sender.wake

    def start(self) -> None:
        self.sender.start()

    async def stop(self) -> None:
        await self.sender.astop()


SWITCH_INTERVAL = 0.0005  # seconds


def run(app: Any, host: str, port: int) -> None:
    """Serve until stopped. This process is keel serve's own, so it sets the interpreter's
    thread switch interval here (never inside a library call): the warehouse calls run in
    threads and release the GIL, and with Python's default 5 ms each one waits that long to
    get it back from the busy event loop, which caps intake near 150 events/s."""
    import sys

    import uvicorn

    from keel.events import deadline

    sys.setswitchinterval(SWITCH_INTERVAL)
    listen_on(app, host, port)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=30,
        http=deadline.protocol(),  # slow-loris connections closed (keel.events.deadline)
    )
