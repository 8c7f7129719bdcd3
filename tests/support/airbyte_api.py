"""A local Airbyte public API (v1) for tests: in-memory, strict, validated against the spec.

Every request and every documented response is validated with openapi-core against
``tests/fixtures/airbyte/public-api.openapi.yaml`` (the upstream file, loaded without the
spec check because it references schemas it does not define). A request the spec rejects
gets HTTP 400 as Airbyte answers invalid input; a response the fake builds that the spec
rejects is a bug in the fake and raises.

Behaviour modelled on Airbyte's documented behaviour (shared/reference/airbyte.md, the
OpenAPI file, and Airbyte's issue trackers):
- ``POST /applications/token`` needs ``client_id``, ``client_secret``, ``grant_type`` (the
  spec's ``required``); the answer carries ``expires_in`` and the token stops working then.
- ``PATCH /connections/{id}``: ``configurations.streams`` REPLACES the selection (a stream
  left out is deselected); a primary key on a stream whose source defines one is refused
  ("Primary key for stream: X is already pre-defined", terraform-provider-airbyte #89);
  ``selectedFields: []`` (what a GET returns) is refused; a ``locked`` connection is refused
  (the platform's ConnectionLockedProblem; HTTP 409 here, the status is not in the spec);
  cron is Quartz and at most hourly.
- lists page with ``limit`` (1..100, the spec's maximum) and ``offset``; ``next`` is a full
  URL while more remain.
Served through ``httpx.MockTransport(fake)`` or, for the CLI, over HTTP by ``asgi()``.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import yaml
from jsonschema_path import SchemaPath
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.responses.exceptions import ResponseNotFound
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPEC = Path(__file__).parent.parent / "fixtures" / "airbyte" / "public-api.openapi.yaml"
_API: OpenAPI | None = None


def spec_api() -> OpenAPI:
    global _API
    if _API is None:
        raw = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
        _API = OpenAPI(SchemaPath.from_dict(raw), config=Config(spec_validator_cls=None))
    return _API


class _Req:
    """openapi-core's Request protocol over an httpx.Request (paths as on Cloud: /v1/...)."""

    def __init__(self, method: str, path: str, query: list[tuple[str, str]], body: bytes | None):
        self.method = method.lower()
        self.host_url = "https://api.airbyte.com"
        self.path = path
        self.full_url_pattern = self.host_url + path
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(query), header=Headers({}), cookie=ImmutableMultiDict()
        )
        self.body = body or None
        self.content_type = "application/json"


class _Resp:
    def __init__(self, status: int, data: bytes):
        self.status_code = status
        self.data = data
        self.content_type = "application/json"
        self.headers = Headers({"Content-Type": "application/json"})


class ApiError(Exception):
    def __init__(self, status: int, detail: str, title: str = "bad-request"):
        super().__init__(detail)
        self.status, self.detail, self.title = status, detail, title


def _uuid() -> str:
    return str(uuid.uuid4())


_CRON_HOURLY_OR_LESS = re.compile(r"^\d+ \d+ \S+ \S+ \S+ \S+( \S+)?$")


class FakeAirbyte:
    """The state of one Airbyte instance, and its HTTP handler (``__call__``)."""

    def __init__(self, *, token_ttl: int = 180, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.token_ttl = token_ttl
        self.clients: dict[str, str] = {}
        self.static_tokens: set[str] = set()
        self.basic: dict[str, str] = {}
        self.tokens: dict[str, float] = {}
        self.workspaces: dict[str, dict[str, Any]] = {}
        self.sources: dict[str, dict[str, Any]] = {}
        self.destinations: dict[str, dict[str, Any]] = {}
        self.connections: dict[str, dict[str, Any]] = {}
        self.catalogs: dict[str, list[dict[str, Any]]] = {}  # sourceId -> StreamProperties
        self.jobs: list[dict[str, Any]] = []
        self.source_defs: dict[str, dict[str, Any]] = {}
        self.dest_defs: dict[str, dict[str, Any]] = {}
        self.faults: list[tuple[str, str, int | str]] = []  # (method, path prefix, status|timeout)
        self.log: list[tuple[str, str, Any]] = []
        self._job_ids = itertools.count(1000)

    # ---- building state ------------------------------------------------------------
    def workspace(self, name: str = "Sophia") -> str:
        wid = _uuid()
        self.workspaces[wid] = {"workspaceId": wid, "name": name, "dataResidency": "auto",
                                "notifications": {}}  # fmt: skip
        return wid

    def definition(self, kind: str, name: str, tag: str, repo: str) -> str:
        did = _uuid()
        table = self.source_defs if kind == "source" else self.dest_defs
        table[did] = {"id": did, "name": name, "dockerRepository": repo, "dockerImageTag": tag}
        return did

    def source(self, ws: str, name: str, streams: list[dict[str, Any]], *,
               definition: str | None = None, version: str = "1.0.0") -> str:  # fmt: skip
        sid = _uuid()
        did = definition or self.definition(
            "source", name, version, f"airbyte/source-{name.lower()}"
        )
        self.sources[sid] = {"sourceId": sid, "name": name, "sourceType": name.lower(),
                             "definitionId": did, "workspaceId": ws, "configuration": {},
                             "createdAt": 1700000000, "_version": version}  # fmt: skip
        self.catalogs[sid] = streams
        return sid

    def destination(self, ws: str, name: str = "Snowflake", *, config: dict[str, Any] | None = None,
                    definition: str | None = None, version: str = "3.11.0") -> str:  # fmt: skip
        did_ = _uuid()
        d = definition or self.definition(
            "destination", name, version, "airbyte/destination-snowflake"
        )
        self.destinations[did_] = {"destinationId": did_, "name": name, "destinationType": "snowflake",
                                   "definitionId": d, "workspaceId": ws,
                                   "configuration": dict(config or {}), "createdAt": 1700000000,
                                   "_version": version}  # fmt: skip
        return did_

    def connection(self, ws: str, name: str, source: str, dest: str, **fields: Any) -> str:
        cid = _uuid()
        conn = {"connectionId": cid, "name": name, "sourceId": source, "destinationId": dest,
                "workspaceId": ws, "status": "active", "createdAt": 1700000000, "tags": [],
                "schedule": {"scheduleType": "manual"}, "namespaceDefinition": "destination",
                "nonBreakingSchemaUpdatesBehavior": "ignore",
                "configurations": {"streams": []}}  # fmt: skip
        conn.update(fields)
        self.connections[cid] = conn
        return cid

    def job(self, connection: str, status: str = "succeeded", rows: int = 10) -> int:
        job_id = next(self._job_ids)
        self.jobs.append({"jobId": job_id, "status": status, "jobType": "sync",
                          "startTime": "2026-11-20T10:00:00Z", "connectionId": connection,
                          "lastUpdatedAt": f"2026-11-20T10:{job_id % 60:02d}:00Z",
                          "rowsSynced": rows})  # fmt: skip
        return job_id

    def fail_next(self, method: str, path: str, what: int | str, times: int = 1) -> None:
        """The next ``times`` matching requests answer ``what`` (a status, or "timeout")."""
        self.faults.extend([(method.upper(), path, what)] * times)

    # ---- the handler ---------------------------------------------------------------
    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        path = path[len("/api/public") :] if path.startswith("/api/public/") else path
        query = parse_qsl(request.url.query.decode(), keep_blank_values=True)
        body = request.content
        for i, (m, prefix, what) in enumerate(self.faults):
            if m == request.method and path.startswith(prefix):
                del self.faults[i]
                if what == "timeout":
                    raise httpx.ReadTimeout("timed out", request=request)
                return self._problem(int(what), f"injected HTTP {what}", "injected")
        req = _Req(request.method, path, query, body)
        payload = json.loads(body) if body else None
        self.log.append((request.method, path, payload))
        try:
            spec_api().validate_request(req)
        except Exception as exc:  # the spec refused it: Airbyte answers 400
            return self._problem(400, f"invalid request: {exc}", "bad-request")
        try:
            if path != "/v1/applications/token":
                self._authorize(request.headers.get("authorization", ""))
            status, data = self._route(request.method, path, dict(query), payload, request)
        except ApiError as exc:
            return self._problem(exc.status, exc.detail, exc.title)
        raw = json.dumps(data).encode()
        with contextlib.suppress(ResponseNotFound):
            spec_api().validate_response(req, _Resp(status, raw))
        return httpx.Response(status, content=raw, headers={"Content-Type": "application/json"})

    def _problem(self, status: int, detail: str, title: str) -> httpx.Response:
        body = {"type": "https://reference.airbyte.com/reference/errors", "title": title,
                "status": status, "detail": detail}  # fmt: skip
        return httpx.Response(
            status, json=body, headers={"Content-Type": "application/problem+json"}
        )

    def _authorize(self, header: str) -> None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "basic":
            user, _, pw = base64.b64decode(value).decode().partition(":")
            if self.basic.get(user) == pw and user:
                return
        elif scheme.lower() == "bearer":
            if value in self.static_tokens:
                return
            expiry = self.tokens.get(value)
            if expiry is not None and self.clock() < expiry:
                return
            if expiry is not None:
                raise ApiError(401, "Token expired", "unauthorized")
        raise ApiError(401, "Unauthorized", "unauthorized")

    def _page(
        self, items: list[dict[str, Any]], q: dict[str, str], request: httpx.Request
    ) -> dict[str, Any]:
        limit, offset = int(q.get("limit", 20)), int(q.get("offset", 0))
        out: dict[str, Any] = {"data": [_public(i) for i in items[offset : offset + limit]]}
        if offset + limit < len(items):
            out["next"] = str(
                request.url.copy_with(query=urlencode({**q, "offset": offset + limit}).encode())
            )
        if offset:
            out["previous"] = str(
                request.url.copy_with(
                    query=urlencode({**q, "offset": max(0, offset - limit)}).encode()
                )
            )
        return out

    def _route(
        self, method: str, path: str, q: dict[str, str], body: Any, request: httpx.Request
    ) -> tuple[int, Any]:
        parts = path.strip("/").split("/")[1:]
        match (method, parts):
            case ("POST", ["applications", "token"]):
                if self.clients.get(body["client_id"]) != body["client_secret"]:
                    raise ApiError(403, "invalid client credentials", "forbidden")
                token = _uuid()
                self.tokens[token] = self.clock() + self.token_ttl
                return 200, {
                    "access_token": token,
                    "token_type": "Bearer",
                    "expires_in": self.token_ttl,
                }
            case ("GET", ["workspaces", ws]):
                return 200, self._get(self.workspaces, ws)
            case ("PATCH", ["workspaces", ws]):
                w = self._get(self.workspaces, ws)
                if "notifications" in body:
                    w["notifications"] = body["notifications"]
                return 200, w
            case ("GET", ["workspaces", ws, "definitions", kind]):
                table = self.source_defs if kind == "sources" else self.dest_defs
                return 200, {"data": list(table.values())}
            case ("GET", ["connections"]):
                wss = set(request.url.params.get_list("workspaceIds"))
                items = [c for c in self.connections.values() if not wss or c["workspaceId"] in wss]
                return 200, self._page(items, q, request)
            case ("GET", ["connections", cid]):
                return 200, _public(self._get(self.connections, cid))
            case ("PATCH", ["connections", cid]):
                return 200, _public(self._patch_connection(self._get(self.connections, cid), body))
            case ("GET", ["sources"]):
                return 200, self._page(list(self.sources.values()), q, request)
            case ("GET", ["destinations"]):
                return 200, self._page(list(self.destinations.values()), q, request)
            case ("GET", ["destinations", did]):
                return 200, _public(self._get(self.destinations, did))
            case ("PATCH", ["destinations", did]):
                d = self._get(self.destinations, did)
                d["configuration"].update(body.get("configuration", {}))  # PATCH merges
                return 200, _public(d)
            case ("GET", ["streams"]):
                return 200, self.catalogs.get(q["sourceId"]) or _raise(404, "source not found")
            case ("GET", ["jobs"]):
                jobs = [j for j in self.jobs if j["connectionId"] == q.get("connectionId", j["connectionId"])
                        and j["status"] == q.get("status", j["status"])]  # fmt: skip
                if "updatedAtStart" in q:
                    jobs = [j for j in jobs if j["lastUpdatedAt"] >= q["updatedAtStart"]]
                jobs.sort(key=lambda j: -j["jobId"])
                return 200, self._page(jobs, q, request)
            case ("POST", ["jobs"]):
                conn = self._get(self.connections, body["connectionId"])
                if conn["status"] != "active":
                    raise ApiError(400, f"connection {conn['connectionId']} is {conn['status']}")
                job_id = self.job(conn["connectionId"], "pending", 0)
                return 200, self._job(job_id)
            case ("GET", ["jobs", job_id]):
                job = self._job(int(job_id))
                nxt = {"pending": "running", "running": "succeeded"}.get(job["status"])
                if nxt:  # each look moves a triggered job on: pending -> running -> succeeded
                    job["status"] = nxt
                    job["rowsSynced"] = 42 if nxt == "succeeded" else 0
                return 200, job
        raise ApiError(404, f"{method} {path} not found", "not-found")

    def _get(self, table: dict[str, dict[str, Any]], key: str) -> dict[str, Any]:
        if key not in table:
            raise ApiError(404, f"{key} not found", "not-found")
        return table[key]

    def _job(self, job_id: int) -> dict[str, Any]:
        for j in self.jobs:
            if j["jobId"] == job_id:
                return j
        raise ApiError(404, f"job {job_id} not found", "not-found")

    def _patch_connection(self, conn: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        if conn["status"] == "locked":
            raise ApiError(409, f"Connection {conn['connectionId']} is locked and cannot be updated.",
                           "connection-locked")  # fmt: skip
        cron = (body.get("schedule") or {}).get("cronExpression")
        if body.get("schedule", {}).get("scheduleType") == "cron" and not (
            cron and _CRON_HOURLY_OR_LESS.match(cron)
        ):
            raise ApiError(400, f"invalid cron expression {cron!r}: Quartz, at most hourly")
        if "configurations" in body:
            conn["configurations"] = {
                "streams": self._streams(conn, body["configurations"].get("streams", []))
            }
        for key in ("name", "schedule", "namespaceDefinition", "namespaceFormat", "prefix",
                    "nonBreakingSchemaUpdatesBehavior", "status"):  # fmt: skip
            if key in body:
                conn[key] = body[key]
        return conn

    def _streams(self, conn: dict[str, Any], streams: list[dict[str, Any]]) -> list[dict[str, Any]]:
        catalog = {s["streamName"]: s for s in self.catalogs[conn["sourceId"]]}
        out = []
        for s in streams:
            props = catalog.get(s["name"])
            if props is None:
                raise ApiError(400, f"Invalid stream found: {s['name']}")
            if s.get("selectedFields") == []:
                raise ApiError(400, f"Stream {s['name']}: selectedFields must not be empty")
            if s.get("primaryKey") and props.get("sourceDefinedPrimaryKey"):
                raise ApiError(400, f"Primary key for stream: {s['name']} is already pre-defined. "
                               "Please do NOT include a primary key configuration for this stream.")  # fmt: skip
            mode = s.get("syncMode", "full_refresh_overwrite")
            if mode not in props.get("syncModes", []):
                raise ApiError(400, f"Cannot set sync mode to {mode} for stream {s['name']}")
            pk = s.get("primaryKey") or props.get("sourceDefinedPrimaryKey") or []
            cursor = s.get("cursorField") or props.get("defaultCursorField") or []
            if mode.startswith("incremental") and not cursor:
                raise ApiError(400, f"No default cursor field for stream {s['name']}")
            if mode.endswith("deduped_history") and not pk:
                raise ApiError(400, f"Primary key for stream {s['name']} is required")
            out.append({"name": s["name"], "syncMode": mode, "cursorField": cursor, "primaryKey": pk,
                        "selectedFields": s.get("selectedFields") or []})  # fmt: skip
        return out

    # ---- served over HTTP ----------------------------------------------------------
    def asgi(self) -> Any:
        """An ASGI app answering through this fake (for ``tests.support.server.ServerThread``)."""
        from starlette.requests import Request
        from starlette.responses import Response

        async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                return
            req = Request(scope, receive)
            body = await req.body()
            try:
                r = self(
                    httpx.Request(req.method, str(req.url), headers=req.headers.raw, content=body)
                )
            except httpx.TimeoutException:
                r = httpx.Response(504, json={"detail": "gateway timeout"})
            await Response(r.content, r.status_code, media_type=r.headers.get("content-type"))(
                scope, receive, send
            )

        return app


def _raise(status: int, detail: str) -> Any:
    raise ApiError(status, detail)


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if not k.startswith("_")}


def stream(name: str, *, pk: list[list[str]] | None = None, cursor: list[str] | None = None,
           incremental: bool | None = None) -> dict[str, Any]:  # fmt: skip
    """A StreamProperties entry (``GET /streams``): what the source says about a stream."""
    modes = ["full_refresh_overwrite", "full_refresh_append"]
    if cursor or incremental:
        modes += ["incremental_append", "incremental_deduped_history"]
    out: dict[str, Any] = {"streamName": name, "syncModes": modes, "sourceDefinedCursorField": bool(cursor),
                           "defaultCursorField": cursor or [], "sourceDefinedPrimaryKey": pk or [],
                           "propertyFields": [["id"], ["updated_at"]]}  # fmt: skip
    return out
