"""dbt data tests: their names, their arguments, and every spelling dbt accepts.

A test in a contract may be written ``- not_null``, ``- unique: {config: ...}``,
``- accepted_values: {values: [...]}`` (older dbt), ``- accepted_values:
{arguments: {values: [...]}, config: {severity: warn, where: ...}}`` (newer),
or with a package prefix (``dbt_utils.accepted_range``). All become one
:class:`~keel.project.models.DataTest`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from keel.errors import Problem
from keel.project.models import DataTest


@dataclass(frozen=True)
class TestKind:
    required: frozenset[str]
    optional: frozenset[str]
    needs_column: bool  # column-level (or table-level with column_name)
    table_level: bool = False
    one_of: frozenset[str] = frozenset()


KINDS: dict[str, TestKind] = {
    "not_null": TestKind(frozenset(), frozenset(), True),
    "unique": TestKind(frozenset(), frozenset(), True),
    "accepted_values": TestKind(frozenset({"values"}), frozenset({"quote"}), True),
    "relationships": TestKind(frozenset({"to", "field"}), frozenset(), True),
    "accepted_range": TestKind(
        frozenset(),
        frozenset({"min_value", "max_value", "inclusive"}),
        True,
        one_of=frozenset({"min_value", "max_value"}),
    ),
    "expression": TestKind(frozenset({"expression"}), frozenset(), False),
    "row_count": TestKind(
        frozenset(),
        frozenset({"min_value", "max_value"}),
        False,
        table_level=True,
        one_of=frozenset({"min_value", "max_value"}),
    ),
    "schema": TestKind(frozenset(), frozenset({"allow_added"}), False, table_level=True),
}

ALIASES = {
    "dbt_utils.accepted_range": "accepted_range",
    "dbt_utils.expression_is_true": "expression",
    "expression_is_true": "expression",
    "dbt_expectations.expect_table_row_count_to_be_between": "row_count",
    "dbt_utils.relationships_where": "relationships",
}

CONFIG_KEYS = {
    "severity",
    "where",
    "enabled",
    "error_if",
    "warn_if",
    "store_failures",
    "tags",
    "limit",
    "alias",
    "meta",
}


def did_you_mean(word: str, choices: list[str] | set[str] | frozenset[str]) -> str | None:
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None


def normalise_test(
    raw: Any, *, file: str, line: int, column: str | None
) -> tuple[DataTest | None, list[Problem]]:
    """Turn one dbt test entry into a DataTest, or Problems saying what is wrong."""
    problems: list[Problem] = []
    if isinstance(raw, str):
        name, body = raw, {}
    elif isinstance(raw, dict) and "test_name" in raw:
        name = str(raw["test_name"])
        body = {k: v for k, v in raw.items() if k not in {"test_name", "name"}}
    elif isinstance(raw, dict) and len(raw) == 1:
        name, body = next(iter(raw.items()))
        body = body if body is not None else {}
    else:
        return None, [
            Problem(
                file,
                line,
                "a data test must be a name or a one-key mapping "
                "{test_name: {arguments: ..., config: ...}}",
            )
        ]
    if not isinstance(body, dict):
        return None, [Problem(file, line, f"test {name!r}: expected a mapping of arguments")]
    name = ALIASES.get(name, name)
    kind = KINDS.get(name)
    if kind is None:
        return None, [
            Problem(
                file,
                line,
                f"unknown data test {name!r}",
                did_you_mean(name, set(KINDS)) or f"known: {', '.join(KINDS)}",
            )
        ]
    config = dict(body.get("config") or {})
    args: dict[str, Any] = dict(body.get("arguments") or {})
    for key, value in body.items():
        if key in {"config", "arguments"}:
            continue
        if key in {"severity", "where"}:
            config[key] = value
        elif key == "column_name":
            column = str(value)
        else:
            args[key] = value
    if "column_name" in args:
        column = str(args.pop("column_name"))
    allowed = kind.required | kind.optional
    for key in args:
        if key not in allowed:
            problems.append(
                Problem(
                    file,
                    line,
                    f"test {name!r} has no argument {key!r}",
                    did_you_mean(key, allowed)
                    or (
                        f"it takes: {', '.join(sorted(allowed))}"
                        if allowed
                        else "it takes no arguments"
                    ),
                )
            )
    for key in sorted(kind.required - set(args)):
        problems.append(Problem(file, line, f"test {name!r} needs the argument {key!r}"))
    if kind.one_of and not (kind.one_of & set(args)):
        problems.append(
            Problem(
                file, line, f"test {name!r} needs at least one of {', '.join(sorted(kind.one_of))}"
            )
        )
    for key in config:
        if key not in CONFIG_KEYS:
            problems.append(
                Problem(
                    file,
                    line,
                    f"test {name!r}: unknown config {key!r}",
                    did_you_mean(key, CONFIG_KEYS),
                )
            )
    severity = str(config.get("severity", "error")).lower()
    if severity not in {"error", "warn"}:
        problems.append(
            Problem(file, line, f"test {name!r}: severity must be error or warn, not {severity!r}")
        )
        severity = "error"
    if name == "accepted_values" and "values" in args and not isinstance(args["values"], list):
        problems.append(Problem(file, line, "test 'accepted_values': values must be a list"))
    if name == "relationships" and "to" in args and parse_relation(str(args["to"])) is None:
        problems.append(
            Problem(
                file,
                line,
                f"test 'relationships': to must be source('name', 'table'), not {args['to']!r}",
            )
        )
    if kind.needs_column and column is None:
        problems.append(
            Problem(
                file,
                line,
                f"test {name!r} needs a column (put it under a column, or give column_name)",
            )
        )
    if kind.table_level and column is not None:
        column = None
    if problems:
        return None, problems
    test = DataTest(
        name=name,
        args=args,
        severity=severity,
        where=config.get("where"),
        column=column,
        file=file,
        line=line,
    )
    return test, []


def parse_relation(text: str) -> tuple[str, str] | None:
    """``source('hubspot', 'companies')`` -> ("hubspot", "companies")."""
    text = text.strip()
    if not (text.startswith("source(") and text.endswith(")")):
        return None
    parts = [p.strip().strip("'\"") for p in text[len("source(") : -1].split(",")]
    if len(parts) != 2 or not all(parts):
        return None
    return parts[0], parts[1]
