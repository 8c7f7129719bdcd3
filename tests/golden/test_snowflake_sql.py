"""Snowflake without an account: golden SQL for each change kind (each statement checked
against Snowflake's documented syntax, see adapters/snowflake.py), and the adapter driven
against the account model in tests/support/snowflake_account.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.support.snowflake_account import Account

from keel.adapters.snowflake import SnowflakeAdapter
from keel.governance.apply import apply_plan
from keel.plan.model import Change, Plan
from keel.resources import Grant, OnAccountObject, OnRelation, OnSchema, TagKey


def adapter(conn: Any = None, **kwargs: Any) -> SnowflakeAdapter:
    return SnowflakeAdapter(conn, "SOPHIA", **kwargs)


GRANT = {
    "role": "SOPHIA_AI_APP_ROLE",
    "privilege": "SELECT",
    "target": "ALL_TABLES",
    "object_name": "GONG_DATA",
}
TAG = '"SOPHIA"."SOPHIA_OPS"."SOPHIA_AI_METADATA"'
CASES = [
    (
        Change("create_schema", "GONG_DATA_RAW"),
        ['CREATE SCHEMA IF NOT EXISTS "SOPHIA"."GONG_DATA_RAW" WITH MANAGED ACCESS'],
    ),
    (
        Change(
            "set_tag",
            "x",
            after='{"entity_type":"call","note":"it\'s \\\\ok"}',
            data={"object_type": "table", "object_name": "GONG_DATA.CALLS"},
        ),
        [
            f'ALTER TABLE "SOPHIA"."GONG_DATA"."CALLS" SET TAG {TAG} = '
            '\'{"entity_type":"call","note":"it\'\'s \\\\\\\\ok"}\''
        ],
    ),
    (
        Change(
            "set_tag",
            "x",
            after='{"pii_level":"high"}',
            data={"object_type": "column", "object_name": "GONG_DATA.CALLS.EMAIL"},
        ),
        [
            f'ALTER TABLE "SOPHIA"."GONG_DATA"."CALLS" MODIFY COLUMN "EMAIL" SET TAG {TAG} = '
            '\'{"pii_level":"high"}\''
        ],
    ),
    (
        Change(
            "set_tag",
            "x",
            after='{"layer":"raw"}',
            data={"object_type": "schema", "object_name": "GONG_DATA_RAW"},
        ),
        [f'ALTER SCHEMA "SOPHIA"."GONG_DATA_RAW" SET TAG {TAG} = \'{{"layer":"raw"}}\''],
    ),
    (
        Change("unset_tag", "x", data={"object_type": "column", "object_name": "S.T.C"}),
        [f'ALTER TABLE "SOPHIA"."S"."T" MODIFY COLUMN "C" UNSET TAG {TAG}'],
    ),
    (
        Change("create_role", "SOPHIA_AI_APP_ROLE", after="read-only"),
        ["CREATE ROLE IF NOT EXISTS \"SOPHIA_AI_APP_ROLE\" COMMENT = 'read-only'"],
    ),
    (
        Change("grant_role", "x", data={"role": "SOPHIA_AI_ADMIN_ROLE", "member": "SYSADMIN"}),
        ['GRANT ROLE "SOPHIA_AI_ADMIN_ROLE" TO ROLE "SYSADMIN"'],
    ),
    (
        Change("revoke_role", "x", data={"role": "A", "member": "B"}),
        ['REVOKE ROLE "A" FROM ROLE "B"'],
    ),
    (
        Change("grant", "x", data=GRANT),
        [
            'GRANT SELECT ON ALL TABLES IN SCHEMA "SOPHIA"."GONG_DATA" TO ROLE "SOPHIA_AI_APP_ROLE"',
            'GRANT SELECT ON ALL VIEWS IN SCHEMA "SOPHIA"."GONG_DATA" TO ROLE "SOPHIA_AI_APP_ROLE"',
        ],
    ),
    (
        Change("grant", "x", data={**GRANT, "target": "FUTURE_TABLES"}),
        [
            'GRANT SELECT ON FUTURE TABLES IN SCHEMA "SOPHIA"."GONG_DATA" TO ROLE "SOPHIA_AI_APP_ROLE"',
            'GRANT SELECT ON FUTURE VIEWS IN SCHEMA "SOPHIA"."GONG_DATA" TO ROLE "SOPHIA_AI_APP_ROLE"',
        ],
    ),
    (
        Change(
            "grant",
            "x",
            data={
                **GRANT,
                "privilege": "CREATE",
                "target": "SCHEMA",
                "object_name": "GONG_DATA_RAW",
                "role": "ETL",
            },
        ),
        [
            'GRANT CREATE TABLE ON SCHEMA "SOPHIA"."GONG_DATA_RAW" TO ROLE "ETL"',
            'GRANT CREATE VIEW ON SCHEMA "SOPHIA"."GONG_DATA_RAW" TO ROLE "ETL"',
        ],
    ),
    (
        Change("revoke", "x", data={**GRANT, "object_name": "GONG_DATA_RAW"}),
        [
            'REVOKE SELECT ON ALL TABLES IN SCHEMA "SOPHIA"."GONG_DATA_RAW" FROM ROLE "SOPHIA_AI_APP_ROLE"',
            'REVOKE SELECT ON ALL VIEWS IN SCHEMA "SOPHIA"."GONG_DATA_RAW" FROM ROLE "SOPHIA_AI_APP_ROLE"',
        ],
    ),
    (
        Change(
            "revoke", "x", data={**GRANT, "target": "TABLE", "object_name": "GONG_DATA_RAW.CALLS"}
        ),
        ['REVOKE SELECT ON TABLE "SOPHIA"."GONG_DATA_RAW"."CALLS" FROM ROLE "SOPHIA_AI_APP_ROLE"'],
    ),
    (
        Change(
            "revoke",
            "x",
            subject=Grant.to("APP", "SELECT", OnRelation("GONG_DATA", "CALLS_V", "view")),
        ),
        ['REVOKE SELECT ON VIEW "SOPHIA"."GONG_DATA"."CALLS_V" FROM ROLE "APP"'],
    ),
    (
        Change(
            "revoke",
            "x",
            subject=Grant.to(
                "ANALYST", "SELECT", OnAccountObject("DATABASE", "SOPHIA"), "DATABASE_ROLE"
            ),
        ),
        ['REVOKE SELECT ON DATABASE "SOPHIA" FROM DATABASE ROLE "SOPHIA"."ANALYST"'],
    ),
    (
        Change("grant", "x", subject=Grant.to("APP", "USAGE", OnAccountObject("WAREHOUSE", "WH"))),
        ['GRANT USAGE ON WAREHOUSE "WH" TO ROLE "APP"'],
    ),
    (
        Change("grant", "x", subject=Grant.to("ETL", "CREATE STAGE", OnSchema("GONG_DATA_RAW"))),
        ['GRANT CREATE STAGE ON SCHEMA "SOPHIA"."GONG_DATA_RAW" TO ROLE "ETL"'],
    ),
    (
        Change("enable_managed_access", "GONG_DATA"),
        ['ALTER SCHEMA "SOPHIA"."GONG_DATA" ENABLE MANAGED ACCESS'],
    ),
]
GOLDEN = Path(__file__).parent / "snowflake"


@pytest.mark.parametrize(
    ("change", "expected"), CASES, ids=[f"{c.kind}-{i}" for i, (c, _) in enumerate(CASES)]
)
def test_golden_sql(change: Change, expected: list[str]) -> None:
    sql = [s for s in adapter().render(change).sql if not s.startswith("MERGE INTO")]
    assert sql == expected


def test_every_tag_change_records_what_keel_set_in_its_own_table() -> None:
    """keel's record is read back from KEEL_TAGS (never parsed out of SQL text): a value with
    ' = ' in it survives."""
    change = Change(
        "set_tag", "x", after='{"note":"a = b"}', subject=TagKey("table", "GONG_DATA.CALLS")
    )
    record = adapter().render(change).sql[1]
    assert record.startswith('MERGE INTO "SOPHIA"."SOPHIA_OPS"."KEEL_TAGS" AS "T" USING (SELECT')
    assert '\'{"note":"a = b"}\' AS "TAG_VALUE"' in record
    unset = adapter().render(Change("unset_tag", "x", subject=TagKey("table", "S.T"))).sql
    assert 'NULL AS "TAG_VALUE"' in unset[1]


def test_views_are_tagged_with_alter_view() -> None:
    a = adapter()
    a.kinds = {("GONG_DATA", "CALLS_V"): "view"}
    sql = a.render(
        Change("set_tag", "x", after="{}", subject=TagKey("column", "GONG_DATA.CALLS_V.ID"))
    ).sql
    assert (
        sql[0]
        == f'ALTER VIEW "SOPHIA"."GONG_DATA"."CALLS_V" MODIFY COLUMN "ID" SET TAG {TAG} = \'{{}}\''
    )


def test_roles_and_grants_run_under_useradmin_and_securityadmin() -> None:
    a = adapter(role="KEEL", roles_as="USERADMIN", grants_as="SECURITYADMIN")
    assert a.render(Change("create_role", "APP")).sql == (
        'USE ROLE "USERADMIN"',
        'CREATE ROLE IF NOT EXISTS "APP"',
        'USE ROLE "KEEL"',
    )
    sql = a.render(Change("grant", "x", subject=Grant.to("APP", "USAGE", OnSchema("S")))).sql
    assert sql == (
        'USE ROLE "SECURITYADMIN"',
        'GRANT USAGE ON SCHEMA "SOPHIA"."S" TO ROLE "APP"',
        'USE ROLE "KEEL"',
    )


def test_bootstrap_creates_tag_and_managed_ops_schema() -> None:
    sql = adapter().render(Change("bootstrap_ops", "SOPHIA_OPS")).sql
    assert sql[0] == 'CREATE SCHEMA IF NOT EXISTS "SOPHIA"."SOPHIA_OPS" WITH MANAGED ACCESS'
    assert sql[1].startswith('CREATE TABLE IF NOT EXISTS "SOPHIA"."SOPHIA_OPS"."KEEL_TAGS"')
    assert '"UPDATED_AT" TIMESTAMP_TZ' in sql[1]
    assert sql[-1].startswith(f"CREATE TAG IF NOT EXISTS {TAG} COMMENT = ")


def _modelled(tables: int) -> tuple[Account, SnowflakeAdapter]:
    account = Account("SOPHIA")
    account.bootstrap("ADMIN")
    conn = account.connect((), {"role": "ADMIN", "database": "SOPHIA"})
    a = SnowflakeAdapter(conn, "SOPHIA", role="ADMIN", warehouse="COMPUTE_WH")
    plan = Plan(
        tuple(
            a.render(c)
            for c in (
                Change("bootstrap_ops", "SOPHIA_OPS"),
                Change("create_schema", "GONG_DATA_RAW"),
                Change("create_role", "APP"),
            )
        ),
        "fp",
        "snowflake",
    )
    account.account_privs["ADMIN"].add("CREATE ROLE")
    apply_plan(plan, a)
    for i in range(tables):
        account.create_relation("ADMIN", "GONG_DATA_RAW", f"T{i}", [("ID", "VARCHAR")])
    account.advance(3)
    return account, a


def test_statement_count_is_the_same_for_20_and_5000_tables() -> None:
    counts = []
    for n in (20, 5000):
        account, a = _modelled(n)
        before = len(account.statements)
        state = a.read_state({"GONG_DATA_RAW"}, {"APP"})
        assert len([t for t in state.tables if t[0] == "GONG_DATA_RAW"]) == n
        counts.append(len(account.statements) - before)
    assert counts[0] == counts[1]


def test_refused_statement_names_the_missing_privilege() -> None:
    account, a = _modelled(0)
    account.account_privs["ADMIN"].discard("CREATE ROLE")
    plan = Plan(
        (a.render(Change("create_schema", "GONG_DATA")), a.render(Change("create_role", "ETL"))),
        "fp",
        "snowflake",
    )
    with pytest.raises(Exception) as info:
        apply_plan(plan, a)
    text = str(info.value)
    assert "Insufficient privileges to operate on account" in text
    assert "keel's role needs CREATE ROLE on the account (USERADMIN has it" in text
    assert "stopped at change 2 of 2" in text and "applied: 1 change(s)" in text


def test_sample_reads_arrays_returned_as_json_text() -> None:
    """The connector returns ARRAY_CONSTRUCT(...) as JSON text with NULL elements written
    ``undefined``: sampling decodes it and skips the NULLs."""
    account, a = _modelled(0)
    account.create_relation(
        "ADMIN",
        "GONG_DATA_RAW",
        "PEOPLE",
        [("EMAIL", "VARCHAR"), ("NOTE", "VARCHAR")],
        [{"EMAIL": "ann@example.com", "NOTE": None}, {"EMAIL": None, "NOTE": 'say "hi", ok'}],
    )
    got = a.sample([("GONG_DATA_RAW", "PEOPLE", ("EMAIL", "NOTE"))], 10)
    assert got == {
        ("GONG_DATA_RAW", "PEOPLE", "EMAIL"): ["ann@example.com"],
        ("GONG_DATA_RAW", "PEOPLE", "NOTE"): ['say "hi", ok'],
    }


def test_a_tag_keel_set_is_read_back_exactly_while_account_usage_lags() -> None:
    """The value comes back from keel's record (KEEL_TAGS), not parsed out of SQL text."""
    account, a = _modelled(0)
    account.create_relation("ADMIN", "GONG_DATA_RAW", "CALLS", [("ID", "VARCHAR")])
    account.advance(3)
    value = '{"note":"a = b","quote":"it\'s"}'
    key = TagKey("table", "GONG_DATA_RAW.CALLS")
    plan = Plan((a.render(Change("set_tag", "x", after=value, subject=key)),), "fp", "snowflake")
    apply_plan(plan, a)
    assert account.usage_view() == {}  # ACCOUNT_USAGE has not caught up
    assert a.read_state({"GONG_DATA_RAW"}, {"APP"}).tags[key] == value
    account.advance(3)  # caught up, and no longer recent
    assert a.read_state({"GONG_DATA_RAW"}, {"APP"}).tags[key] == value


def test_every_metadata_query_parses_with_sqlglot() -> None:
    """The SELECTs a plan sends are real Snowflake SQL as far as sqlglot can tell (SHOW is
    kept as an opaque command by sqlglot: checked against the documented syntax instead)."""
    import sqlglot
    from sqlglot import expressions as exp

    account, a = _modelled(3)
    for i in range(3):  # recently altered: read directly
        account.create_relation("ADMIN", "GONG_DATA_RAW", f"NEW{i}", [("ID", "VARCHAR")])
    before = len(account.statements)
    a.sample([("GONG_DATA_RAW", "NEW0", ("ID",))], 5)
    a.read_state({"GONG_DATA_RAW"}, {"APP"})
    sent = account.statements[before:]
    assert any("TAG_REFERENCES_ALL_COLUMNS" in s for s in sent)
    for statement in sent:
        if statement.startswith(("SELECT", "(SELECT")):
            tree = sqlglot.parse_one(statement, read="snowflake")
            assert not isinstance(tree, exp.Command), statement
