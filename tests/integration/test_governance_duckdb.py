"""plan / apply / audit / catalog / classify against a real DuckDB file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import yaml

from keel.context import Context
from keel.project.loader import load_project


def _sql(project: Path, *statements: str) -> None:
    (project / ".keel").mkdir(exist_ok=True)
    con = duckdb.connect(str(project / ".keel/warehouse.duckdb"))
    for s in statements:
        con.execute(s)
    con.close()


def _rows(project: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(project / ".keel/warehouse.duckdb"))
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_init_apply_then_plan_is_empty(project: Path, keel: Any) -> None:
    first = keel("plan", "--json", project=project).json()
    kinds = {c["kind"] for c in first["changes"]}
    assert {"bootstrap_ops", "create_schema", "create_role", "grant", "set_tag"} <= kinds
    assert all(c["sql"] for c in first["changes"])
    assert keel("apply", "--yes", project=project).exit_code == 0
    r = keel("plan", "--detailed-exitcode", project=project)
    assert r.exit_code == 0, r.stdout
    assert "no changes" in r.stdout
    # applying twice is a no-op, and logs nothing new
    logged = _rows(project, 'SELECT count(*) FROM "SOPHIA_OPS"."KEEL_APPLY_LOG"')[0][0]
    assert logged == len(first["changes"])
    assert keel("apply", "--yes", project=project).exit_code == 0
    assert _rows(project, 'SELECT count(*) FROM "SOPHIA_OPS"."KEEL_APPLY_LOG"')[0][0] == logged
    schemas = {r[0] for r in _rows(project, "SELECT schema_name FROM information_schema.schemata")}
    assert {
        "SOPHIA_SEMANTIC",
        "SOPHIA_INSIGHTS",
        "SOPHIA_ML",
        "SOPHIA_OPS",
        "GONG_DATA_RAW",
        "GONG_DATA",
        "NETSUITE_DATA_RAW",
    } <= schemas
    roles = {r[0] for r in _rows(project, 'SELECT "ROLE_NAME" FROM "SOPHIA_OPS"."KEEL_ROLES"')}
    assert roles == {"SOPHIA_AI_APP_ROLE", "SOPHIA_AI_ETL_ROLE", "SOPHIA_AI_ADMIN_ROLE"}


def test_detailed_exitcode_two_when_changes(project: Path, keel: Any) -> None:
    assert keel("plan", "--detailed-exitcode", project=project).exit_code == 2


def test_declared_grants_are_least_privilege(project: Path, keel: Any) -> None:
    keel("apply", "--yes", project=project)
    grants = set(
        _rows(
            project,
            'SELECT "ROLE_NAME", "PRIVILEGE", "OBJECT_TYPE", "OBJECT_NAME" '
            'FROM "SOPHIA_OPS"."KEEL_GRANTS"',
        )
    )
    app = {g for g in grants if g[0] == "SOPHIA_AI_APP_ROLE"}
    assert ("SOPHIA_AI_APP_ROLE", "SELECT", "FUTURE_TABLES", "GONG_DATA") in app
    assert not any(g[3].endswith("_RAW") for g in app)
    assert {g[1] for g in app} == {"USAGE", "SELECT"}
    etl = {g for g in grants if g[0] == "SOPHIA_AI_ETL_ROLE"}
    assert {g[3] for g in etl} == {
        "GONG_DATA_RAW",
        "HUBSPOT_DATA_RAW",
        "SLACK_DATA_RAW",
        "NETSUITE_DATA_RAW",
    }
    assert ("SOPHIA_AI_ETL_ROLE", "CREATE", "SCHEMA", "GONG_DATA_RAW") in etl


def test_hand_made_grant_is_drift_and_revoked(project: Path, keel: Any) -> None:
    keel("apply", "--yes", project=project)
    _sql(
        project,
        "INSERT INTO \"SOPHIA_OPS\".\"KEEL_GRANTS\" VALUES ('SOPHIA_AI_APP_ROLE', 'SELECT', "
        "'ALL_TABLES', 'GONG_DATA_RAW', now())",
    )
    r = keel("audit", "--json", project=project)
    assert r.exit_code == 1
    drift = r.json()["rbac"]["violations"]
    assert drift == [
        {
            "kind": "grant_drift",
            "object": "GONG_DATA_RAW",
            "message": "granted but not declared: SELECT on all tables in GONG_DATA_RAW "
            "to SOPHIA_AI_APP_ROLE",
        }
    ]
    plan = keel("plan", "--json", project=project).json()
    assert [c["kind"] for c in plan["changes"]] == ["revoke"]
    keel("apply", "--yes", project=project)
    assert keel("plan", "--detailed-exitcode", project=project).exit_code == 0


def test_tables_created_outside_keel_are_classified_and_tagged(project: Path, keel: Any) -> None:
    keel("apply", "--yes", project=project)
    _sql(
        project,
        "CREATE TABLE GONG_DATA_RAW.MEETINGS (id VARCHAR, email VARCHAR, phone VARCHAR, "
        "transcript VARCHAR, duration INTEGER)",
        "INSERT INTO GONG_DATA_RAW.MEETINGS VALUES ('m1', 'ann@example.com', '+1 415 555 0100', "
        "repeat('we discussed the renewal ', 20), 30)",
    )
    plan = keel("plan", "--json", project=project).json()
    tags = {c["object"]: c for c in plan["changes"] if c["kind"] == "set_tag"}
    table = tags["table GONG_DATA_RAW.MEETINGS"]
    assert '"data_source":"gong"' in table["after"] and '"entity_type":"call"' in table["after"]
    assert table["reason"].startswith("proposed by classification")
    assert tags["column GONG_DATA_RAW.MEETINGS.EMAIL"]["after"] == '{"pii_level":"high"}'
    assert tags["column GONG_DATA_RAW.MEETINGS.PHONE"]["after"] == '{"pii_level":"high"}'
    assert '"vector_index":"true"' in tags["column GONG_DATA_RAW.MEETINGS.TRANSCRIPT"]["after"]
    assert '"is_primary_identifier":"true"' in tags["column GONG_DATA_RAW.MEETINGS.ID"]["after"]
    assert "column GONG_DATA_RAW.MEETINGS.DURATION" not in tags
    before = keel("audit", "--json", project=project)
    assert before.exit_code == 1
    assert before.json()["tag_coverage"]["tables"] == {"tagged": 0, "total": 1, "percent": 0.0}
    keel("apply", "--yes", project=project)
    after = keel("audit", "--json", project=project)
    assert after.exit_code == 0, after.stdout
    cov = after.json()["tag_coverage"]
    assert cov["tables"]["percent"] == 100.0 and cov["critical_columns"]["percent"] == 100.0
    catalog = {o["name"]: o for o in keel("catalog", "--json", project=project).json()}
    assert catalog["GONG_DATA_RAW.MEETINGS"]["metadata"]["entity_type"] == "call"
    assert catalog["GONG_DATA_RAW.MEETINGS.EMAIL"]["metadata"] == {"pii_level": "high"}
    assert catalog["GONG_DATA_RAW.MEETINGS.DURATION"]["metadata"] is None
    assert catalog["GONG_DATA_RAW"]["object_type"] == "schema"


def test_classify_write_puts_proposals_in_the_contract(project: Path, keel: Any) -> None:
    keel("apply", "--yes", project=project)
    _sql(
        project,
        "CREATE TABLE HUBSPOT_DATA_RAW.TICKETS (id VARCHAR, contact_email VARCHAR, body VARCHAR)",
    )
    r = keel("classify", "--write", "--json", project=project)
    assert r.exit_code == 0
    assert "table HUBSPOT_DATA_RAW.TICKETS" in r.json()["written"]
    doc = yaml.safe_load((project / "contracts/hubspot.yml").read_text())
    tickets = next(t for t in doc["sources"][0]["tables"] if t["name"] == "tickets")
    cols = {c["name"]: c for c in tickets["columns"]}
    assert cols["contact_email"]["meta"]["pii_level"] == "high"
    assert tickets["meta"]["keel"]["primary_key"] == ["id"]
    assert (project / "contracts/hubspot.yml").read_text().startswith("# Data contract")
    load_project(project)  # still a valid project
    # the contract now covers the table: nothing is proposed, and the tags are the same
    assert keel("classify", "--json", project=project).json()["proposals"] == []
    keel("apply", "--yes", project=project)
    assert keel("audit", project=project).exit_code == 0


def test_saved_plan_is_refused_when_the_warehouse_changed(
    project: Path, keel: Any, tmp_path: Path
) -> None:
    out = tmp_path / "plan.json"
    assert keel("plan", "--out", str(out), project=project).exit_code == 0
    _sql(project, "CREATE SCHEMA SOMETHING_NEW", "CREATE SCHEMA IF NOT EXISTS GONG_DATA_RAW")
    r = keel("apply", str(out), project=project)
    assert r.exit_code == 1
    assert "changed since this plan was made" in r.stderr and "nothing was applied" in r.stderr
    assert "Traceback" not in r.stderr


def test_saved_plan_applies_when_nothing_changed(project: Path, keel: Any, tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    keel("plan", "--out", str(out), project=project)
    r = keel("apply", str(out), project=project)
    assert r.exit_code == 0, r.stderr
    assert keel("plan", "--detailed-exitcode", project=project).exit_code == 0


def test_edited_plan_file_is_refused(project: Path, keel: Any, tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    keel("plan", "--out", str(out), project=project)
    out.write_text(out.read_text().replace("CREATE SCHEMA IF NOT EXISTS", "DROP SCHEMA"))
    r = keel("apply", str(out), project=project)
    assert r.exit_code == 1 and "edited after it was saved" in r.stderr


def test_failed_apply_says_what_was_applied_and_what_not(project: Path) -> None:
    with Context(project) as ctx:
        plan = ctx.plan()
        bad = plan.changes[3].with_sql(['CREATE SCHEMA "x"; SELECT * FROM no_such_table'])
        broken = type(plan)(
            plan.changes[:3] + (bad,) + plan.changes[4:], plan.fingerprint, plan.engine
        )
        try:
            ctx.apply(broken)
        except Exception as exc:  # ApplyError
            err = exc
        else:
            raise AssertionError("apply should fail")
    text = str(err)
    assert "stopped at change 4 of" in text and "applied: 3 change(s)" in text
    assert err.applied == [f"{c.kind} {c.object}" for c in plan.changes[:3]]
    assert len(err.not_applied) == len(plan.changes) - 4
    rows = _rows(
        project,
        'SELECT "STATUS", count(*) FROM "SOPHIA_OPS"."KEEL_APPLY_LOG" GROUP BY 1 ORDER BY 1',
    )
    assert rows == [("applied", 3), ("failed", 1)]


def test_apply_without_yes_in_a_pipe_refuses(project: Path, keel: Any) -> None:
    r = keel("apply", project=project)
    assert r.exit_code == 1 and "--yes" in r.stderr


def test_metadata_queries_do_not_grow_with_tables(project: Path, keel: Any) -> None:
    keel("apply", "--yes", project=project)
    counts = []
    for n in (5, 50):
        _sql(
            project,
            *[
                f'CREATE TABLE IF NOT EXISTS SLACK_DATA_RAW."T{i}" (id INTEGER, email VARCHAR)'
                for i in range(n)
            ],
        )
        with Context(project) as ctx:
            ctx.plan()
            counts.append({k: v for k, v in ctx.adapter.queries.items() if k != "sample"})
    assert counts[0] == counts[1]
    assert sum(counts[0].values()) <= 8


def test_older_ops_tables_are_migrated_additively(project: Path, keel: Any) -> None:
    keel("apply", "--yes", project=project)
    _sql(
        project,
        'ALTER TABLE "SOPHIA_OPS"."KEEL_BATCHES" DROP COLUMN "REASON"',
        'DROP TABLE "SOPHIA_OPS"."KEEL_ALERTS"',
        'INSERT INTO "SOPHIA_OPS"."KEEL_BATCHES" ("BATCH_ID") VALUES (\'kept\')',
    )
    plan = keel("plan", "--json", project=project).json()
    (boot,) = [c for c in plan["changes"] if c["kind"] == "bootstrap_ops"]
    assert 'ALTER TABLE "SOPHIA_OPS"."KEEL_BATCHES" ADD COLUMN "REASON" VARCHAR' in boot["sql"]
    assert not [c for c in plan["changes"] if c["kind"] == "set_tag"]  # tags still read
    assert keel("apply", "--yes", project=project).exit_code == 0
    assert keel("plan", "--detailed-exitcode", project=project).exit_code == 0
    assert _rows(project, 'SELECT "BATCH_ID", "REASON" FROM "SOPHIA_OPS"."KEEL_BATCHES"') == [
        ("kept", None)
    ]
