"""The ASGI app of ``keel serve`` (Starlette under uvicorn).

Routes: ``POST /hooks/airbyte/{token}`` (Airbyte's notification webhook),
``GET /`` (status page), ``GET /api/catalog``, ``GET /api/batches``,
``GET /api/status``, ``GET /healthz``, ``GET /metrics``.
The webhook token is compared in constant time; a wrong token is 401, a body
over 1 MiB 413, a malformed body 400; an accepted event is stored before the
202 answer.
"""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from keel import ops
from keel.errors import KeelError, WebhookError
from keel.events import page
from keel.events.service import EventService
from keel.events.status import status_data

MAX_BODY = 1024 * 1024


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


def create_app(service: EventService, token: str, pollers: list[Any] | None = None) -> Starlette:
    expected = token.encode()

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

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "queue_depth": service.queue_depth()})

    async def metrics(request: Request) -> Response:
        return PlainTextResponse(service.metrics.render(), media_type="text/plain; version=0.0.4")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await service.start()
        for p in pollers or []:
            p.start()
        try:
            yield
        finally:
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
