"""Golden SQL: each change kind as the PostgreSQL adapter renders it (no server needed).

The adapter renders against what its last read_state saw; here that is a fixed
ServerState: keel connects as KEEL, GONG_DATA.CALLS is masked for APP (column SELECT on
ID and TITLE), GONG_DATA.MEETINGS is not, SOPHIA_SEMANTIC.CALL_360 is a view.
"""

from __future__ import annotations

from typing import Any

import pytest

from keel.adapters.postgres import PostgresAdapter, ServerState, pg_type
from keel.plan.model import Change
from keel.resources import Grant

APP, ETL, ADMIN = "SOPHIA_AI_APP_ROLE", "SOPHIA_AI_ETL_ROLE", "SOPHIA_AI_ADMIN_ROLE"


def seen() -> ServerState:
    return ServerState(
        managed_schemas={"GONG_DATA", "GONG_DATA_RAW", "SOPHIA_SEMANTIC", "SOPHIA_OPS"},
        managed_roles={APP, ETL, ADMIN},
        user="KEEL",
        database="warehouse",
        schemas={"PUBLIC", "GONG_DATA", "GONG_DATA_RAW", "SOPHIA_SEMANTIC"},
        server_roles={APP, ETL, ADMIN, "KEEL"},
        relations={
            ("GONG_DATA", "CALLS"): "r",
            ("GONG_DATA", "MEETINGS"): "r",
            ("SOPHIA_SEMANTIC", "CALL_360"): "v",
        },
        owners={("GONG_DATA", "CALLS"): "KEEL", ("GONG_DATA", "MEETINGS"): "KEEL"},
        columns={("GONG_DATA", "CALLS"): ("ID", "TITLE", "TRANSCRIPT", "DURATION")},
        types={("GONG_DATA", "CALLS"): ("VARCHAR", "VARCHAR", "VARCHAR", "BIGINT")},
        column_grants={(APP, "SELECT", "GONG_DATA", "CALLS"): {"ID", "TITLE"}},
        masked={(APP, "SELECT", "GONG_DATA", "CALLS")},
        future_holders={(APP, "SELECT", "GONG_DATA"): {"KEEL", "OLD_KEEL"}},
    )


def grant(kind: str, role: str, privilege: str, target: str, name: str) -> Change:
    g = Grant(role, privilege, target, name)  # type: ignore[arg-type]
    data = {"role": role, "privilege": privilege, "target": target, "object_name": name}
    return Change(kind, g.describe(), data=data)  # type: ignore[arg-type]


def tag(kind: str, object_type: str, name: str, value: str | None) -> Change:
    data = {"object_type": object_type, "object_name": name}
    return Change(kind, f"{object_type} {name}", after=value, data=data)  # type: ignore[arg-type]


APP_Q, ETL_Q, ADMIN_Q = (f'"{r.lower()}"' for r in (APP, ETL, ADMIN))
# a column APP's policy hides reads masked for APP's members, but never for keel's user
HIDE_APP = (
    f"(pg_has_role(current_user, '{APP.lower()}', 'MEMBER')) "
    "AND NOT pg_has_role(current_user, 'keel', 'MEMBER')"
)
TAG_UPSERT = (
    'INSERT INTO "sophia_ops"."keel_tags" ("object_type", "object_name", "tag_name", '
    '"tag_value", "updated_at") VALUES ({values}, CURRENT_TIMESTAMP) ON CONFLICT '
    '("object_type", "object_name", "tag_name") DO UPDATE SET "tag_value" = '
    'excluded."tag_value", "updated_at" = excluded."updated_at"'
)
GRANT_UPSERT = (
    'INSERT INTO "sophia_ops"."keel_grants" ("role_name", "privilege", "object_type", '
    '"object_name", "updated_at") VALUES ({values}, CURRENT_TIMESTAMP) ON CONFLICT '
    '("role_name", "privilege", "object_type", "object_name") DO UPDATE SET "updated_at" = '
    'excluded."updated_at"'
)

CASES: list[tuple[str, Change, list[str]]] = [
    (
        "create_schema",
        Change("create_schema", "GONG_DATA_RAW"),
        [
            'CREATE SCHEMA IF NOT EXISTS "gong_data_raw"',
            'REVOKE ALL ON SCHEMA "gong_data_raw" FROM PUBLIC',
        ],
    ),
    (
        "create_role",
        Change("create_role", APP, after="it's read-only"),
        [
            f"CREATE ROLE {APP_Q} NOLOGIN",
            f"COMMENT ON ROLE {APP_Q} IS 'it''s read-only'",
        ],
    ),
    (
        "grant_role",
        Change("grant_role", f"{ADMIN} -> {ETL}", data={"role": ADMIN, "member": ETL}),
        [f"GRANT {ADMIN_Q} TO {ETL_Q}"],
    ),
    (
        "grant_role to a member missing on the server",
        Change("grant_role", f"{ADMIN} -> SYSADMIN", data={"role": ADMIN, "member": "SYSADMIN"}),
        [
            'INSERT INTO "sophia_ops"."keel_role_members" ("role_name", "member", "updated_at") '
            f"VALUES ('{ADMIN}', 'SYSADMIN', CURRENT_TIMESTAMP) ON CONFLICT (\"role_name\", "
            '"member") DO UPDATE SET "updated_at" = excluded."updated_at"'
        ],
    ),
    (
        "revoke_role",
        Change("revoke_role", f"{APP} -> {ETL}", data={"role": APP, "member": ETL}),
        [
            f"REVOKE {APP_Q} FROM {ETL_Q}",
            'DELETE FROM "sophia_ops"."keel_role_members" WHERE "role_name" = '
            f"'{APP}' AND \"member\" = '{ETL}'",
        ],
    ),
    (
        "grant on schema",
        grant("grant", ETL, "CREATE", "SCHEMA", "GONG_DATA_RAW"),
        [f'GRANT CREATE ON SCHEMA "gong_data_raw" TO {ETL_Q}'],
    ),
    (
        "revoke on schema from PUBLIC",
        grant("revoke", "PUBLIC", "USAGE", "SCHEMA", "GONG_DATA"),
        ['REVOKE USAGE ON SCHEMA "gong_data" FROM PUBLIC'],
    ),
    (
        "grant on all tables",
        grant("grant", ADMIN, "INSERT", "ALL_TABLES", "GONG_DATA"),
        [f'GRANT INSERT ON ALL TABLES IN SCHEMA "gong_data" TO {ADMIN_Q}'],
    ),
    (
        "grant on all tables but the masked ones",
        grant("grant", APP, "SELECT", "ALL_TABLES", "GONG_DATA"),
        [f'GRANT SELECT ON TABLE "gong_data"."meetings" TO {APP_Q}'],
    ),
    (
        "revoke on all tables",
        grant("revoke", APP, "SELECT", "ALL_TABLES", "GONG_DATA_RAW"),
        [f'REVOKE SELECT ON ALL TABLES IN SCHEMA "gong_data_raw" FROM {APP_Q}'],
    ),
    (
        "grant on future tables: one per creator but the grantee",
        grant("grant", ETL, "INSERT", "FUTURE_TABLES", "GONG_DATA_RAW"),
        [
            f'ALTER DEFAULT PRIVILEGES FOR ROLE "keel" IN SCHEMA "gong_data_raw" GRANT INSERT '
            f"ON TABLES TO {ETL_Q}",
            f'ALTER DEFAULT PRIVILEGES FOR ROLE {ADMIN_Q} IN SCHEMA "gong_data_raw" GRANT '
            f"INSERT ON TABLES TO {ETL_Q}",
            f'ALTER DEFAULT PRIVILEGES FOR ROLE {APP_Q} IN SCHEMA "gong_data_raw" GRANT '
            f"INSERT ON TABLES TO {ETL_Q}",
        ],
    ),
    (
        "revoke on future tables: every creator that holds it too",
        grant("revoke", APP, "SELECT", "FUTURE_TABLES", "GONG_DATA"),
        [
            f'ALTER DEFAULT PRIVILEGES FOR ROLE "keel" IN SCHEMA "gong_data" REVOKE SELECT ON '
            f"TABLES FROM {APP_Q}",
            f'ALTER DEFAULT PRIVILEGES FOR ROLE "old_keel" IN SCHEMA "gong_data" REVOKE SELECT '
            f"ON TABLES FROM {APP_Q}",
            f'ALTER DEFAULT PRIVILEGES FOR ROLE {ADMIN_Q} IN SCHEMA "gong_data" REVOKE SELECT '
            f"ON TABLES FROM {APP_Q}",
            f'ALTER DEFAULT PRIVILEGES FOR ROLE {ETL_Q} IN SCHEMA "gong_data" REVOKE SELECT ON '
            f"TABLES FROM {APP_Q}",
        ],
    ),
    (
        "revoke on future tables of one creator",
        grant("revoke", APP, "SELECT", "FUTURE_TABLES_OF", "GONG_DATA_RAW.BOB"),
        [
            'ALTER DEFAULT PRIVILEGES FOR ROLE "bob" IN SCHEMA "gong_data_raw" REVOKE SELECT ON '
            f"TABLES FROM {APP_Q}"
        ],
    ),
    (
        "revoke on one table",
        grant("revoke", "PUBLIC", "SELECT", "TABLE", "GONG_DATA.MEETINGS"),
        ['REVOKE SELECT ON TABLE "gong_data"."meetings" FROM PUBLIC'],
    ),
    (
        "revoke on a masked table keeps its column privileges",
        grant("revoke", APP, "SELECT", "TABLE", "GONG_DATA.CALLS"),
        [
            f'REVOKE SELECT ON TABLE "gong_data"."calls" FROM {APP_Q}',
            f'GRANT SELECT ("id", "title") ON TABLE "gong_data"."calls" TO {APP_Q}',
        ],
    ),
    (
        "grant on one column",
        grant("grant", APP, "SELECT", "COLUMN", "GONG_DATA.CALLS.TITLE"),
        [f'GRANT SELECT ("title") ON TABLE "gong_data"."calls" TO {APP_Q}'],
    ),
    (
        "grant columns of an existing table",
        grant("grant", APP, "SELECT", "COLUMNS", "GONG_DATA.CALLS(ID,NOT_YET,TITLE)"),
        [
            GRANT_UPSERT.format(
                values=f"'{APP}', 'SELECT', 'COLUMNS', 'GONG_DATA.CALLS(ID,NOT_YET,TITLE)'"
            ),
            'CREATE SCHEMA IF NOT EXISTS "gong_data_base"',
            'REVOKE ALL ON SCHEMA "gong_data_base" FROM PUBLIC',
            'ALTER TABLE "gong_data"."calls" SET SCHEMA "gong_data_base"',
            'CREATE VIEW "gong_data"."calls" AS SELECT "id", "title", '
            f'CASE WHEN {HIDE_APP} THEN \'***MASKED***\' ELSE "transcript" END AS "transcript", '
            f'CASE WHEN NOT ({HIDE_APP}) THEN "duration" END AS "duration" '
            'FROM "gong_data_base"."calls"',
            'COMMENT ON TABLE "gong_data_base"."calls" IS \'{"keel_masking_view_of": '
            f'"GONG_DATA.CALLS", "policies": {{"{APP}": ["ID", "TITLE"]}}}}\'',
            f'REVOKE ALL ON TABLE "gong_data"."calls" FROM {APP_Q}',
            f'GRANT SELECT ON TABLE "gong_data"."calls" TO {APP_Q}',
        ],
    ),
    (
        "grant columns of a table that does not exist yet",
        grant("grant", APP, "SELECT", "COLUMNS", "GONG_DATA.USERS(ID)"),
        [GRANT_UPSERT.format(values=f"'{APP}', 'SELECT', 'COLUMNS', 'GONG_DATA.USERS(ID)'")],
    ),
    (
        "revoke columns of a table not served by a view: those column privileges only",
        grant("revoke", APP, "SELECT", "COLUMNS", "GONG_DATA.CALLS(ID,TITLE)"),
        [
            'DELETE FROM "sophia_ops"."keel_grants" WHERE "role_name" = '
            f"'{APP}' AND \"privilege\" = 'SELECT' AND \"object_type\" = 'COLUMNS' AND "
            "\"object_name\" = 'GONG_DATA.CALLS(ID,TITLE)'",
            f'REVOKE SELECT ("id", "title") ON TABLE "gong_data"."calls" FROM {APP_Q}',
        ],
    ),
    (
        "set_tag on a schema",
        tag("set_tag", "schema", "GONG_DATA", '{"layer":"promoted"}'),
        [
            TAG_UPSERT.format(
                values="'schema', 'GONG_DATA', 'SOPHIA_AI_METADATA', '{\"layer\":\"promoted\"}'"
            ),
            'COMMENT ON SCHEMA "gong_data" IS \'{"layer":"promoted"}\'',
        ],
    ),
    (
        "set_tag on a view",
        tag("set_tag", "table", "SOPHIA_SEMANTIC.CALL_360", "{}"),
        [
            TAG_UPSERT.format(
                values="'table', 'SOPHIA_SEMANTIC.CALL_360', 'SOPHIA_AI_METADATA', '{}'"
            ),
            'COMMENT ON VIEW "sophia_semantic"."call_360" IS \'{}\'',
        ],
    ),
    (
        "set_tag on a column",
        tag("set_tag", "column", "GONG_DATA.CALLS.ID", '{"pii_level":"none"}'),
        [
            TAG_UPSERT.format(
                values="'column', 'GONG_DATA.CALLS.ID', 'SOPHIA_AI_METADATA', "
                '\'{"pii_level":"none"}\''
            ),
            'COMMENT ON COLUMN "gong_data"."calls"."id" IS \'{"pii_level":"none"}\'',
        ],
    ),
    (
        "unset_tag on a table",
        tag("unset_tag", "table", "GONG_DATA.MEETINGS", None),
        [
            'DELETE FROM "sophia_ops"."keel_tags" WHERE "object_type" = \'table\' AND '
            "\"object_name\" = 'GONG_DATA.MEETINGS' AND \"tag_name\" = 'SOPHIA_AI_METADATA'",
            'COMMENT ON TABLE "gong_data"."meetings" IS NULL',
        ],
    ),
    (
        "unset_tag on a dropped table: the row only",
        tag("unset_tag", "table", "GONG_DATA.GONE", None),
        [
            'DELETE FROM "sophia_ops"."keel_tags" WHERE "object_type" = \'table\' AND '
            "\"object_name\" = 'GONG_DATA.GONE' AND \"tag_name\" = 'SOPHIA_AI_METADATA'"
        ],
    ),
]


@pytest.fixture
def adapter() -> PostgresAdapter:
    a = PostgresAdapter("host=nowhere.invalid password=never-used")  # never connects
    a.seen = seen()
    return a


@pytest.mark.parametrize(("change", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_golden_sql(adapter: PostgresAdapter, change: Change, expected: list[str]) -> None:
    assert list(adapter.render(change).sql) == expected


def test_bootstrap_closes_what_public_gets_by_default(adapter: PostgresAdapter) -> None:
    sql = adapter.render(Change("bootstrap_ops", "SOPHIA_OPS")).sql
    assert sql[:2] == (
        'CREATE SCHEMA IF NOT EXISTS "sophia_ops"',
        'REVOKE ALL ON SCHEMA "sophia_ops" FROM PUBLIC',
    )
    assert sql[2].startswith(
        'CREATE TABLE IF NOT EXISTS "sophia_ops"."keel_tags" ("object_type" text, '
    )
    assert '"updated_at" timestamptz' in sql[2]
    assert sql[-2:] == (
        'REVOKE CREATE ON SCHEMA "public" FROM PUBLIC',
        'REVOKE TEMPORARY ON DATABASE "warehouse" FROM PUBLIC',
    )


def test_bootstrap_says_when_it_cannot_revoke_temp(adapter: PostgresAdapter) -> None:
    adapter.seen.can_revoke_temp = False
    change = adapter.render(Change("bootstrap_ops", "SOPHIA_OPS"))
    assert not any("TEMPORARY" in s for s in change.sql)
    assert change.note is not None
    assert 'REVOKE TEMPORARY ON DATABASE "warehouse" FROM PUBLIC' in change.note


def test_notes_say_what_is_recorded_rather_than_granted(adapter: PostgresAdapter) -> None:
    skipped = adapter.render(
        Change("grant_role", f"{ADMIN} -> SYSADMIN", data={"role": ADMIN, "member": "SYSADMIN"})
    )
    assert skipped.note == (
        "role SYSADMIN does not exist on this server: skipped, recorded in SOPHIA_OPS "
        "(granted once the role exists)"
    )
    later = adapter.render(grant("grant", APP, "SELECT", "COLUMNS", "GONG_DATA.USERS(ID)"))
    assert later.note == "GONG_DATA.USERS does not exist yet: recorded, applied once it does"


@pytest.mark.parametrize(
    "bad",
    [
        {"privilege": "SELECT; DROP TABLE x", "target": "SCHEMA", "object_name": "GONG_DATA"},
        {"privilege": "ALL", "target": "TABLE", "object_name": "GONG_DATA.CALLS"},
    ],
)
def test_privileges_are_keywords_from_a_fixed_list(
    adapter: PostgresAdapter, bad: dict[str, Any]
) -> None:
    with pytest.raises(ValueError, match="not a PostgreSQL privilege"):
        adapter.render(Change("grant", "x", data={"role": APP, **bad}))


def test_names_are_quoted_and_lower_cased(adapter: PostgresAdapter) -> None:
    change = adapter.render(grant("grant", 'WEIRD"ROLE', "USAGE", "SCHEMA", "MY SCHEMA"))
    assert change.sql == ('GRANT USAGE ON SCHEMA "my schema" TO "weird""role"',)


@pytest.mark.parametrize(
    ("formatted", "expected"),
    [
        ("text", "VARCHAR"),
        ("character varying(20)", "VARCHAR"),
        ("timestamp with time zone", "TIMESTAMP WITH TIME ZONE"),
        ("timestamp without time zone", "TIMESTAMP"),
        ("numeric(18,2)", "DECIMAL(18,2)"),
        ("double precision", "DOUBLE"),
        ("integer[]", "INTEGER[]"),
    ],
)
def test_column_types_use_the_core_vocabulary(formatted: str, expected: str) -> None:
    assert pg_type(formatted) == expected


def served(adapter: PostgresAdapter) -> None:
    """GONG_DATA.CALLS as keel serves it for APP: a view over GONG_DATA_BASE.CALLS."""
    seen = adapter.seen
    seen.relations[("GONG_DATA", "CALLS")] = "v"
    seen.relations[("GONG_DATA_BASE", "CALLS")] = "r"
    for part in (seen.columns, seen.types):
        part[("GONG_DATA_BASE", "CALLS")] = part[("GONG_DATA", "CALLS")]
    seen.relation_acl[("GONG_DATA", "CALLS")] = {(APP, "SELECT"), (ADMIN, "SELECT")}
    seen.recorded = {(APP, "SELECT", "GONG_DATA", "CALLS"): [("ID", "TITLE")]}


def test_revoking_the_last_policy_moves_the_table_back(adapter: PostgresAdapter) -> None:
    """The view goes, the table returns to its name with the view's other grants."""
    served(adapter)
    change = adapter.render(grant("revoke", APP, "SELECT", "COLUMNS", "GONG_DATA.CALLS(ID,TITLE)"))
    assert list(change.sql)[1:] == [
        'DROP VIEW IF EXISTS "gong_data"."calls"',
        'ALTER TABLE "gong_data_base"."calls" SET SCHEMA "gong_data"',
        'COMMENT ON TABLE "gong_data"."calls" IS NULL',
        f'GRANT SELECT ON TABLE "gong_data"."calls" TO {ADMIN_Q}',
    ]
    assert adapter.seen.relations[("GONG_DATA", "CALLS")] == "r"


def test_one_masking_view_serves_every_role_with_a_policy(adapter: PostgresAdapter) -> None:
    """ADMIN's recorded policy shows ID and TRANSCRIPT; APP's new one ID and TITLE: each
    column is masked for the members of the roles whose policy hides it; both read it."""
    adapter.seen.recorded = {(ADMIN, "SELECT", "GONG_DATA", "CALLS"): [("ID", "TRANSCRIPT")]}
    sql = list(
        adapter.render(grant("grant", APP, "SELECT", "COLUMNS", "GONG_DATA.CALLS(ID,TITLE)")).sql
    )
    create = next(s for s in sql if s.startswith("CREATE VIEW"))
    assert create.startswith('CREATE VIEW "gong_data"."calls" AS SELECT "id", CASE')
    hide_admin = HIDE_APP.replace(APP.lower(), ADMIN.lower())
    assert f"""CASE WHEN {hide_admin} THEN '***MASKED***' ELSE "title" END""" in create
    assert f"""CASE WHEN {HIDE_APP} THEN '***MASKED***' ELSE "transcript" END""" in create
    both = HIDE_APP.replace(
        "(pg_has_role", f"(pg_has_role(current_user, '{ADMIN.lower()}', 'MEMBER') OR pg_has_role"
    )
    assert f'CASE WHEN NOT ({both}) THEN "duration" END' in create
    assert sql[-4:] == [
        f'REVOKE ALL ON TABLE "gong_data"."calls" FROM {ADMIN_Q}',
        f'GRANT SELECT ON TABLE "gong_data"."calls" TO {ADMIN_Q}',
        f'REVOKE ALL ON TABLE "gong_data"."calls" FROM {APP_Q}',
        f'GRANT SELECT ON TABLE "gong_data"."calls" TO {APP_Q}',
    ]
    # revoking one of two policies rebuilds the view for the other role only
    revoke = adapter.render(grant("revoke", APP, "SELECT", "COLUMNS", "GONG_DATA.CALLS(ID,TITLE)"))
    rebuilt = list(revoke.sql)
    assert 'DROP VIEW IF EXISTS "gong_data"."calls"' in rebuilt
    assert rebuilt[-2:] == [
        f'REVOKE ALL ON TABLE "gong_data"."calls" FROM {ADMIN_Q}',
        f'GRANT SELECT ON TABLE "gong_data"."calls" TO {ADMIN_Q}',
    ]


def test_base_schemas_stay_within_63_bytes() -> None:
    """PostgreSQL truncates names past NAMEDATALEN-1 = 63 bytes, so two long schemas would
    share one base schema; keel's derived names never pass 63 bytes."""
    from keel.adapters.postgres_state import base_schema

    assert base_schema("GONG_DATA") == "GONG_DATA_BASE"
    fits = "S" * 58  # + _BASE = 63 bytes exactly
    assert base_schema(fits) == fits + "_BASE"
    long_a, long_b = "A" * 60 + "_ONE", "A" * 60 + "_TWO"
    derived = {base_schema(long_a), base_schema(long_b)}
    assert len(derived) == 2
    assert all(len(n.lower().encode()) <= 63 and n.endswith("_BASE") for n in derived)
    multibyte = "Ü" * 40  # 80 bytes: cut on a character boundary
    assert len(base_schema(multibyte).lower().encode()) <= 63


def test_a_declared_schema_cannot_take_a_base_schema(adapter: PostgresAdapter) -> None:
    from keel.errors import WarehouseError

    adapter.seen.managed_schemas.add("GONG_DATA_BASE")
    with pytest.raises(WarehouseError, match="GONG_DATA_BASE is declared in keel.yml"):
        adapter.render(grant("grant", APP, "SELECT", "COLUMNS", "GONG_DATA.CALLS(ID)"))


def test_policies_rendered_earlier_in_a_plan_share_the_view(adapter: PostgresAdapter) -> None:
    """Two roles' new policies on one table in one plan: the second rendering sees the
    table already served by the first and rebuilds the view for both (one apply
    converges); a revoke rendered first takes its role out of later rebuilds."""
    adapter.seen.recorded = {(ETL, "SELECT", "GONG_DATA", "CALLS"): [("ID",)]}
    adapter.render(grant("revoke", ETL, "SELECT", "COLUMNS", "GONG_DATA.CALLS(ID)"))
    first = adapter.render(grant("grant", APP, "SELECT", "COLUMNS", "GONG_DATA.CALLS(ID,TITLE)"))
    assert 'ALTER TABLE "gong_data"."calls" SET SCHEMA "gong_data_base"' in first.sql
    second = adapter.render(
        grant("grant", ADMIN, "SELECT", "COLUMNS", "GONG_DATA.CALLS(ID,TITLE,TRANSCRIPT)")
    )
    assert 'DROP VIEW IF EXISTS "gong_data"."calls"' in second.sql
    assert not any("SET SCHEMA" in s for s in second.sql)
    readers = [s for s in second.sql if s.startswith("GRANT SELECT ON TABLE")]
    assert readers == [
        f'GRANT SELECT ON TABLE "gong_data"."calls" TO {ADMIN_Q}',
        f'GRANT SELECT ON TABLE "gong_data"."calls" TO {APP_Q}',
    ]
    comment = next(s for s in second.sql if s.startswith("COMMENT ON TABLE"))
    assert f'"{APP}": ["ID", "TITLE"]' in comment
    assert f'"{ADMIN}": ["ID", "TITLE", "TRANSCRIPT"]' in comment
