"""Golden SQL: each change kind as the DuckDB adapter renders it."""

from __future__ import annotations

import pytest

from keel.adapters.duckdb import DuckDBAdapter
from keel.plan.model import Change

GRANT = {
    "role": "SOPHIA_AI_APP_ROLE",
    "privilege": "SELECT",
    "target": "ALL_TABLES",
    "object_name": "GONG_DATA",
}
CASES = [
    (Change("create_schema", "GONG_DATA_RAW"), ['CREATE SCHEMA IF NOT EXISTS "GONG_DATA_RAW"']),
    (
        Change(
            "set_tag",
            "column GONG_DATA_RAW.CALLS.ID",
            after='{"pii_level":"none"}',
            data={"object_type": "column", "object_name": "GONG_DATA_RAW.CALLS.ID"},
        ),
        [
            'INSERT INTO "SOPHIA_OPS"."KEEL_TAGS" ("OBJECT_TYPE", "OBJECT_NAME", "TAG_NAME", '
            "\"TAG_VALUE\", \"UPDATED_AT\") VALUES ('column', 'GONG_DATA_RAW.CALLS.ID', "
            "'SOPHIA_AI_METADATA', '{\"pii_level\":\"none\"}', CURRENT_TIMESTAMP) ON CONFLICT "
            '("OBJECT_TYPE", "OBJECT_NAME", "TAG_NAME") DO UPDATE SET "TAG_VALUE" = '
            'excluded."TAG_VALUE", "UPDATED_AT" = excluded."UPDATED_AT"'
        ],
    ),
    (
        Change(
            "unset_tag",
            "table GONG_DATA_RAW.OLD",
            before="{}",
            data={"object_type": "table", "object_name": "GONG_DATA_RAW.OLD"},
        ),
        [
            'DELETE FROM "SOPHIA_OPS"."KEEL_TAGS" WHERE "OBJECT_TYPE" = \'table\' AND "OBJECT_NAME" = '
            "'GONG_DATA_RAW.OLD' AND \"TAG_NAME\" = 'SOPHIA_AI_METADATA'"
        ],
    ),
    (
        Change("create_role", "SOPHIA_AI_APP_ROLE", after="it's read-only"),
        [
            'INSERT INTO "SOPHIA_OPS"."KEEL_ROLES" ("ROLE_NAME", "COMMENT", "UPDATED_AT") VALUES '
            "('SOPHIA_AI_APP_ROLE', 'it''s read-only', CURRENT_TIMESTAMP) ON CONFLICT "
            '("ROLE_NAME") DO UPDATE SET "COMMENT" = excluded."COMMENT", "UPDATED_AT" = '
            'excluded."UPDATED_AT"'
        ],
    ),
    (
        Change("grant", "SELECT on all tables in GONG_DATA to SOPHIA_AI_APP_ROLE", data=GRANT),
        [
            'INSERT INTO "SOPHIA_OPS"."KEEL_GRANTS" ("ROLE_NAME", "PRIVILEGE", "OBJECT_TYPE", '
            "\"OBJECT_NAME\", \"UPDATED_AT\") VALUES ('SOPHIA_AI_APP_ROLE', 'SELECT', 'ALL_TABLES', "
            '\'GONG_DATA\', CURRENT_TIMESTAMP) ON CONFLICT ("ROLE_NAME", "PRIVILEGE", "OBJECT_TYPE", '
            '"OBJECT_NAME") DO UPDATE SET "UPDATED_AT" = excluded."UPDATED_AT"'
        ],
    ),
    (
        Change("revoke", "SELECT on all tables in GONG_DATA to SOPHIA_AI_APP_ROLE", data=GRANT),
        [
            'DELETE FROM "SOPHIA_OPS"."KEEL_GRANTS" WHERE "ROLE_NAME" = \'SOPHIA_AI_APP_ROLE\' AND '
            '"PRIVILEGE" = \'SELECT\' AND "OBJECT_TYPE" = \'ALL_TABLES\' AND "OBJECT_NAME" = '
            "'GONG_DATA'"
        ],
    ),
    (
        Change(
            "grant_role",
            "SOPHIA_AI_ADMIN_ROLE -> SYSADMIN",
            data={"role": "SOPHIA_AI_ADMIN_ROLE", "member": "SYSADMIN"},
        ),
        [
            'INSERT INTO "SOPHIA_OPS"."KEEL_ROLE_MEMBERS" ("ROLE_NAME", "MEMBER", "UPDATED_AT") VALUES '
            "('SOPHIA_AI_ADMIN_ROLE', 'SYSADMIN', CURRENT_TIMESTAMP) ON CONFLICT (\"ROLE_NAME\", "
            '"MEMBER") DO UPDATE SET "UPDATED_AT" = excluded."UPDATED_AT"'
        ],
    ),
    (
        Change("revoke_role", "A -> B", data={"role": "A", "member": "B"}),
        [
            'DELETE FROM "SOPHIA_OPS"."KEEL_ROLE_MEMBERS" WHERE "ROLE_NAME" = \'A\' AND "MEMBER" = \'B\''
        ],
    ),
]


@pytest.fixture
def adapter() -> DuckDBAdapter:
    return DuckDBAdapter(":memory:")


@pytest.mark.parametrize(("change", "expected"), CASES, ids=[c.kind for c, _ in CASES])
def test_golden_sql(adapter: DuckDBAdapter, change: Change, expected: list[str]) -> None:
    assert list(adapter.render(change).sql) == expected


def test_bootstrap_creates_every_ops_table(adapter: DuckDBAdapter) -> None:
    sql = adapter.render(Change("bootstrap_ops", "SOPHIA_OPS")).sql
    assert sql[0] == 'CREATE SCHEMA IF NOT EXISTS "SOPHIA_OPS"'
    assert sql[1].startswith('CREATE TABLE IF NOT EXISTS "SOPHIA_OPS"."KEEL_TAGS" (')
    for statement in sql:
        adapter.execute(statement)
    names = {
        r[0]
        for r in adapter.fetch(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'SOPHIA_OPS'"
        )
    }
    assert {
        "KEEL_TAGS",
        "KEEL_APPLY_LOG",
        "KEEL_STATE",
        "KEEL_WATERMARKS",
        "KEEL_BATCHES",
        "KEEL_DQ_RESULTS",
        "KEEL_DQ_FAILURES",
        "KEEL_EVENTS",
        "KEEL_ALERTS",
    } <= names


def test_every_rendered_statement_runs(adapter: DuckDBAdapter) -> None:
    for statement in adapter.render(Change("bootstrap_ops", "SOPHIA_OPS")).sql:
        adapter.execute(statement)
    for change, _ in CASES:
        for statement in adapter.render(change).sql:
            adapter.execute(statement)
    assert adapter.fetch('SELECT "MEMBER" FROM "SOPHIA_OPS"."KEEL_ROLE_MEMBERS"') == [("SYSADMIN",)]
    assert adapter.fetch('SELECT count(*) FROM "SOPHIA_OPS"."KEEL_GRANTS"') == [(0,)]
