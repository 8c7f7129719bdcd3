"""APP's ``SELECT *`` on the PROMOTED name (``gong_data.calls``), logged in as each role.

The application and the tag-based discovery service query the promoted name itself. Two
tests:

- ``test_app_select_star_on_the_promoted_name_with_keel`` is the requirement (issue 12,
  "The app's reads work on every engine") run against keel: APP's ``SELECT *`` on the
  promoted name of a table that predates apply, one ADMIN creates after it and one
  publish creates, with masked values; ADMIN in clear, ETL refused; the plan empty.
- ``test_the_view_over_a_base_schema_design_on_the_server`` proves, with plain SQL and no
  keel code, the PostgreSQL behaviour the design relies on (docs/postgres.md, "Masking"):
  the table moves to ``<schema>_base``, and the promoted name is a view whose masked
  columns read ``CASE WHEN pg_has_role(current_user, <role>, 'MEMBER') ...``.

Documented PostgreSQL facts these tests encode:
- a view's access to the tables it reads is checked with its OWNER's privileges (unless
  ``security_invoker``, PostgreSQL 15+), so APP needs no privilege on the base table;
- ``current_user`` inside a (non security-invoker) view is still the querying role; a
  view is not a SECURITY DEFINER function;
- ``pg_has_role(user, role, 'MEMBER')`` is direct or indirect membership (the right to
  ``SET ROLE``); a superuser counts as a member of every role;
- ``ALTER TABLE ... SET SCHEMA`` moves a table with its data, privileges and comments;
  ``ALTER TABLE ... ADD COLUMN`` is allowed under a view, ``ALTER COLUMN ... TYPE`` on a
  column a view uses is refused ("cannot alter type of a column used by a view or rule").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from tests.support.postgres_publish import publish_masked_contacts

pytestmark = pytest.mark.postgres

APP, ETL, ADMIN = "SOPHIA_AI_APP_ROLE", "SOPHIA_AI_ETL_ROLE", "SOPHIA_AI_ADMIN_ROLE"
M = "***MASKED***"
CALLS = (
    "id text, title text, started_at timestamptz, duration_seconds bigint, direction text, "
    "primary_user_id text, transcript text, updated_at timestamptz"
)


def rows(dsn: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return list(conn.execute(query.encode()).fetchall())


def refused(dsn: str, query: str) -> bool:
    """True when the server answers permission denied; any other error fails the test."""
    try:
        rows(dsn, query)
    except psycopg.errors.InsufficientPrivilege:
        return True
    return False


def test_app_select_star_on_the_promoted_name_with_keel(
    pg_db: Any, pg_project: Any, keel: Any
) -> None:
    root: Path = pg_project()
    # a table that predates keel's first apply
    pg_db.sql(
        "CREATE SCHEMA gong_data",
        f"CREATE TABLE gong_data.calls ({CALLS})",
        "INSERT INTO gong_data.calls VALUES ('c1', 'Kickoff', now(), 60, 'Inbound', 'u1', "
        "'hello there', now())",
    )
    assert keel("apply", "--yes", project=root).exit_code == 0
    users = {
        "app": pg_db.login("u_app", pg_db.role(APP)),
        "etl": pg_db.login("u_etl", pg_db.role(ETL)),
        "admin": pg_db.login("u_admin", pg_db.role(ADMIN)),
    }
    # a table ADMIN creates after apply (covered by the next apply) ...
    pg_db.sql(
        "CREATE TABLE slack_data.users (id text, name text, real_name text, email text, "
        "is_bot boolean, updated_at timestamptz)",
        "INSERT INTO slack_data.users VALUES ('u1', 'bo', 'Bo Ek', 'bo@example.com', false, now())",
        dsn=users["admin"],
    )
    # ... and one keel's publish creates, with the masking in the same transaction
    publish_masked_contacts(pg_db.admin_dsn)
    assert keel("apply", "--yes", project=root).exit_code == 0
    assert keel("plan", "--detailed-exitcode", project=root).exit_code == 0

    # ADMIN reads clear values and ETL nothing: true today
    assert rows(users["admin"], "SELECT transcript FROM gong_data.calls") == [("hello there",)]
    assert rows(users["admin"], "SELECT email FROM slack_data.users") == [("bo@example.com",)]
    assert rows(users["admin"], "SELECT email FROM hubspot_data.contacts") == [("bo@example.com",)]
    for table in ("gong_data.calls", "slack_data.users", "hubspot_data.contacts"):
        assert refused(users["etl"], f"SELECT * FROM {table}"), table

    # APP's SELECT * on the promoted names, masked values: refused today
    assert rows(users["app"], "SELECT id, title, transcript FROM gong_data.calls") == [
        ("c1", "Kickoff", M)
    ]
    assert rows(users["app"], "SELECT * FROM gong_data.calls")[0][-2] == M
    assert rows(users["app"], "SELECT * FROM slack_data.users")[0][:4] == ("u1", "bo", M, M)
    assert rows(users["app"], "SELECT * FROM hubspot_data.contacts")[0][:6] == (
        "p1",
        M,
        M,
        M,
        M,
        "co1",
    )


def _masking_view(schema: str, table: str, columns: list[tuple[str, bool]], admin: str) -> str:
    """The design's view at the promoted name (test-local SQL, fixed names only)."""
    exprs = [
        f"CASE WHEN pg_has_role(current_user, '{admin}', 'MEMBER') THEN {c} ELSE '{M}' END AS {c}"
        if masked
        else c
        for c, masked in columns
    ]
    return f"CREATE VIEW {schema}.{table} AS SELECT {', '.join(exprs)} FROM {schema}_base.{table}"


def test_the_view_over_a_base_schema_design_on_the_server(pg_db: Any) -> None:
    app, etl, admin = (pg_db.role(r) for r in (APP, ETL, ADMIN))
    pg_db.sql(*(f'CREATE ROLE "{r}" NOLOGIN' for r in (app, etl, admin)))
    users = {
        "app": pg_db.login("u_app", app),
        "etl": pg_db.login("u_etl", etl),
        "admin": pg_db.login("u_admin", admin),
        "admin_member": pg_db.login("u_boss", None),  # a member that does not SET ROLE
    }
    pg_db.sql(f'GRANT "{admin}" TO "{pg_db.prefix}u_boss"')
    # an existing promoted table, as an existing warehouse has it
    pg_db.sql(
        "CREATE SCHEMA gong_data",
        f"CREATE TABLE gong_data.calls ({CALLS})",
        "INSERT INTO gong_data.calls VALUES ('c1', 'Kickoff', now(), 60, 'Inbound', 'u1', "
        "'hello there', now())",
    )
    columns = [
        ("id", False),
        ("title", False),
        ("started_at", False),
        ("duration_seconds", False),
        ("direction", False),
        ("primary_user_id", False),
        ("transcript", True),
        ("updated_at", False),
    ]
    # the design: move the table to the base schema, the promoted name becomes the view
    # (owned by keel's user, which owns the base), APP and ADMIN may read the view only
    pg_db.sql(
        "CREATE SCHEMA gong_data_base",
        "REVOKE ALL ON SCHEMA gong_data_base FROM PUBLIC",
        "ALTER TABLE gong_data.calls SET SCHEMA gong_data_base",
        _masking_view("gong_data", "calls", columns, admin),
        f'GRANT USAGE ON SCHEMA gong_data TO "{app}", "{admin}", "{pg_db.prefix}u_boss"',
        f'GRANT SELECT ON gong_data.calls TO "{app}", "{admin}"',
    )
    star = "SELECT * FROM gong_data.calls"
    assert rows(users["app"], star)[0][-2] == M
    assert len(rows(users["app"], star)[0]) == len(columns)  # the table's columns, in order
    assert rows(users["app"], "SELECT transcript FROM gong_data.calls") == [(M,)]
    assert rows(users["admin"], star)[0][-2] == "hello there"
    assert rows(users["admin_member"], "SELECT transcript FROM gong_data.calls") == [
        ("hello there",)
    ]  # membership without SET ROLE counts
    assert rows(pg_db.admin_dsn, "SELECT transcript FROM gong_data.calls") == [("hello there",)]
    assert refused(users["etl"], star)
    assert refused(users["app"], "SELECT * FROM gong_data_base.calls")
    assert refused(users["admin"], "SELECT * FROM gong_data_base.calls")
    assert refused(users["app"], "INSERT INTO gong_data.calls (id) VALUES ('x')")
    # the view's masked column keeps its type; a non-text column would read NULL
    assert rows(
        pg_db.admin_dsn,
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
        "'gong_data.calls'::regclass AND attname = 'transcript'",
    ) == [("text",)]

    # publish MERGEs into the base table: the view answers with the new row at once
    pg_db.sql(
        "MERGE INTO gong_data_base.calls t USING (SELECT 'c2' AS id, 'secret' AS transcript) s "
        "ON t.id = s.id WHEN NOT MATCHED THEN INSERT (id, transcript) VALUES (s.id, s.transcript)"
    )
    assert rows(users["app"], "SELECT id, transcript FROM gong_data.calls ORDER BY id") == [
        ("c1", M),
        ("c2", M),
    ]
    assert rows(users["admin"], "SELECT transcript FROM gong_data.calls WHERE id = 'c2'") == [
        ("secret",)
    ]
    # a new column under the view is allowed (the view does not show it until rebuilt);
    # retyping a column the view uses is refused, so publish still drops and rebuilds it
    pg_db.sql("ALTER TABLE gong_data_base.calls ADD COLUMN phone text")
    with pytest.raises(psycopg.errors.FeatureNotSupported, match="used by a view"):
        pg_db.sql("ALTER TABLE gong_data_base.calls ALTER COLUMN duration_seconds TYPE numeric")

    # a table ADMIN creates at a promoted name after apply is a plain table: exposed by the
    # default privileges until keel moves it behind a view the same way
    pg_db.sql(
        f'GRANT USAGE, CREATE ON SCHEMA gong_data TO "{admin}"',
        f'ALTER DEFAULT PRIVILEGES FOR ROLE "{admin}" IN SCHEMA gong_data '
        f'GRANT SELECT ON TABLES TO "{app}"',
    )
    pg_db.sql(
        "CREATE TABLE gong_data.users (id text, email text)",
        "INSERT INTO gong_data.users VALUES ('u1', 'bo@example.com')",
        dsn=users["admin"],
    )
    assert rows(users["app"], "SELECT email FROM gong_data.users") == [("bo@example.com",)]
    pg_db.sql(
        "ALTER TABLE gong_data.users SET SCHEMA gong_data_base",
        f'REVOKE ALL ON gong_data_base.users FROM "{app}"',
        _masking_view("gong_data", "users", [("id", False), ("email", True)], admin),
        f'GRANT SELECT ON gong_data.users TO "{app}", "{admin}"',
    )
    assert rows(users["app"], "SELECT * FROM gong_data.users") == [("u1", M)]
    assert rows(users["admin"], "SELECT * FROM gong_data.users") == [("u1", "bo@example.com")]
    assert refused(users["etl"], "SELECT * FROM gong_data.users")
    # ADMIN still owns the moved table (SET SCHEMA keeps the owner) but cannot reach it
    # without USAGE on the base schema: the view is the only way in
    assert pg_db.rows(
        "SELECT tableowner FROM pg_tables WHERE schemaname = 'gong_data_base' "
        "AND tablename = 'users'"
    ) == [(admin,)]
    assert refused(users["admin"], "SELECT email FROM gong_data_base.users")
