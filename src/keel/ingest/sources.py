"""What ``Context.ingest`` (``keel ingest``, ``keel run``) calls: the project's sources into their _RAW schemas.

A source's ``connector`` in keel.yml is ``demo`` (keel's built-in demo source
of that name) or a package name such as ``source-faker`` (installed into
``.keel/connectors/<name>`` on first use). Contract cursors and primary keys
apply where the connector defines none.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from keel.errors import IngestError, KeelError
from keel.ingest.results import ProgressEvent, SourceResult

if TYPE_CHECKING:
    from keel.adapters.base import Adapter
    from keel.project.loaded import Project

WRITABLE = ("duckdb", "postgres")  # engines whose _RAW schemas keel ingest writes


def _command(project: Project, source: str, on_install: Callable[[str], None] | None) -> list[str]:
    from keel.ingest.connectors import ensure_connector
    from keel.ingest.runner import DEMO_SOURCES, demo_command

    spec = project.sources[source]
    if spec.connector == "demo":
        if source not in DEMO_SOURCES:
            raise IngestError(
                f"source {source}: there is no demo connector of that name "
                f"(demo sources: {', '.join(DEMO_SOURCES)}); set connector: in keel.yml"
            )
        return demo_command(source)
    return ensure_connector(spec.connector, project.root, progress=on_install)


def ingest_sources(
    project: Project,
    adapter: Adapter,
    sources: Sequence[str] | None = None,
    faults: Mapping[str, list[dict[str, Any]]] | None = None,
    progress: Callable[[ProgressEvent], None] | None = None,
    on_install: Callable[[str], None] | None = None,
    config_overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[SourceResult]:
    """Ingest each source in turn; stop at the first failure (IngestFailed says what was
    committed). keel writes _RAW on DuckDB and PostgreSQL; on Snowflake, in production,
    Airbyte loads _RAW and keel refuses."""
    from keel.ingest.runner import ingest_source

    names = list(sources or project.sources)
    unknown = [s for s in names if s not in project.sources]
    if unknown:
        raise KeelError(
            f"unknown source(s): {', '.join(unknown)} (keel.yml has: {', '.join(project.sources)})"
        )
    if adapter.name not in WRITABLE:
        raise KeelError(
            f"keel ingest writes into DuckDB or PostgreSQL; on {adapter.name} Airbyte "
            "loads the _RAW schemas and keel gates what it wrote"
        )
    results = []
    for source in names:
        spec = project.sources[source]
        config: dict[str, Any] = dict(spec.config)
        config.update((config_overrides or {}).get(source, {}))
        if faults and faults.get(source):
            config["faults"] = [*config.get("faults", []), *faults[source]]
        streams = project.streams_of(source)
        cursors = {s.name: [s.keel.cursor.lower()] for s in streams if s.keel.cursor}
        keys = {
            s.name: [[k.lower()] for k in s.keel.primary_key] for s in streams if s.keel.primary_key
        }
        results.append(
            ingest_source(
                adapter,
                source=source,
                command=_command(project, source, on_install),
                config=config,
                streams=spec.streams,
                progress=progress,
                cursors=cursors,
                primary_keys=keys,
                timeouts=dataclasses.asdict(spec.timeouts),
            )
        )
    return results
