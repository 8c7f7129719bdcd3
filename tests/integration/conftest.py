"""PostgreSQL fixtures: the live server on 127.0.0.1:5432, a fresh database per test.

Roles are cluster-wide, so every project gets its own role prefix (``k<8 hex>_``,
written into keel.yml's ``roles:`` block); the database and every role with the prefix
are dropped after the test, also when it fails. When the server cannot be reached the
tests are skipped locally and fail under CI (``CI=true``): CI must prove the access rules.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from psycopg.conninfo import make_conninfo

from keel.project.init import HEADER, dump, write_project

# tried in order; KEEL_PG_ADMIN_DSN names a superuser connection to any database
CANDIDATES = (
    "host=127.0.0.1 port=5432 dbname=postgres",
    "host=127.0.0.1 port=5432 dbname=postgres user=postgres",
)


def find_server(candidates: tuple[str, ...], ci: bool) -> str:
    """The first candidate DSN a superuser can connect with; skip (locally) or fail (CI)."""
    import psycopg

    errors = []
    for dsn in candidates:
        try:
            with psycopg.connect(dsn, connect_timeout=3, autocommit=True) as conn:
                row = conn.execute(
                    "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
                ).fetchone()
                if row and row[0]:
                    return dsn
                errors.append(f"{dsn}: not a superuser")
        except psycopg.Error as exc:
            errors.append(f"{dsn}: {str(exc).splitlines()[0]}")
    message = "no PostgreSQL superuser connection: " + "; ".join(errors)
    if ci:
        pytest.fail(message + " (CI=true: the access rules must be proven)", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def server_finder() -> Callable[[tuple[str, ...], bool], str]:
    """:func:`find_server` itself, so its skip/fail behaviour can be tested."""
    return find_server


@pytest.fixture(scope="session")
def pg_server() -> str:
    override = os.environ.get("KEEL_PG_ADMIN_DSN")
    return find_server(
        (override,) if override else CANDIDATES, os.environ.get("CI", "").lower() == "true"
    )


def _with_db(dsn: str, dbname: str) -> str:
    return make_conninfo(dsn, dbname=dbname)


@dataclass
class PgDatabase:
    """One test's database, its project's role prefix, and helpers to act on the server."""

    admin_dsn: str  # superuser, the test database
    name: str
    prefix: str  # k<8 hex>_ (server spelling)
    logins: list[str] = field(default_factory=list)

    def role(self, canonical: str) -> str:
        """The server name of a keel.yml role: SOPHIA_AI_APP_ROLE -> k1a2b3c4d_sophia_ai_app_role."""
        return f"{self.prefix}{canonical.lower()}"

    def canonical(self, role: str) -> str:
        """The canonical name keel reports: SOPHIA_AI_APP_ROLE -> K1A2B3C4D_SOPHIA_AI_APP_ROLE."""
        return f"{self.prefix.upper()}{role}"

    def prefix_roles(self, root: Path) -> None:
        """Rewrite keel.yml's ``roles:`` block so every role name carries the prefix."""
        path = root / "keel.yml"
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        doc["roles"] = {f"{self.prefix.upper()}{n}": spec for n, spec in doc["roles"].items()}
        path.write_text(HEADER + dump(doc), encoding="utf-8")

    def sql(self, *statements: str, dsn: str | None = None) -> None:
        import psycopg

        with psycopg.connect(dsn or self.admin_dsn, autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement.encode())

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            return list(conn.execute(query.encode()).fetchall())

    def login(self, name: str, member_of: str | None) -> str:
        """A LOGIN role for the test; with ``member_of`` it acts as that role (SET ROLE on
        every connection, as Airbyte's or keel's service user should), else as itself."""
        user = f"{self.prefix}{name}"
        self.sql(f'CREATE ROLE "{user}" LOGIN')
        if member_of:
            self.sql(
                f'GRANT "{member_of}" TO "{user}"',
                f'ALTER ROLE "{user}" IN DATABASE "{self.name}" SET role = \'{member_of}\'',
            )
        self.logins.append(user)
        return make_conninfo(self.admin_dsn, user=user)


@pytest.fixture
def pg_db(pg_server: str) -> Iterator[PgDatabase]:
    """A fresh database ``keel_t_<hex>``; it and the prefix's roles are dropped after."""
    import psycopg

    token = uuid.uuid4().hex[:8]
    name = f"keel_t_{token}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"'.encode())
    db = PgDatabase(_with_db(pg_server, name), name, f"k{token}_")
    try:
        yield db
    finally:
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())
            roles = conn.execute(
                "SELECT rolname FROM pg_roles WHERE starts_with(rolname, %s)", (db.prefix,)
            ).fetchall()
            for (role,) in roles:
                with contextlib.suppress(psycopg.Error):  # still used elsewhere: report below
                    conn.execute(f'DROP ROLE "{role}"'.encode())
            left = conn.execute(
                "SELECT count(*) FROM pg_roles WHERE starts_with(rolname, %s)", (db.prefix,)
            ).fetchone()
        assert left == (0,), f"roles with prefix {db.prefix} were left on the server"


@pytest.fixture
def pg_project(
    pg_db: PgDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Path]:
    """The Sophia project for ``engine: postgres``, roles prefixed, KEEL_PG_DSN pointing at
    the test database; ``pg_project(init=False)`` only names the folder."""
    monkeypatch.setenv("KEEL_PG_DSN", pg_db.admin_dsn)

    def make(init: bool = True) -> Path:
        root = tmp_path / "proj"
        if init:
            write_project(root, engine="postgres")
            pg_db.prefix_roles(root)
        return root

    return make
