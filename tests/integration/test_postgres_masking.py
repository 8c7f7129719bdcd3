"""keel's masking views through the real publish path on PostgreSQL.

Publish creates a promoted table and, in the same transaction, serves it through keel's
masking view at its name (the data moves to ``<schema>_base``); when a later batch adds a
column or widens a type, publish drops the view before its ``ALTER`` on the base table
(PostgreSQL refuses ``ALTER COLUMN ... TYPE`` on a column a view uses: "cannot alter
type of a column used by a view or rule") and rebuilds it over the new columns in the
same transaction, so APP's ``SELECT *`` on the promoted name keeps working and the next
plan grants nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from tests.support.gatekit import companies, contacts

from keel.context import Context
from keel.publish.promote import promote

pytestmark = pytest.mark.postgres

APP = "SOPHIA_AI_APP_ROLE"
RAW_COLUMNS = (
    "_airbyte_raw_id text, _airbyte_extracted_at timestamptz, _airbyte_meta jsonb, "
    "_airbyte_generation_id bigint"
)
M = "***MASKED***"


def _rows(dsn: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return list(conn.execute(query.encode()).fetchall())


def _governance(keel: Any, root: Path) -> list[tuple[str, str]]:
    plan = keel("plan", "--json", project=root).json()
    return [(c["kind"], c["object"]) for c in plan["changes"] if c["kind"] != "set_tag"]


def test_publish_keeps_the_masking_view_in_step_with_the_table(
    pg_project: Callable[..., Path], pg_db: Any, keel: Any
) -> None:
    root = pg_project()
    for f in (root / "contracts").glob("*.yml"):
        f.unlink()
    doc = {"version": 2, "sources": [{"name": "hubspot", "tables": [companies(), contacts()]}]}
    (root / "contracts" / "hubspot.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
    assert keel("apply", "--yes", project=root).exit_code == 0
    pg_db.sql(
        f"CREATE TABLE hubspot_data_raw.companies (id text, name text, updated_at timestamptz, "
        f"{RAW_COLUMNS})",
        f"CREATE TABLE hubspot_data_raw.contacts (id text, email text, company_id text, "
        f"stage text, score bigint, updated_at timestamptz, {RAW_COLUMNS})",
        "INSERT INTO hubspot_data_raw.companies VALUES ('c1', 'a', '2026-01-01T00:00:00Z', "
        "'r1', '2026-01-01T01:00:00Z', '{}', 1)",
        "INSERT INTO hubspot_data_raw.contacts VALUES ('p1', 'x@y', 'c1', 'lead', 5, "
        "'2026-01-01T00:00:00Z', 'r2', '2026-01-01T01:00:00Z', '{}', 1)",
    )
    with Context(root) as ctx:
        done = promote(ctx.project, ctx.adapter, "hubspot")
    assert [s.status for s in done.streams] == ["promoted", "promoted"], done.to_dict()
    app = pg_db.login("u_app", pg_db.role(APP))
    assert _rows(app, "SELECT id, email, stage, score FROM hubspot_data.contacts") == [
        ("p1", M, "lead", 5)
    ]
    assert _governance(keel, root) == []

    # the next sync brings a new column and a wider type
    pg_db.sql(
        "ALTER TABLE hubspot_data_raw.contacts ADD COLUMN phone text",
        "ALTER TABLE hubspot_data_raw.contacts ALTER COLUMN score TYPE double precision",
        "INSERT INTO hubspot_data_raw.contacts VALUES ('p2', 'z@y', 'c1', 'customer', 7.5, "
        "'2026-01-01T02:00:00Z', 'r3', '2026-01-01T03:00:00Z', '{}', 1, '+1 415 555 0100')",
    )
    with Context(root) as ctx:
        again = promote(ctx.project, ctx.adapter, "hubspot", force=True, reason="new column")
    assert again.streams[-1].status == "promoted", again.to_dict()
    assert pg_db.rows(
        "SELECT data_type FROM information_schema.columns WHERE table_schema = "
        "'hubspot_data' AND table_name = 'contacts' AND column_name = 'score'"
    ) == [("double precision",)]
    # APP: SELECT * works, the new column (not in the contract) is masked, the type follows
    assert _rows(app, "SELECT id, email, score, phone FROM hubspot_data.contacts ORDER BY id") == [
        ("p1", M, 5.0, M),
        ("p2", M, 7.5, M),
    ]  # NULL or not: masked
    assert _rows(pg_db.admin_dsn, "SELECT phone FROM hubspot_data.contacts WHERE id = 'p2'") == [
        ("+1 415 555 0100",)
    ]
    # nothing for the next apply to grant or revoke
    assert _governance(keel, root) == []
    # the rebuilt view carries the tags as comments again (KEEL_TAGS is keel's record)
    for kind, name, comment in (
        ("table", "HUBSPOT_DATA.CONTACTS", "obj_description('hubspot_data.contacts'::regclass)"),
        (
            "column",
            "HUBSPOT_DATA.CONTACTS.EMAIL",
            "col_description('hubspot_data.contacts'::regclass, 2)",
        ),
    ):
        recorded = pg_db.rows(
            f"SELECT tag_value FROM sophia_ops.keel_tags WHERE object_type = '{kind}' "
            f"AND object_name = '{name}'"
        )
        assert recorded and pg_db.rows(f"SELECT {comment}") == recorded, name


def test_two_masked_roles_share_one_view_and_converge_in_one_apply(
    pg_project: Callable[..., Path], pg_db: Any, keel: Any
) -> None:
    """APP masks high and sensitive, ANALYST sensitive only: one view at the promoted
    name masks each column for the members of the roles whose policy hides it."""
    root = pg_project()
    path = root / "keel.yml"
    doc = yaml.safe_load(path.read_text())
    analyst = f"{pg_db.prefix.upper()}ANALYST"
    doc["roles"][analyst] = {"read": ["{SOURCE}_DATA"], "masked_pii_levels": ["sensitive"]}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    pg_db.sql(
        "CREATE SCHEMA netsuite_data",
        "CREATE TABLE netsuite_data.employees (id text, first_name text, last_name text, "
        "email text, department text, ssn text, hire_date date, updated_at timestamptz)",
        "INSERT INTO netsuite_data.employees VALUES ('e1', 'Ann', 'Lee', 'ann@example.com', "
        "'Sales', '123-45-6789', '2020-01-01', now())",
    )
    first = keel("apply", "--yes", project=root)
    assert first.exit_code == 0, first.stderr
    r = keel("plan", "--detailed-exitcode", project=root)
    assert r.exit_code == 0, r.stdout
    app = pg_db.login("u_app", pg_db.role(APP))
    ana = pg_db.login("u_ana", pg_db.role("ANALYST"))
    query = "SELECT id, email, ssn, department FROM netsuite_data.employees"
    assert _rows(app, query) == [("e1", M, M, "Sales")]
    assert _rows(ana, query) == [("e1", "ann@example.com", M, "Sales")]
    assert _rows(app, "SELECT * FROM netsuite_data.employees")[0][3] == M
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _rows(app, "SELECT email FROM netsuite_data_base.employees")
