"""Warehouses in a known state for integration tests."""

from __future__ import annotations

from pathlib import Path

from keel.context import Context
from keel.project.init import connection_name

NULL_EMAILS = {"hubspot": [{"kind": "null", "stream": "contacts", "column": "email", "count": 2}]}


def load_raw(project: Path, connection_ids: dict[str, str] | None = None) -> Path:
    """Apply the project, land one sync of every demo source in _RAW (as Airbyte would have
    left it) plus a HubSpot sync whose contacts carry two null emails (a blocked batch),
    and tag what landed. ``connection_ids`` (source -> Airbyte connection id) go into keel.yml."""
    if connection_ids:
        text = (project / "keel.yml").read_text()
        for source, cid in connection_ids.items():
            text = text.replace(
                f"connection_name: {connection_name(source)}", f"connection_id: {cid}"
            )
        (project / "keel.yml").write_text(text)
    with Context(project) as ctx:
        ctx.apply()
        ctx.ingest()
        ctx.ingest(["hubspot"], faults=NULL_EMAILS)
        ctx.apply()
    return project
