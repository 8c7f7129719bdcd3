"""dbt data tests: their names, their arguments, and every spelling dbt accepts.

A test may be written ``- not_null``, ``- unique: {config: ...}``,
``- accepted_values: {values: [...]}`` (arguments inline, older dbt),
``- accepted_values: {arguments: {values: [...]}, config: {severity: warn}}``
(dbt 1.10+), with a custom ``name:`` (inside the body, or as
``{name: ..., test_name: accepted_values, ...}``), with configs inline
(``severity:``, ``where:``...) or under ``config:``, and with a package prefix
(``dbt_utils.accepted_range``). All become one :class:`DataTest`.

keel runs the tests in :data:`KINDS` (dbt's four, and the package tests users
write most: dbt_utils and dbt_expectations). Any other test is kept as
written, counted like the rest, and reported once as not run by keel's gate
(:func:`runs_in_keel`); it is never an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from keel.errors import Problem
from keel.project.dbt_jinja import RenderError
from keel.project.models import DataTest


@dataclass(frozen=True)
class TestKind:
    """The arguments one kind of data test takes, and where it applies."""

    required: frozenset[str]
    optional: frozenset[str]
    needs_column: bool  # column-level (or table-level with column_name)
    table_level: bool = False
    one_of: frozenset[str] = frozenset()


def _k(
    required: set[str] | None = None,
    optional: set[str] | None = None,
    needs_column: bool = True,
    table_level: bool = False,
    one_of: set[str] | None = None,
) -> TestKind:
    return TestKind(
        frozenset(required or ()),
        frozenset(optional or ()),
        needs_column,
        table_level,
        frozenset(one_of or ()),
    )


BOUNDS = {"min_value", "max_value"}
KINDS: dict[str, TestKind] = {
    "not_null": _k(),
    "unique": _k(),
    "accepted_values": _k({"values"}, {"quote"}),
    # dbt_utils.relationships_where adds from_condition / to_condition
    "relationships": _k({"to", "field"}, {"from_condition", "to_condition"}),
    "accepted_range": _k(optional=BOUNDS | {"inclusive"}, one_of=BOUNDS),
    "expression": _k({"expression"}, needs_column=False),
    "row_count": _k(
        optional=BOUNDS | {"strictly"}, needs_column=False, table_level=True, one_of=BOUNDS
    ),
    "schema": _k(optional={"allow_added"}, needs_column=False, table_level=True),
    "not_accepted_values": _k({"values"}, {"quote"}),
    "unique_combination_of_columns": _k(
        {"combination_of_columns"}, {"quote_columns"}, needs_column=False, table_level=True
    ),
    "not_null_proportion": _k({"at_least"}, {"at_most"}),
    "recency": _k(
        {"field", "datepart", "interval"},
        {"ignore_time_component"},
        needs_column=False,
        table_level=True,
    ),
    "expect_column_values_to_be_between": _k(optional=BOUNDS | {"strictly"}, one_of=BOUNDS),
    "expect_column_values_to_match_regex": _k({"regex"}, {"is_raw", "flags"}),
    "expect_column_values_to_be_unique": _k(),
}

ALIASES = {
    "dbt_utils.accepted_range": "accepted_range",
    "dbt_utils.expression_is_true": "expression",
    "expression_is_true": "expression",
    "dbt_expectations.expect_table_row_count_to_be_between": "row_count",
    "dbt_utils.relationships_where": "relationships",
    "dbt_utils.not_accepted_values": "not_accepted_values",
    "dbt_utils.unique_combination_of_columns": "unique_combination_of_columns",
    "dbt_utils.not_null_proportion": "not_null_proportion",
    "dbt_utils.recency": "recency",
    "dbt_expectations.expect_column_values_to_be_between": "expect_column_values_to_be_between",
    "dbt_expectations.expect_column_values_to_match_regex": "expect_column_values_to_match_regex",
    "dbt_expectations.expect_column_values_to_be_unique": "expect_column_values_to_be_unique",
}
# dbt_expectations tests filter rows with row_condition (ANDed with config where)
ROW_CONDITION = frozenset(
    {
        "row_count",
        "expect_column_values_to_be_between",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_be_unique",
    }
)
# arguments a package takes that keel does not implement: the test is then not run
UNSUPPORTED_ARGS = frozenset({"group_by_columns"})

CONFIG_KEYS = {
    "severity",
    "where",
    "enabled",
    "error_if",
    "warn_if",
    "store_failures",
    "store_failures_as",
    "fail_calc",
    "tags",
    "limit",
    "alias",
    "schema",
    "database",
    "meta",
}
BODY_KEYS = {"name", "description", "config", "arguments", "column_name", "test_name"}


def did_you_mean(word: str, choices: list[str] | set[str] | frozenset[str]) -> str | None:
    import difflib  # only for a suggestion: not on a command's path

    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None


def runs_in_keel(test: DataTest) -> bool:
    """False for a test keel keeps and counts but its gate does not run."""
    return test.name in KINDS


def _split(raw: Any) -> tuple[str, Any] | None:
    """(test name, body) from one list item, in any of dbt's shapes."""
    if isinstance(raw, str):
        return raw, {}
    if not isinstance(raw, dict):
        return None
    if "test_name" in raw:
        return str(raw["test_name"]), {k: v for k, v in raw.items() if k != "test_name"}
    if len(raw) == 1:
        name, body = next(iter(raw.items()))
        return str(name), body if body is not None else {}
    # the test's key next to dbt's own body keys (name, config, ...)
    names = [k for k in raw if k not in BODY_KEYS | CONFIG_KEYS]
    if len(names) == 1:
        body = raw[names[0]] if isinstance(raw[names[0]], dict) else {}
        return names[0], {**{k: v for k, v in raw.items() if k != names[0]}, **body}
    return None


def normalise_test(
    raw: Any,
    *,
    file: str,
    line: int,
    column: str | None,
    render: Callable[[Any], Any] | None = None,
) -> tuple[DataTest | None, list[Problem]]:
    """Turn one dbt test entry into a DataTest, or Problems saying what is wrong.

    ``render`` renders the jinja in a known test's arguments and configs (dbt renders
    them when it compiles the test); a disabled test (``enabled: false``) is None.
    """
    split = _split(raw)
    if split is None:
        return None, [
            Problem(
                file,
                line,
                "a data test must be a name or a mapping {test_name: {arguments: ..., "
                f"config: ...}}, not {str(raw)[:60]!r}",
            )
        ]
    written, body = split
    if not isinstance(body, dict):
        return None, [Problem(file, line, f"test {written!r}: expected a mapping of arguments")]
    name = ALIASES.get(written, written)
    kind = KINDS.get(name)
    for block in ("config", "arguments"):
        if body.get(block) is not None and not isinstance(body.get(block), dict):
            return None, [Problem(file, line, f"test {written!r}: {block} must be a mapping")]
    config = dict(body.get("config") or {})
    args: dict[str, Any] = dict(body.get("arguments") or {})
    for key, value in body.items():
        if key in {"config", "arguments", "name", "description", "test_name"}:
            continue
        if key in CONFIG_KEYS and key not in (kind.required | kind.optional if kind else ()):
            config[key] = value
        elif key == "column_name":
            column = str(value)
        else:
            args[key] = value
    if "column_name" in args:
        column = str(args.pop("column_name"))
    if kind is not None and render is not None:
        try:
            args = {k: _render_deep(v, render) for k, v in args.items()}
            config = {k: _render_deep(v, render) for k, v in config.items()}
        except RenderError as exc:
            return None, [Problem(file, line, f"test {written!r}: cannot render: {exc}")]
    if config.get("enabled") is False:
        return None, []
    if kind is None or UNSUPPORTED_ARGS & set(args):
        # kept, counted, and reported as not run by keel's gate
        kept = (
            written
            if kind is None
            else f"{written} (with {', '.join(UNSUPPORTED_ARGS & set(args))})"
        )
        return DataTest(
            name=kept,
            args=args,
            severity="warn" if str(config.get("severity", "")).lower() == "warn" else "error",
            column=column.upper() if column else None,
            file=file,
            line=line,
        ), []
    problems = _check_args(name, kind, args, column, file, line)
    for key in config:
        if key not in CONFIG_KEYS:
            hint = did_you_mean(key, CONFIG_KEYS)
            if hint:  # dbt accepts custom config keys (with a warning); a near miss is a typo
                problems.append(Problem(file, line, f"test {name!r}: unknown config {key!r}", hint))
    severity = str(config.get("severity", "error")).lower()
    if severity not in {"error", "warn"}:
        problems.append(
            Problem(file, line, f"test {name!r}: severity must be error or warn, not {severity!r}")
        )
    where = config.get("where")
    where = str(where).strip() if where not in (None, "") else None
    condition = args.pop("row_condition", None) if name in ROW_CONDITION else None
    if condition not in (None, ""):
        where = f"({where}) AND ({condition})" if where else str(condition)
    if kind.table_level and name not in {"unique_combination_of_columns"}:
        column = None
    if problems:
        return None, problems
    return DataTest(
        name=name,
        args=args,
        severity="warn" if severity == "warn" else "error",
        where=where,
        column=column.upper() if column and not kind.table_level else None,
        file=file,
        line=line,
    ), []


def _render_deep(value: Any, render: Callable[[Any], Any]) -> Any:
    if isinstance(value, dict):
        return {k: _render_deep(v, render) for k, v in value.items()}
    if isinstance(value, list):
        return [_render_deep(v, render) for v in value]
    return render(value)


def _check_args(
    name: str, kind: TestKind, args: dict[str, Any], column: str | None, file: str, line: int
) -> list[Problem]:
    problems: list[Problem] = []
    allowed = (
        kind.required | kind.optional | ({"row_condition"} if name in ROW_CONDITION else set())
    )
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
    if kind.one_of and not (kind.one_of & {k for k, v in args.items() if v is not None}):
        problems.append(
            Problem(
                file, line, f"test {name!r} needs at least one of {', '.join(sorted(kind.one_of))}"
            )
        )
    for key in ("values", "combination_of_columns"):
        if key in args and not isinstance(args[key], list):
            problems.append(Problem(file, line, f"test {name!r}: {key} must be a list"))
    if name == "relationships" and "to" in args and parse_relation(str(args["to"])) is None:
        problems.append(
            Problem(
                file,
                line,
                f"test 'relationships': to must be source('name', 'table'), not {args['to']!r}",
            )
        )
    if name == "recency" and str(args.get("datepart", "")).lower() not in DATEPARTS | MONTH_PARTS:
        problems.append(
            Problem(
                file,
                line,
                f"test 'recency': datepart must be one of {', '.join(DATEPARTS | MONTH_PARTS)}, "
                f"not {args.get('datepart')!r}",
            )
        )
    if name == "recency" and (
        not isinstance(args.get("interval"), int) or isinstance(args.get("interval"), bool)
    ):
        problems.append(Problem(file, line, "test 'recency': interval must be a whole number"))
    if name == "expect_column_values_to_match_regex" and str(args.get("flags") or "") not in (
        "",
        "i",
    ):
        problems.append(
            Problem(
                file,
                line,
                "test 'expect_column_values_to_match_regex': keel supports flags: i only",
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
    return problems


# dbt's dateadd dateparts: fixed lengths in seconds, and calendar ones in months
DATEPARTS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}
MONTH_PARTS = {"month": 1, "quarter": 3, "year": 12}


def parse_relation(text: str) -> tuple[str, str] | None:
    """``source('hubspot', 'companies')`` -> ("hubspot", "companies")."""
    text = text.strip()
    if not (text.startswith("source(") and text.endswith(")")):
        return None
    parts = [p.strip().strip("'\"") for p in text[len("source(") : -1].split(",")]
    if len(parts) != 2 or not all(parts):
        return None
    return parts[0], parts[1]
