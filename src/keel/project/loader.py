"""Load ``keel.yml`` and ``contracts/*.yml`` into one validated :class:`Project`.

Every problem in every file is collected and raised together as a
:class:`~keel.errors.ProjectError` (file, line, hint); nothing runs on an
invalid project. Names are canonical upper case from here on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from keel.errors import Problem, ProjectError
from keel.project.fragments import check_fragments
from keel.project.models import (
    ContractFile,
    DataTest,
    Freshness,
    KeelMeta,
    ProjectFile,
    SchemaSpec,
    SourceSpec,
)
from keel.project.names import check_names
from keel.project.tests_spec import did_you_mean, normalise_test, parse_relation
from keel.project.yamlio import LDict, LList, line_at, load_yaml, substitute_env

PROJECT_FILE = "keel.yml"
CONTRACTS_DIR = "contracts"
KEEL_META_KEYS = set(KeelMeta.model_fields)


def canon(name: str) -> str:
    """Canonical (upper case) form of a warehouse name."""
    return name.upper()


@dataclass(frozen=True)
class Column:
    name: str  # canonical
    data_type: str | None
    tag: dict[str, str]  # the column's tag metadata (keys of the metadata tag only)
    critical: bool
    tests: tuple[DataTest, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class Stream:
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
    name: str  # canonical
    layer: str  # raw | promoted | platform | data
    source: str | None
    tag: dict[str, str]


@dataclass(frozen=True)
class Project:
    root: Path
    spec: ProjectFile
    streams: dict[str, Stream]  # "source.stream" -> Stream
    missing_env: dict[str, str] = field(default_factory=dict)

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


# ---- loading --------------------------------------------------------------------------


def _pydantic_problems(
    exc: ValidationError, raw: Any, file: str, model: type[BaseModel]
) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        line = line_at(raw, loc)
        where = ".".join(str(p) for p in loc) or "(top level)"
        hint = None
        if err["type"] == "extra_forbidden":
            parent = _model_at(model, loc[:-1])
            if parent is not None:
                hint = did_you_mean(
                    str(loc[-1]), {f.alias or n for n, f in parent.model_fields.items()}
                )
            msg = f"unknown key {where!r}"
        elif err["type"] == "literal_error":
            expected = err.get("ctx", {}).get("expected", "")
            value = err.get("input")
            options = [o.strip(" '") for o in str(expected).replace(" or ", ",").split(",")]
            hint = did_you_mean(str(value), set(options)) or f"allowed: {expected}"
            msg = f"{where}: {value!r} is not allowed"
        elif err["type"] == "missing":
            msg = f"{where}: required key is missing"
        else:
            msg = f"{where}: {err['msg']}"
        problems.append(Problem(file, line, msg, hint))
    return problems


def _model_at(model: type[BaseModel], loc: list[int | str]) -> type[BaseModel] | None:
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        fields = {f.alias or n: f for n, f in current.model_fields.items()}
        f = fields.get(str(part))
        if f is None:
            # dict[str, Model]: the key is a name, not a field
            return _container_model(current) if part else None
        current = _inner_model(f.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _inner_model(annotation: Any) -> Any:
    args = getattr(annotation, "__args__", ())
    for arg in reversed(args):
        inner = _inner_model(arg)
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            return inner
    return annotation


def _container_model(model: Any) -> Any:
    return model


def load_project(root: Path, env: dict[str, str] | None = None) -> Project:
    root = root.resolve()
    problems: list[Problem] = []
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
    raw, found = load_yaml(path, PROJECT_FILE)
    problems += found
    spec: ProjectFile | None = None
    missing: dict[str, str] = {}
    if raw is not None and not isinstance(raw, dict):
        problems.append(Problem(PROJECT_FILE, 1, "expected a mapping at the top level"))
    elif raw is not None:
        raw, missing = substitute_env(raw, env)
        try:
            spec = ProjectFile.model_validate(raw)
        except ValidationError as exc:
            problems += _pydantic_problems(exc, raw, PROJECT_FILE, ProjectFile)
    if spec is not None:
        problems += _check_project(spec, raw)
    streams: dict[str, Stream] = {}
    frame = _Frame.of(spec, raw)
    contracts_dir = root / CONTRACTS_DIR
    files = sorted(contracts_dir.glob("*.yml")) + sorted(contracts_dir.glob("*.yaml"))
    for file in files:
        display = f"{CONTRACTS_DIR}/{file.name}"
        found_streams, found = _load_contract(file, display, frame, env)
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
    problems += _check_relationships(streams)
    if spec is not None:  # contract SQL parsed in the engine's dialect (keel.project.fragments)
        problems += check_fragments(spec.warehouse.engine, streams.values())
        problems += check_names(spec, raw, streams)  # keel.project.names
    if problems or spec is None:
        raise ProjectError(problems or [Problem(PROJECT_FILE, None, "empty project file")])
    return Project(root=root, spec=spec, streams=streams, missing_env=missing)


def _check_tag_meta(
    meta: dict[str, Any], keys: dict[str, list[str]], file: str, line_of: Any, what: str
) -> tuple[dict[str, str], list[Problem]]:
    """Validate the tag keys of a ``meta`` block; return the tag part of it."""
    problems: list[Problem] = []
    tag: dict[str, str] = {}
    for key, value in meta.items():
        if key == "keel":
            continue
        if key not in keys:
            hint = did_you_mean(key, set(keys))
            if hint:  # a near-miss of a tag key is a typo; other meta is the user's own
                problems.append(
                    Problem(file, line_of(key), f"{what}: unknown tag key {key!r}", hint)
                )
            continue
        text = str(value).lower() if isinstance(value, bool) else str(value)
        allowed = keys[key]
        if allowed and text not in allowed:
            problems.append(
                Problem(
                    file,
                    line_of(key),
                    f"{what}: {key} {text!r} is not an allowed value",
                    did_you_mean(text, set(allowed)) or f"allowed: {', '.join(allowed)}",
                )
            )
            continue
        tag[key] = text
    return tag, problems


def _check_length(
    tag: dict[str, str], limit: int, file: str, line: int, what: str
) -> list[Problem]:
    text = tag_json(tag)
    if len(text) > limit:
        return [
            Problem(
                file,
                line,
                f"{what}: tag value is {len(text)} characters, over the limit of {limit}",
                "drop keys or shorten values",
            )
        ]
    return []


def _check_project(spec: ProjectFile, raw: Any) -> list[Problem]:
    problems: list[Problem] = []
    keys = spec.metadata_tag.keys
    schemas_raw = raw.get("schemas", {}) if isinstance(raw, LDict) else {}
    for name, schema in spec.schemas.items():
        block = schemas_raw.get(name, {}) if isinstance(schemas_raw, LDict) else {}
        meta_raw = block.get("meta", {}) if isinstance(block, LDict) else {}
        line_of = meta_raw.line_of if isinstance(meta_raw, LDict) else (lambda _k: 0)
        tag, found = _check_tag_meta(
            dict(schema.meta), keys, PROJECT_FILE, line_of, f"schema {name}"
        )
        problems += found + _check_length(
            tag,
            spec.metadata_tag.max_length,
            PROJECT_FILE,
            line_at(raw, ["schemas", name]) or 0,
            f"schema {name}",
        )
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
    for required in ("data_source", "update_frequency", "pii_level", "entity_type"):
        if required not in keys:
            problems.append(
                Problem(
                    PROJECT_FILE,
                    line_at(raw, ["metadata_tag", "keys"]),
                    f"metadata_tag.keys must declare {required!r}",
                )
            )
    for source in spec.sources:
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


def _normalise_tests(
    items: Any, file: str, column: str | None, problems: list[Problem]
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if not isinstance(items, list):
        return out
    for i, item in enumerate(items):
        line = items.line_of(i) if isinstance(items, LList) else 0
        test, found = normalise_test(item, file=file, line=line, column=column)
        problems += found
        if test is not None:
            out.append(test.model_dump())
    return out


@dataclass(frozen=True)
class _Frame:
    """What contract validation needs from keel.yml; built from the raw file when keel.yml
    itself is invalid, so the problems of both files are still reported together."""

    keys: dict[str, list[str]]
    limit: int
    schedules: dict[str, str]

    @classmethod
    def of(cls, spec: ProjectFile | None, raw: Any) -> _Frame | None:
        if spec is not None:
            return cls(
                spec.metadata_tag.keys,
                spec.metadata_tag.max_length,
                {n: s.schedule for n, s in spec.sources.items()},
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
        return cls(keys, 256, schedules)


def _load_contract(
    path: Path, display: str, spec: _Frame | None, env: dict[str, str] | None
) -> tuple[list[Stream], list[Problem]]:
    raw, problems = load_yaml(path, display)
    if raw is None:
        return [], problems or [Problem(display, None, "empty contract file")]
    if not isinstance(raw, LDict):
        return [], [Problem(display, 1, "expected a mapping with version: 2 and sources")]
    raw, _ = substitute_env(raw, env)
    # tests -> data_tests, each normalised; the loop mirrors the structure so lines survive
    for src in raw.get("sources") or []:
        if not isinstance(src, LDict):
            continue
        for table in src.get("tables") or []:
            if not isinstance(table, LDict):
                continue
            for key in ("tests", "data_tests"):
                if key in table:
                    table["data_tests"] = _normalise_tests(table.pop(key), display, None, problems)
            for col in table.get("columns") or []:
                if not isinstance(col, LDict):
                    continue
                for key in ("tests", "data_tests"):
                    if key in col:
                        col["data_tests"] = _normalise_tests(
                            col.pop(key), display, canon(str(col.get("name", ""))), problems
                        )
    try:
        contract = ContractFile.model_validate(raw)
    except ValidationError as exc:
        return [], problems + _pydantic_problems(exc, raw, display, ContractFile)
    if spec is None:
        return [], problems
    streams: list[Stream] = []
    keys = spec.keys
    limit = spec.limit
    for si, src in enumerate(contract.sources):
        src_line = line_at(raw, ["sources", si]) or 0
        if src.name not in spec.schedules:
            problems.append(
                Problem(
                    display,
                    src_line,
                    f"source {src.name!r} is not in keel.yml",
                    did_you_mean(src.name, set(spec.schedules)),
                )
            )
            continue
        schedule = spec.schedules[src.name]
        src_tag, found = _check_tag_meta(
            src.meta,
            keys,
            display,
            lambda k, si=si: line_at(raw, ["sources", si, "meta", k]),
            f"source {src.name}",
        )
        problems += found
        for ti, table in enumerate(src.tables):
            tloc: list[int | str] = ["sources", si, "tables", ti]
            tline = line_at(raw, tloc) or 0
            what = f"table {src.name}.{table.name}"
            ttag, found = _check_tag_meta(
                table.meta,
                keys,
                display,
                lambda k, tloc=tloc: line_at(raw, [*tloc, "meta", k]),
                what,
            )
            problems += found
            keel_raw = table.meta.get("keel", {})
            keel_meta = KeelMeta()
            if not isinstance(keel_raw, dict):
                problems.append(
                    Problem(
                        display,
                        line_at(raw, [*tloc, "meta", "keel"]),
                        f"{what}: meta.keel must be a mapping",
                    )
                )
            else:
                for key in keel_raw:
                    if key not in KEEL_META_KEYS:
                        problems.append(
                            Problem(
                                display,
                                line_at(raw, [*tloc, "meta", "keel", key]),
                                f"{what}: unknown key meta.keel.{key}",
                                did_you_mean(key, KEEL_META_KEYS),
                            )
                        )
                try:
                    keel_meta = KeelMeta.model_validate(
                        {k: v for k, v in keel_raw.items() if k in KEEL_META_KEYS}
                    )
                except ValidationError as exc:
                    problems += _pydantic_problems(exc, raw, display, KeelMeta)
            tag = {"data_source": src.name, "update_frequency": schedule}
            tag.update(src_tag)
            tag.update(ttag)
            if "entity_type" not in {**src.meta, **table.meta}:
                problems.append(
                    Problem(
                        display,
                        tline,
                        f"{what}: meta.entity_type is missing",
                        f"one of: {', '.join(keys.get('entity_type', []))}",
                    )
                )
            problems += _check_length(tag, limit, display, tline, what)
            col_names = {canon(c.name) for c in table.columns}
            pk = [canon(c) for c in keel_meta.primary_key]
            cursor = canon(keel_meta.cursor) if keel_meta.cursor else None
            for name in [*pk, *([cursor] if cursor else [])]:
                if table.columns and name not in col_names:
                    problems.append(
                        Problem(
                            display,
                            line_at(raw, [*tloc, "meta", "keel"]),
                            f"{what}: meta.keel names column {name.lower()!r} "
                            "that the table does not list",
                            did_you_mean(name.lower(), {c.lower() for c in col_names}),
                        )
                    )
            columns: list[Column] = []
            for ci, col in enumerate(table.columns):
                cloc = [*tloc, "columns", ci]
                cwhat = f"column {src.name}.{table.name}.{col.name}"
                ctag, found = _check_tag_meta(
                    col.meta,
                    keys,
                    display,
                    lambda k, cloc=cloc: line_at(raw, [*cloc, "meta", k]),
                    cwhat,
                )
                problems += found
                cname = canon(col.name)
                col_keel = (
                    col.meta.get("keel", {}) if isinstance(col.meta.get("keel"), dict) else {}
                )
                critical = bool(
                    cname in pk
                    or cname == cursor
                    or col_keel.get("critical")
                    or ctag.get("is_primary_identifier") == "true"
                    or ctag.get("pii_level", "none") != "none"
                    or ctag.get("vector_index") == "true"
                )
                if critical:
                    if cname in pk:
                        ctag.setdefault("is_primary_identifier", "true")
                    ctag.setdefault("pii_level", "none")
                problems += _check_length(ctag, limit, display, line_at(raw, cloc) or 0, cwhat)
                columns.append(
                    Column(
                        cname,
                        col.data_type,
                        ctag,
                        critical,
                        tuple(col.data_tests),
                        line_at(raw, cloc) or 0,
                    )
                )
            for test in [t for c in columns for t in c.tests] + list(table.data_tests):
                if test.column and table.columns and test.column not in col_names:
                    problems.append(
                        Problem(
                            display,
                            test.line,
                            f"{what}: test {test.name!r} names column "
                            f"{test.column.lower()!r} that the table does not list",
                            did_you_mean(test.column.lower(), {c.lower() for c in col_names}),
                        )
                    )
            streams.append(
                Stream(
                    source=src.name,
                    name=table.name,
                    table=canon(table.identifier or table.name),
                    raw_schema=canon(src.schema_ or f"{src.name}_DATA_RAW"),
                    data_schema=canon(f"{src.name}_DATA"),
                    tag=tag,
                    keel=keel_meta,
                    columns=tuple(columns),
                    tests=tuple(table.data_tests),
                    freshness=table.freshness or src.freshness,
                    loaded_at_field=table.loaded_at_field or src.loaded_at_field,
                    file=display,
                    line=tline,
                )
            )
    return streams, problems


def _check_relationships(streams: dict[str, Stream]) -> list[Problem]:
    problems = []
    for stream in streams.values():
        for test in stream.all_tests:
            if test.name != "relationships":
                continue
            rel = parse_relation(str(test.args.get("to", "")))
            if rel is None:
                continue
            key = f"{rel[0]}.{rel[1]}"
            parent = streams.get(key)
            if parent is None:
                problems.append(
                    Problem(
                        test.file,
                        test.line,
                        f"relationships test points at {key}, which no contract defines",
                        did_you_mean(key, set(streams)),
                    )
                )
            elif parent.columns and parent.column(str(test.args.get("field", ""))) is None:
                problems.append(
                    Problem(
                        test.file,
                        test.line,
                        f"relationships test: {key} has no column {test.args.get('field')!r}",
                    )
                )
    return problems


def schema_spec(project: Project, name: str) -> SchemaSpec | None:
    return next((s for n, s in project.spec.schemas.items() if canon(n) == canon(name)), None)
