"""Checks compiled from a stream's contract, validated against the actual RAW table.

A :class:`Check` is one dbt test (or ``freshness``, or the implicit ``schema``
check) of one stream: a name, an optional column, a severity, an optional
``where``, and whether it judges single rows (``row_level``: the rows it flags
can be quarantined) or the table as a whole. Turning checks into SQL is
:mod:`keel.quality.scan`'s job; this module only decides *what* runs and
refuses, before anything runs, what cannot: a column the RAW table does not
have, or a SQL fragment (``where``, ``expression``, range bounds) that is not
one balanced expression. Every refusal is a :class:`~keel.errors.Problem`
naming the contract file, line and object.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from keel.batch.window import CDC_DELETED_AT
from keel.errors import Problem
from keel.project.fragments import FragmentError, fragment_sql
from keel.project.loaded import Stream
from keel.project.models import DataTest
from keel.project.tests_spec import did_you_mean, parse_relation, runs_in_keel

Severity = Literal["error", "warn"]
# rows the loader changed (Airbyte Destinations V2: ``_airbyte_meta.changes`` lists each
# field it nulled or truncated, with the reason: docs.airbyte.com
# understanding-airbyte/airbyte-metadata-fields); keel's own name, not a dbt test
META_CHANGES = "airbyte_meta_changes"
META = "_AIRBYTE_META"
ROW_LEVEL = frozenset(
    {
        "not_null",
        "unique",
        "accepted_values",
        "relationships",
        "accepted_range",
        "expression",
        "not_accepted_values",
        "unique_combination_of_columns",
        "expect_column_values_to_be_between",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_be_unique",
        META_CHANGES,
    }
)
PERIODS = {"minute": 60, "hour": 3600, "day": 86400}
_UNKNOWN: Sequence[str] = [
    "<unknown>"
]  # a parent whose RAW table does not exist yet: columns unchecked


@dataclass(frozen=True)
class Check:
    """One check the gate runs on a stream's batch, compiled from a data test."""

    id: str  # unique within the stream, stable across runs: "not_null.EMAIL"
    name: str  # dbt's name: not_null, unique, ..., freshness, schema
    column: str | None  # canonical
    severity: Severity
    where: str | None = None
    args: Mapping[str, Any] = field(default_factory=dict)
    file: str = ""
    line: int = 0

    @property
    def row_level(self) -> bool:
        return self.name in ROW_LEVEL

    @property
    def blocking(self) -> bool:
        return self.severity == "error"


def _hint(name: str, choices: Sequence[str]) -> str | None:
    """A suggestion among ``choices``, whatever the case of either."""
    return did_you_mean(name.lower(), {c.lower() for c in choices})


def _where(test: DataTest) -> str | None:
    return test.where.strip() if test.where and test.where.strip() else None


def compile_checks(
    stream: Stream,
    raw_columns: Sequence[str],
    parent_columns: Mapping[str, Sequence[str] | None],
    dialect: str = "duckdb",
) -> tuple[list[Check], list[Problem]]:
    """The checks of ``stream`` and the problems that prevent running them.

    ``raw_columns`` are the RAW table's columns (canonical); ``parent_columns``
    maps a relationships target (``source.stream``) to its RAW columns, ``None``
    when that table does not exist yet (then the field cannot be checked).
    """
    have = set(raw_columns)
    table = f"{stream.raw_schema}.{stream.table}"
    problems: list[Problem] = []
    checks: list[Check] = []
    seen: dict[str, int] = {}

    def missing(column: str, line: int, what: str) -> None:
        problems.append(
            Problem(
                stream.file,
                line,
                f"table {stream.key}: {what} names column {column.lower()!r}, which {table} "
                "does not have",
                _hint(column, [c for c in raw_columns if not c.startswith("_AIRBYTE")]),
            )
        )

    def fragment(
        text: str,
        line: int,
        what: str,
        column: str | None = None,
        parent: Sequence[str] | None = None,
    ) -> str:
        # parsed and re-rendered by keel.project.fragments: the gate runs only checked SQL;
        # columns are this stream's, or with ``parent`` the parent's (None: not known yet)
        cols = have if parent is None else parent
        try:
            return fragment_sql(text, dialect, cols if cols is not _UNKNOWN else None, column)
        except FragmentError as why:
            problems.append(
                Problem(
                    stream.file,
                    line,
                    f"table {stream.key}: {what} is not a SQL expression ({why}): {text[:200]!r}",
                )
            )
            return text

    def add(name: str, column: str | None, **kw: Any) -> None:
        base = f"{name}.{column}" if column else name
        seen[base] = seen.get(base, 0) + 1
        cid = base if seen[base] == 1 else f"{base}#{seen[base]}"
        checks.append(Check(cid, name, column, **kw))

    for column in (*stream.keel.primary_key, stream.keel.cursor, stream.keel.deleted_at):
        if column and column.upper() not in have:
            missing(column.upper(), stream.line, "meta.keel")
    for test in stream.all_tests:
        if not runs_in_keel(test):
            continue  # kept and counted; reported once when the project loads
        what = f"test {test.name!r}"
        column = test.column.upper() if test.column else None
        if test.name == "recency":  # judged on its field, like freshness
            column = str(test.args.get("field", "")).upper()
        if column and column not in have:
            missing(column, test.line, what)
            continue
        absent = [
            str(c).upper()
            for c in test.args.get("combination_of_columns", [])
            if test.name == "unique_combination_of_columns" and str(c).upper() not in have
        ]
        for name in absent:
            missing(name, test.line, what)
        if absent:
            continue
        where = _where(test)
        if where:
            where = fragment(where, test.line, f"{what}: where")
        args = dict(test.args)
        if test.name == "relationships":
            rel = parse_relation(str(test.args.get("to", "")))
            field_name = str(test.args.get("field", "")).upper()
            if rel is not None:
                parent = parent_columns.get(f"{rel[0]}.{rel[1]}")
                if parent is not None and field_name not in parent:
                    problems.append(
                        Problem(
                            stream.file,
                            test.line,
                            f"table {stream.key}: {what} points at "
                            f"field {field_name.lower()!r}, which {rel[0]}.{rel[1]}'s RAW "
                            "table does not have",
                            _hint(field_name, parent),
                        )
                    )
        if test.name == "expression":
            expr = str(test.args.get("expression", ""))
            args["expression_sql"] = fragment(expr, test.line, f"{what}: expression", column)
        for key in ("from_condition", "to_condition"):
            if test.args.get(key) is not None:
                # to_condition filters the parent's rows: its columns are the parent's
                of: Sequence[str] | None = None
                if key == "to_condition":
                    rel = parse_relation(str(test.args.get("to", "")))
                    found = parent_columns.get(f"{rel[0]}.{rel[1]}") if rel else None
                    of = found if found is not None else _UNKNOWN
                text = str(test.args[key])
                args[key] = fragment(text, test.line, f"{what}: {key}", parent=of)
        if test.name in ("accepted_range", "expect_column_values_to_be_between"):
            for bound in ("min_value", "max_value"):
                value = test.args.get(bound)
                if isinstance(value, str):
                    args[bound] = fragment(value, test.line, f"{what}: {bound}")
        for key in ("at_least", "at_most"):
            value = test.args.get(key)
            if test.name == "not_null_proportion" and key in test.args and not _fraction(value):
                problems.append(
                    Problem(
                        stream.file,
                        test.line,
                        f"table {stream.key}: {what}: {key} must be a number from 0 to 1, "
                        f"not {value!r}",
                    )
                )
        if (
            test.name in ("accepted_values", "not_accepted_values")
            and test.args.get("quote") is False
        ):
            for value in test.args.get("values", []):
                if not isinstance(value, int | float | bool):
                    problems.append(
                        Problem(
                            stream.file,
                            test.line,
                            f"table {stream.key}: {what}"
                            f" with quote: false takes numbers, not {value!r}",
                        )
                    )
        if test.name == "schema":
            continue  # folded into the schema check below
        add(
            test.name,
            column,
            severity=test.severity,
            where=where,
            args=args,
            file=test.file,
            line=test.line,
        )
    if META in have:
        add(
            META_CHANGES,
            META,
            severity="error" if stream.keel.on_meta_changes == "block" else "warn",
            file=stream.file,
            line=stream.line,
        )
    schema_tests = [t for t in stream.all_tests if t.name == "schema"]
    spec = schema_tests[0] if schema_tests else None
    if stream.columns or spec is not None:
        add(
            "schema",
            None,
            severity=spec.severity if spec else "error",
            args={"allow_added": spec.args.get("allow_added")} if spec else {},
            file=stream.file,
            line=spec.line if spec else stream.line,
        )
    fresh = stream.freshness
    if fresh is not None and (fresh.warn_after or fresh.error_after):
        column = (stream.loaded_at_field or stream.keel.cursor or "").upper() or None
        if column is None:
            problems.append(
                Problem(
                    stream.file,
                    stream.line,
                    f"table {stream.key}: freshness needs loaded_at_field or meta.keel.cursor",
                )
            )
        elif column not in have:
            missing(column, stream.line, "loaded_at_field")
        else:
            for label, spec_after in (
                ("warn_after", fresh.warn_after),
                ("error_after", fresh.error_after),
            ):
                if spec_after and _seconds(spec_after) is None:
                    problems.append(
                        Problem(
                            stream.file,
                            stream.line,
                            f"table {stream.key}: "
                            f"freshness.{label} needs count and period "
                            f"(minute, hour, day), not {dict(spec_after)!r}",
                        )
                    )
            filter_sql = fresh.filter
            if fresh.filter:
                filter_sql = fragment(fresh.filter, stream.line, "freshness.filter")
            add(
                "freshness",
                column,
                severity="error" if fresh.error_after else "warn",
                where=filter_sql,
                args={
                    "warn_after": _seconds(fresh.warn_after),
                    "error_after": _seconds(fresh.error_after),
                },
                file=stream.file,
                line=stream.line,
            )
    return checks, problems


def _fraction(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1


def _seconds(spec: Mapping[str, Any] | None) -> int | None:
    if not spec:
        return None
    count, period = spec.get("count"), str(spec.get("period", "")).lower()
    if not isinstance(count, int) or isinstance(count, bool) or period not in PERIODS:
        return None
    return count * PERIODS[period]


AIRBYTE_PREFIXES = ("_AIRBYTE_", "_AB_")

FAMILIES = (
    ("boolean", ("BOOL",)),
    ("timestamp", ("TIMESTAMP", "DATETIME")),
    ("date", ("DATE",)),
    ("time", ("TIME",)),
    ("interval", ("INTERVAL",)),
    ("integer", ("BIGINT", "INT", "SMALLINT", "TINYINT", "HUGEINT", "NUMBER(38,0)", "LONG")),
    ("number", ("DOUBLE", "FLOAT", "REAL", "DECIMAL", "NUMERIC", "NUMBER")),
    ("json", ("JSON", "VARIANT", "OBJECT", "ARRAY", "STRUCT", "MAP", "[]")),
    ("text", ("VARCHAR", "TEXT", "STRING", "CHAR", "CHARACTER", "UUID")),
)


def type_family(data_type: str) -> str:
    """A coarse type class, so ``timestamp`` (contract) equals ``TIMESTAMP WITH TIME ZONE``
    (DuckDB) and ``TIMESTAMP_TZ`` (Snowflake), and ``bigint`` equals ``NUMBER(38,0)``."""
    t = data_type.upper().replace(" ", "")
    if t.endswith("[]"):
        return "json"
    for family, prefixes in FAMILIES:
        if any(t.startswith(p.replace(" ", "")) for p in prefixes):
            if family == "number" and t.startswith("NUMBER(") and t.endswith(",0)"):
                return "integer"
            return family
    return t.lower()


@dataclass(frozen=True)
class Drift:
    """A difference between a contract's columns and the RAW table's."""

    kind: Literal["added", "removed", "retyped"]
    column: str
    detail: str


def schema_drift(stream: Stream, raw: Sequence[tuple[str, str]]) -> list[Drift]:
    """Columns added, removed or retyped in the RAW table against the contract.

    Airbyte's own columns (``_AIRBYTE_*``, ``_AB_*``) are never drift; a contract
    column without ``data_type`` is only checked for presence.
    """
    actual = dict(raw)
    out: list[Drift] = []
    declared = {c.name for c in stream.columns}
    for column in stream.columns:
        if column.name not in actual:
            out.append(Drift("removed", column.name, "in the contract, not in the table"))
        elif column.data_type and type_family(column.data_type) != type_family(actual[column.name]):
            out.append(
                Drift(
                    "retyped",
                    column.name,
                    f"contract {column.data_type}, table {actual[column.name]}",
                )
            )
    for name, data_type in raw:
        if (
            name not in declared
            and not name.startswith(AIRBYTE_PREFIXES)
            and name != CDC_DELETED_AT
        ):
            out.append(Drift("added", name, f"{data_type}, not in the contract"))
    return out
