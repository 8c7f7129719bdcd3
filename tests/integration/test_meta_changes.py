"""The gate sees values a loader changed: Airbyte's Destinations V2 writes null for a value
that does not fit its column and lists it in ``_airbyte_meta.changes``
(``{"field", "change": "NULLED", "reason": "DESTINATION_TYPECAST_ERROR"}``,
docs.airbyte.com understanding-airbyte/airbyte-metadata-fields). Rows with changes warn by
default and block with ``meta.keel.on_meta_changes: block``."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from tests.support.gatekit import T0, Kit, companies

CHANGED = {
    "sync_id": 7,
    "changes": [
        {"field": "name", "change": "NULLED", "reason": "DESTINATION_TYPECAST_ERROR"},
    ],
}


def _land(k: Kit, rows: list[tuple[str, str | None, dict[str, Any]]]) -> None:
    if "companies" not in k.columns:
        k.create_raw("companies", k.contract_columns("companies"))
    a = k.ctx.adapter
    for key, name, meta in rows:
        values = [key, name, T0, uuid.uuid4().hex, T0, json.dumps(meta), 1]
        a.execute(
            f"INSERT INTO {k.raw('companies')} VALUES ({', '.join(a.lit(v) for v in values)})"
        )


@pytest.mark.parametrize(("setting", "status"), [(None, "warned"), ("block", "blocked")])
def test_rows_with_meta_changes(tmp_path: Path, setting: str | None, status: str) -> None:
    spec = companies()
    spec["columns"][1]["data_tests"] = []  # the nulled name is not also a not_null failure
    if setting:
        spec["meta"]["keel"]["on_meta_changes"] = setting
    k = Kit(tmp_path, [spec])
    _land(k, [("c1", "one", {"sync_id": 7, "changes": []}), ("c2", None, CHANGED), ("c3", "x", {})])
    report = k.promote()
    s = report.stream("companies")
    check = next(r for r in s.checks if r.check.name == "airbyte_meta_changes")
    assert (check.status, check.failing_rows) == ("warn" if setting is None else "fail", 1)
    assert s.status == ("promoted" if setting is None else status)
    if setting is None:
        assert k.published("companies") == [("c1",), ("c2",), ("c3",)]
    else:
        assert k.rows(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'HUBSPOT_DATA'"
        ) == [(0,)]
    k.close()
