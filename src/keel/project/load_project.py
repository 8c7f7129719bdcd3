"""Validate ``keel.yml``: the pydantic model, then keel's own cross-checks.

:class:`Frame` is what contract validation needs from ``keel.yml``; it is
built from the raw file when the file itself is invalid, so the problems of
both files are still reported together.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from keel.errors import Problem
from keel.project.dbt_jinja import Renderer, target_of
from keel.project.loaded import PROJECT_FILE, canon
from keel.project.models import ProjectFile, Warehouse
from keel.project.problems import check_length, check_tag_meta, pydantic_problems
from keel.project.tests_spec import did_you_mean
from keel.project.validate import validate
from keel.project.yamlio import LDict, line_at, load_yaml, substitute_env

REQUIRED_TAG_KEYS = ("data_source", "update_frequency", "pii_level", "entity_type")


@dataclass(frozen=True)
class ProjectRead:
    raw: Any
    spec: ProjectFile | None
    missing_env: dict[str, str]
    problems: list[Problem]


def read_project_file(path: Path, env: dict[str, str] | None) -> ProjectRead:
    """Parse and validate ``keel.yml`` (``path`` exists)."""
    raw, problems = load_yaml(path, PROJECT_FILE)
    spec: ProjectFile | None = None
    missing: dict[str, str] = {}
    if raw is not None and not isinstance(raw, dict):
        problems.append(Problem(PROJECT_FILE, 1, "expected a mapping at the top level"))
    elif raw is not None:
        raw, missing = substitute_env(raw, env)
        try:
            spec = validate(ProjectFile, raw)
        except ValidationError as exc:
            problems += pydantic_problems(exc, raw, PROJECT_FILE, ProjectFile)
    if spec is not None:
        problems += check_project(spec, raw)
    return ProjectRead(raw, spec, missing, problems)


EntityTypeFor = Callable[[str, list[str]], str]


@dataclass(frozen=True)
class Frame:
    """What contract validation needs from keel.yml (and the jinja context of contracts)."""

    keys: dict[str, list[str]]
    limit: int
    schedules: dict[str, str]
    vars: dict[str, Any] = field(default_factory=dict)
    target: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    entity_type_for: EntityTypeFor | None = None  # proposes entity_type when not declared

    def renderer(self) -> Renderer:
        return Renderer(self.vars, self.env, self.target)

    @classmethod
    def of(
        cls,
        spec: ProjectFile | None,
        raw: Any,
        env: dict[str, str] | None = None,
        entity_type_for: EntityTypeFor | None = None,
        extra_vars: dict[str, Any] | None = None,
    ) -> Frame | None:
        env = dict(os.environ) if env is None else env
        if spec is not None:
            return cls(
                spec.metadata_tag.keys,
                spec.metadata_tag.max_length,
                {n: s.schedule for n, s in spec.sources.items()},
                {**(extra_vars or {}), **spec.vars},
                target_of(spec.warehouse, spec.name),
                env,
                entity_type_for,
            )
        if not isinstance(raw, dict):
            return None
        tag = raw.get("metadata_tag")
        keys = tag.get("keys") if isinstance(tag, dict) else None
        sources = raw.get("sources")
        if not isinstance(keys, dict) or not isinstance(sources, dict):
            return None
        keys = {str(k): [str(x) for x in v] if isinstance(v, list) else [] for k, v in keys.items()}
        schedules = {
            str(n): str(v.get("schedule", "hourly")) if isinstance(v, dict) else "hourly"
            for n, v in sources.items()
        }
        return cls(keys, 256, schedules, {}, target_of(Warehouse(), "keel"), env, entity_type_for)


def check_project(spec: ProjectFile, raw: Any) -> list[Problem]:
    problems = _check_schemas(spec, raw) + _check_roles(spec, raw)
    keys = spec.metadata_tag.keys
    for required in REQUIRED_TAG_KEYS:
        if required not in keys:
            problems.append(
                Problem(
                    PROJECT_FILE,
                    line_at(raw, ["metadata_tag", "keys"]),
                    f"metadata_tag.keys must declare {required!r}",
                )
            )
    for source in spec.sources:
        if not source.replace("_", "").isalnum() or not source[:1].isalpha():
            problems.append(
                Problem(
                    PROJECT_FILE,
                    line_at(raw, ["sources", source]),
                    f"sources: source name {source!r} must be letters, digits and underscores",
                )
            )
        if source not in keys.get("data_source", [source]):
            problems.append(
                Problem(
                    PROJECT_FILE,
                    line_at(raw, ["sources", source]),
                    f"source {source!r} is not an allowed data_source value",
                    "add it to metadata_tag.keys.data_source",
                )
            )
    return problems


def _check_schemas(spec: ProjectFile, raw: Any) -> list[Problem]:
    problems: list[Problem] = []
    keys = spec.metadata_tag.keys
    schemas_raw = raw.get("schemas", {}) if isinstance(raw, LDict) else {}
    for name, schema in spec.schemas.items():
        block = schemas_raw.get(name, {}) if isinstance(schemas_raw, LDict) else {}
        meta_raw = block.get("meta", {}) if isinstance(block, LDict) else {}
        line_of = meta_raw.line_of if isinstance(meta_raw, LDict) else (lambda _k: 0)
        tag, found = check_tag_meta(
            dict(schema.meta), keys, PROJECT_FILE, line_of, f"schema {name}"
        )
        problems += found + check_length(
            tag,
            spec.metadata_tag.max_length,
            PROJECT_FILE,
            line_at(raw, ["schemas", name]) or 0,
            f"schema {name}",
        )
    return problems


def _check_roles(spec: ProjectFile, raw: Any) -> list[Problem]:
    problems: list[Problem] = []
    keys = spec.metadata_tag.keys
    known = set(spec.schemas) | {f"{{SOURCE}}{s}" for s in ("_DATA", "_DATA_RAW")}
    known |= {canon(s) + sfx for s in spec.sources for sfx in ("_DATA", "_DATA_RAW")}
    for role, rs in spec.roles.items():
        for level in ("read", "write", "own"):
            for i, pattern in enumerate(getattr(rs, level)):
                if canon(pattern) not in {canon(k) for k in known}:
                    problems.append(
                        Problem(
                            PROJECT_FILE,
                            line_at(raw, ["roles", role, level, i]),
                            f"role {role}: {level} names unknown schema {pattern!r}",
                            did_you_mean(pattern, known),
                        )
                    )
        for level_value in rs.masked_pii_levels:
            allowed = keys.get("pii_level", [])
            if level_value not in allowed:
                problems.append(
                    Problem(
                        PROJECT_FILE,
                        line_at(raw, ["roles", role, "masked_pii_levels"]),
                        f"role {role}: unknown pii level {level_value!r}",
                        did_you_mean(level_value, set(allowed)),
                    )
                )
    return problems
