"""Load ``keel.yml`` and ``contracts/*.yml`` into one validated :class:`Project`.

Every problem in every file is collected and raised together as a
:class:`~keel.errors.ProjectError` (file, line, hint); nothing runs on an
invalid project. Names are canonical upper case from here on.

The validators live in :mod:`keel.project.load_project` (keel.yml) and
:mod:`keel.project.load_contract` (contracts); the loaded types in
:mod:`keel.project.loaded`. Their names are re-exported here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from keel.errors import Problem, ProjectError
from keel.project.dbt_project import read_dbt_project
from keel.project.fragments import check_fragments
from keel.project.load_contract import check_relationships, load_contract
from keel.project.load_project import EntityTypeFor, Frame, read_project_file
from keel.project.loaded import (
    CONTRACTS_DIR,
    PROJECT_FILE,
    Column,
    ManagedSchema,
    Project,
    Stream,
    canon,
    schema_spec,
    tag_json,
)
from keel.project.names import check_names
from keel.project.yamlio import line_at

__all__ = [
    "CONTRACTS_DIR",
    "PROJECT_FILE",
    "Column",
    "ManagedSchema",
    "Project",
    "Stream",
    "canon",
    "load_project",
    "schema_spec",
    "tag_json",
]


def load_project(
    root: Path,
    env: dict[str, str] | None = None,
    entity_type_for: EntityTypeFor | None = None,
) -> Project:
    """Load and validate the project at ``root``.

    ``entity_type_for(table, allowed)`` proposes a table's ``entity_type`` when its
    contract does not declare one (the governance layer passes its classifier);
    without it such a table simply has no entity_type in its tag.
    """
    root = root.resolve()
    path = root / PROJECT_FILE
    if not path.exists():
        raise ProjectError(
            [
                Problem(
                    PROJECT_FILE,
                    None,
                    f"no {PROJECT_FILE} in {root}",
                    "run `keel init` to create a project, or pass --project DIR",
                )
            ]
        )
    read = read_project_file(path, env)
    problems = list(read.problems)
    spec = read.spec
    streams: dict[str, Stream] = {}
    contracts_dir = root / CONTRACTS_DIR
    files = [
        (f, f"{CONTRACTS_DIR}/{f.name}")
        for f in sorted(contracts_dir.glob("*.yml")) + sorted(contracts_dir.glob("*.yaml"))
    ]
    dbt_vars: dict[str, Any] = {}
    inputs: list[tuple[str, bool | None]] = [(str(path), None), (str(contracts_dir), False)]
    if spec is not None and spec.dbt_project:
        dbt, found = read_dbt_project(root, spec.dbt_project, line_at(read.raw, ["dbt_project"]))
        problems += found
        if dbt is not None:
            files += dbt.files
            dbt_vars = dbt.vars
            inputs.append((str(dbt.project_file), None))
            inputs += [(str(folder), True) for folder in dbt.folders]
    frame = Frame.of(spec, read.raw, env, entity_type_for, dbt_vars)
    for file, display in files:
        found_streams, found = load_contract(file, display, frame, env)
        problems += found
        for stream in found_streams:
            if stream.key in streams:
                problems.append(
                    Problem(
                        display,
                        stream.line,
                        f"stream {stream.key} is already defined in {streams[stream.key].file}",
                    )
                )
            streams[stream.key] = stream
    problems += check_relationships(streams)
    if spec is not None:  # contract SQL parsed in the engine's dialect; names checked
        problems += check_fragments(spec.warehouse.engine, streams.values())
        problems += check_names(spec, read.raw, streams)
    if problems or spec is None:
        raise ProjectError(problems or [Problem(PROJECT_FILE, None, "empty project file")])
    return Project(root, spec, streams, read.missing_env, tuple(inputs))
