"""The loaded project: canonical names, streams, columns and their tags.

:func:`keel.project.loader.load_project` builds a :class:`Project`; everyone
downstream reads these frozen values, never the raw YAML.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from keel.errors import Problem, ProjectError
from keel.project.models import DataTest, Freshness, KeelMeta, ProjectFile, SchemaSpec, SourceSpec
from keel.project.tests_spec import ALIASES, KINDS, did_you_mean, runs_in_keel

PROJECT_FILE = "keel.yml"
CONTRACTS_DIR = "contracts"


def canon(name: str) -> str:
    """Canonical (upper case) form of a warehouse name."""
    return name.upper()


@dataclass(frozen=True)
class Column:
    """A column a contract declares: canonical name, type, tag, tests."""

    name: str  # canonical
    data_type: str | None
    tag: dict[str, str]  # the column's tag metadata (keys of the metadata tag only)
    critical: bool
    tests: tuple[DataTest, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class Stream:
    """A table a contract declares: its RAW and promoted homes, tag, columns, tests."""

    source: str  # lower case source name, as in keel.yml
    name: str  # stream name as the connector calls it (lower case)
    table: str  # canonical table name
    raw_schema: str
    data_schema: str
    tag: dict[str, str]
    keel: KeelMeta
    columns: tuple[Column, ...]
    tests: tuple[DataTest, ...]
    freshness: Freshness | None
    loaded_at_field: str | None
    file: str
    line: int
    proposed: tuple[str, ...] = ()  # tag keys proposed by classification, not declared

    @property
    def key(self) -> str:
        return f"{self.source}.{self.name}"

    def column(self, name: str) -> Column | None:
        upper = canon(name)
        return next((c for c in self.columns if c.name == upper), None)

    @property
    def all_tests(self) -> tuple[DataTest, ...]:
        return self.tests + tuple(t for c in self.columns for t in c.tests)


@dataclass(frozen=True)
class ManagedSchema:
    """A schema keel manages, its layer and its tag."""

    name: str  # canonical
    layer: str  # raw | promoted | platform | data
    source: str | None
    tag: dict[str, str]


@dataclass(frozen=True)
class Project:
    """A loaded, validated project: keel.yml and every stream of every contract."""

    root: Path
    spec: ProjectFile
    streams: dict[str, Stream]  # "source.stream" -> Stream
    missing_env: dict[str, str] = field(default_factory=dict)
    # what the load read, for keel.project.compiled: files, and folders whose *.yml /
    # *.yaml were read (recursive: True for a dbt project's model paths)
    inputs: tuple[tuple[str, bool | None], ...] = ()

    @property
    def tag_name(self) -> str:
        return canon(self.spec.metadata_tag.name)

    @property
    def tag_keys(self) -> dict[str, list[str]]:
        return self.spec.metadata_tag.keys

    @property
    def sources(self) -> dict[str, SourceSpec]:
        return self.spec.sources

    def streams_of(self, source: str) -> list[Stream]:
        return [s for s in self.streams.values() if s.source == source]

    def schemas(self) -> list[ManagedSchema]:
        """Every schema keel manages, in creation order."""
        out: list[ManagedSchema] = []
        for name, spec in self.spec.schemas.items():
            layer = "data" if spec.kind == "data" else "platform"
            out.append(ManagedSchema(canon(name), layer, None, dict(spec.meta)))
        for source, src in self.spec.sources.items():
            base = {"data_source": source, "update_frequency": src.schedule}
            for suffix, layer in (("_DATA_RAW", "raw"), ("_DATA", "promoted")):
                tag = dict(base)
                if "layer" in self.tag_keys:
                    tag["layer"] = layer
                out.append(ManagedSchema(canon(source) + suffix, layer, source, tag))
        return out

    def schema(self, name: str) -> ManagedSchema | None:
        return next((s for s in self.schemas() if s.name == canon(name)), None)

    def expand_schema_patterns(self, patterns: list[str]) -> list[str]:
        out: list[str] = []
        for pattern in patterns:
            if "{SOURCE}" in pattern:
                out.extend(pattern.replace("{SOURCE}", canon(s)) for s in self.spec.sources)
            else:
                out.append(canon(pattern))
        return out

    def not_run_tests(self) -> list[DataTest]:
        """Tests kept and counted but not run by keel's gate (unknown to keel)."""
        return [t for s in self.streams.values() for t in s.all_tests if not runs_in_keel(t)]

    def not_run_warnings(self) -> list[str]:
        """One warning per distinct test keel does not run, naming where it is written."""
        by_name: dict[str, list[DataTest]] = {}
        for test in self.not_run_tests():
            by_name.setdefault(test.name, []).append(test)
        out = []
        for name, tests in sorted(by_name.items()):
            where = ", ".join(f"{t.file}:{t.line}" for t in tests[:3])
            more = f" and {len(tests) - 3} more" if len(tests) > 3 else ""
            hint = did_you_mean(name, set(KINDS) | set(ALIASES))
            out.append(
                f"data test {name!r} is kept but not run by keel's gate "
                f"({len(tests)} use(s): {where}{more})" + (f"; {hint}" if hint else "")
            )
        return out

    def require_env(self, *paths: str) -> None:
        """Fail with the variable to set when a needed ``${VAR}`` is unset."""
        for var, path in self.missing_env.items():
            if any(path == p or path.startswith(p + ".") for p in paths):
                raise ProjectError(
                    [
                        Problem(
                            PROJECT_FILE,
                            None,
                            f"{path} needs the environment variable {var}, which is not set",
                        )
                    ]
                )


def tag_json(meta: dict[str, str]) -> str:
    """The tag value: compact JSON, keys sorted, so equal metadata is equal text."""
    return json.dumps(meta, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def schema_spec(project: Project, name: str) -> SchemaSpec | None:
    return next((s for n, s in project.spec.schemas.items() if canon(n) == canon(name)), None)
