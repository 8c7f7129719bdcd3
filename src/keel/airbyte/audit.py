"""What ``keel audit`` reports about Airbyte: each connection's differences from the
standard (the read-only half of ``keel airbyte plan``), sources with no connection, and
connectors behind the newest version the workspace knows. Reaching Airbyte is not the
audit's job to fail on: an API error becomes a note saying the connections were not
(or only partly) audited."""

from __future__ import annotations

from keel.airbyte.client import AirbyteClient, AirbyteError
from keel.airbyte.connections import build
from keel.airbyte.versions import connector_versions
from keel.project.loaded import Project

Finding = tuple[str, str]  # (object, message)


def connection_findings(
    project: Project, client: AirbyteClient | None = None
) -> tuple[list[Finding], list[str]]:
    """(violations, notes); none of either when keel.yml has no airbyte block."""
    spec = project.spec.airbyte
    if spec is None:
        return [], []
    out: list[Finding] = []
    notes: list[str] = []
    try:
        own = client is None
        client = client or AirbyteClient(spec)
    except AirbyteError as exc:
        return [], [f"Airbyte connections not audited: {exc.message}"]
    try:
        plan, resolution = build(project, client)
        for change in plan.changes:
            for diff in change.differences:
                out.append((f"{change.target} {change.name}", f"not to the standard: {diff}"))
        for source, why in sorted(resolution.problems.items()):
            out.append((f"source {source}", why))
        conns = resolution.found.values()
        versions = connector_versions(
            client, {c["sourceId"] for c in conns}, {c["destinationId"] for c in conns}
        )
        for v in versions:
            if v.behind:
                out.append((f"{v.kind} {v.name}",
                            f"connector {v.repository} {v.in_use} is behind {v.newest}"))  # fmt: skip
    except AirbyteError as exc:
        notes.append(f"Airbyte connections only partly audited: {exc.message}")
    finally:
        if own:
            client.close()
    return out, notes
