"""Find each keel source's Airbyte connection, plan the standard, apply the plan.

A source finds its connection by ``airbyte.connection_id``, else by
``airbyte.connection_name`` (Airbyte names connections "<source> → <destination>",
e.g. "Gong → Snowflake"), else by the one connection whose destination namespace is the
source's RAW schema or whose Airbyte source is named like the keel source. Two
candidates are an error naming both.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keel.airbyte.client import AirbyteClient, AirbyteError
from keel.airbyte.standard import (
    AirbytePlan,
    Desired,
    connection_change,
    destination_change,
    workspace_change,
)
from keel.errors import KeelError
from keel.project.loaded import Project


def raw_schema(project: Project, source: str) -> str:
    streams = project.streams_of(source)
    return streams[0].raw_schema if streams else f"{source.upper()}_DATA_RAW"


def desired(project: Project, source: str) -> Desired:
    spec = project.sources[source]
    contract = {
        s.name: (list(s.keel.primary_key), s.keel.cursor) for s in project.streams_of(source)
    }
    return Desired(source, raw_schema(project, source), spec.schedule, contract)


@dataclass
class Resolution:
    found: dict[str, dict[str, Any]] = field(default_factory=dict)  # source -> connection
    how: dict[str, str] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)  # source -> why none


def _label(c: dict[str, Any]) -> str:
    return f"{c.get('name')!r} ({c['connectionId']})"


def resolve(
    project: Project, connections: list[dict[str, Any]], sources: list[dict[str, Any]]
) -> Resolution:
    source_names = {s["sourceId"]: str(s.get("name", "")).casefold() for s in sources}
    by_id = {c["connectionId"]: c for c in connections}
    out = Resolution()
    for name, spec in project.sources.items():
        ref = spec.airbyte
        if ref and ref.connection_id:
            if ref.connection_id in by_id:
                out.found[name], out.how[name] = by_id[ref.connection_id], "id"
            else:
                out.problems[name] = f"connection id {ref.connection_id} is not in the workspace"
            continue
        if ref and ref.connection_name:
            hits = [c for c in connections if str(c.get("name", "")).casefold()
                    == ref.connection_name.casefold()]  # fmt: skip
            how = "name"
            if not hits:
                out.problems[name] = f"no connection named {ref.connection_name!r}"
                continue
        else:
            schema = raw_schema(project, name).casefold()
            hits = [
                c for c in connections
                if str(c.get("namespaceFormat") or "").casefold() == schema
                or source_names.get(c.get("sourceId", "")) == name.casefold()
            ]  # fmt: skip
            how = "namespace or source name"
            if not hits:
                out.problems[name] = "no connection found (set airbyte.connection_name)"
                continue
        if len(hits) > 1:
            out.problems[name] = (
                f"{len(hits)} connections match by {how}: "
                + ", ".join(_label(c) for c in hits)
                + "; set airbyte.connection_id in keel.yml"
            )
            continue
        out.found[name], out.how[name] = hits[0], how
    return out


def webhook_url(project: Project) -> tuple[str | None, str | None]:
    token = project.spec.serve.token
    secret = token.get_secret_value() if token else None
    if not secret:
        return None, None
    return f"{project.spec.serve.public_url.rstrip('/')}/hooks/airbyte/{secret}", secret


def build(project: Project, client: AirbyteClient) -> tuple[AirbytePlan, Resolution]:
    """Read Airbyte's state and diff it against the standard (no writes)."""
    connections = client.connections()
    resolution = resolve(project, connections, client.sources())
    plan = AirbytePlan()
    for source, why in sorted(resolution.problems.items()):
        plan.warnings.append(f"source {source}: {why}")
    dest_ids: list[str] = []
    for source, conn in sorted(resolution.found.items()):
        full = client.connection(conn["connectionId"], conn.get("name"))
        catalog = client.streams(full["sourceId"], full["destinationId"])
        change, modes = connection_change(desired(project, source), full, catalog)
        plan.streams[source] = modes
        if change:
            plan.changes.append(change)
        if full["destinationId"] not in dest_ids:
            dest_ids.append(full["destinationId"])
    destinations = {d["destinationId"]: d for d in client.destinations()}
    for did in dest_ids:
        change = destination_change(destinations.get(did, {"destinationId": did}))
        if change:
            plan.changes.insert(0, change)
    url, _ = webhook_url(project)
    if url is None:
        plan.warnings.append(
            "serve.token is not set: the workspace's webhooks are left as they are"
        )
    else:
        change = workspace_change(client.workspace(), url)
        if change:
            plan.changes.insert(0, change)
    return plan, resolution


@dataclass
class ApplyResult:
    applied: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"applied": self.applied, "failed": self.failed, "ok": not self.failed}


def apply(plan: AirbytePlan, client: AirbyteClient) -> ApplyResult:
    """Send each change's PATCH; one refused change does not stop the others."""
    result = ApplyResult()
    for change in plan.changes:
        label = f"{change.target} {change.name}"
        try:
            if change.target == "connection":
                client.patch_connection(change.object_id, change.body, change.name)
            elif change.target == "destination":
                client.patch_destination(change.object_id, change.body)
            else:
                client.patch_workspace(change.body)
        except AirbyteError as exc:
            result.failed.append(f"{label}: {exc.message}")
            continue
        result.applied.append(label)
    return result


STATUS_FILE = ".keel/airbyte-status.json"


def write_status(
    root: Path, plan: AirbytePlan, resolution: Resolution, result: ApplyResult | None = None
) -> None:
    """Each source's standard status as the last plan or apply saw it, for the status page
    (which must not call Airbyte on every request)."""
    at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    fixed = {label.partition(" ")[2] for label in (result.applied if result else [])}
    out: dict[str, Any] = {}
    for source, conn in resolution.found.items():
        change = next((c for c in plan.changes if c.source == source), None)
        diffs = [] if change is None or change.name in fixed else change.differences
        out[source] = {"connection": conn.get("name"), "connection_id": conn["connectionId"],
                       "standard": "ok" if not diffs else "differs", "differences": diffs,
                       "checked_at": at}  # fmt: skip
    for source, why in resolution.problems.items():
        out[source] = {"connection": None, "standard": "no connection", "differences": [why],
                       "checked_at": at}  # fmt: skip
    path = root / STATUS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2, ensure_ascii=False), encoding="utf-8")


def read_status(root: Path) -> dict[str, Any]:
    try:
        data = json.loads((root / STATUS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def require_airbyte(project: Project) -> Any:
    if project.spec.airbyte is None:
        raise KeelError("keel.yml has no airbyte: block (api_url, workspace_id, credentials)")
    return project.spec.airbyte
