"""plan / apply / audit on the live PostgreSQL server: idempotence, drift, catalog cost."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from keel.adapters.postgres import PostgresAdapter
from keel.context import Context
from keel.errors import WarehouseError
from keel.sql import POSTGRES, ident

pytestmark = pytest.mark.postgres

APP, ETL, ADMIN = "SOPHIA_AI_APP_ROLE", "SOPHIA_AI_ETL_ROLE", "SOPHIA_AI_ADMIN_ROLE"


def q(name: str) -> str:
    return ident(name, POSTGRES)


def test_init_apply_then_plan_is_empty(pg_db: Any, pg_project: Any, keel: Any) -> None:
    root: Path = pg_project(init=False)
    r = keel("init", str(root), "--engine", "postgres")
    assert r.exit_code == 0, r.stderr
    assert "dsn: ${KEEL_PG_DSN}" in (root / "keel.yml").read_text()
    pg_db.prefix_roles(root)
    first = keel("plan", "--json", project=root).json()
    kinds = {c["kind"] for c in first["changes"]}
    assert {"bootstrap_ops", "create_schema", "create_role", "grant_role", "grant"} <= kinds
    membership = next(c for c in first["changes"] if c["kind"] == "grant_role")
    assert membership["object"] == f"{pg_db.canonical(ADMIN)} -> SYSADMIN"
    assert "SYSADMIN does not exist on this server: skipped" in membership["note"]
    assert keel("apply", "--yes", project=root).exit_code == 0
    r = keel("plan", "--detailed-exitcode", project=root)
    assert r.exit_code == 0, r.stdout
    assert "no changes" in r.stdout
    assert keel("apply", "--yes", project=root).exit_code == 0  # a no-op, logged as nothing
    logged = pg_db.rows("SELECT count(*) FROM sophia_ops.keel_apply_log")[0][0]
    assert logged == len(first["changes"])
    audit = keel("audit", "--json", project=root)
    assert audit.exit_code == 0, audit.stdout
    assert audit.json()["rbac"] == {"enforced": True, "violations": []}

    roles = {
        name: (login, inherit)
        for name, login, inherit in pg_db.rows(
            f"SELECT rolname, rolcanlogin, rolinherit FROM pg_roles "
            f"WHERE starts_with(rolname, '{pg_db.prefix}')"
        )
    }
    assert roles == {pg_db.role(r): (False, True) for r in (APP, ETL, ADMIN)}
    # nothing for PUBLIC: no CREATE on schema public, no TEMP on the database, no USAGE
    public = pg_db.rows(
        "SELECT has_schema_privilege('public', 'public', 'CREATE'), "
        "has_database_privilege('public', current_database(), 'TEMP'), "
        "bool_or(has_schema_privilege('public', nspname, 'USAGE')) FROM pg_namespace "
        "WHERE nspname LIKE 'sophia%' OR nspname LIKE '%data%'"
    )
    assert public == [(False, False, False)]
    # the tag is a KEEL_TAGS row and the schema's comment
    comment = pg_db.rows("SELECT obj_description('gong_data_raw'::regnamespace, 'pg_namespace')")
    assert json.loads(comment[0][0]) == {
        "data_source": "gong",
        "layer": "raw",
        "update_frequency": "hourly",
    }


def test_hand_made_grants_are_drift_and_revoked(pg_db: Any, pg_project: Any, keel: Any) -> None:
    root: Path = pg_project()
    assert keel("apply", "--yes", project=root).exit_code == 0
    pg_db.sql(
        "CREATE TABLE gong_data_raw.calls (id text, title text)",
        "CREATE TABLE gong_data.meetings (id text, topic text)",
        "CREATE TABLE public.notes (id text)",
    )
    assert keel("apply", "--yes", project=root).exit_code == 0  # tags for the new tables
    app, etl = pg_db.role(APP), pg_db.role(ETL)
    pg_db.sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA gong_data_raw TO {q(app)}")

    r = keel("audit", "--json", project=root)
    assert r.exit_code == 1
    assert r.json()["rbac"]["violations"] == [
        {
            "kind": "grant_drift",
            "object": "GONG_DATA_RAW",
            "message": "granted but not declared: SELECT on all tables in GONG_DATA_RAW "
            f"to {pg_db.canonical(APP)}",
        }
    ]
    plan = keel("plan", "--json", project=root).json()
    assert [(c["kind"], c["sql"]) for c in plan["changes"]] == [
        ("revoke", [f"REVOKE SELECT ON ALL TABLES IN SCHEMA {q('gong_data_raw')} FROM {q(app)}"])
    ]
    assert keel("apply", "--yes", project=root).exit_code == 0
    assert keel("plan", "--detailed-exitcode", project=root).exit_code == 0
    assert pg_db.rows(f"SELECT has_table_privilege('{app}', 'gong_data_raw.calls', 'SELECT')") == [
        (False,)
    ]

    # every other kind of hand-made privilege: each reported, each revoked in one apply
    analyst = f"{pg_db.prefix}analyst"
    pg_db.sql(
        f"CREATE ROLE {q(analyst)} NOLOGIN",
        f"GRANT USAGE ON SCHEMA gong_data TO {q(analyst)}",
        "GRANT SELECT ON gong_data.meetings TO PUBLIC",
        f"GRANT TRUNCATE ON gong_data_raw.calls TO {q(etl)}",
        f"GRANT SELECT ON public.notes TO {q(app)}",
        f"GRANT SELECT (id) ON gong_data_raw.calls TO {q(app)}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {q(etl)} IN SCHEMA gong_data_raw "
        f"GRANT SELECT ON TABLES TO {q(app)}",
        f"GRANT {q(app)} TO {q(etl)}",
    )
    audit = keel("audit", "--json", project=root).json()
    drift = sorted(v["message"] for v in audit["rbac"]["violations"])
    a, e, an = pg_db.canonical(APP), pg_db.canonical(ETL), analyst.upper()
    assert drift == sorted(
        f"granted but not declared: {text}"
        for text in (
            f"USAGE on schema GONG_DATA to {an}",
            "SELECT on all tables in GONG_DATA to PUBLIC",
            f"TRUNCATE on all tables in GONG_DATA_RAW to {e}",
            f"SELECT on table PUBLIC.NOTES to {a}",
            f"SELECT on columns GONG_DATA_RAW.CALLS(ID) to {a}",
            f"SELECT on future tables created by {e} in GONG_DATA_RAW to {a}",
        )
    )
    plan = keel("plan", "--json", project=root).json()
    assert {c["kind"] for c in plan["changes"]} == {"revoke", "revoke_role"}
    assert keel("apply", "--yes", project=root).exit_code == 0
    r = keel("plan", "--detailed-exitcode", project=root)
    assert r.exit_code == 0, r.stdout
    leftovers = pg_db.rows(
        f"SELECT has_schema_privilege('{analyst}', 'gong_data', 'USAGE'), "
        "has_table_privilege('public', 'gong_data.meetings', 'SELECT'), "
        f"has_table_privilege('{etl}', 'gong_data_raw.calls', 'TRUNCATE'), "
        f"has_table_privilege('{app}', 'public.notes', 'SELECT'), "
        f"has_column_privilege('{app}', 'gong_data_raw.calls', 'id', 'SELECT'), "
        f"pg_has_role('{etl}', '{app}', 'MEMBER'), "
        "(SELECT count(*) > 0 FROM pg_default_acl WHERE defaclacl::text LIKE "
        f"'%{app}=r/{etl}%' AND defaclnamespace = 'gong_data_raw'::regnamespace)"
    )
    assert leftovers == [(False,) * 7]


def test_catalog_queries_do_not_grow_with_tables(pg_db: Any, pg_project: Any, keel: Any) -> None:
    root: Path = pg_project()
    assert keel("apply", "--yes", project=root).exit_code == 0
    counts = []
    for n in (5, 500):
        pg_db.sql(
            *[
                f"CREATE TABLE IF NOT EXISTS slack_data_raw.t{i} (id integer, n bigint)"
                for i in range(n)
            ]
        )
        with Context(root) as ctx:
            plan = ctx.plan()
            assert len([c for c in plan.changes if c.object.startswith("table ")]) == n
            counts.append(dict(ctx.adapter.queries))
    assert counts[0] == counts[1]
    assert counts[0] == {
        "session": 1,
        "roles": 3,  # role names, memberships, recorded memberships
        "schemas": 1,
        "tables": 1,
        "columns": 1,
        "grants": 2,  # default privileges, recorded column policies
        "tags": 1,
    }


def test_refused_statements_say_why_and_roll_back(pg_db: Any) -> None:
    adapter = PostgresAdapter(pg_db.admin_dsn)
    try:
        with pytest.raises(WarehouseError, match='relation "nope.t" does not exist') as info:
            adapter.execute(f"SELECT * FROM {q('nope')}.{q('t')}")
        assert "SQL: SELECT" in info.value.message
        refused = pytest.raises(WarehouseError, match='syntax error at or near "SELEC"')
        with refused, adapter.transaction():
            adapter.execute("CREATE TABLE public.tx_probe (a int)")
            adapter.execute("SELEC 1")
        assert pg_db.rows("SELECT to_regclass('public.tx_probe') IS NULL") == [(True,)]
    finally:
        adapter.close()
