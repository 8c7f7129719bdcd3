"""The one gate report: its JSON (DESIGN section 9) and that JSON read back, as the
local API's client and the alerts see it."""

from __future__ import annotations

import datetime as dt

from keel.quality.checks import Check
from keel.quality.model import Batch, CheckResult, SourceReport, StreamReport, TransformResult


def test_gate_json_parses_and_ignores_unknown_fields() -> None:
    gate = SourceReport.from_dict(
        {
            "source": "hubspot",
            "extra": True,
            "streams": [
                {
                    "stream": "contacts",
                    "status": "blocked",
                    "batch": {"id": "b1", "rows": 10, "watermark": None},
                    "checks": [
                        {
                            "name": "not_null",
                            "column": "email",
                            "severity": "error",
                            "status": "fail",
                            "failing_rows": 3,
                            "id": "not_null.EMAIL",
                        },
                        {
                            "name": "unique",
                            "column": None,
                            "severity": "warn",
                            "status": "warn",
                            "failing_rows": 1,
                        },
                    ],
                    "samples": {"not_null.EMAIL": [{"email": None}], "bad": "x"},
                },
                {"stream": "deals", "status": "empty", "batch": {"id": None, "rows": 0}},
            ],
            "transform": {"kind": "dbt", "status": "failed", "exit_code": 2},
        }
    )
    contacts, deals = gate.streams
    assert contacts.judged and contacts.blocked and not deals.judged
    assert [c.key for c in contacts.checks] == ["not_null.EMAIL", "unique"]
    assert [c.pages for c in contacts.checks] == [True, False]
    assert contacts.samples == {"not_null.EMAIL": [{"email": None}]}
    assert gate.transform is not None and gate.transform.failed
    assert CheckResult.from_dict({"name": "accepted_values", "column": "stage"}).key == (
        "accepted_values.stage"
    )


def test_the_report_survives_its_own_json() -> None:
    at = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
    report = SourceReport(
        "hubspot",
        [
            StreamReport(
                "hubspot",
                "contacts",
                "promoted",
                Batch("b1", 10, "promoted", None, at, keys=9, live=8, deleted=1, published=9),
                [CheckResult(Check("not_null.EMAIL", "not_null", "EMAIL", "error"), "pass")],
                samples={"x": [{"a": 1}]},
                notes=["n"],
            ),
            StreamReport("hubspot", "deals", "empty"),
        ],
        TransformResult("dbt", ["dbt", "build"], "succeeded", 0, "ok", 1.5, "r1"),
        notes=["note"],
    )
    again = SourceReport.from_dict(report.to_dict())
    assert again.to_dict() == report.to_dict()
    assert again.published_rows == 9 and again.ok and not again.blocked
    assert again.stream("contacts").checks[0].column == "email"
