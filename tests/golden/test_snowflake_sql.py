"""Snowflake without an account: golden SQL for each change kind, and a recording
connection that records statements and replays SHOW / INFORMATION_SCHEMA output."""

from __future__ import annotations

import re
from typing import Any

import pytest

from keel.adapters.snowflake import SnowflakeAdapter
from keel.governance.apply import apply_plan
from keel.plan.diff import diff
from keel.plan.model import Change, Plan
from keel.resources import DesiredState, Grant, Membership, TagKey


class Cursor:
    def __init__(self, conn: RecordingConnection):
        self.conn = conn
        self.description: list[tuple[str]] = []
        self._rows: list[tuple[Any, ...]] = []

    def execute(self, sql: str) -> None:
        self.conn.statements.append(sql)
        for pattern, (columns, rows) in self.conn.replies.items():
            if re.search(pattern, sql):
                self.description = [(c,) for c in columns]
                self._rows = rows
                return
        if self.conn.refuse and re.search(self.conn.refuse, sql):
            raise RuntimeError("SQL access control error: Insufficient privileges")
        self.description, self._rows = [], []

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows

    def close(self) -> None:
        pass


class RecordingConnection:
    def __init__(
        self,
        replies: dict[str, tuple[list[str], list[tuple[Any, ...]]]] | None = None,
        refuse: str | None = None,
    ):
        self.replies = replies or {}
        self.refuse = refuse
        self.statements: list[str] = []

    def cursor(self) -> Cursor:
        return Cursor(self)

    def close(self) -> None:
        pass


def adapter(conn: RecordingConnection | None = None) -> SnowflakeAdapter:
    return SnowflakeAdapter(conn or RecordingConnection(), "SOPHIA")


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
]


@pytest.mark.parametrize(
    ("change", "expected"), CASES, ids=[f"{c.kind}-{i}" for i, (c, _) in enumerate(CASES)]
)
def test_golden_sql(change: Change, expected: list[str]) -> None:
    assert list(adapter().render(change).sql) == expected


def test_bootstrap_creates_tag_and_managed_ops_schema() -> None:
    sql = adapter().render(Change("bootstrap_ops", "SOPHIA_OPS")).sql
    assert sql[0] == 'CREATE SCHEMA IF NOT EXISTS "SOPHIA"."SOPHIA_OPS" WITH MANAGED ACCESS'
    assert sql[1].startswith('CREATE TABLE IF NOT EXISTS "SOPHIA"."SOPHIA_OPS"."KEEL_TAGS"')
    assert '"UPDATED_AT" TIMESTAMP_TZ' in sql[1]
    assert sql[-1].startswith(f"CREATE TAG IF NOT EXISTS {TAG} COMMENT = ")


def _replies() -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    return {
        r"INFORMATION_SCHEMA.\.SCHEMATA": (
            ["SCHEMA_NAME"],
            [("GONG_DATA",), ("GONG_DATA_RAW",), ("SOPHIA_OPS",)],
        ),
        r"INFORMATION_SCHEMA.\.TABLES": (
            ["S", "T", "R", "K"],
            [
                ("GONG_DATA_RAW", "CALLS", 10, "BASE TABLE"),
                ("GONG_DATA_RAW", "USERS", 3, "BASE TABLE"),
            ],
        ),
        r"INFORMATION_SCHEMA.\.COLUMNS": (
            ["S", "T", "C", "D"],
            [("GONG_DATA_RAW", "CALLS", "ID", "TEXT"), ("GONG_DATA_RAW", "CALLS", "EMAIL", "TEXT")],
        ),
        r"ACCOUNT_USAGE\.TAG_REFERENCES": (
            ["D", "S", "N", "C", "V"],
            [
                ("TABLE", "GONG_DATA_RAW", "CALLS", None, '{"entity_type":"call"}'),
                ("COLUMN", "GONG_DATA_RAW", "CALLS", "EMAIL", '{"pii_level":"high"}'),
                ("SCHEMA", None, "GONG_DATA_RAW", None, '{"layer":"raw"}'),
            ],
        ),
        r"^SHOW ROLES": (
            ["created_on", "name"],
            [(None, "APP"), (None, "ETL"), (None, "SYSADMIN")],
        ),
        r'^SHOW GRANTS TO ROLE "APP"': (
            ["created_on", "privilege", "granted_on", "name", "granted_to", "grantee_name"],
            [
                (None, "USAGE", "SCHEMA", "SOPHIA.GONG_DATA", "ROLE", "APP"),
                (None, "SELECT", "TABLE", "SOPHIA.GONG_DATA_RAW.CALLS", "ROLE", "APP"),
                (None, "SELECT", "TABLE", "SOPHIA.GONG_DATA_RAW.USERS", "ROLE", "APP"),
            ],
        ),
        r'^SHOW GRANTS OF ROLE "APP"': (
            ["created_on", "role", "granted_to", "grantee_name"],
            [(None, "APP", "ROLE", "SYSADMIN")],
        ),
        r'^SHOW FUTURE GRANTS IN SCHEMA "SOPHIA"."GONG_DATA"$': (
            ["created_on", "privilege", "grant_on", "name", "grant_to", "grantee_name"],
            [(None, "SELECT", "TABLE", "SOPHIA.GONG_DATA.<TABLE>", "ROLE", "APP")],
        ),
    }


def test_state_is_read_in_bulk_from_replayed_show_output() -> None:
    conn = RecordingConnection(_replies())
    a = adapter(conn)
    state = a.read_state({"GONG_DATA", "GONG_DATA_RAW"}, {"APP", "ETL"})
    assert state.tables[("GONG_DATA_RAW", "CALLS")].columns == (("ID", "TEXT"), ("EMAIL", "TEXT"))
    assert state.tags[TagKey("column", "GONG_DATA_RAW.CALLS.EMAIL")] == '{"pii_level":"high"}'
    assert state.tags[TagKey("schema", "GONG_DATA_RAW")] == '{"layer":"raw"}'
    # per-table grants on every table of a schema fold into ALL_TABLES
    assert Grant("APP", "SELECT", "ALL_TABLES", "GONG_DATA_RAW") in state.grants
    assert Grant("APP", "USAGE", "SCHEMA", "GONG_DATA") in state.grants
    assert Grant("APP", "SELECT", "FUTURE_TABLES", "GONG_DATA") in state.grants
    assert Membership("APP", "SYSADMIN") in state.memberships
    # a fixed number of queries: one per kind, plus one per managed role / schema
    assert a.queries["tables"] == 1 and a.queries["columns"] == 1 and a.queries["schemas"] == 1


def test_drift_on_raw_is_revoked_with_real_statements() -> None:
    conn = RecordingConnection(_replies())
    a = adapter(conn)
    state = a.read_state({"GONG_DATA", "GONG_DATA_RAW"}, {"APP", "ETL"})
    desired = DesiredState(
        schemas=["GONG_DATA", "GONG_DATA_RAW", "SOPHIA_OPS"],
        managed_schemas={"GONG_DATA", "GONG_DATA_RAW", "SOPHIA_OPS"},
        roles={"APP": "", "ETL": ""},
        grants={
            Grant("APP", "USAGE", "SCHEMA", "GONG_DATA"),
            Grant("APP", "SELECT", "FUTURE_TABLES", "GONG_DATA"),
        },
        memberships={Membership("APP", "SYSADMIN")},
        tags=dict(state.tags),
    )
    state.ops_ready = True
    changes = [a.render(c) for c in diff(desired, state)]
    assert [c.kind for c in changes] == ["revoke"]
    plan = Plan(tuple(changes), "fp", "snowflake")
    conn.statements.clear()
    apply_plan(plan, a)
    assert conn.statements[0] == "BEGIN"
    assert conn.statements[1] == (
        'REVOKE SELECT ON ALL TABLES IN SCHEMA "SOPHIA"."GONG_DATA_RAW" FROM ROLE "APP"'
    )
    assert any(
        s.startswith('INSERT INTO "SOPHIA"."SOPHIA_OPS"."KEEL_APPLY_LOG"') for s in conn.statements
    )
    assert conn.statements[-1] == "COMMIT"


def test_refused_statement_is_a_clear_error() -> None:
    conn = RecordingConnection(refuse="^CREATE ROLE")
    a = adapter(conn)
    change = a.render(Change("create_role", "APP"))
    plan = Plan((a.render(Change("create_schema", "GONG_DATA")), change), "fp", "snowflake")
    with pytest.raises(Exception) as info:
        apply_plan(plan, a)
    text = str(info.value)
    assert "Snowflake refused: SQL access control error: Insufficient privileges" in text
    assert "stopped at change 2 of 2" in text and "applied: 1 change(s)" in text
