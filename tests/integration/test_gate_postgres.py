"""The same gate and promotion on PostgreSQL (lower-case names, real transactions, MERGE).

Uses the PostgreSQL fixtures of ``tests/integration/conftest.py`` (skipped without a
server, failing under CI).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.support.gatekit import companies, contacts

from keel.context import Context
from keel.publish.promote import promote
from keel.quality.gate import gate

pytestmark = pytest.mark.postgres

RAW_COLUMNS = (
    "_airbyte_raw_id text, _airbyte_extracted_at timestamptz, _airbyte_meta jsonb, "
    "_airbyte_generation_id bigint"
)


def _land(pg: Any, table: str, rows: list[tuple[Any, ...]], hour: int) -> None:
    values = ", ".join(
        "("
        + ", ".join("NULL" if v is None else f"'{v}'" for v in row)
        + f", md5(random()::text), '2026-01-01T{hour:02d}:00:00+00:00', '{{}}', 1)"
        for row in rows
    )
    pg.sql(f"INSERT INTO hubspot_data_raw.{table} VALUES {values}")


def test_gate_and_promote_on_postgres(pg_project: Callable[..., Path], pg_db: Any) -> None:
    root = pg_project()
    for f in (root / "contracts").glob("*.yml"):
        f.unlink()
    doc = {"version": 2, "sources": [{"name": "hubspot", "tables": [companies(), contacts()]}]}
    (root / "contracts" / "hubspot.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
    with Context(root) as ctx:
        ctx.apply()
    pg_db.sql(
        f"CREATE TABLE hubspot_data_raw.companies (id text, name text, updated_at timestamptz, "
        f"{RAW_COLUMNS})",
        f"CREATE TABLE hubspot_data_raw.contacts (id text, email text, company_id text, "
        f"stage text, score bigint, updated_at timestamptz, {RAW_COLUMNS})",
    )
    t = "2026-01-01T00:00:00+00:00"
    _land(pg_db, "companies", [("c1", "a", t), ("c2", None, t)], 1)
    _land(
        pg_db,
        "contacts",
        [("p1", "x@y", "c1", "lead", 5, t), ("p2", None, "c2", "bogus", 500, t)],
        1,
    )
    with Context(root) as ctx:
        report = gate(ctx.project, ctx.adapter, "hubspot")
        companies_, contacts_ = report.streams
        assert (companies_.status, contacts_.status) == ("blocked", "blocked")
        failing = {
            r.check.id: (r.failing_rows, r.failing_values)
            for r in contacts_.checks
            if r.status != "pass"
        }
        assert failing == {
            "not_null.EMAIL": (1, None),
            "relationships.COMPANY_ID": (2, 2),  # parent blocked
            "accepted_values.STAGE": (1, 1),
            "accepted_range.SCORE": (1, None),
        }
        assert contacts_.samples["not_null.EMAIL"][0]["email"] is None
        assert contacts_.samples["accepted_values.STAGE"][0]["email"] is None
        blocked = promote(ctx.project, ctx.adapter, "hubspot")
        assert blocked.blocked
    assert pg_db.rows(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'hubspot_data'"
    ) == [(0,)]
    # fix both streams: both publish, parents first, in one transaction each
    _land(pg_db, "companies", [("c2", "b", "2026-01-01T00:30:00+00:00")], 2)
    pg_db.sql("DELETE FROM hubspot_data_raw.contacts WHERE id = 'p2'")
    _land(pg_db, "contacts", [("p2", "z@y", "c2", "lead", 50, "2026-01-01T00:30:00+00:00")], 2)
    with Context(root) as ctx:
        done = promote(ctx.project, ctx.adapter, "hubspot")
        assert [s.status for s in done.streams] == ["promoted", "promoted"], done.to_dict()
        again = promote(ctx.project, ctx.adapter, "hubspot")
        assert [s.status for s in again.streams] == ["empty", "empty"]
    assert pg_db.rows("SELECT id, name FROM hubspot_data.companies ORDER BY id") == [
        ("c1", "a"),
        ("c2", "b"),
    ]
    assert pg_db.rows("SELECT id, email FROM hubspot_data.contacts ORDER BY id") == [
        ("p1", "x@y"),
        ("p2", "z@y"),
    ]
    marks = pg_db.rows('SELECT "stream", "extracted_at" FROM sophia_ops.keel_watermarks ORDER BY 1')
    assert [m[0] for m in marks] == ["companies", "contacts"]
    tags = dict(
        pg_db.rows(
            "SELECT object_name, tag_value FROM sophia_ops.keel_tags "
            "WHERE object_name LIKE 'HUBSPOT\\_DATA.CONTACTS%'"
        )
    )
    assert json.loads(tags["HUBSPOT_DATA.CONTACTS.EMAIL"]) == {"pii_level": "high"}
