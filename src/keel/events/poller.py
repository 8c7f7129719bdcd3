"""Poll Airbyte's jobs API for sync outcomes whose webhook never arrived.

Airbyte sends a notification once and never retries. Every ``poll_minutes`` the poller
finds each keel source's connection (keel.airbyte.connections.resolve: by id, name,
namespace or source name, so the default project from ``keel init`` needs no ids), reads
its sync jobs (``GET /jobs?connectionId=..&jobType=sync&orderBy=updatedAt|DESC``, every page
through ``next``, at most ``max_pages`` of 100), and submits every finished job keel has not
stored: succeeded ones as ``sync_succeeded`` (a gate run), failed and cancelled ones as
``sync_failed`` (an alert: a lost failure webhook still alerts). Running, pending and
incomplete jobs are not outcomes and wait for a later poll. The event id is the job id, so
a job the webhook brought too is never run twice. One connection's error (refused, 5xx
after retries, timeout) is logged and reported and the other connections still poll.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from keel.airbyte.client import AirbyteClient
from keel.airbyte.connections import resolve
from keel.errors import KeelError
from keel.events.payload import SyncEvent
from keel.events.service import EventService
from keel.project.models import AirbyteApi

log = logging.getLogger("keel.events")
OUTCOME = {"succeeded": "sync_succeeded", "failed": "sync_failed", "cancelled": "sync_failed"}


@dataclass
class PollReport:
    submitted: list[str] = field(default_factory=list)  # job ids queued or recorded
    polled: dict[str, str] = field(default_factory=dict)  # source -> connection name
    errors: dict[str, str] = field(default_factory=dict)  # source or "airbyte" -> message
    partial: list[str] = field(default_factory=list)  # sources whose job list was cut short

    def to_dict(self) -> dict[str, Any]:
        return {"submitted": self.submitted, "polled": self.polled, "errors": self.errors,
                "partial": self.partial}  # fmt: skip


def _event(source: str, conn: dict[str, Any], job: dict[str, Any]) -> tuple[SyncEvent, str]:
    status = str(job["status"])
    kind = OUTCOME[status]
    error = None if status == "succeeded" else f"sync {status} (found by polling Airbyte's jobs)"
    event = SyncEvent(
        str(job["jobId"]), conn["connectionId"], conn.get("name"), status == "succeeded",
        error, job.get("rowsSynced"), kind, source=source,
    )  # fmt: skip
    body = {
        "polled": True,
        "data": {
            "jobId": job["jobId"], "success": status == "succeeded", "errorMessage": error,
            "connection": {"id": conn["connectionId"], "name": conn.get("name")},
            "status": status, "finishedAt": job.get("lastUpdatedAt"),
        },
    }  # fmt: skip
    return event, json.dumps(body)


class JobPoller:
    def __init__(
        self,
        service: EventService,
        spec: AirbyteApi,
        client: AirbyteClient | None = None,
        *,
        max_pages: int = 10,
        lookback_hours: float | None = 24.0,
    ):
        self.service = service
        self.interval = spec.poll_minutes * 60.0
        self.spec = spec
        self._client = client
        self.max_pages = max_pages
        self.lookback_hours = lookback_hours
        self._task: asyncio.Task[None] | None = None

    @property
    def client(self) -> AirbyteClient:
        if self._client is None:
            self._client = AirbyteClient(self.spec)
        return self._client

    def poll_once(self) -> PollReport:
        """Submit the finished jobs keel has not seen, connection by connection."""
        report = PollReport()
        project = self.service.ctx.project
        try:
            found = resolve(project, self.client.connections(), self.client.sources())
        except KeelError as exc:
            report.errors["airbyte"] = exc.message
            return report
        for source, why in found.problems.items():
            report.errors[source] = why
        for source, conn in sorted(found.found.items()):
            report.polled[source] = str(conn.get("name"))
            try:
                jobs, partial = self.client.jobs(
                    conn["connectionId"], conn.get("name"), self.max_pages, self._since()
                )
            except KeelError as exc:  # this connection only: the others still poll
                report.errors[source] = exc.message
                continue
            if partial:
                report.partial.append(source)
            finished = [j for j in jobs if j.get("status") in OUTCOME]
            with self.service.locked():
                known = self.service.store.known_jobs([str(j["jobId"]) for j in finished])
            items = [_event(source, conn, j) for j in finished if str(j["jobId"]) not in known]
            for (event, _), answer in zip(items, self.service.submit_many(items), strict=True):
                if answer.body.get("status") == "queued":
                    report.submitted.append(event.job_id)
        return report

    def _since(self) -> str | None:
        if self.lookback_hours is None:
            return None
        start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=self.lookback_hours)
        return start.strftime("%Y-%m-%dT%H:%M:%SZ")

    async def _loop(self) -> None:
        while True:
            try:
                report = await asyncio.to_thread(self.poll_once)
            except Exception:  # a bug must not stop the polling; the log has the traceback
                log.exception("poller: poll failed unexpectedly")
                await asyncio.sleep(self.interval)
                continue
            if report.submitted:
                log.warning(
                    "poller: %d sync outcome(s) whose webhook never came: %s",
                    len(report.submitted), ", ".join(report.submitted),
                )  # fmt: skip
            for where, message in sorted(report.errors.items()):
                log.error("poller: %s: %s", where, message)
            for source in report.partial:
                log.warning("poller: %s: more jobs than %d pages; older ones not read",
                            source, self.max_pages)  # fmt: skip
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._client is not None:
            self._client.close()
