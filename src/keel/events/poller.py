"""Poll Airbyte's jobs API for syncs whose webhook never arrived.

Airbyte sends a notification once and never retries; every ``poll_minutes``
the poller asks ``GET /jobs?connectionId=..&status=succeeded&jobType=sync``
for each configured connection and submits the jobs keel has not stored, as
if their webhook had come. The event id is the job id, so a job the webhook
brought later (or earlier) is never run twice.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from keel.errors import KeelError
from keel.events.payload import SyncEvent
from keel.events.service import EventService
from keel.project.models import AirbyteApi

log = logging.getLogger("keel.events")


class AirbyteJobs:
    """The two calls the poller needs, with bearer-token auth (token or client credentials)."""

    def __init__(self, spec: AirbyteApi, transport: httpx.BaseTransport | None = None):
        self.spec = spec
        self.base = spec.api_url.rstrip("/")
        self.client = httpx.Client(timeout=30, transport=transport)
        self._token: str | None = spec.token.get_secret_value() if spec.token else None

    def _auth(self) -> dict[str, str]:
        if self._token is None:
            if not (self.spec.client_id and self.spec.client_secret):
                raise KeelError("airbyte: set token, or client_id and client_secret")
            r = self.client.post(
                f"{self.base}/applications/token",
                json={
                    "client_id": self.spec.client_id.get_secret_value(),
                    "client_secret": self.spec.client_secret.get_secret_value(),
                    "grant-type": "client_credentials",
                },
            )
            if r.status_code != 200:
                raise KeelError(f"airbyte: token request refused (HTTP {r.status_code})")
            self._token = str(r.json()["access_token"])
        return {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}

    def succeeded_jobs(self, connection_id: str, limit: int = 20) -> list[dict[str, Any]]:
        params: dict[str, str | int] = {
            "connectionId": connection_id,
            "status": "succeeded",
            "jobType": "sync",
            "orderBy": "updatedAt|DESC",
            "limit": limit,
        }
        try:
            r = self.client.get(f"{self.base}/jobs", params=params, headers=self._auth())
        except httpx.HTTPError as exc:
            raise KeelError(f"airbyte: jobs API unreachable: {type(exc).__name__}") from exc
        if r.status_code == 401:
            self._token = None if self.spec.client_id else self._token
        if r.status_code != 200:
            raise KeelError(f"airbyte: GET /jobs answered HTTP {r.status_code}")
        data = r.json().get("data", [])
        return [j for j in data if isinstance(j, dict) and "jobId" in j]

    def close(self) -> None:
        self.client.close()


class JobPoller:
    def __init__(self, service: EventService, spec: AirbyteApi, jobs: AirbyteJobs | None = None):
        self.service = service
        self.interval = spec.poll_minutes * 60.0
        self.jobs = jobs or AirbyteJobs(spec)
        self._task: asyncio.Task[None] | None = None

    def connections(self) -> dict[str, str]:
        """connection id -> source, for sources whose keel.yml names a connection id."""
        return {
            s.airbyte.connection_id: name
            for name, s in self.service.ctx.project.sources.items()
            if s.airbyte and s.airbyte.connection_id
        }

    def poll_once(self) -> list[str]:
        """Submit the succeeded jobs keel has not seen; returns their job ids."""
        submitted: list[str] = []
        for connection_id in self.connections():
            jobs = self.jobs.succeeded_jobs(connection_id)
            with self.service.locked():
                known = self.service.store.known_jobs([str(j["jobId"]) for j in jobs])
            for job in jobs:
                job_id = str(job["jobId"])
                if job_id in known:
                    continue
                event = SyncEvent(
                    job_id, connection_id, None, True, None, job.get("rowsSynced"), "sync_succeeded"
                )
                result = self.service.submit(event, f'{{"polled": true, "jobId": "{job_id}"}}')
                if result.body.get("status") == "queued":
                    submitted.append(job_id)
        return submitted

    async def _loop(self) -> None:
        while True:
            try:
                found = await asyncio.to_thread(self.poll_once)
                if found:
                    log.warning(
                        "poller: %d sync(s) whose webhook never came: %s",
                        len(found),
                        ", ".join(found),
                    )
            except KeelError as exc:
                log.error("poller: %s", exc.message)
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self.jobs.close()
