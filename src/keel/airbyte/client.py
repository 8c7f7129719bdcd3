"""One client for Airbyte's public API (v1), on httpx with the OpenAPI file's shapes.

Why not the ``airbyte-api`` SDK: its models round-trip ``selectedFields: []`` from a GET
into a PATCH (which then selects no field), it has no basic auth for self-hosted
instances, and keel needs its own retry, paging and error wording; the calls keel makes
are few and plain JSON. Facts encoded here (shared/reference/airbyte.md, the OpenAPI file):

- base URL: Cloud ``https://api.airbyte.com/v1``; self-hosted ``<host>/api/public/v1``;
- ``POST /applications/token`` with ``{client_id, client_secret, grant_type}`` (the
  schema's ``required`` list) answers ``{access_token, token_type, expires_in}``; tokens
  live minutes, so keel asks again 30 s before ``expires_in`` runs out, and once on a 401;
- a bearer token, or basic auth (self-hosted), instead of client credentials;
- lists take ``limit`` (at most 100) and ``offset`` and answer ``{data, next, previous}``;
  keel follows ``next`` until it is absent;
- errors are problem JSON (``title``, ``detail``); a locked connection is refused.
Retries: 429, 5xx and timeouts, with exponential backoff (``retries`` attempts more).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from keel.errors import KeelError
from keel.project.models import AirbyteApi

PAGE_LIMIT = 100  # the spec's maximum for every list
RETRY_STATUS = {429, 500, 502, 503, 504}
REFRESH_MARGIN = 30.0


class AirbyteError(KeelError):
    """Airbyte's API refused a request or could not be reached."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class AirbyteClient:
    def __init__(
        self,
        spec: AirbyteApi,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.spec = spec
        self.base = spec.api_url.rstrip("/")
        self.http = httpx.Client(timeout=spec.timeout_seconds, transport=transport)
        self.sleep, self.clock = sleep, clock
        self._token: str | None = None
        self._expires_at = 0.0
        if not (spec.token or (spec.client_id and spec.client_secret) or spec.username):
            raise AirbyteError(
                "airbyte: set airbyte.token, airbyte.client_id and airbyte.client_secret, "
                "or airbyte.username and airbyte.password in keel.yml (from env vars)"
            )

    @property
    def workspace_id(self) -> str:
        if not self.spec.workspace_id:
            raise AirbyteError("airbyte: set airbyte.workspace_id in keel.yml")
        return self.spec.workspace_id

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> AirbyteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- auth -----------------------------------------------------------------------
    def _auth(self, force: bool = False) -> dict[str, str]:
        s = self.spec
        if s.token:
            return {"Authorization": f"Bearer {s.token.get_secret_value()}"}
        if s.username:
            pw = s.password.get_secret_value() if s.password else ""
            pair = f"{s.username.get_secret_value()}:{pw}".encode()
            return {"Authorization": "Basic " + base64.b64encode(pair).decode()}
        if force or self._token is None or self.clock() >= self._expires_at - REFRESH_MARGIN:
            self._fetch_token()
        return {"Authorization": f"Bearer {self._token}"}

    def _fetch_token(self) -> None:
        assert self.spec.client_id and self.spec.client_secret
        body = {
            "client_id": self.spec.client_id.get_secret_value(),
            "client_secret": self.spec.client_secret.get_secret_value(),
            "grant_type": "client_credentials",
        }
        r = self._send("POST", "/applications/token", json=body, what="the token request")
        if r.status_code != 200:
            raise AirbyteError(
                f"airbyte: the token request was refused (HTTP {r.status_code}): check "
                "airbyte.client_id and airbyte.client_secret",
                r.status_code,
            )
        data = r.json()
        self._token = str(data["access_token"])
        self._expires_at = self.clock() + float(data.get("expires_in") or 180)

    # ---- transport ------------------------------------------------------------------
    def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        what: str,
    ) -> httpx.Response:
        url = path if path.startswith("http") else self.base + path
        attempt = 0
        while True:
            try:
                r = self.http.request(method, url, params=params, json=json, headers=headers)
            except httpx.TimeoutException as exc:
                if attempt >= self.spec.retries:
                    raise AirbyteError(
                        f"airbyte: {what}: no answer within {self.spec.timeout_seconds:g}s "
                        f"after {attempt + 1} attempts"
                    ) from exc
            except httpx.HTTPError as exc:
                if attempt >= self.spec.retries:
                    raise AirbyteError(
                        f"airbyte: {what}: {self.base} unreachable ({type(exc).__name__})"
                    ) from exc
            else:
                if r.status_code not in RETRY_STATUS or attempt >= self.spec.retries:
                    return r
            self.sleep(min(30.0, 0.5 * 2**attempt))
            attempt += 1

    def request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: dict[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """Send with auth and retries; the JSON answer, or an AirbyteError naming ``what``."""
        headers = {"Accept": "application/json", **self._auth()}
        r = self._send(method, path, params=params, json=json, headers=headers, what=what)
        if r.status_code == 401 and self.spec.client_id and not self.spec.token:
            headers.update(self._auth(force=True))  # expired mid-run: one new token, once
            r = self._send(method, path, params=params, json=json, headers=headers, what=what)
        if r.status_code >= 400:
            raise _translate(r, what)
        return r.json() if r.content else None

    def pages(
        self, path: str, *, what: str, params: dict[str, Any] | None = None, max_pages: int = 1000
    ) -> Iterator[dict[str, Any]]:
        """Every item of a list, following ``next`` (``limit`` 100)."""
        url: str | None = path
        query: dict[str, Any] | None = {**(params or {}), "limit": PAGE_LIMIT}
        for _ in range(max_pages):
            if url is None:
                return
            page = self.request("GET", url, what=what, params=query)
            yield from page.get("data") or []
            url, query = page.get("next"), None  # ``next`` is a full URL with its query
        if url is not None:
            raise AirbyteError(f"airbyte: {what}: more than {max_pages} pages; stopped")

    # ---- resources --------------------------------------------------------------------
    def workspace(self) -> dict[str, Any]:
        ws = self.workspace_id
        return dict(self.request("GET", f"/workspaces/{ws}", what=f"workspace {ws}"))

    def patch_workspace(self, body: dict[str, Any]) -> dict[str, Any]:
        ws = self.workspace_id
        return dict(self.request("PATCH", f"/workspaces/{ws}", json=body, what=f"workspace {ws}"))

    def connections(self) -> list[dict[str, Any]]:
        return list(
            self.pages(
                "/connections",
                what="listing connections",
                params={"workspaceIds": self.workspace_id},
            )
        )

    def connection(self, connection_id: str, name: str | None = None) -> dict[str, Any]:
        what = f"connection {name or connection_id}"
        return dict(self.request("GET", f"/connections/{connection_id}", what=what))

    def patch_connection(
        self, connection_id: str, body: dict[str, Any], name: str | None = None
    ) -> dict[str, Any]:
        what = f"connection {name or connection_id}"
        return dict(self.request("PATCH", f"/connections/{connection_id}", json=body, what=what))

    def sources(self) -> list[dict[str, Any]]:
        params = {"workspaceIds": self.workspace_id}
        return list(self.pages("/sources", what="listing sources", params=params))

    def destinations(self) -> list[dict[str, Any]]:
        params = {"workspaceIds": self.workspace_id}
        return list(self.pages("/destinations", what="listing destinations", params=params))

    def patch_destination(self, destination_id: str, body: dict[str, Any]) -> dict[str, Any]:
        what = f"destination {destination_id}"
        return dict(self.request("PATCH", f"/destinations/{destination_id}", json=body, what=what))

    def streams(self, source_id: str, destination_id: str | None = None) -> list[dict[str, Any]]:
        params = {"sourceId": source_id}
        if destination_id:
            params["destinationId"] = destination_id
        return list(self.request("GET", "/streams", params=params, what=f"streams of {source_id}"))

    def definitions(self, kind: str) -> list[dict[str, Any]]:
        """``kind`` is ``sources`` or ``destinations``: what the workspace knows, with versions."""
        path = f"/workspaces/{self.workspace_id}/definitions/{kind}"
        return list(self.request("GET", path, what=f"{kind[:-1]} definitions").get("data") or [])

    def jobs(
        self,
        connection_id: str,
        name: str | None = None,
        max_pages: int = 10,
        since: str | None = None,
    ) -> tuple[list[dict[str, Any]], bool]:
        """Sync jobs of a connection, newest first (updated at or after ``since``, an ISO
        date-time, when given); ``partial`` when ``max_pages`` stopped the paging."""
        params = {"connectionId": connection_id, "jobType": "sync", "orderBy": "updatedAt|DESC"}
        if since:
            params["updatedAtStart"] = since
        out: list[dict[str, Any]] = []
        try:
            for job in self.pages(
                "/jobs", what=f"jobs of connection {name or connection_id}", params=params,
                max_pages=max_pages,
            ):  # fmt: skip
                out.append(job)
        except AirbyteError as exc:
            if "pages; stopped" not in exc.message:
                raise
            return out, True
        return out, False

    def start_sync(self, connection_id: str, name: str | None = None) -> dict[str, Any]:
        body = {"connectionId": connection_id, "jobType": "sync"}
        return dict(
            self.request("POST", "/jobs", json=body, what=f"sync of {name or connection_id}")
        )

    def job(self, job_id: int | str) -> dict[str, Any]:
        return dict(self.request("GET", f"/jobs/{job_id}", what=f"job {job_id}"))


def _translate(r: httpx.Response, what: str) -> AirbyteError:
    try:
        body = r.json()
    except ValueError:
        body = {}
    detail = str(body.get("detail") or body.get("message") or r.reason_phrase or "").strip()
    title = str(body.get("title") or "")
    status = r.status_code
    if status == 401:
        text = "the API token was refused or has expired (HTTP 401): check the credentials"
    elif status == 403:
        text = "not allowed (HTTP 403): the credentials have no access to it"
    elif status == 404:
        text = "not found (HTTP 404): check the id in keel.yml and airbyte.workspace_id"
    elif status == 409 or "locked" in (title + detail).lower():
        text = f"the connection is locked and Airbyte refuses changes to it: {detail}"
    elif status == 400 or status == 422:
        text = f"Airbyte rejected the request: {detail or title}"
    else:
        text = f"HTTP {status}: {detail or title}"
    return AirbyteError(f"airbyte: {what}: {text}", status)
