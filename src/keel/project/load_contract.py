"""Validate one contract file (dbt sources, version 2) into :class:`Stream` values.

Data tests are normalised first (every dbt spelling -> one DataTest with its
line), then the file is validated by pydantic, then each table is checked
against ``keel.yml`` (sources, tag keys, ``meta.keel``).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from keel.errors import Problem
from keel.project.contract_file import (
    ColumnContract,
    ContractFile,
    SourceContract,
    TableContract,
)
from keel.project.dbt_jinja import render_tree
from keel.project.load_project import Frame
from keel.project.loaded import Column, Stream, canon
from keel.project.models import KEEL_META_KEYS, Freshness, KeelMeta
from keel.project.problems import check_length, check_tag_meta, pydantic_problems
from keel.project.tests_spec import did_you_mean, normalise_test, parse_relation, runs_in_keel
from keel.project.validate import validate
from keel.project.yamlio import LDict, LList, line_at, load_yaml, substitute_env

# top-level keys of a dbt properties file that describe other resources than sources
OTHER_RESOURCES = frozenset(
    {
        "models",
        "seeds",
        "snapshots",
        "analyses",
        "macros",
        "exposures",
        "metrics",
        "semantic_models",
        "saved_queries",
        "unit_tests",
        "data_tests",
        "groups",
        "functions",
    }
)
Loc = list[int | str]


def load_contract(
    path: Path, display: str, frame: Frame | None, env: dict[str, str] | None
) -> tuple[list[Stream], list[Problem]]:
    raw, problems = load_yaml(path, display)
    if raw is None:
        return [], problems or [Problem(display, None, "empty contract file")]
    if not isinstance(raw, LDict):
        return [], [Problem(display, 1, "expected a mapping with version: 2 and sources")]
    raw, _ = substitute_env(raw, env)
    _drop_extensions(raw)
    renderer = (
        frame or Frame({}, 256, {}, env=dict(os.environ) if env is None else env)
    ).renderer()

    def report(container: Any, key: str | int, message: str) -> None:
        line = line_at(container, [key])
        problems.append(Problem(display, line, f"cannot render {message}"))

    render_tree(raw, renderer.render, report)
    _normalise_all_tests(raw, display, problems, renderer.render)
    try:
        contract = ContractFile.model_validate(raw)
    except ValidationError as exc:
        return [], problems + pydantic_problems(exc, raw, display, ContractFile)
    if frame is None:
        return [], problems
    streams: list[Stream] = []
    for si, src in enumerate(contract.sources):
        if src.name not in frame.schedules:
            problems.append(
                Problem(
                    display,
                    line_at(raw, ["sources", si]) or 0,
                    f"source {src.name!r} is not in keel.yml",
                    did_you_mean(src.name, set(frame.schedules)),
                )
            )
            continue
        src_tag, found = check_tag_meta(
            _meta(src.meta, src.config),
            frame.keys,
            display,
            _line_of(raw, ["sources", si, "meta"]),
            f"source {src.name}",
        )
        problems += found
        if src.config.get("enabled", True) is False:
            continue  # dbt leaves a disabled source out of the project
        for ti, table in enumerate(src.tables):
            if table.config.get("enabled", True) is False:
                continue
            ctx = _Table(raw, display, frame, ["sources", si, "tables", ti], problems)
            streams.append(ctx.stream(src, table, src_tag))
    return streams, problems


def _line_of(raw: Any, loc: Loc) -> Callable[[str], int | None]:
    return lambda key: line_at(raw, [*loc, key])


def _drop_extensions(data: Any, top: bool = True) -> None:
    """Remove ``x-`` extension keys (anchor hosts) everywhere, and the top-level keys of
    other dbt resources (a dbt project's properties file may describe models too)."""
    if isinstance(data, dict):
        for key in [k for k in data if k.startswith("x-") or (top and k in OTHER_RESOURCES)]:
            del data[key]
        for value in data.values():
            _drop_extensions(value, False)
    elif isinstance(data, list):
        for value in data:
            _drop_extensions(value, False)


def _listed(value: Any) -> list[Any]:
    """``value`` when it is a list, else nothing (the schema check names the bad type)."""
    return value if isinstance(value, list) else []


def _normalise_all_tests(
    raw: LDict, display: str, problems: list[Problem], render: Callable[[Any], Any]
) -> None:
    """tests -> data_tests, each normalised; the loop mirrors the structure so lines survive."""
    for src in _listed(raw.get("sources")):
        if not isinstance(src, LDict):
            continue
        for table in _listed(src.get("tables")):
            if not isinstance(table, LDict):
                continue
            merged: list[dict[str, Any]] = []
            for key in ("tests", "data_tests"):
                if key in table:
                    merged += _normalise_tests(table.pop(key), display, None, problems, render)
            table["data_tests"] = merged
            for col in _listed(table.get("columns")):
                if not isinstance(col, LDict):
                    continue
                cmerged: list[dict[str, Any]] = []
                for key in ("tests", "data_tests"):
                    if key in col:
                        cmerged += _normalise_tests(
                            col.pop(key), display, canon(str(col.get("name", ""))), problems, render
                        )
                col["data_tests"] = cmerged


def _normalise_tests(
    items: Any,
    file: str,
    column: str | None,
    problems: list[Problem],
    render: Callable[[Any], Any],
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if not isinstance(items, list):
        return out
    for i, item in enumerate(items):
        line = items.line_of(i) if isinstance(items, LList) else 0
        test, found = normalise_test(item, file=file, line=line, column=column, render=render)
        problems += found
        if test is not None:
            out.append(dataclasses.asdict(test))
    return out


class _Table:
    """Checks one table of a contract against keel.yml; problems go to ``problems``."""

    def __init__(
        self, raw: Any, display: str, frame: Frame, loc: Loc, problems: list[Problem]
    ) -> None:
        self.raw, self.display, self.frame, self.loc = raw, display, frame, loc
        self.problems = problems

    def line(self, *parts: int | str) -> int:
        return line_at(self.raw, [*self.loc, *parts]) or 0

    def problem(self, line: int | None, message: str, hint: str | None = None) -> None:
        self.problems.append(Problem(self.display, line, message, hint))

    def stream(self, src: SourceContract, table: TableContract, src_tag: dict[str, str]) -> Stream:
        frame, display = self.frame, self.display
        tline = self.line()
        what = f"table {src.name}.{table.name}"
        meta = _meta(table.meta, table.config)
        ttag, found = check_tag_meta(
            meta, frame.keys, display, lambda k: self.line("meta", k), what
        )
        self.problems.extend(found)
        keel_meta = self.keel_meta(meta, what)
        tag = {"data_source": src.name, "update_frequency": frame.schedules[src.name]}
        tag.update(src_tag)
        tag.update(ttag)
        proposed: tuple[str, ...] = ()
        allowed = frame.keys.get("entity_type", [])
        if "entity_type" not in tag and frame.entity_type_for is not None and allowed:
            # real dbt files carry no keel metadata: classification proposes it
            tag["entity_type"] = frame.entity_type_for(table.name, allowed)
            proposed = ("entity_type",)
        self.problems.extend(check_length(tag, frame.limit, display, tline, what))
        col_names = {canon(c.name) for c in table.columns}
        pk = [canon(c) for c in keel_meta.primary_key]
        cursor = canon(keel_meta.cursor) if keel_meta.cursor else None
        for name in [*pk, *([cursor] if cursor else [])]:
            if table.columns and name not in col_names:
                self.problem(
                    self.line("meta", "keel"),
                    f"{what}: meta.keel names column {name.lower()!r} that the table does not list",
                    did_you_mean(name.lower(), {c.lower() for c in col_names}),
                )
        columns = [
            self.column(src, table, ci, col, pk, cursor) for ci, col in enumerate(table.columns)
        ]
        for test in [t for c in columns for t in c.tests] + list(table.data_tests):
            if (
                test.column
                and table.columns
                and test.column not in col_names
                and runs_in_keel(test)
            ):
                self.problem(
                    test.line,
                    f"{what}: test {test.name!r} names column "
                    f"{test.column.lower()!r} that the table does not list",
                    did_you_mean(test.column.lower(), {c.lower() for c in col_names}),
                )
        return Stream(
            source=src.name,
            name=table.name,
            table=canon(table.identifier or table.name),
            raw_schema=canon(src.schema_ or f"{src.name}_DATA_RAW"),
            data_schema=canon(f"{src.name}_DATA"),
            tag=tag,
            keel=keel_meta,
            columns=tuple(columns),
            tests=tuple(table.data_tests),
            freshness=self.freshness(src, table),
            loaded_at_field=(
                table.config.get("loaded_at_field")
                or table.loaded_at_field
                or src.config.get("loaded_at_field")
                or src.loaded_at_field
            ),
            file=display,
            line=tline,
            proposed=proposed,
        )

    def freshness(self, src: SourceContract, table: TableContract) -> Freshness | None:
        """dbt's precedence: table over source, ``config.freshness`` over the property;
        an explicit ``freshness: null`` on the table turns freshness off."""
        for block in (table, src):
            if "freshness" in block.config:
                value = block.config["freshness"]
                if value is None:
                    return None
                try:
                    return validate(Freshness, value)
                except ValidationError as exc:
                    self.problems.extend(pydantic_problems(exc, self.raw, self.display, Freshness))
                    return None
            if "freshness" in block.model_fields_set:
                return block.freshness
        return None

    def keel_meta(self, meta: dict[str, Any], what: str) -> KeelMeta:
        keel_raw = meta.get("keel", {})
        if not isinstance(keel_raw, dict):
            self.problem(self.line("meta", "keel"), f"{what}: meta.keel must be a mapping")
            return KeelMeta()
        for key in keel_raw:
            if key not in KEEL_META_KEYS:
                self.problem(
                    self.line("meta", "keel", key),
                    f"{what}: unknown key meta.keel.{key}",
                    did_you_mean(key, KEEL_META_KEYS),
                )
        try:
            known = {k: v for k, v in keel_raw.items() if k in KEEL_META_KEYS}
            if isinstance(known.get("primary_key"), str):  # one key column, written alone
                known["primary_key"] = [known["primary_key"]]
            return validate(KeelMeta, known)
        except ValidationError as exc:
            self.problems.extend(pydantic_problems(exc, self.raw, self.display, KeelMeta))
            return KeelMeta()

    def column(
        self,
        src: SourceContract,
        table: TableContract,
        ci: int,
        col: ColumnContract,
        pk: list[str],
        cursor: str | None,
    ) -> Column:
        cwhat = f"column {src.name}.{table.name}.{col.name}"
        ctag, found = check_tag_meta(
            _meta(col.meta, col.config),
            self.frame.keys,
            self.display,
            lambda k: self.line("columns", ci, "meta", k),
            cwhat,
        )
        self.problems.extend(found)
        cname = canon(col.name)
        cmeta = _meta(col.meta, col.config)
        col_keel = cmeta.get("keel", {}) if isinstance(cmeta.get("keel"), dict) else {}
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
        cline = self.line("columns", ci)
        self.problems.extend(check_length(ctag, self.frame.limit, self.display, cline, cwhat))
        return Column(cname, col.data_type, ctag, critical, tuple(col.data_tests), cline)


def _meta(meta: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """``meta`` and ``config.meta`` (dbt 1.10+ puts it under config) together."""
    extra = config.get("meta")
    return {**meta, **extra} if isinstance(extra, dict) else dict(meta)


def check_relationships(streams: dict[str, Stream]) -> list[Problem]:
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
