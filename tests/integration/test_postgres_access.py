"""The access rules, proven on the live server: log in as each role and try everything.

Tables come from three moments: before keel's first apply (an existing warehouse: the
ALL TABLES grants and column privileges cover them), and after it, created by ETL, by
the admin role, and by keel's own user (ingestion, publish): default privileges cover
those. The same matrix is asserted after the follow-up apply.

APP reads a table with masked columns at its promoted name, which keel serves through a
masking view over ``<schema>_base`` (docs/postgres.md): ``SELECT *`` and named masked
columns work and read ``***MASKED***``; ADMIN reads the same name in clear; ETL and PUBLIC
are refused; no role may use the base schema.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from tests.support.postgres_publish import publish_masked_contacts

from keel.sql import POSTGRES, ident

pytestmark = pytest.mark.postgres

APP, ETL, ADMIN = "SOPHIA_AI_APP_ROLE", "SOPHIA_AI_ETL_ROLE", "SOPHIA_AI_ADMIN_ROLE"
CALLS_COLUMNS = (
    "id text, title text, started_at timestamptz, duration_seconds bigint, direction text, "
    "primary_user_id text, transcript text, updated_at timestamptz"
)

# (who, statement) -> allowed?
MATRIX: dict[tuple[str, str], bool] = {
    # APP: reads the semantic layer and promoted data, never a masked column, writes nothing
    ("app", "SELECT id, title, duration_seconds FROM gong_data.calls"): True,
    ("app", "SELECT count(*) FROM gong_data.calls"): True,
    ("app", "SELECT transcript FROM gong_data.calls"): True,
    ("app", "SELECT * FROM gong_data.calls"): True,
    ("app", "SELECT id, department, hire_date FROM netsuite_data.employees"): True,
    ("app", "SELECT ssn FROM netsuite_data.employees"): True,
    ("app", "SELECT * FROM netsuite_data.employees"): True,
    ("app", "SELECT * FROM sophia_semantic.call_360"): True,
    ("app", "SELECT * FROM sophia_semantic.late_360"): True,
    ("app", "SELECT * FROM gong_data.meetings"): True,
    ("app", "SELECT id, company_id FROM hubspot_data.contacts"): True,
    ("app", "SELECT * FROM hubspot_data.contacts"): True,
    ("app", "SELECT id, name FROM slack_data.users"): True,
    ("app", "SELECT * FROM slack_data.users"): True,
    ("app", "SELECT * FROM gong_data_base.calls"): False,
    ("app", "SELECT * FROM hubspot_data_base.contacts"): False,
    ("app", "SELECT * FROM slack_data_base.users"): False,
    ("app", "CREATE TABLE gong_data_base.app_t (a int)"): False,
    ("app", "SELECT * FROM gong_data_raw.calls"): False,
    ("app", "SELECT * FROM gong_data_raw.late_stream"): False,
    ("app", "SELECT * FROM gong_data_raw.keel_landed"): False,
    ("app", "SELECT * FROM sophia_ops.keel_tags"): False,
    ("app", "INSERT INTO gong_data.calls (id) VALUES ('x')"): False,
    ("app", "UPDATE gong_data.calls SET title = 'x'"): False,
    ("app", "DELETE FROM gong_data.calls"): False,
    ("app", "INSERT INTO sophia_semantic.call_360 VALUES ('x', 'y')"): False,
    ("app", "UPDATE sophia_semantic.call_360 SET summary = 'x'"): False,
    ("app", "DELETE FROM sophia_semantic.call_360"): False,
    ("app", "INSERT INTO gong_data_raw.calls (id) VALUES ('x')"): False,
    ("app", "CREATE TABLE gong_data.app_t (a int)"): False,
    ("app", "CREATE TABLE sophia_semantic.app_t (a int)"): False,
    ("app", "CREATE TABLE gong_data_raw.app_t (a int)"): False,
    ("app", "CREATE TABLE public.app_t (a int)"): False,
    ("app", "CREATE TEMP TABLE app_t (a int)"): False,
    # ETL: creates and writes in _raw, reads nothing promoted or sophia_*
    ("etl", "SELECT * FROM gong_data_raw.calls"): True,
    ("etl", "INSERT INTO gong_data_raw.calls (id) VALUES ('c2')"): True,
    ("etl", "UPDATE gong_data_raw.calls SET title = 't' WHERE id = 'c1'"): True,
    ("etl", "DELETE FROM gong_data_raw.calls WHERE id = 'c1'"): True,
    ("etl", "CREATE TABLE gong_data_raw.etl_new (a int)"): True,
    ("etl", "INSERT INTO gong_data_raw.keel_landed VALUES ('k2')"): True,
    ("etl", "DELETE FROM gong_data_raw.keel_landed"): True,
    ("etl", "INSERT INTO gong_data_raw.late_stream VALUES ('s2', 'p')"): True,
    ("etl", "SELECT id FROM gong_data.calls"): False,
    ("etl", "SELECT * FROM gong_data.meetings"): False,
    ("etl", "SELECT * FROM sophia_semantic.call_360"): False,
    ("etl", "SELECT * FROM gong_data_base.calls"): False,
    ("etl", "SELECT * FROM hubspot_data.contacts"): False,
    ("etl", "SELECT * FROM slack_data.users"): False,
    ("etl", "SELECT * FROM sophia_ops.keel_tags"): False,
    ("etl", "INSERT INTO gong_data.calls (id) VALUES ('x')"): False,
    ("etl", "CREATE TABLE gong_data.etl_t (a int)"): False,
    ("etl", "CREATE TABLE sophia_semantic.etl_t (a int)"): False,
    ("etl", "CREATE TABLE public.etl_t (a int)"): False,
    # ADMIN: owns sophia_* and promoted, reads _raw, writes no _raw
    ("admin", "CREATE TABLE sophia_semantic.admin_t (a int)"): True,
    ("admin", "CREATE TABLE sophia_insights.admin_t (a int)"): True,
    ("admin", "CREATE TABLE sophia_ml.admin_t (a int)"): True,
    ("admin", "CREATE TABLE gong_data.admin_t (a int)"): True,
    ("admin", "SELECT * FROM gong_data.calls"): True,
    ("admin", "SELECT * FROM hubspot_data.contacts"): True,
    ("admin", "SELECT * FROM slack_data.users"): True,
    ("admin", "SELECT * FROM gong_data_base.calls"): False,
    ("admin", "SELECT * FROM slack_data_base.users"): False,
    ("admin", "INSERT INTO gong_data.calls (id) VALUES ('a1')"): True,
    ("admin", "SELECT * FROM sophia_ops.keel_tags"): True,
    ("admin", "SELECT * FROM gong_data_raw.calls"): True,
    ("admin", "SELECT * FROM gong_data_raw.late_stream"): True,
    ("admin", "SELECT * FROM gong_data_raw.keel_landed"): True,
    ("admin", "INSERT INTO gong_data_raw.calls (id) VALUES ('x')"): False,
    ("admin", "CREATE TABLE gong_data_raw.admin_t (a int)"): False,
    # PUBLIC (a login role with no grants): nothing
    ("nobody", "SELECT * FROM gong_data.meetings"): False,
    ("nobody", "SELECT id FROM gong_data.calls"): False,
    ("nobody", "SELECT * FROM sophia_semantic.call_360"): False,
    ("nobody", "SELECT * FROM gong_data_base.calls"): False,
    ("nobody", "SELECT * FROM gong_data_raw.calls"): False,
    ("nobody", "SELECT * FROM sophia_ops.keel_tags"): False,
    ("nobody", "CREATE TABLE public.nobody_t (a int)"): False,
    ("nobody", "CREATE TABLE gong_data_raw.nobody_t (a int)"): False,
    ("nobody", "CREATE TEMP TABLE nobody_t (a int)"): False,
}


def attempt(dsn: str, statement: str) -> bool:
    """Run ``statement`` in a transaction that is rolled back: True when allowed, False
    when the server says permission denied; any other error fails the test."""
    with psycopg.connect(dsn) as conn:
        try:
            conn.execute(statement.encode())
        except psycopg.errors.InsufficientPrivilege:
            return False
        finally:
            conn.rollback()
    return True


def rows(dsn: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return list(conn.execute(query.encode()).fetchall())


def outcomes(users: dict[str, str], skip: str = "\0") -> dict[tuple[str, str], bool]:
    """Every attempt of the matrix (but those naming ``skip``): (who, sql) -> allowed."""
    return {(who, sql): attempt(users[who], sql) for who, sql in MATRIX if skip not in sql}


def test_least_privilege_matrix(pg_db: Any, pg_project: Any, keel: Any) -> None:
    root: Path = pg_project()
    # an existing warehouse: these tables predate keel's first apply
    pg_db.sql(
        "CREATE SCHEMA gong_data_raw",
        "CREATE SCHEMA gong_data",
        "CREATE SCHEMA netsuite_data",
        "CREATE SCHEMA sophia_semantic",
        "CREATE TABLE gong_data_raw.calls (id text, title text, transcript text)",
        "INSERT INTO gong_data_raw.calls VALUES ('c1', 'Kickoff', 'hello there')",
        f"CREATE TABLE gong_data.calls ({CALLS_COLUMNS})",
        "INSERT INTO gong_data.calls VALUES ('c1', 'Kickoff', now(), 60, 'Inbound', 'u1', "
        "'hello there', now())",
        "CREATE TABLE netsuite_data.employees (id text, first_name text, last_name text, "
        "email text, department text, ssn text, hire_date date, updated_at timestamptz)",
        "INSERT INTO netsuite_data.employees VALUES ('e1', 'Ann', 'Lee', 'ann@example.com', "
        "'Sales', '123-45-6789', '2020-01-01', now())",
        "CREATE TABLE sophia_semantic.call_360 (call_id text, summary text)",
        "INSERT INTO sophia_semantic.call_360 VALUES ('c1', 'a short call')",
    )
    first = keel("apply", "--yes", project=root)
    assert first.exit_code == 0, first.stderr
    r = keel("plan", "--detailed-exitcode", project=root)
    assert r.exit_code == 0, r.stdout  # one apply converges, masked tables included

    users = {
        "app": pg_db.login("u_app", pg_db.role(APP)),
        "etl": pg_db.login("u_etl", pg_db.role(ETL)),
        "admin": pg_db.login("u_admin", pg_db.role(ADMIN)),
        "nobody": pg_db.login("u_nobody", None),
    }
    # after apply: ETL lands a new stream, keel's user lands and publishes, ADMIN builds
    pg_db.sql(
        "CREATE TABLE gong_data_raw.late_stream (id text, payload text)",
        "INSERT INTO gong_data_raw.late_stream VALUES ('s1', 'p')",
        dsn=users["etl"],
    )
    pg_db.sql(
        "CREATE TABLE sophia_semantic.late_360 (id text)",
        "INSERT INTO sophia_semantic.late_360 VALUES ('x')",
        "CREATE TABLE sophia_insights.scores (id text)",
        dsn=users["admin"],
    )
    pg_db.sql(
        "CREATE TABLE gong_data_raw.keel_landed (id text)",
        "INSERT INTO gong_data_raw.keel_landed VALUES ('k1')",
        "CREATE TABLE gong_data.meetings (id text, topic text)",
        "INSERT INTO gong_data.meetings VALUES ('m1', 'renewal')",
    )
    # keel's publish creates a masked table and applies the masking in the same transaction
    masking = publish_masked_contacts(pg_db.admin_dsn)
    app, admin = (ident(pg_db.role(r), POSTGRES) for r in (APP, ADMIN))
    (keel_user,) = pg_db.rows("SELECT current_user")[0]
    hide = (
        f"(pg_has_role(current_user, '{pg_db.role(APP)}', 'MEMBER')) "
        f"AND NOT pg_has_role(current_user, '{keel_user}', 'MEMBER')"
    )
    base, view = '"hubspot_data_base"."contacts"', '"hubspot_data"."contacts"'
    assert masking == [
        'CREATE SCHEMA IF NOT EXISTS "hubspot_data_base"',
        'REVOKE ALL ON SCHEMA "hubspot_data_base" FROM PUBLIC',
        'ALTER TABLE "hubspot_data"."contacts" SET SCHEMA "hubspot_data_base"',
        f"REVOKE ALL ON TABLE {base} FROM {admin}",
        f"REVOKE ALL ON TABLE {base} FROM {app}",
        f'CREATE VIEW {view} AS SELECT "id", '
        + ", ".join(
            f'CASE WHEN {hide} THEN \'***MASKED***\' ELSE "{c}" END AS "{c}"'
            for c in ("email", "first_name", "last_name", "phone")
        )
        + f', "company_id", "lifecycle_stage", "updated_at" FROM {base}',
        f"COMMENT ON TABLE {base} IS '"
        '{"keel_masking_view_of": "HUBSPOT_DATA.CONTACTS", "policies": '
        f'{{"{pg_db.canonical(APP)}": ["ID", "COMPANY_ID", "LIFECYCLE_STAGE", "UPDATED_AT"]}}}}'
        "'",
        f"REVOKE ALL ON TABLE {view} FROM {app}",
        f"GRANT SELECT ON TABLE {view} TO {app}",
        *(
            f"GRANT {p} ON TABLE {view} TO {admin}"
            for p in ("DELETE", "INSERT", "SELECT", "UPDATE")
        ),
    ]
    # a masked table the admin role creates, without the masking: the default privileges
    # expose it ...
    pg_db.sql(
        "CREATE TABLE slack_data.users (id text, name text, real_name text, email text, "
        "is_bot boolean, updated_at timestamptz)",
        "INSERT INTO slack_data.users VALUES ('u1', 'bo', 'Bo Ek', 'bo@example.com', false, now())",
        dsn=users["admin"],
    )
    assert attempt(users["app"], "SELECT email FROM slack_data.users")
    # everything else created after apply is covered by default privileges already
    before = outcomes(users, skip="slack_data")
    assert {k: v for k, v in before.items() if v != MATRIX[k]} == {}
    # ... the audit reports it as a leak, and the next apply closes it
    audit = keel("audit", "--json", project=root).json()
    assert {
        "kind": "grant_drift",
        "object": "SLACK_DATA.USERS",
        "message": f"granted but not declared: SELECT on table SLACK_DATA.USERS to "
        f"{pg_db.canonical(APP)}",
    } in audit["rbac"]["violations"]
    plan = keel("plan", "--json", project=root).json()
    governance = [(c["kind"], c["object"]) for c in plan["changes"] if c["kind"] != "set_tag"]
    assert governance == [
        ("revoke", f"SELECT on table SLACK_DATA.USERS to {pg_db.canonical(APP)}"),
        (
            "grant",
            "SELECT on columns SLACK_DATA.USERS(ID,IS_BOT,NAME,UPDATED_AT) to "
            f"{pg_db.canonical(APP)}",
        ),
    ]
    assert keel("apply", "--yes", project=root).exit_code == 0
    assert keel("plan", "--detailed-exitcode", project=root).exit_code == 0

    after = outcomes(users)
    assert {k: v for k, v in after.items() if v != MATRIX[k]} == {}  # lists what differs

    # what APP's SELECT * on the promoted names returns: masked values, whoever created
    # the table; ADMIN: clear values at the same names
    m = "***MASKED***"
    assert rows(users["app"], "SELECT id, title, transcript FROM gong_data.calls") == [
        ("c1", "Kickoff", m)
    ]
    assert rows(users["app"], "SELECT id, email, ssn, department FROM netsuite_data.employees") == [
        ("e1", m, m, "Sales")
    ]
    assert rows(users["app"], "SELECT * FROM hubspot_data.contacts")[0][:6] == (
        "p1",
        m,
        m,
        m,
        m,
        "co1",
    )
    assert rows(users["app"], "SELECT id, name, email FROM slack_data.users") == [("u1", "bo", m)]
    assert rows(users["admin"], "SELECT transcript FROM gong_data.calls") == [("hello there",)]
    assert rows(users["admin"], "SELECT email FROM slack_data.users") == [("bo@example.com",)]
    assert rows(users["admin"], "SELECT email FROM hubspot_data.contacts") == [("bo@example.com",)]
    # the view has the table's columns, in the table's order
    star = "SELECT * FROM gong_data.calls"
    assert len(rows(users["app"], star)[0]) == len(CALLS_COLUMNS.split(","))
    audit = keel("audit", "--json", project=root).json()
    assert audit["rbac"]["violations"] == []


def test_a_changed_masking_policy_converges_in_one_apply(
    pg_db: Any, pg_project: Any, keel: Any
) -> None:
    root: Path = pg_project()
    pg_db.sql(
        "CREATE SCHEMA gong_data",
        f"CREATE TABLE gong_data.calls ({CALLS_COLUMNS})",
        "INSERT INTO gong_data.calls (id, title) VALUES ('c1', 'Kickoff')",
    )
    assert keel("apply", "--yes", project=root).exit_code == 0
    app = pg_db.login("u_app", pg_db.role(APP))
    assert attempt(app, "SELECT id, title FROM gong_data.calls")
    # the contract now says call titles are personal data
    contract = root / "contracts/gong.yml"
    text = contract.read_text()
    marker = "          - name: title\n            data_type: varchar\n            description: Call title.\n"
    assert marker in text
    contract.write_text(text.replace(marker, marker + "            meta: {pii_level: high}\n"))
    plan = keel("plan", "--json", project=root).json()
    assert [c["kind"] for c in plan["changes"] if c["kind"] in ("grant", "revoke")] == [
        "revoke",
        "grant",
    ]
    assert keel("apply", "--yes", project=root).exit_code == 0
    assert keel("plan", "--detailed-exitcode", project=root).exit_code == 0
    # the masking view at the promoted name follows the new policy
    assert rows(app, "SELECT id, title, transcript FROM gong_data.calls") == [
        ("c1", "***MASKED***", "***MASKED***")
    ]


def test_a_stale_masking_view_is_reported_and_rebuilt(
    pg_db: Any, pg_project: Any, keel: Any
) -> None:
    """A view dropped by hand, and a column added to the table after apply: the audit
    reports the policy as not granted, one apply rebuilds the view, the plan is empty."""
    root: Path = pg_project()
    pg_db.sql(
        "CREATE SCHEMA gong_data",
        f"CREATE TABLE gong_data.calls ({CALLS_COLUMNS})",
        "INSERT INTO gong_data.calls (id, title, transcript) VALUES ('c1', 'Kickoff', 'hi')",
    )
    assert keel("apply", "--yes", project=root).exit_code == 0
    app = pg_db.login("u_app", pg_db.role(APP))
    pg_db.sql("DROP VIEW gong_data.calls")
    audit = keel("audit", "--json", project=root)
    assert audit.exit_code == 1
    missing = [v for v in audit.json()["rbac"]["violations"] if v["kind"] == "grant_missing"]
    assert [v["object"] for v in missing] == [
        "GONG_DATA.CALLS(DIRECTION,DURATION_SECONDS,ID,PRIMARY_USER_ID,STARTED_AT,TITLE,UPDATED_AT)"
    ]
    assert keel("apply", "--yes", project=root).exit_code == 0
    assert keel("plan", "--detailed-exitcode", project=root).exit_code == 0
    assert rows(app, "SELECT id, transcript FROM gong_data.calls") == [("c1", "***MASKED***")]
    # a column the contract does not know yet, added to the base table: masked in the view
    pg_db.sql(
        "ALTER TABLE gong_data_base.calls ADD COLUMN caller_phone text, ADD COLUMN score bigint"
    )
    pg_db.sql("UPDATE gong_data_base.calls SET caller_phone = '+1 415 555 0100', score = 7")
    r = keel("plan", "--detailed-exitcode", project=root)
    assert r.exit_code == 2, r.stdout
    assert keel("apply", "--yes", project=root).exit_code == 0
    assert keel("plan", "--detailed-exitcode", project=root).exit_code == 0
    assert rows(app, "SELECT * FROM gong_data.calls")[0][-2:] == ("***MASKED***", None)
    assert rows(app, "SELECT caller_phone FROM gong_data.calls") == [("***MASKED***",)]
