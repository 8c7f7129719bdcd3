"""Problem helpers shared by the keel.yml and contract validators.

Pydantic errors become :class:`~keel.errors.Problem` values with ``file:line``
and a did-you-mean hint; tag metadata (a ``meta`` block) is checked against
``metadata_tag.keys`` here, once for schemas, sources, tables and columns.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from keel.errors import Problem
from keel.project.loaded import tag_json
from keel.project.tests_spec import did_you_mean
from keel.project.yamlio import line_at


def pydantic_problems(exc: ValidationError, raw: Any, file: str, model: type) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        line = line_at(raw, loc)
        where = ".".join(str(p) for p in loc) or "(top level)"
        hint = None
        if err["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
            parent = _model_at(model, loc[:-1])
            if parent is not None:
                hint = did_you_mean(str(loc[-1]), set(_fields(parent)))
            msg = f"unknown key {where!r}"
        elif err["type"] == "literal_error":
            expected = err.get("ctx", {}).get("expected", "")
            value = err.get("input")
            options = [o.strip(" '") for o in str(expected).replace(" or ", ",").split(",")]
            hint = did_you_mean(str(value), set(options)) or f"allowed: {expected}"
            msg = f"{where}: {value!r} is not allowed"
        elif err["type"] in ("missing", "missing_argument"):
            msg = f"{where}: required key is missing"
        else:
            msg = f"{where}: {err['msg']}"
        problems.append(Problem(file, line, msg, hint))
    return problems


def _is_model(cls: Any) -> bool:
    return isinstance(cls, type) and (issubclass(cls, BaseModel) or dataclasses.is_dataclass(cls))


def _fields(model: type) -> dict[str, Any]:
    """Key (as written in YAML) -> annotation, of a pydantic model or a model dataclass."""
    if issubclass(model, BaseModel):
        return {f.alias or n: f.annotation for n, f in model.model_fields.items()}
    hints = typing.get_type_hints(model)
    return {f.name: hints[f.name] for f in dataclasses.fields(model)}  # type: ignore[arg-type]


def _model_at(model: type, loc: list[int | str]) -> type | None:
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not _is_model(current):
            return None
        fields = _fields(current)
        if str(part) not in fields:
            # dict[str, Model]: the key is a name, not a field
            return current if part else None
        current = _inner_model(fields[str(part)])
    return current if _is_model(current) else None


def _inner_model(annotation: Any) -> Any:
    args = getattr(annotation, "__args__", ())
    for arg in reversed(args):
        inner = _inner_model(arg)
        if _is_model(inner):
            return inner
    return annotation


def check_tag_meta(
    meta: dict[str, Any],
    keys: dict[str, list[str]],
    file: str,
    line_of: Callable[[str], int | None],
    what: str,
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


def check_length(tag: dict[str, str], limit: int, file: str, line: int, what: str) -> list[Problem]:
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
