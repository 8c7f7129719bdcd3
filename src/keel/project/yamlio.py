"""YAML that remembers where each key and item came from.

Mappings load as :class:`LDict` and sequences as :class:`LList`; both are the
plain built-in types to everyone else (pydantic validates them as dicts and
lists) but carry the 1-based line of each key or item, so any problem found
later, by pydantic or by keel's own checks, can name ``file:line``.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

import yaml

from keel.errors import Problem
from keel.project.envsub import VAR, substitute_text


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


MAX_FILE_BYTES = 5 * 1024 * 1024
"""Largest YAML file keel reads; real dbt sources files are well under 1 MB."""
MAX_NODES = 500_000
"""Most values a file may expand to once every alias is followed (a 3 KB alias bomb
expands to hundreds of millions and is refused before anything is built)."""
MAX_DEPTH = 100
"""Deepest nesting of mappings and sequences (dbt sources files use about 8)."""
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Loader(yaml.SafeLoader):
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LDict:
    out = LDict()
    out.line = node.start_mark.line + 1
    explicit = sum(1 for k, _ in node.value if k.tag != _MERGE_TAG)
    loader.flatten_mapping(node)  # ``<<: *anchor`` merge keys, YAML 1.1 semantics
    merged = len(node.value) - explicit
    from_merge: set[str] = set()  # keys an explicit key may override
    for index, (key_node, value_node) in enumerate(node.value):
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark
            )
        key = str(key)
        if key in out and key not in from_merge:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        if index < merged:
            from_merge.add(key)
        else:
            from_merge.discard(key)
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


class _TooBig(Exception):
    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


def _check_size(root: yaml.Node) -> None:
    """Refuse a document that nests too deeply or expands (through aliases) too far.

    Sizes are memoised per node, so an alias is counted by what it expands to without
    expanding it: the check itself is linear in the size of the file.
    """
    sizes: dict[int, int] = {}

    def size(node: yaml.Node, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise _TooBig(
                f"nested more than {MAX_DEPTH} levels deep (or an alias refers to itself)",
                node.start_mark.line + 1,
            )
        known = sizes.get(id(node))
        if known is not None:
            return known
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(child, depth + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(k, depth + 1) + size(v, depth + 1) for k, v in node.value)
        if total > MAX_NODES:
            raise _TooBig(
                f"expands to more than {MAX_NODES:,} values once its aliases are followed "
                "(an alias bomb?)",
                node.start_mark.line + 1,
            )
        sizes[id(node)] = total
        return total

    size(root, 0)


def load_yaml(path: Path, display: str) -> tuple[Any, list[Problem]]:
    """Parse one file; a syntax error becomes a Problem with its line.

    Bounded: a size cap, a depth cap and a cap on what aliases expand to, each checked
    before any Python value is built; non-UTF-8 bytes are named with their line.
    """
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, [
                Problem(
                    display,
                    None,
                    f"the file is {size:,} bytes, over keel's limit of {MAX_FILE_BYTES:,}",
                )
            ]
        data = path.read_bytes()
    except OSError as exc:
        return None, [Problem(display, None, f"cannot read the file: {exc.strerror}")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad_line = data.count(b"\n", 0, exc.start) + 1
        return None, [
            Problem(
                display,
                bad_line,
                f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
                "save it as UTF-8",
            )
        ]
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (NUL, C0/C1)
        bad_line = text.count("\n", 0, exc.position) + 1
        return None, [
            Problem(
                display,
                bad_line,
                f"the file holds the control character U+{exc.character:04X}, "
                "which YAML does not allow",
                "remove it, or write it as an escape inside a double-quoted string",
            )
        ]
    try:
        node = loader.get_single_node()
        if node is None:
            return None, []
        _check_size(node)
        return loader.construct_document(node), []
    except _TooBig as exc:
        return None, [Problem(display, exc.line, f"refused: the YAML {exc}")]
    except RecursionError:
        return None, [Problem(display, None, "refused: the YAML is nested too deeply")]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = exc.problem or exc.context or "invalid YAML"
        return None, [Problem(display, line, f"invalid YAML: {what}")]
    except yaml.YAMLError as exc:
        return None, [Problem(display, None, f"invalid YAML: {exc}")]
    finally:
        loader.dispose()


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
        whole = VAR.fullmatch(value)
        if whole and whole.group(1) not in env and whole.group(2) is None:
            missing[whole.group(1)] = path
            return None

        def note(name: str) -> None:
            missing[name] = path

        return substitute_text(value, env, note)

    return sub(data, ""), missing
