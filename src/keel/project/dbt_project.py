"""``dbt_project: PATH`` in keel.yml: the dbt project's own sources files are the contracts.

Facts from dbt's documentation of ``dbt_project.yml``: ``model-paths`` (default
``["models"]``) lists the folders of models and their properties files; ``vars``
holds project variables, either global (``vars: {name: value}``) or scoped to a
package (``vars: {package_name: {name: value}}``). keel reads every ``.yml`` /
``.yaml`` under the model paths that has a top-level ``sources:`` key, where it
lives; files describing only models are skipped.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keel.errors import Problem
from keel.project.yamlio import MAX_FILE_BYTES, line_at, load_yaml

DBT_PROJECT_FILE = "dbt_project.yml"
MAX_FILES = 5000


@dataclass
class DbtProject:
    root: Path
    vars: dict[str, Any] = field(default_factory=dict)
    files: list[tuple[Path, str]] = field(default_factory=list)  # (path, display)
    # what a compiled project checks, as written (a symlink retargeted counts)
    project_file: Path | None = None
    folders: list[Path] = field(default_factory=list)  # the model paths searched


def read_dbt_project(
    keel_root: Path, path_text: str, line: int | None
) -> tuple[DbtProject | None, list[Problem]]:
    """The dbt project at ``path_text`` (relative to keel.yml): its vars and sources files."""
    root = (keel_root / path_text).resolve()
    project_file = root / DBT_PROJECT_FILE
    if not project_file.is_file():
        return None, [
            Problem(
                "keel.yml",
                line,
                f"dbt_project: no {DBT_PROJECT_FILE} in {root}",
                "point dbt_project at the folder that holds dbt_project.yml",
            )
        ]
    display_root = _display(root, keel_root)
    raw, problems = load_yaml(project_file, f"{display_root}/{DBT_PROJECT_FILE}")
    if problems:
        return None, problems
    raw = raw if isinstance(raw, dict) else {}
    name = str(raw.get("name") or "")
    paths = raw.get("model-paths") or raw.get("source-paths") or ["models"]
    if not isinstance(paths, list):
        return None, [
            Problem(
                f"{display_root}/{DBT_PROJECT_FILE}",
                line_at(raw, ["model-paths"]),
                "model-paths must be a list of folders",
            )
        ]
    given = keel_root / path_text
    project = DbtProject(root, _vars(raw.get("vars"), name), project_file=given / DBT_PROJECT_FILE)
    for folder in paths:
        base = (root / str(folder)).resolve()
        if not base.is_relative_to(root):
            continue
        project.folders.append(given / str(folder))  # one created later counts too
        if not base.is_dir():
            continue
        for file in sorted([*base.rglob("*.yml"), *base.rglob("*.yaml")]):
            if len(project.files) >= MAX_FILES:
                break
            if _has_sources(file):
                project.files.append((file, _display(file, keel_root)))
    return project, []


def _vars(block: Any, project_name: str) -> dict[str, Any]:
    """Global vars, then those scoped to this project (they win)."""
    if not isinstance(block, dict):
        return {}
    out = {k: v for k, v in block.items() if not isinstance(v, dict)}
    scoped = block.get(project_name)
    if isinstance(scoped, dict):
        out.update(scoped)
    return out


def _has_sources(path: Path) -> bool:
    """A cheap look at the file's top-level keys (no YAML parse of model files); a file
    over the size cap is kept, so that loading it reports the cap with its name."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return True
        with path.open("rb") as handle:
            return any(line.startswith(b"sources:") for line in handle)
    except OSError:
        return False


def _display(path: Path, keel_root: Path) -> str:
    """The path as the user would write it from the keel project (``../dbt/models/x.yml``)."""
    return Path(os.path.relpath(path, keel_root)).as_posix()


def source_names(project: DbtProject) -> list[str]:
    """The names of the sources its files declare (as written; names are rarely jinja)."""
    names: list[str] = []
    for path, display in project.files:
        raw, problems = load_yaml(path, display)
        if problems or not isinstance(raw, dict) or not isinstance(raw.get("sources"), list):
            continue
        for src in raw["sources"]:
            name = src.get("name") if isinstance(src, dict) else None
            if isinstance(name, str) and name not in names:
                names.append(name)
    return names
