"""Connection problems become one clear WarehouseError that never shows a password."""

from __future__ import annotations

import pytest

from keel.adapters.postgres import PostgresAdapter
from keel.errors import WarehouseError


def test_an_unreachable_server_says_so_without_the_password() -> None:
    dsn = "host=127.0.0.1 port=1 dbname=x user=u password=s3cret-pw connect_timeout=2"
    with pytest.raises(WarehouseError, match="cannot connect to PostgreSQL: .*refused") as info:
        PostgresAdapter(dsn).read_state(set(), set())
    assert "s3cret-pw" not in info.value.message
    assert "KEEL_PG_DSN" in info.value.message


@pytest.mark.parametrize("dsn", ["postgresql://u:s3cret pw@h:port/db", "host=h s3cret-pw"])
def test_an_invalid_dsn_is_not_echoed(dsn: str) -> None:
    with pytest.raises(WarehouseError, match="not a valid PostgreSQL connection string") as info:
        PostgresAdapter(dsn).fetch("SELECT 1")
    assert "s3cret" not in info.value.message


def test_rendering_needs_no_server() -> None:
    adapter = PostgresAdapter("host=nowhere.invalid password=s3cret-pw")
    assert adapter.bootstrap_sql()[0] == 'CREATE SCHEMA IF NOT EXISTS "sophia_ops"'
    adapter.close()  # nothing was opened
