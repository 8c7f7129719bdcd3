"""The store of the governance record (KEEL_ROLES, KEEL_GRANTS, KEEL_ROLE_MEMBERS) on a
real DuckDB: what a change records is what the next read reports, and a revoke forgets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from keel import ops_tables as ops
from keel.adapters import role_store
from keel.adapters.duckdb import DuckDBAdapter
from keel.resources import ActualState, Grant, Membership


@pytest.fixture
def adapter() -> Iterator[DuckDBAdapter]:
    a = DuckDBAdapter()
    for sql in a.bootstrap_sql():
        a.execute(sql)
    yield a
    a.close()


def _read(a: DuckDBAdapter) -> ActualState:
    state = ActualState(ops_tables={t.name for t in ops.ALL_TABLES})
    role_store.read_all(a, state)
    return state


def test_records_are_read_back_and_revokes_forget(adapter: DuckDBAdapter) -> None:
    grant = Grant("ANALYST", "SELECT", "TABLE", "SHOP_DATA.ORDERS")
    policy = Grant("ANALYST", "SELECT", "TABLE", "SHOP_DATA.ORDERS(ID,EMAIL)")
    for sql in (
        role_store.role_sql(adapter, "ANALYST", "reads the shop"),
        role_store.role_sql(adapter, "ANALYST", "reads the shop"),  # an upsert: one row
        role_store.grant_sql(adapter, grant, revoke=False),
        role_store.grant_sql(adapter, policy, revoke=False, object_type=role_store.COLUMNS),
        role_store.membership_sql(adapter, "ANALYST", "SYSADMIN", revoke=False),
    ):
        adapter.execute(sql)
    state = _read(adapter)
    assert state.roles == {"ANALYST"}
    assert state.grants == {grant, Grant("ANALYST", "SELECT", "COLUMNS", policy.object_name)}
    assert state.memberships == {Membership("ANALYST", "SYSADMIN")}
    assert role_store.read_policies(adapter) == [
        ("ANALYST", "SELECT", "SHOP_DATA.ORDERS(ID,EMAIL)")
    ]
    adapter.execute(role_store.grant_sql(adapter, grant, revoke=True))
    adapter.execute(role_store.membership_sql(adapter, "ANALYST", "SYSADMIN", revoke=True))
    state = _read(adapter)
    assert state.grants == {Grant("ANALYST", "SELECT", "COLUMNS", policy.object_name)}
    assert state.memberships == set()


def test_nothing_is_read_before_the_tables_exist() -> None:
    assert not role_store.present(ActualState(ops_tables={ops.KEEL_ROLES.name}))
    assert role_store.present(ActualState(ops_tables={t.name for t in ops.ALL_TABLES}))
