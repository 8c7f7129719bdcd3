"""YAML that remembers where each key and item came from.

Mappings load as :class:`LDict` and sequences as :class:`LList`; both are the
plain built-in types to everyone else (pydantic validates them as dicts and
lists) but carry the 1-based line of each key or item, so any problem found
later, by pydantic or by keel's own checks, can name ``file:line``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

import yaml

from keel.errors import Problem


class LDict(dict[str, Any]):
    line: int = 0
    lines: dict[str, int]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines = {}

    def line_of(self, key: str) -> int:
        return self.lines.get(key, self.line)


class LList(list[Any]):
    line: int = 0
    lines: list[int]

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.lines = []

    def line_of(self, index: int) -> int:
        return self.lines[index] if 0 <= index < len(self.lines) else self.line


class _Loader(yaml.SafeLoader):
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LDict:
    out = LDict()
    out.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark
            )
        key = str(key)
        if key in out:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = key_node.start_mark.line + 1
    return out


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> LList:
    out = LList(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.lines = [child.start_mark.line + 1 for child in node.value]
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def load_yaml(path: Path, display: str) -> tuple[Any, list[Problem]]:
    """Parse one file; a syntax error becomes a Problem with its line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return None, [Problem(display, None, f"cannot read the file: {exc.strerror}")]
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = exc.problem or exc.context or "invalid YAML"
        return None, [Problem(display, line, f"invalid YAML: {what}")]
    except yaml.YAMLError as exc:
        return None, [Problem(display, None, f"invalid YAML: {exc}")]
    return data, []


def line_at(data: Any, loc: Sequence[int | str]) -> int | None:
    """The line of the deepest part of ``loc`` that the YAML recorded."""
    line: int | None = getattr(data, "line", None) or None
    node = data
    for part in loc:
        if isinstance(node, LDict) and str(part) in node:
            line, node = node.line_of(str(part)), node[str(part)]
        elif isinstance(node, LList) and isinstance(part, int) and 0 <= part < len(node):
            line, node = node.line_of(part), node[part]
        else:
            break
    return line


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def substitute_env(data: Any, env: dict[str, str] | None = None) -> tuple[Any, dict[str, str]]:
    """Replace ``${VAR}`` / ``${VAR:-default}`` in every string.

    A string that is exactly one unset variable (no default) becomes ``None``;
    the variable is returned in ``missing`` (name -> dotted path) so that a
    command that needs it can say which variable to set. Values are never
    logged here.
    """
    env = dict(os.environ) if env is None else env
    missing: dict[str, str] = {}

    def sub(value: Any, path: str) -> Any:
        if isinstance(value, LDict):
            out = LDict({k: sub(v, f"{path}.{k}" if path else k) for k, v in value.items()})
            out.line, out.lines = value.line, value.lines
            return out
        if isinstance(value, LList):
            items = LList(sub(v, f"{path}[{i}]") for i, v in enumerate(value))
            items.line, items.lines = value.line, value.lines
            return items
        if not isinstance(value, str) or "${" not in value:
            return value
        whole = _VAR.fullmatch(value)
        if whole and whole.group(1) not in env and whole.group(2) is None:
            missing[whole.group(1)] = path
            return None

        def repl(m: re.Match[str]) -> str:
            name, default = m.group(1), m.group(2)
            if name in env:
                return env[name]
            if default is None:
                missing[name] = path
                return ""
            return default

        return _VAR.sub(repl, value)

    return sub(data, ""), missing
