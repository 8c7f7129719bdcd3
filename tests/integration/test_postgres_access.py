"""The access rules, proven on the live server: log in as each role and try everything.

Tables come from three moments: before keel's first apply (an existing warehouse: the
ALL TABLES grants and column privileges cover them), and after it, created by ETL, by
the admin role, and by keel's own user (ingestion, publish): default privileges cover
those. The same matrix is asserted after the follow-up apply.

APP reads a table with masked columns two ways: named columns on the table itself (a
masked column is refused), and ``SELECT *`` on keel's masking view ``<schema>_masked``,
where masked values read ``***MASKED***`` (PostgreSQL refuses a whole statement naming a
column the role may not read, so ``SELECT *`` on the table itself stays refused).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from keel.adapters.postgres import PostgresAdapter
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
    ("app", "SELECT transcript FROM gong_data.calls"): False,
    ("app", "SELECT * FROM gong_data.calls"): False,
    ("app", "SELECT id, department, hire_date FROM netsuite_data.employees"): True,
    ("app", "SELECT ssn FROM netsuite_data.employees"): False,
    ("app", "SELECT email FROM netsuite_data.employees"): False,
    ("app", "SELECT * FROM sophia_semantic.call_360"): True,
    ("app", "SELECT * FROM sophia_semantic.late_360"): True,
    ("app", "SELECT * FROM gong_data.meetings"): True,
    ("app", "SELECT id, company_id FROM hubspot_data.contacts"): True,
    ("app", "SELECT email FROM hubspot_data.contacts"): False,
    ("app", "SELECT id, name FROM slack_data.users"): True,
    ("app", "SELECT email FROM slack_data.users"): False,
    ("app", "SELECT * FROM gong_data_masked.calls"): True,
    ("app", "SELECT * FROM netsuite_data_masked.employees"): True,
    ("app", "SELECT * FROM hubspot_data_masked.contacts"): True,
    ("app", "SELECT * FROM slack_data_masked.users"): True,
    ("app", "INSERT INTO gong_data_masked.calls (id) VALUES ('x')"): False,
    ("app", "UPDATE gong_data_masked.calls SET title = 'x'"): False,
    ("app", "CREATE TABLE gong_data_masked.app_t (a int)"): False,
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
    ("etl", "SELECT * FROM gong_data_masked.calls"): False,
    ("etl", "SELECT * FROM hubspot_data_masked.contacts"): False,
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
    ("nobody", "SELECT * FROM gong_data_masked.calls"): False,
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
    adapter = PostgresAdapter(pg_db.admin_dsn)
    try:
        with adapter.transaction():
            adapter.execute(
                "CREATE TABLE hubspot_data.contacts (id text, email text, first_name text, "
                "last_name text, phone text, company_id text, lifecycle_stage text, "
                "updated_at timestamptz)"
            )
            adapter.execute(
                "INSERT INTO hubspot_data.contacts VALUES ('p1', 'bo@example.com', 'Bo', 'Ek', "
                "'+1 415 555 0100', 'co1', 'lead', now())"
            )
            masking = adapter.masking_sql("HUBSPOT_DATA", "CONTACTS")
            for statement in masking:
                adapter.execute(statement)
    finally:
        adapter.close()
    app = ident(pg_db.role(APP), POSTGRES)
    masked = "'***MASKED***'"
    assert masking == [
        f'REVOKE SELECT ON TABLE "hubspot_data"."contacts" FROM {app}',
        'GRANT SELECT ("company_id", "id", "lifecycle_stage", "updated_at") ON TABLE '
        f'"hubspot_data"."contacts" TO {app}',
        'CREATE SCHEMA IF NOT EXISTS "hubspot_data_masked"',
        'REVOKE ALL ON SCHEMA "hubspot_data_masked" FROM PUBLIC',
        'DROP VIEW IF EXISTS "hubspot_data_masked"."contacts"',
        'CREATE VIEW "hubspot_data_masked"."contacts" AS SELECT "id", '
        + ", ".join(
            f'CASE WHEN FALSE THEN "{c}" ELSE {masked} END AS "{c}"'
            for c in ("email", "first_name", "last_name", "phone")
        )
        + ', "company_id", "lifecycle_stage", "updated_at" FROM "hubspot_data"."contacts"',
        'COMMENT ON VIEW "hubspot_data_masked"."contacts" IS \'{"keel_masking_view_of": '
        '"HUBSPOT_DATA.CONTACTS", "shown": ["ID", "COMPANY_ID", "LIFECYCLE_STAGE", '
        '"UPDATED_AT"]}\'',
        f'GRANT USAGE ON SCHEMA "hubspot_data_masked" TO {app}',
        f'GRANT SELECT ON TABLE "hubspot_data_masked"."contacts" TO {app}',
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

    # what APP's SELECT * returns: masked values, whoever created the table; ADMIN: clear
    m = "***MASKED***"
    assert rows(users["app"], "SELECT id, title, transcript FROM gong_data_masked.calls") == [
        ("c1", "Kickoff", m)
    ]
    assert rows(
        users["app"], "SELECT id, email, ssn, department FROM netsuite_data_masked.employees"
    ) == [("e1", m, m, "Sales")]
    assert rows(users["app"], "SELECT * FROM hubspot_data_masked.contacts")[0][:6] == (
        "p1",
        m,
        m,
        m,
        m,
        "co1",
    )
    assert rows(users["app"], "SELECT id, name, email FROM slack_data_masked.users") == [
        ("u1", "bo", m)
    ]
    assert rows(users["admin"], "SELECT transcript FROM gong_data.calls") == [("hello there",)]
    assert rows(users["admin"], "SELECT email FROM slack_data.users") == [("bo@example.com",)]
    # the view has the table's columns, in the table's order
    star = "SELECT * FROM gong_data_masked.calls"
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
    assert attempt(app, "SELECT id, started_at FROM gong_data.calls")
    assert not attempt(app, "SELECT title FROM gong_data.calls")
    assert not attempt(app, "SELECT transcript FROM gong_data.calls")
    # the masking view follows the new policy
    assert rows(app, "SELECT id, title FROM gong_data_masked.calls") == [("c1", "***MASKED***")]


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
    pg_db.sql("DROP VIEW gong_data_masked.calls")
    audit = keel("audit", "--json", project=root)
    assert audit.exit_code == 1
    missing = [v for v in audit.json()["rbac"]["violations"] if v["kind"] == "grant_missing"]
    assert [v["object"] for v in missing] == [
        "GONG_DATA.CALLS(DIRECTION,DURATION_SECONDS,ID,PRIMARY_USER_ID,STARTED_AT,TITLE,UPDATED_AT)"
    ]
    assert keel("apply", "--yes", project=root).exit_code == 0
    assert keel("plan", "--detailed-exitcode", project=root).exit_code == 0
    assert rows(app, "SELECT id, transcript FROM gong_data_masked.calls") == [
        ("c1", "***MASKED***")
    ]
    # a column the contract does not know yet: hidden on the table, masked in the view
    pg_db.sql("ALTER TABLE gong_data.calls ADD COLUMN caller_phone text, ADD COLUMN score bigint")
    pg_db.sql("UPDATE gong_data.calls SET caller_phone = '+1 415 555 0100', score = 7")
    r = keel("plan", "--detailed-exitcode", project=root)
    assert r.exit_code == 2, r.stdout
    assert keel("apply", "--yes", project=root).exit_code == 0
    assert keel("plan", "--detailed-exitcode", project=root).exit_code == 0
    assert rows(app, "SELECT * FROM gong_data_masked.calls")[0][-2:] == ("***MASKED***", None)
    assert not attempt(app, "SELECT caller_phone FROM gong_data.calls")
