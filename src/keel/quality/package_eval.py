"""Pass / warn / fail for the table-level dbt package tests, and messages for the row-level
ones (see :mod:`keel.quality.package_sql` for each test's documented semantics)."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping

from keel.batch.window import utc
from keel.project.tests_spec import DATEPARTS, MONTH_PARTS
from keel.quality.checks import Check
from keel.quality.model import CheckResult, CheckStatus

TABLE_LEVEL = frozenset({"not_null_proportion", "recency"})
ROW_MESSAGES = {
    "not_accepted_values": "{rows} row(s) hold {values} value(s) from the not-accepted list",
    "expect_column_values_to_be_between": "{rows} row(s) are outside the expected range",
    "expect_column_values_to_match_regex": "{rows} row(s) do not match the regex",
    "expect_column_values_to_be_unique": "{values} value(s) duplicated, in {rows} batch row(s)",
    "unique_combination_of_columns": "{values} combination(s) duplicated, in {rows} batch row(s)",
}


def row_message(check: Check, rows: int, values: int | None) -> str | None:
    template = ROW_MESSAGES.get(check.name)
    if check.name == "relationships" and check.args.get("from_condition"):
        return f"{rows} row(s) meeting from_condition have no parent in {check.args.get('to')}"
    return template.format(rows=rows, values=values) if template else None


def _status(check: Check, failing: bool) -> CheckStatus:
    if not failing:
        return "pass"
    return "fail" if check.severity == "error" else "warn"


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float | decimal.Decimal) else 0.0


def table_result(check: Check, values: Mapping[str, object], now: dt.datetime) -> CheckResult:
    if check.name == "not_null_proportion":
        total = _number(values.get(f"{check.id}:total"))
        nonnull = _number(values.get(f"{check.id}:nonnull"))
        lo, hi = float(check.args["at_least"]), float(check.args.get("at_most", 1))
        if total == 0:  # dbt: 0 / 0 gives no validation row
            return CheckResult(check, "pass", 0, None, "no rows to judge")
        share = nonnull / total
        failing = share < lo or share > hi
        text = f"{share:.1%} of {int(total)} row(s) are not null; expected {lo:g} to {hi:g}"
        return CheckResult(check, _status(check, failing), int(failing), None, text)
    # recency
    newest = [
        t
        for t in (utc(values.get(f"{check.id}:batch")), utc(values.get(f"{check.id}:promoted")))
        if t is not None
    ]
    if not newest:  # max() is NULL: dbt's comparison returns no row
        return CheckResult(check, "pass", 0, None, "no rows to judge")
    threshold = recency_threshold(
        now, str(check.args["datepart"]).lower(), int(check.args["interval"])
    )
    most_recent = max(newest)
    if check.args.get("ignore_time_component"):
        failing = most_recent.date() < threshold.date()
    else:
        failing = most_recent < threshold
    text = (
        f"newest {(check.column or '').lower()} is {most_recent.isoformat()}; "
        f"expected at or after {threshold.isoformat()}"
    )
    return CheckResult(check, _status(check, failing), int(failing), None, text)


def recency_threshold(now: dt.datetime, datepart: str, interval: int) -> dt.datetime:
    """``dateadd(datepart, -interval, now)``: calendar months keep the day of the month,
    clamped to the month's last day (as warehouses' DATEADD does)."""
    if datepart in DATEPARTS:
        return now - dt.timedelta(seconds=interval * DATEPARTS[datepart])
    months = now.year * 12 + now.month - 1 - interval * MONTH_PARTS[datepart]
    year, month = divmod(months, 12)
    month += 1
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    last_day = (following - dt.timedelta(days=1)).day
    return now.replace(year=year, month=month, day=min(now.day, last_day))
