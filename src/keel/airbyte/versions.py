"""Connector versions: the version each source and destination runs against the newest the
workspace knows.

The public API reports versions on definitions only: ``GET /workspaces/{ws}/definitions/
sources|destinations`` answers ``{id, name, dockerRepository, dockerImageTag}``; a source
or destination names its ``definitionId``. The version in use is that definition's tag;
the newest known is the highest tag among the workspace's definitions of the same
``dockerRepository``. The public API cannot upgrade a public connector (self-hosted:
the internal ``POST /api/v1/source_definitions/update``; Cloud: Airbyte upgrades, or the
UI's "Upgrade" button): keel reports, it never upgrades.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from keel.airbyte.client import AirbyteClient


@dataclass(frozen=True)
class ConnectorVersion:
    kind: str  # source | destination
    name: str
    repository: str
    in_use: str
    newest: str

    @property
    def behind(self) -> bool:
        return version_key(self.newest) > version_key(self.in_use)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "behind": self.behind}


def version_key(tag: str) -> tuple[int, ...]:
    """``3.11.2`` -> (3, 11, 2); a tag that is not numbers (``dev``) sorts lowest."""
    parts = re.findall(r"\d+", tag.split("-")[0])
    return tuple(int(p) for p in parts) if parts else (-1,)


def compare(
    actors: list[dict[str, Any]], definitions: list[dict[str, Any]], kind: str
) -> list[ConnectorVersion]:
    by_id = {d["id"]: d for d in definitions}
    newest: dict[str, str] = {}
    for definition in definitions:
        repo, tag = definition["dockerRepository"], definition["dockerImageTag"]
        if repo not in newest or version_key(tag) > version_key(newest[repo]):
            newest[repo] = tag
    out = []
    for actor in actors:
        d = by_id.get(actor.get("definitionId", ""))
        if d is None:
            continue
        repo = d["dockerRepository"]
        out.append(
            ConnectorVersion(kind, actor.get("name", ""), repo, d["dockerImageTag"], newest[repo])
        )
    return out


def connector_versions(
    client: AirbyteClient,
    source_ids: set[str] | None = None,
    destination_ids: set[str] | None = None,
) -> list[ConnectorVersion]:
    """Versions of the given sources and destinations (all of the workspace's when None)."""
    sources = [s for s in client.sources() if source_ids is None or s["sourceId"] in source_ids]
    dests = [
        d
        for d in client.destinations()
        if destination_ids is None or d["destinationId"] in destination_ids
    ]
    return compare(sources, client.definitions("sources"), "source") + compare(
        dests, client.definitions("destinations"), "destination"
    )
