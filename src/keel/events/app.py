"""The ASGI app of ``keel serve`` (Starlette under uvicorn).

Routes: ``POST /hooks/airbyte/{token}`` (Airbyte's notification webhook),
``GET /`` (status page), ``GET /api/catalog``, ``GET /api/batches``,
``GET /api/status``, ``GET /healthz``, ``GET /metrics``.
The webhook token is compared in constant time; a wrong token is 401, a body
over 1 MiB 413, a body not received in time 408, a malformed body 400 naming the
problem (keel.events.intake: UTF-8, JSON depth and number limits, NUL and
surrogates); an accepted event is stored before the 202 answer. An unexpected
error is logged (long values cut) and counted in ``keel_events_errors_total``.

The local API (keel.events.localapi: ``keel gate``, ``keel promote`` and ``keel batches``
run here while the server owns the warehouse): ``POST /api/gate/{target}``,
``POST /api/promote/{target}``, ``GET /api/batches?full=1``. Each needs
``Authorization: Bearer <secret>`` (the secret in ``.keel/serve.json``, new at every
start, compared in constant time; else 401). Gate and promote run in a worker thread on
their own connection, one at a time per source with the event runs; the answer is the
report's JSON plus ``blocked`` and ``ok``; an error is ``{"error"}`` with 400 (a bad
target, a failed check setup: any KeelError) or 500.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from keel.batch import batches as batch_store
from keel.context import Context
from keel.errors import KeelError, WebhookError
from keel.events import localapi, page
from keel.events.deadline import DeadlineProtocol
from keel.events.intake import MAX_BODY, TruncatingFilter, clean_body, short
from keel.events.service import EventService
from keel.events.status import status_data

BODY_TIMEOUT = 15.0  # seconds to read a body once its head has arrived
log = logging.getLogger("keel.events")
if not any(isinstance(f, TruncatingFilter) for f in log.filters):
    log.addFilter(TruncatingFilter())  # long values in log lines are cut (issue 11)


class _BadBody(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


async def _read_body(request: Request) -> bytes:
    """The body, at most MAX_BODY bytes (413), read within BODY_TIMEOUT seconds (408)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise _BadBody(413, f"body over {MAX_BODY} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(BODY_TIMEOUT):
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_BODY:
                    raise _BadBody(413, f"body over {MAX_BODY} bytes")
                chunks.append(chunk)
    except TimeoutError as exc:
        raise _BadBody(408, f"body not received within {BODY_TIMEOUT:g}s") from exc
    except ClientDisconnect as exc:
        raise _BadBody(400, "the client went away before its body arrived") from exc
    return b"".join(chunks)


def _json(data: Any, status: int = 200) -> Response:
    """JSON as ``keel ... --json`` prints it (values it cannot encode as their str)."""
    return Response(
        json.dumps(data, default=str), status_code=status, media_type="application/json"
    )


class _Routes:
    """The handlers of one app, sharing the service, the webhook token and the API secret."""

    def __init__(
        self,
        service: EventService,
        token: str,
        pollers: list[Any] | None,
        api_secret: str | None,
    ):
        self.service = service
        self.expected = token.encode()
        self.secret = (api_secret or localapi.new_secret()).encode()
        self.pollers = pollers or []
        self.root = Path(service.ctx.root)
        service.metrics.gauges["keel_connections_closed_slow_total"] = lambda: float(
            DeadlineProtocol.closed_slow
        )

    def routes(self) -> list[Route]:
        return [
            Route("/hooks/airbyte/{token}", self.webhook, methods=["POST"]),
            Route("/", self.home),
            Route("/api/status", self.api_status),
            Route("/api/catalog", self.api_catalog),
            Route("/api/batches", self.api_batches),
            Route("/api/gate/{target}", self.api_gate, methods=["POST"]),
            Route("/api/promote/{target}", self.api_promote, methods=["POST"]),
            Route("/healthz", self.healthz),
            Route("/metrics", self.metrics),
        ]

    # ---- the webhook ---------------------------------------------------------------------

    def _reject(self, status: int, message: str) -> Response:
        self.service.metrics.inc("keel_events_rejected_total", status=str(status))
        return JSONResponse({"error": message}, status_code=status)

    async def webhook(self, request: Request) -> Response:
        given = request.path_params["token"].encode("utf-8", "surrogateescape")
        if not self.expected or not hmac.compare_digest(given, self.expected):
            return self._reject(401, "unknown token")
        try:
            body = clean_body(await _read_body(request))
            accepted = await self.service.accept_async(body)
        except _BadBody as exc:
            return self._reject(exc.status, exc.message)
        except WebhookError as exc:
            result = self.service.describe(400, exc)
            return JSONResponse(result.body, status_code=400)
        except KeelError as exc:  # the warehouse refused the insert: tell Airbyte, log it
            return self._reject(503, short(exc.message.splitlines()[0]))
        except Exception as exc:  # a bug: logged and counted; the intake goes on
            log.exception("webhook failed unexpectedly")
            self.service.metrics.inc("keel_events_errors_total", stage="webhook")
            return self._reject(500, f"internal error ({type(exc).__name__}); see the log")
        return JSONResponse(accepted.body, status_code=accepted.status)

    # ---- the local API -------------------------------------------------------------------

    def _denied(self, request: Request) -> Response | None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode("utf-8", "surrogateescape"), self.secret
        ):
            return None
        self.service.metrics.inc("keel_api_rejected_total", status="401")
        return _json({"error": "missing or wrong local API secret"}, 401)

    async def _options(self, request: Request) -> dict[str, Any]:
        try:
            raw = await _read_body(request)
        except _BadBody as exc:
            raise KeelError(exc.message) from exc
        if not raw.strip():
            return {}
        try:
            data = json.loads(clean_body(raw))
        except WebhookError as exc:
            raise KeelError(exc.message) from exc
        if not isinstance(data, dict):
            raise KeelError("the body must be a JSON object")
        return data

    async def _run_report(
        self, request: Request, call: Callable[[Context, dict[str, Any]], Any]
    ) -> Response:
        denied = self._denied(request)
        if denied is not None:
            return denied
        target = request.path_params["target"]
        try:
            options = await self._options(request)
            report = await asyncio.to_thread(
                self.service.run_exclusive,
                target.partition(".")[0],
                lambda c: call(c, options),
            )
        except KeelError as exc:
            return _json({"error": exc.message}, 400)
        except Exception as exc:  # a bug: the client shows it, the log has the traceback
            log.exception("local API %s failed", request.url.path)
            return _json({"error": f"internal error: {type(exc).__name__}: {short(exc)}"}, 500)
        return _json({**report.to_dict(), "blocked": report.blocked, "ok": report.ok})

    async def api_gate(self, request: Request) -> Response:
        from keel.quality.gate import gate

        target = request.path_params["target"]

        def call(c: Context, options: dict[str, Any]) -> Any:
            return gate(c.project, c.adapter, target, sample_limit=_samples(options))

        return await self._run_report(request, call)

    async def api_promote(self, request: Request) -> Response:
        target = request.path_params["target"]
        return await self._run_report(request, lambda c, o: _promote(c, target, o))

    # ---- pages and reads -----------------------------------------------------------------

    def _status(self) -> dict[str, Any]:
        with self.service.locked() as a:
            return status_data(a, self.service.ctx.project, self.service.coverage)

    async def home(self, request: Request) -> Response:
        return HTMLResponse(page.render(self._status()))

    async def api_status(self, request: Request) -> Response:
        return JSONResponse(_jsonable(self._status()))

    async def api_catalog(self, request: Request) -> Response:
        with self.service.locked():
            return JSONResponse(_jsonable(self.service.ctx.catalog()))

    async def api_batches(self, request: Request) -> Response:
        source = request.query_params.get("source")
        if request.query_params.get("full"):  # what `keel batches --json` prints
            denied = self._denied(request)
            if denied is not None:
                return denied
            return await self._full_batches(source, request.query_params.get("limit", "200"))
        if source is not None and ("\x00" in source or len(source) > 200):
            return _json({"error": "source must be a source name"}, 400)
        with self.service.locked() as a:
            rows = batch_store.recent(a, source or None, limit=1000)
        shown = [
            {"source": r.source, "stream": r.stream, "id": r.batch_id}
            | r.pick(("status", "rows", "created_at"))
            for r in rows
        ]
        return JSONResponse(_jsonable(shown))

    async def _full_batches(self, source: str | None, limit: str) -> Response:
        from keel.publish.batches import list_batches

        if not limit.isdigit() or not 1 <= int(limit) <= 100_000:
            return _json({"error": "limit must be an integer from 1 to 100000"}, 400)

        def read() -> list[dict[str, Any]]:
            with self.service.locked() as a:
                return list_batches(self.service.ctx.project, a, source, limit=int(limit))

        try:
            return _json(await asyncio.to_thread(read))
        except KeelError as exc:
            return _json({"error": exc.message}, 400)

    async def healthz(self, request: Request) -> Response:
        depth = self.service.queue_depth()
        intake = getattr(self.service, "_intake_task", None)
        if intake is not None and intake.done():  # webhooks would wait for ever: not healthy
            return JSONResponse({"status": "intake stopped", "queue_depth": depth}, 503)
        return JSONResponse({"status": "ok", "queue_depth": depth})

    async def metrics(self, request: Request) -> Response:
        text = self.service.metrics.render()
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

    # ---- start and stop ------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        await self.service.start()
        for p in self.pollers:
            p.start()
        address = getattr(app.state, "keel_address", None)
        if address is not None:
            localapi.write_state(self.root, address[0], address[1], self.secret.decode())
        try:
            yield
        finally:
            if address is not None:
                localapi.remove_state(self.root, self.secret.decode())
            for p in self.pollers:
                await p.stop()
            await self.service.stop()
            self.service.ctx.close()  # the server owned the warehouse connection


def _samples(options: dict[str, Any]) -> int:
    value = options.get("samples", 10)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 1000:
        raise KeelError("samples must be an integer from 0 to 1000")
    return value


def _promote(c: Context, target: str, options: dict[str, Any]) -> Any:
    from keel.publish.promote import promote

    force, reason = options.get("force", False), options.get("reason")
    transform = options.get("transform", True)
    if not isinstance(force, bool) or not isinstance(transform, bool):
        raise KeelError("force and transform must be true or false")
    if reason is not None and not isinstance(reason, str):
        raise KeelError("reason must be a string")
    if reason and not force:
        raise KeelError("--reason goes with --force")
    return promote(
        c.project,
        c.adapter,
        target,
        force=force,
        reason=reason,
        transform=transform,
        sample_limit=_samples(options),
    )


def create_app(
    service: EventService,
    token: str,
    pollers: list[Any] | None = None,
    api_secret: str | None = None,
) -> Starlette:
    """The app. ``app.state.keel_address = (host, port)`` (see server.listen_on), set
    before it starts, makes it write ``.keel/serve.json`` for the local API."""
    routes = _Routes(service, token, pollers, api_secret)
    return Starlette(routes=routes.routes(), lifespan=routes.lifespan)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
