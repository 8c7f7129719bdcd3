"""PostgreSQL: real roles, grants and default privileges, read back from the catalogs.

Names are canonical upper case in keel and lower case on the server (``norm``/``canon``);
every identifier and literal is quoted by :mod:`keel.sql` through ``ident``/``lit``. A
server name holding upper-case letters cannot be managed. Tags are rows in
``SOPHIA_OPS.KEEL_TAGS`` (the source of truth, as on DuckDB) plus ``COMMENT ON ... IS
'<json>'`` on the object itself, for people browsing the catalog.

The adapter is split by concern, one class per module, each building on the last:

- :mod:`keel.adapters.postgres_state`: catalog facts -> grants (pure, the invariants);
- :mod:`keel.adapters.postgres_catalog`: reading state in bulk;
- :mod:`keel.adapters.postgres_sql`: rendering changes as statements;
- :mod:`keel.adapters.postgres_masking`: masking for tables writers create;
- this module: the connection, execution and error translation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from keel.adapters.base import Capabilities
from keel.adapters.postgres_masking import PostgresMasking
from keel.adapters.postgres_runtime import PostgresRuntime
from keel.adapters.postgres_state import (
    PRIVILEGES,
    ServerState,
    grants_from_catalog,
    pg_type,
)
from keel.errors import WarehouseError
from keel.sql import POSTGRES

if TYPE_CHECKING:
    import psycopg

    from keel.adapters.postgres_raw import PostgresRaw

__all__ = ["PRIVILEGES", "PostgresAdapter", "ServerState", "grants_from_catalog", "pg_type"]


class PostgresAdapter(PostgresRuntime, PostgresMasking):
    """psycopg 3 on one connection (autocommit; ``begin`` opens an explicit transaction).

    The connection opens on first use, so rendering (golden tests) needs no server.
    """

    name = "postgres"
    caps = Capabilities(
        enforces_grants=True,
        native_tags=False,
        transactional_ddl=True,
        merge=True,  # PostgreSQL 15+
        column_privileges=True,
        lower_case_names=True,
    )
    dialect = POSTGRES
    type_map: ClassVar[dict[str, str]] = {
        "VARCHAR": "text",
        "BIGINT": "bigint",
        "DOUBLE": "double precision",
        "BOOLEAN": "boolean",
        "TIMESTAMP": "timestamptz",
    }

    def __init__(self, dsn: str = "", connection: Any = None, **kwargs: Any):
        super().__init__(**kwargs)
        self._dsn = dsn
        self._conn: psycopg.Connection[Any] | None = connection
        self.seen = ServerState()

    def fork(self) -> PostgresAdapter:
        """A second connection to the same database (opened on first use), for a worker."""
        return PostgresAdapter(self._dsn, tag_name=self.tag_name, tag_schema=self.tag_schema)

    # ---- connection and errors ---------------------------------------------------------

    @property
    def conn(self) -> psycopg.Connection[Any]:
        if self._conn is None:
            import psycopg
            from psycopg.conninfo import conninfo_to_dict, make_conninfo

            try:
                given = conninfo_to_dict(self._dsn)
            except psycopg.Error as exc:  # psycopg may quote the DSN, password included
                raise WarehouseError(
                    "warehouse.dsn is not a valid PostgreSQL connection string (not shown: it "
                    "may hold a password); see https://www.postgresql.org/docs/current/"
                    "libpq-connect.html#LIBPQ-CONNSTRING"
                ) from exc
            defaults: dict[str, str | int] = {"application_name": "keel", "connect_timeout": 10}
            extra = {k: v for k, v in defaults.items() if k not in given}
            try:
                self._conn = psycopg.connect(make_conninfo(self._dsn, **extra), autocommit=True)
            except psycopg.Error as exc:
                raise WarehouseError(
                    f"cannot connect to PostgreSQL: {self._scrub(str(exc).strip())} "
                    "(check warehouse.dsn / KEEL_PG_DSN)"
                ) from exc
        return self._conn

    def _scrub(self, text: str) -> str:
        """``text`` with the DSN and its password taken out."""
        from psycopg.conninfo import conninfo_to_dict

        secrets = [self._dsn] if self._dsn else []
        try:
            password = conninfo_to_dict(self._dsn).get("password")
        except Exception:  # unparsable: the whole DSN is already in the list
            password = None
        if password:
            secrets.append(str(password))
        for secret in secrets:
            text = text.replace(secret, "***")
        return text

    def _refused(self, exc: Exception, sql: str) -> WarehouseError:
        import psycopg

        diag = exc.diag if isinstance(exc, psycopg.Error) else None
        message = (diag.message_primary if diag else None) or str(exc).splitlines()[0]
        return WarehouseError(f"PostgreSQL refused: {self._scrub(message)}\n  SQL: {sql[:500]}")

    @contextlib.contextmanager
    def translated(self, sql: str) -> Iterator[None]:
        import psycopg

        try:
            yield
        except psycopg.Error as exc:
            raise self._refused(exc, sql) from exc

    def execute(self, sql: str) -> None:
        with self.translated(sql):
            self.conn.execute(sql.encode())

    def fetch(self, sql: str, kind: str = "data") -> list[tuple[Any, ...]]:
        self.queries[kind] += 1
        with self.translated(sql):
            return list(self.conn.execute(sql.encode()).fetchall())

    def raw_writer(self) -> PostgresRaw:
        from keel.adapters.postgres_raw import PostgresRaw

        return PostgresRaw(self)

    def begin(self) -> None:
        self.execute("BEGIN")

    def commit(self) -> None:
        self.execute("COMMIT")

    def rollback(self) -> None:
        import psycopg

        if self._conn is None or self._conn.closed:
            return
        try:  # ROLLBACK outside a transaction only warns; a broken connection has none
            self._conn.execute(b"ROLLBACK")
        except psycopg.Error:
            return

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def current_user(self) -> str:
        if not self.seen.user:
            self.seen.user = self.canon(self.fetch("SELECT current_user", "session")[0][0])
        return self.seen.user
