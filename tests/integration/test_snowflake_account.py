"""keel against a model of a Snowflake account (tests/support/snowflake_account.py): the
CLI connects through snowflake.connector.connect, which here returns the model's connection.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import snowflake.connector
import sqlglot
import yaml
from sqlglot import expressions as exp
from tests.support.snowflake_account import Account, Schema

from keel.project.init import write_project

GOLDEN = Path(__file__).parent.parent / "golden" / "snowflake"
APP, ETL, ADMIN = "SOPHIA_AI_APP_ROLE", "SOPHIA_AI_ETL_ROLE", "SOPHIA_AI_ADMIN_ROLE"
ENV = {
    "SNOWFLAKE_ACCOUNT": "xy12345",
    "SNOWFLAKE_USER": "KEEL",
    "SNOWFLAKE_PASSWORD": "not-a-real-password",
    "SNOWFLAKE_WAREHOUSE": "COMPUTE_WH",
    "SNOWFLAKE_DATABASE": "SOPHIA",
}
CALLS = [
    ("ID", "VARCHAR"),
    ("TITLE", "VARCHAR"),
    ("STARTED_AT", "TIMESTAMP_TZ"),
    ("DURATION_SECONDS", "NUMBER"),
    ("PRIMARY_USER_ID", "VARCHAR"),
    ("_AIRBYTE_RAW_ID", "VARCHAR"),
    ("_AIRBYTE_EXTRACTED_AT", "TIMESTAMP_TZ"),
    ("_AIRBYTE_META", "VARIANT"),
    ("_AIRBYTE_GENERATION_ID", "NUMBER"),
]


@pytest.fixture
def account() -> Account:
    a = Account("SOPHIA")
    a.bootstrap(ADMIN, "COMPUTE_WH")
    return a


@pytest.fixture
def sf_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, account: Account
) -> Callable[..., Path]:
    def make(**warehouse: Any) -> Path:
        root = tmp_path / "proj"
        write_project(root, engine="snowflake", force=True)
        spec = yaml.safe_load((root / "keel.yml").read_text())
        spec["warehouse"].update({"roles_as": "USERADMIN", "grants_as": "SECURITYADMIN"})
        spec["warehouse"].update(warehouse)
        spec["warehouse"] = {k: v for k, v in spec["warehouse"].items() if v is not None}
        (root / "keel.yml").write_text(yaml.safe_dump(spec, sort_keys=False))
        for k, v in ENV.items():
            monkeypatch.setenv(k, v)

        def connect(**params: Any) -> Any:
            return account.connect(("USERADMIN", "SECURITYADMIN"), params)

        monkeypatch.setattr(snowflake.connector, "connect", connect)
        return root

    return make


def _airbyte_lands(account: Account, stream: str = "CALLS", rows: int = 3) -> None:
    """Airbyte's Snowflake destination, as ETL, creates a table in GONG_DATA_RAW."""
    data = [
        {
            "ID": f"c{i}",
            "TITLE": "Renewal call",
            "PRIMARY_USER_ID": f"u{i}",
            "_AIRBYTE_RAW_ID": f"r{i}",
        }
        for i in range(rows)
    ]
    account.create_relation(ETL, "GONG_DATA_RAW", stream, CALLS, data)


def _golden(name: str, plan: dict[str, Any]) -> None:
    """The plan's SQL against tests/golden/snowflake/NAME.sql (KEEL_UPDATE_GOLDEN=1 rewrites
    it); every statement parses with sqlglot's Snowflake dialect, as a real statement where
    sqlglot has a parser for it (it keeps GRANT, roles, tags on columns and masking policies
    as opaque commands)."""
    blocks = [
        f"-- {c['kind']} {c['object']}\n" + "".join(f"{s};\n" for s in c["sql"])
        for c in plan["changes"]
    ]
    text = "\n".join(blocks)
    path = GOLDEN / f"{name}.sql"
    if os.environ.get("KEEL_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")
    for change in plan["changes"]:
        for statement in change["sql"]:
            tree = sqlglot.parse_one(statement, read="snowflake")
            if statement.startswith(PARSED) or TABLE_TAG.fullmatch(statement):
                assert not isinstance(tree, exp.Command), statement


PARSED = ("CREATE TABLE", "MERGE", "INSERT", "SELECT")
TABLE_TAG = re.compile(r"ALTER TABLE \S+ SET TAG .*")


def _revokes(plan: dict[str, Any]) -> list[str]:
    return [s for c in plan["changes"] for s in c["sql"] if s.startswith("REVOKE")]


def test_first_apply_airbyte_second_apply_then_plan_is_empty(
    sf_project: Callable[..., Path], account: Account, keel: Any
) -> None:
    """The issue's scenario: OWNERSHIP rows (on keel's own SOPHIA_OPS objects and on the
    tables Airbyte creates as ETL) are never revoked; the plan converges."""
    project = sf_project()
    _golden("first_apply", keel("plan", "--json", project=project).json())
    r = keel("apply", "--yes", project=project)
    assert r.exit_code == 0, r.stdout + r.stderr
    # the roles work: Airbyte (ETL) can create its table in the RAW schema
    _airbyte_lands(account)
    plan = keel("plan", "--json", project=project).json()
    assert _revokes(plan) == []
    assert keel("apply", "--yes", project=project).exit_code == 0
    r = keel("plan", "--detailed-exitcode", project=project)
    assert r.exit_code == 0, r.stdout
    # the tag keel set is read back exactly while ACCOUNT_USAGE lags, and after it caught up
    account.advance(3)
    assert keel("plan", "--detailed-exitcode", project=project).exit_code == 0
    # APP reads nothing in RAW; ETL writes there; ADMIN is granted to SYSADMIN
    with pytest.raises(Exception, match="Insufficient privileges|not authorized"):
        account.select_as(APP, "GONG_DATA_RAW", "CALLS")
    assert (ADMIN, "SYSADMIN") in account.role_grants


def test_drift_is_reported_fixed_by_one_apply_without_revoking_declared_grants(
    sf_project: Callable[..., Path], account: Account, keel: Any
) -> None:
    project = sf_project()
    assert keel("apply", "--yes", project=project).exit_code == 0
    _airbyte_lands(account)
    assert keel("apply", "--yes", project=project).exit_code == 0
    account.advance(3)
    # drift: an extra grant on a RAW table to APP, a changed tag value, a new table
    account.grants.add(("SELECT", "TABLE", ("SOPHIA", "GONG_DATA_RAW", "CALLS"), "ROLE", APP))
    key = ("TABLE", "GONG_DATA_RAW", "CALLS", None)
    account.set_tag(key, '{"entity_type":"deal"}')
    _airbyte_lands(account, "USERS", rows=2)
    r = keel("audit", "--json", project=project)
    assert r.exit_code == 1, r.stdout + r.stderr
    report = r.json()
    kinds = {(v["kind"], v["object"]) for v in report["violations"]}
    assert ("grant_drift", "GONG_DATA_RAW.CALLS") in kinds
    assert ("tag_drift", "GONG_DATA_RAW.CALLS") in kinds
    assert ("untagged_table", "GONG_DATA_RAW.USERS") in kinds
    plan = keel("plan", "--json", project=project).json()
    _golden("after_drift", plan)
    revokes = _revokes(plan)
    assert revokes == [
        'REVOKE SELECT ON TABLE "SOPHIA"."GONG_DATA_RAW"."CALLS" FROM ROLE "SOPHIA_AI_APP_ROLE"'
    ]
    declared_before = set(account.grants)
    assert keel("apply", "--yes", project=project).exit_code == 0
    lost = declared_before - account.grants
    assert lost == {("SELECT", "TABLE", ("SOPHIA", "GONG_DATA_RAW", "CALLS"), "ROLE", APP)}
    assert keel("plan", "--detailed-exitcode", project=project).exit_code == 0
    assert keel("audit", "--json", project=project).json()["ok"] is True


def test_schema_future_grants_win_over_a_database_level_one(
    sf_project: Callable[..., Path], account: Account, keel: Any
) -> None:
    """[sql-reference/sql/grant-privilege, future grants]: where a schema has future grants
    for an object type, database-level future grants for that type are ignored there. A
    database-wide future SELECT to APP (granted by someone else, with MANAGE GRANTS) does
    not reach the table Airbyte then creates in a _RAW schema, because keel declares
    schema-level future grants on every schema it manages; the plan stays empty."""
    project = sf_project()
    _apply(keel, project)
    admin = account.connect(("SECURITYADMIN",), {"role": "SECURITYADMIN", "database": "SOPHIA"})
    admin.cursor().execute(f'GRANT SELECT ON FUTURE TABLES IN DATABASE "SOPHIA" TO ROLE "{APP}"')
    assert ("DATABASE", "SOPHIA", "TABLE", "SELECT", "ROLE", APP) in account.future
    _airbyte_lands(account)
    with pytest.raises(Exception, match="Insufficient privileges|not authorized"):
        account.select_as(APP, "GONG_DATA_RAW", "CALLS")
    assert not [g for g in account.grants if g[4] == APP and g[2][1:2] == ("GONG_DATA_RAW",)]
    _apply(keel, project)
    assert keel("plan", "--detailed-exitcode", project=project).exit_code == 0


def _apply(keel: Any, project: Path) -> None:
    r = keel("apply", "--yes", project=project)
    assert r.exit_code == 0, r.stdout + r.stderr


USERS = [("ID", "VARCHAR"), ("EMAIL", "VARCHAR"), ("FIRST_NAME", "VARCHAR"), ("ACTIVE", "BOOLEAN")]


def test_app_reads_high_columns_masked_admin_in_clear(
    sf_project: Callable[..., Path], account: Account, keel: Any
) -> None:
    """Tag-based masking policy (Enterprise): APP's masked_pii_levels (high, sensitive)."""
    project = sf_project()
    _apply(keel, project)
    # keel's publish (as ADMIN) creates the promoted table; future grants give APP SELECT
    row = {"ID": "u1", "EMAIL": "ann@example.com", "FIRST_NAME": "Ann", "ACTIVE": True}
    account.create_relation(ADMIN, "GONG_DATA", "USERS", USERS, [row])
    _apply(keel, project)
    assert account.select_as(APP, "GONG_DATA", "USERS") == [
        {"ID": "u1", "EMAIL": "***MASKED***", "FIRST_NAME": "***MASKED***", "ACTIVE": True}
    ]
    assert account.select_as(ADMIN, "GONG_DATA", "USERS") == [row]
    assert keel("plan", "--detailed-exitcode", project=project).exit_code == 0
    assert not [
        v
        for v in keel("audit", "--json", project=project).json()["violations"]
        if v["kind"] == "unmasked_column"
    ]
    # someone removes the policy from the tag: the audit names every column left in clear
    account.tag_policies.clear()
    audit = keel("audit", "--json", project=project).json()
    unmasked = {v["object"] for v in audit["violations"] if v["kind"] == "unmasked_column"}
    assert {"GONG_DATA.USERS.EMAIL", "GONG_DATA.USERS.FIRST_NAME"} <= unmasked
    plan = keel("plan", "--json", project=project).json()
    assert [c["kind"] for c in plan["changes"]] == ["set_masking"]


def test_standard_edition_is_a_clear_error(
    sf_project: Callable[..., Path], account: Account, keel: Any
) -> None:
    account.edition = "standard"
    project = sf_project(edition="standard")
    r = keel("plan", "--json", project=project)
    assert r.exit_code == 1
    assert "needs Snowflake Enterprise edition" in r.stdout + r.stderr


def test_views_and_empty_schemas_converge(
    sf_project: Callable[..., Path], account: Account, keel: Any
) -> None:
    """SELECT on a schema holding only views, and on an empty one, reads back as the ON ALL
    grant: no revoke-all / grant-all churn. Views are tagged with ALTER VIEW."""
    project = sf_project()
    _apply(keel, project)
    account.create_relation(ADMIN, "SOPHIA_SEMANTIC", "CUSTOMERS_V", [("ID", "VARCHAR")], [])
    account.relations[("SOPHIA_SEMANTIC", "CUSTOMERS_V")].kind = "view"
    # the view was created after the future grants: it got them as a VIEW
    account.grants = {
        (p, "VIEW" if k == ("SOPHIA", "SOPHIA_SEMANTIC", "CUSTOMERS_V") else on, k, gk, g)
        for p, on, k, gk, g in account.grants
    }
    plan = keel("plan", "--json", project=project).json()
    assert _revokes(plan) == []
    assert any(
        s.startswith('ALTER VIEW "SOPHIA"."SOPHIA_SEMANTIC"."CUSTOMERS_V" SET TAG')
        for c in plan["changes"]
        for s in c["sql"]
    )
    _apply(keel, project)
    assert keel("plan", "--detailed-exitcode", project=project).exit_code == 0


def test_existing_schema_gets_managed_access(
    sf_project: Callable[..., Path], account: Account, keel: Any
) -> None:
    account.schemas["GONG_DATA"] = Schema(ADMIN, False)
    project = sf_project()
    plan = keel("plan", "--json", project=project).json()
    change = next(c for c in plan["changes"] if c["kind"] == "enable_managed_access")
    assert change["object"] == "GONG_DATA"
    assert 'ALTER SCHEMA "SOPHIA"."GONG_DATA" ENABLE MANAGED ACCESS' in change["sql"]
    _apply(keel, project)
    assert account.schemas["GONG_DATA"].managed
    assert keel("plan", "--detailed-exitcode", project=project).exit_code == 0


def test_database_role_grantee_is_revoked_from_the_database_role(
    sf_project: Callable[..., Path], account: Account, keel: Any
) -> None:
    project = sf_project()
    _apply(keel, project)
    account.create_relation(ADMIN, "GONG_DATA", "USERS", USERS, [])
    account.database_roles.add("ANALYST")
    account.future.add(("SCHEMA", "GONG_DATA", "TABLE", "INSERT", "DATABASE_ROLE", "ANALYST"))
    account.grants.add(
        ("SELECT", "TABLE", ("SOPHIA", "GONG_DATA", "USERS"), "DATABASE_ROLE", "ANALYST")
    )
    plan = keel("plan", "--json", project=project).json()
    assert _revokes(plan) == [
        'REVOKE INSERT ON FUTURE TABLES IN SCHEMA "SOPHIA"."GONG_DATA" FROM DATABASE ROLE '
        '"SOPHIA"."ANALYST"',
        'REVOKE SELECT ON ALL TABLES IN SCHEMA "SOPHIA"."GONG_DATA" FROM DATABASE ROLE '
        '"SOPHIA"."ANALYST"',
        'REVOKE SELECT ON ALL VIEWS IN SCHEMA "SOPHIA"."GONG_DATA" FROM DATABASE ROLE '
        '"SOPHIA"."ANALYST"',
    ]
    _apply(keel, project)
    assert keel("plan", "--detailed-exitcode", project=project).exit_code == 0


def test_without_account_usage_keel_reads_its_own_record(
    sf_project: Callable[..., Path], account: Account, keel: Any
) -> None:
    """No IMPORTED PRIVILEGES on SNOWFLAKE: the first plan works, and tags keel set are read
    back from SOPHIA_OPS.KEEL_TAGS, during and after ACCOUNT_USAGE's latency."""
    account.imported.clear()
    project = sf_project()
    _apply(keel, project)
    _airbyte_lands(account)
    _apply(keel, project)
    assert keel("plan", "--detailed-exitcode", project=project).exit_code == 0
    account.advance(5)
    assert keel("plan", "--detailed-exitcode", project=project).exit_code == 0


def test_missing_privilege_is_named(
    sf_project: Callable[..., Path], account: Account, keel: Any
) -> None:
    """Without roles_as, keel's role cannot create roles: one clear message, exit 1."""
    project = sf_project(roles_as=None, grants_as=None)
    r = keel("apply", "--yes", project=project)
    assert r.exit_code == 1
    out = r.stdout + r.stderr
    assert "Insufficient privileges to operate on account" in out
    assert "keel's role needs CREATE ROLE on the account (USERADMIN has it" in out
    assert "Traceback" not in out


def test_declared_owner_gets_the_schema_as_a_separate_change(
    sf_project: Callable[..., Path], account: Account, keel: Any
) -> None:
    """ADMIN is declared to own SOPHIA_ML (``own:``); a schema someone else created is
    transferred with GRANT OWNERSHIP ... COPY CURRENT GRANTS, never revoked."""
    account.schemas["SOPHIA_ML"] = Schema("SYSADMIN", True)
    project = sf_project()
    plan = keel("plan", "--json", project=project).json()
    change = next(c for c in plan["changes"] if c["kind"] == "transfer_ownership")
    assert (change["object"], change["before"], change["after"]) == ("SOPHIA_ML", "SYSADMIN", ADMIN)
    assert (
        'GRANT OWNERSHIP ON SCHEMA "SOPHIA"."SOPHIA_ML" TO ROLE "SOPHIA_AI_ADMIN_ROLE" '
        "COPY CURRENT GRANTS" in change["sql"]
    )
    assert _revokes(plan) == []
    _apply(keel, project)
    assert account.schemas["SOPHIA_ML"].owner == ADMIN
    assert keel("plan", "--detailed-exitcode", project=project).exit_code == 0


def test_the_model_is_as_strict_as_the_documented_account(account: Account) -> None:
    """Statements Snowflake rejects fail in the model too."""
    conn = account.connect((), {"role": ADMIN, "database": "SOPHIA"})
    cur = conn.cursor()
    cur.execute('CREATE SCHEMA IF NOT EXISTS "SOPHIA"."S" WITH MANAGED ACCESS')
    cur.execute('CREATE SCHEMA IF NOT EXISTS "SOPHIA"."SOPHIA_OPS" WITH MANAGED ACCESS')
    cur.execute('CREATE TAG IF NOT EXISTS "SOPHIA"."SOPHIA_OPS"."T"')
    account.create_relation(ADMIN, "S", "V", [("ID", "VARCHAR")], kind="view")
    with pytest.raises(Exception, match="Object found is of type 'VIEW', not specified type"):
        cur.execute('ALTER TABLE "SOPHIA"."S"."V" SET TAG "SOPHIA"."SOPHIA_OPS"."T" = \'x\'')
    cur.execute('ALTER VIEW "SOPHIA"."S"."V" SET TAG "SOPHIA"."SOPHIA_OPS"."T" = \'x\'')
    with pytest.raises(Exception, match="OWNERSHIP cannot be revoked"):
        cur.execute('REVOKE OWNERSHIP ON VIEW "SOPHIA"."S"."V" FROM ROLE "SYSADMIN"')
    with pytest.raises(Exception, match="Insufficient privileges to operate on account"):
        cur.execute('CREATE ROLE IF NOT EXISTS "X"')
    with pytest.raises(Exception, match="exceeds the maximum length of 256"):
        cur.execute(
            f'ALTER VIEW "SOPHIA"."S"."V" SET TAG "SOPHIA"."SOPHIA_OPS"."T" = \'{"x" * 257}\''
        )
    with pytest.raises(Exception, match="syntax error"):
        cur.execute('GRANT SELECT ON ALL TABLES IN "SOPHIA"."S" TO ROLE "SYSADMIN"')
    # ON ALL is one row per object that exists; future grants reach objects created later
    cur.execute('GRANT SELECT ON ALL VIEWS IN SCHEMA "SOPHIA"."S" TO ROLE "SYSADMIN"')
    cur.execute('SHOW GRANTS TO ROLE "SYSADMIN"')
    rows = [r for r in cur.fetchall() if r[1] == "SELECT"]
    assert [(r[2], r[3]) for r in rows] == [("VIEW", "SOPHIA.S.V")]
    # ACCOUNT_USAGE lags two hours behind a tag assignment
    cur.execute("SELECT DOMAIN FROM SNOWFLAKE.ACCOUNT_USAGE.TAG_REFERENCES WHERE TAG_NAME = 'T'")
    assert cur.fetchall() == []
    account.advance(2)
    cur.execute("SELECT DOMAIN FROM SNOWFLAKE.ACCOUNT_USAGE.TAG_REFERENCES WHERE TAG_NAME = 'T'")
    assert [r[0] for r in cur.fetchall()] == ["TABLE"]


def test_catalog_and_classify_read_the_account(
    sf_project: Callable[..., Path], account: Account, keel: Any
) -> None:
    """Classification samples through ARRAY_CONSTRUCT, which the connector returns as JSON
    text: an uncovered text column full of email addresses is proposed as high PII."""
    project = sf_project()
    _apply(keel, project)
    rows = [{"ID": f"n{i}", "CONTACT": f"person{i}@example.com"} for i in range(5)]
    account.create_relation(
        ETL, "GONG_DATA_RAW", "NOTES", [("ID", "VARCHAR"), ("CONTACT", "VARCHAR")], rows
    )
    r = keel("classify", "--json", project=project)
    assert r.exit_code == 0, r.stdout + r.stderr
    proposals = {p["name"]: p["metadata"] for p in r.json()["proposals"]}
    assert proposals["GONG_DATA_RAW.NOTES.CONTACT"]["pii_level"] == "high"
    r = keel("catalog", "--json", project=project)
    assert r.exit_code == 0, r.stdout + r.stderr
    assert "GONG_DATA_RAW.NOTES" in r.stdout


def test_classify_reads_semi_structured_columns_by_their_keys(
    sf_project: Callable[..., Path], account: Account, keel: Any
) -> None:
    """VARIANT columns (Airbyte's Snowflake destination lands object and array properties
    as VARIANT) and OBJECT / ARRAY columns (tables others build, e.g. dbt) are sampled
    through TO_JSON and classified by their keys, as JSON columns are on DuckDB and
    PostgreSQL; a VARIANT holding plain strings is read as its text."""
    project = sf_project()
    _apply(keel, project)
    rows = [
        {
            "ID": f"u{i}",
            "PROFILE": {"display_name": "Ann", "email": f"ann{i}@example.com"},
            "PHONES": [{"kind": "work", "phone_number": f"+1 415 555 01{i:02d}"}],
            "EXTRA": f"person{i}@example.com",
            "SETTINGS": {"theme": "dark", "page_size": 20},
        }
        for i in range(5)
    ]
    columns = [
        ("ID", "VARCHAR"),
        ("PROFILE", "OBJECT"),
        ("PHONES", "ARRAY"),
        ("EXTRA", "VARIANT"),
        ("SETTINGS", "VARIANT"),
    ]
    account.create_relation(ETL, "SLACK_DATA_RAW", "MEMBERS", columns, rows)
    r = keel("classify", "--json", project=project)
    assert r.exit_code == 0, r.stdout + r.stderr
    proposals = {p["name"]: p for p in r.json()["proposals"]}
    pii = {k: p["metadata"].get("pii_level") for k, p in proposals.items()}
    assert pii["SLACK_DATA_RAW.MEMBERS.PROFILE"] == "high"
    assert pii["SLACK_DATA_RAW.MEMBERS.PHONES"] == "high"
    assert pii["SLACK_DATA_RAW.MEMBERS.EXTRA"] == "high"
    assert pii.get("SLACK_DATA_RAW.MEMBERS.SETTINGS") in (None, "none")
    sent = " ".join(account.statements)
    assert 'TO_JSON("PROFILE")' in sent and 'TO_JSON("PHONES")' in sent
    assert 'IFF(IS_OBJECT("EXTRA") OR IS_ARRAY("EXTRA"), TO_JSON("EXTRA")' in sent
