"""The ASGI app of ``keel serve`` (Starlette under uvicorn).

Routes: ``POST /hooks/airbyte/{token}`` (Airbyte's notification webhook),
``GET /`` (status page), ``GET /api/catalog``, ``GET /api/batches``,
``GET /api/status``, ``GET /healthz``, ``GET /metrics``.
The webhook token is compared in constant time; a wrong token is 401, a body
over 1 MiB 413, a malformed body 400; an accepted event is stored before the
202 answer.

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
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from keel import ops
from keel.context import Context
from keel.errors import KeelError, WebhookError
from keel.events import localapi, page
from keel.events.service import EventService
from keel.events.status import status_data

MAX_BODY = 1024 * 1024
log = logging.getLogger("keel.events")


class _TooLarge(Exception):
    pass


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _json(data: Any, status: int = 200) -> Response:
    """JSON as ``keel ... --json`` prints it (values it cannot encode as their str)."""
    return Response(
        json.dumps(data, default=str), status_code=status, media_type="application/json"
    )


def create_app(
    service: EventService,
    token: str,
    pollers: list[Any] | None = None,
    api_secret: str | None = None,
) -> Starlette:
    """The app. ``app.state.keel_address = (host, port)`` (see server.listen_on), set
    before it starts, makes it write ``.keel/serve.json`` for the local API."""
    expected = token.encode()
    secret = (api_secret or localapi.new_secret()).encode()
    root = Path(service.ctx.root)

    def _denied(request: Request) -> Response | None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), secret):
            return None
        service.metrics.inc("keel_api_rejected_total", status="401")
        return _json({"error": "missing or wrong local API secret"}, 401)

    async def _options(request: Request) -> dict[str, Any]:
        try:
            raw = await _read_body(request)
        except _TooLarge as exc:
            raise KeelError(f"body over {MAX_BODY} bytes") from exc
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise KeelError("the body is not JSON") from exc
        if not isinstance(data, dict):
            raise KeelError("the body must be a JSON object")
        return data

    async def _run_report(
        request: Request, call: Callable[[Context, dict[str, Any]], Any]
    ) -> Response:
        denied = _denied(request)
        if denied is not None:
            return denied
        target = request.path_params["target"]
        try:
            options = await _options(request)
            report = await asyncio.to_thread(
                service.run_exclusive, target.partition(".")[0], lambda c: call(c, options)
            )
        except KeelError as exc:
            return _json({"error": exc.message}, 400)
        except Exception as exc:  # a bug: the client shows it, the log has the traceback
            log.exception("local API %s failed", request.url.path)
            return _json({"error": f"internal error: {type(exc).__name__}: {exc}"}, 500)
        return _json({**report.to_dict(), "blocked": report.blocked, "ok": report.ok})

    def _samples(options: dict[str, Any]) -> int:
        value = options.get("samples", 10)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 1000:
            raise KeelError("samples must be an integer from 0 to 1000")
        return value

    async def api_gate(request: Request) -> Response:
        from keel.quality.gate import gate

        target = request.path_params["target"]

        def call(c: Context, options: dict[str, Any]) -> Any:
            return gate(c.project, c.adapter, target, sample_limit=_samples(options))

        return await _run_report(request, call)

    async def api_promote(request: Request) -> Response:
        from keel.publish.promote import promote

        target = request.path_params["target"]

        def call(c: Context, options: dict[str, Any]) -> Any:
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

        return await _run_report(request, call)

    async def webhook(request: Request) -> Response:
        given = request.path_params["token"].encode()
        if not expected or not hmac.compare_digest(given, expected):
            service.metrics.inc("keel_events_rejected_total", status="401")
            return JSONResponse({"error": "unknown token"}, status_code=401)
        try:
            body = await _read_body(request)
        except _TooLarge:
            service.metrics.inc("keel_events_rejected_total", status="413")
            return JSONResponse({"error": f"body over {MAX_BODY} bytes"}, status_code=413)
        try:
            accepted = await service.accept_async(body)
        except WebhookError as exc:
            result = service.describe(400, exc)
            return JSONResponse(result.body, status_code=400)
        except KeelError as exc:  # the warehouse refused the insert: tell Airbyte, log it
            service.metrics.inc("keel_events_rejected_total", status="503")
            return JSONResponse({"error": exc.message.splitlines()[0]}, status_code=503)
        return JSONResponse(accepted.body, status_code=accepted.status)

    def _status() -> dict[str, Any]:
        with service.locked() as a:
            return status_data(a, service.ctx.project, service.coverage)

    async def home(request: Request) -> Response:
        return HTMLResponse(page.render(_status()))

    async def api_status(request: Request) -> Response:
        return JSONResponse(_jsonable(_status()))

    async def api_catalog(request: Request) -> Response:
        with service.locked():
            return JSONResponse(_jsonable(service.ctx.catalog()))

    async def api_batches(request: Request) -> Response:
        source = request.query_params.get("source")
        if request.query_params.get("full"):  # what `keel batches --json` prints
            denied = _denied(request)
            if denied is not None:
                return denied
            return await _full_batches(source, request.query_params.get("limit", "200"))
        with service.locked() as a:
            cols = ["SOURCE", "STREAM", "BATCH_ID", "STATUS", "ROWS", "CREATED_AT"]
            where = f" WHERE {a.ident('SOURCE')} = {a.lit(source)}" if source else ""
            rows = a.fetch(
                f"SELECT {', '.join(a.ident(c) for c in cols)} FROM "
                f"{a.ops_table(ops.KEEL_BATCHES)}{where} ORDER BY "
                f"{a.ident('CREATED_AT')} DESC LIMIT 1000",
                "status",
            )
        keys = ["source", "stream", "id", "status", "rows", "created_at"]
        return JSONResponse(_jsonable([dict(zip(keys, r, strict=True)) for r in rows]))

    async def _full_batches(source: str | None, limit: str) -> Response:
        from keel.publish.batches import list_batches

        if not limit.isdigit() or not 1 <= int(limit) <= 100_000:
            return _json({"error": "limit must be an integer from 1 to 100000"}, 400)

        def read() -> list[dict[str, Any]]:
            with service.locked() as a:
                return list_batches(service.ctx.project, a, source, limit=int(limit))

        try:
            return _json(await asyncio.to_thread(read))
        except KeelError as exc:
            return _json({"error": exc.message}, 400)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "queue_depth": service.queue_depth()})

    async def metrics(request: Request) -> Response:
        return PlainTextResponse(service.metrics.render(), media_type="text/plain; version=0.0.4")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await service.start()
        for p in pollers or []:
            p.start()
        address = getattr(app.state, "keel_address", None)
        if address is not None:
            localapi.write_state(root, address[0], address[1], secret.decode())
        try:
            yield
        finally:
            if address is not None:
                localapi.remove_state(root, secret.decode())
            for p in pollers or []:
                await p.stop()
            await service.stop()
            service.ctx.close()  # the server owned the warehouse connection

    return Starlette(
        routes=[
            Route("/hooks/airbyte/{token}", webhook, methods=["POST"]),
            Route("/", home),
            Route("/api/status", api_status),
            Route("/api/catalog", api_catalog),
            Route("/api/batches", api_batches),
            Route("/api/gate/{target}", api_gate, methods=["POST"]),
            Route("/api/promote/{target}", api_promote, methods=["POST"]),
            Route("/healthz", healthz),
            Route("/metrics", metrics),
        ],
        lifespan=lifespan,
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
