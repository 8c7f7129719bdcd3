"""From the numbers one scan returned to a pass / warn / fail per check.

dbt's rule: a test fails when its query returns rows; ``severity: warn`` turns
the failure into a warning. Counts are keel's failing *rows* (``failing_rows``),
with dbt's count where dbt counts values (``failing_values``: distinct duplicated
values for ``unique``, distinct values outside the list for ``accepted_values``).
Table-level checks (``row_count``, ``freshness``) report 1 failing row when they
fail, as dbt's single-row result does; ``schema`` reports one result per drifted
column (removed and retyped at the check's severity, added as a warning unless the
contract's ``schema`` test sets ``allow_added``).
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from keel.batch.window import Layout, utc
from keel.project.loaded import Stream
from keel.quality import package_eval
from keel.quality.checks import META_CHANGES, Check, schema_drift
from keel.quality.model import CheckResult, CheckStatus
from keel.quality.scan import pk_unique


@dataclass(frozen=True)
class Outcome:
    """The results of a stream's checks, in check order."""

    results: list[CheckResult]


def _status(check: Check, failing: bool) -> CheckStatus:
    if not failing:
        return "pass"
    return "fail" if check.severity == "error" else "warn"


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float | decimal.Decimal) else 0


def _row_message(check: Check, rows: int, values: int | None) -> str:
    package = package_eval.row_message(check, rows, values)
    if package is not None:
        return package
    if check.name == "not_null":
        return f"{rows} row(s) are null"
    if check.name == "unique":
        return f"{values} value(s) duplicated, in {rows} batch row(s)"
    if check.name == "accepted_values":
        return f"{rows} row(s) hold {values} value(s) outside the accepted list"
    if check.name == "relationships":
        return f"{rows} row(s) have no parent in {check.args.get('to')}"
    if check.name == "accepted_range":
        return f"{rows} row(s) are out of range"
    if check.name == META_CHANGES:
        return f"{rows} row(s) carry values the loader changed (_airbyte_meta.changes)"
    return f"{rows} row(s) fail the expression"


def _schema_results(check: Check, stream: Stream, layout: Layout) -> list[CheckResult]:
    allow_added = check.args.get("allow_added")
    out: list[CheckResult] = []
    for drift in schema_drift(stream, layout.columns):
        if drift.kind == "added":
            if allow_added is True:
                continue
            severity = check.severity if allow_added is False else "warn"
        else:
            severity = check.severity
        derived = replace(
            check, id=f"schema.{drift.column}", column=drift.column, severity=severity
        )
        status: CheckStatus = "fail" if severity == "error" else "warn"
        out.append(CheckResult(derived, status, 1, None, f"column {drift.kind}: {drift.detail}"))
    return out or [CheckResult(check, "pass", 0, None, "columns match the contract")]


def _freshness(check: Check, values: Mapping[str, object], now: dt.datetime) -> CheckResult:
    newest = [
        t
        for t in (utc(values.get(f"{check.id}:batch")), utc(values.get(f"{check.id}:promoted")))
        if t is not None
    ]
    if not newest:
        return CheckResult(
            check,
            _status(check, True),
            1,
            None,
            f"no {(check.column or '').lower()} value to judge freshness by",
        )
    age = (now - max(newest)).total_seconds()
    warn_after, error_after = check.args.get("warn_after"), check.args.get("error_after")
    text = f"newest {(check.column or '').lower()} is {_age(age)} old"
    if error_after is not None and age > error_after:
        return CheckResult(
            replace(check, severity="error"),
            "fail",
            1,
            None,
            f"{text} (error after {_age(error_after)})",
        )
    if warn_after is not None and age > warn_after:
        return CheckResult(
            replace(check, severity="warn"),
            "warn",
            1,
            None,
            f"{text} (warn after {_age(warn_after)})",
        )
    return CheckResult(check, "pass", 0, None, text)


def _age(seconds: float) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if abs(seconds) >= size:
            return f"{seconds / size:.1f} {unit}s"
    return f"{seconds:.0f} seconds"


def _row_count(check: Check, count: int) -> CheckResult:
    lo, hi = check.args.get("min_value"), check.args.get("max_value")
    if check.args.get("strictly") is True:  # dbt_expectations: strictly excludes the bounds
        failing = (lo is not None and count <= lo) or (hi is not None and count >= hi)
    else:
        failing = (lo is not None and count < lo) or (hi is not None and count > hi)
    bounds = f"between {lo if lo is not None else '-'} and {hi if hi is not None else '-'}"
    return CheckResult(
        check,
        _status(check, failing),
        int(failing),
        None,
        f"the table would have {count} row(s); expected {bounds}",
    )


def evaluate(
    stream: Stream,
    layout: Layout,
    checks: Sequence[Check],
    values: Mapping[str, object],
    now: dt.datetime,
    streams: Mapping[str, Stream] | None = None,
) -> Outcome:
    """Each check's result from the scan's named values (see ScanBuilder.aggregate)."""
    results: list[CheckResult] = []
    for check in checks:
        if check.name == "schema":
            results += _schema_results(check, stream, layout)
        elif check.name == "freshness":
            results.append(_freshness(check, values, now))
        elif check.name in package_eval.TABLE_LEVEL:
            results.append(package_eval.table_result(check, values, now))
        elif check.name == "row_count":
            results.append(_row_count(check, _int(values.get(f"{check.id}:count"))))
        elif pk_unique(check, layout):
            results.append(
                CheckResult(
                    check, "pass", 0, 0, "one row per primary key (the batch is deduplicated)"
                )
            )
        else:
            rows = _int(values.get(f"{check.id}:rows"))
            raw = values.get(f"{check.id}:values")
            count = _int(raw) if raw is not None else None
            results.append(
                CheckResult(
                    check,
                    _status(check, rows > 0),
                    rows,
                    count,
                    _row_message(check, rows, count) if rows else "",
                )
            )
    return Outcome(results)


def jsonable(value: Any) -> Any:
    """A warehouse value as JSON-safe data (samples, quarantine rows)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return str(value)
