"""The store of keel's governance record in SOPHIA_OPS, the only code that touches
KEEL_ROLES, KEEL_GRANTS and KEEL_ROLE_MEMBERS.

Engines that do not enforce roles and grants (DuckDB) record them here, and read them
back as the actual state. PostgreSQL enforces them, and records only what the server
cannot hold: column policies (grants on ``COLUMNS``, served by keel's masking view) and
memberships of members the server lacks. Rows are keyed by the tables' primary keys
(``ops_tables``); a record is an upsert with the current time, a revoke a delete. The
functions take any adapter; they sit beside the adapters because rendering a change
writes its record in the same statement list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from keel import ops_tables as ops
from keel.adapters.bound import NOW
from keel.resources import ActualState, Grant, Membership

if TYPE_CHECKING:
    from keel.adapters.base import Adapter

ROLES = ops.KEEL_ROLES
GRANTS = ops.KEEL_GRANTS
MEMBERS = ops.KEEL_ROLE_MEMBERS
COLUMNS = "COLUMNS"  # the object type of a column policy


def present(state: ActualState) -> bool:
    """Whether the warehouse has all three tables (a first plan runs before they exist)."""
    return {ROLES.name, GRANTS.name, MEMBERS.name} <= state.ops_tables


def policies_present(state: ActualState) -> bool:
    """Whether the tables PostgreSQL's records need (grants and memberships) exist."""
    return {GRANTS.name, MEMBERS.name} <= state.ops_tables


# ---- records ---------------------------------------------------------------------------


def role_sql(a: Adapter, role: str, comment: str | None) -> str:
    """Record ``role`` with its comment."""
    return a._upsert(ROLES, {"ROLE_NAME": role, "COMMENT": comment, "UPDATED_AT": NOW})


def membership_sql(a: Adapter, role: str, member: str, revoke: bool) -> str:
    """Record that ``member`` holds ``role`` (or forget it: ``revoke``)."""
    ident = {"ROLE_NAME": role, "MEMBER": member}
    if revoke:
        return a._delete(MEMBERS, ident)
    return a._upsert(MEMBERS, {**ident, "UPDATED_AT": NOW})


def grant_sql(a: Adapter, grant: Grant, revoke: bool, object_type: str | None = None) -> str:
    """Record ``grant`` (or forget it: ``revoke``); ``object_type`` overrides the grant's
    target (a column policy is recorded as ``COLUMNS``)."""
    ident = {
        "ROLE_NAME": grant.role,
        "PRIVILEGE": grant.privilege,
        "OBJECT_TYPE": object_type or grant.target,
        "OBJECT_NAME": grant.object_name,
    }
    if revoke:
        return a._delete(GRANTS, ident)
    return a._upsert(GRANTS, {**ident, "UPDATED_AT": NOW})


# ---- reads -----------------------------------------------------------------------------


def read_all(a: Adapter, state: ActualState) -> None:
    """Add every recorded role, grant and membership to ``state`` (three queries)."""
    for (name,) in a.fetch(f"SELECT {a.ident('ROLE_NAME')} FROM {a.ops_table(ROLES)}", "roles"):
        state.roles.add(name)
    cols = ", ".join(a.ident(c) for c in ("ROLE_NAME", "PRIVILEGE", "OBJECT_TYPE", "OBJECT_NAME"))
    for r, p, t, o in a.fetch(f"SELECT {cols} FROM {a.ops_table(GRANTS)}", "grants"):
        state.grants.add(Grant(r, p, t, o))
    state.memberships.update(read_memberships(a))


def read_memberships(a: Adapter) -> list[Membership]:
    """Every recorded membership (one query)."""
    cols = ", ".join(a.ident(c) for c in ("ROLE_NAME", "MEMBER"))
    rows = a.fetch(f"SELECT {cols} FROM {a.ops_table(MEMBERS)}", "roles")
    return [Membership(r, m) for r, m in rows]


def read_policies(a: Adapter) -> list[tuple[str, str, str]]:
    """Every recorded column policy as (role, privilege, object name) (one query)."""
    cols = ", ".join(a.ident(c) for c in ("ROLE_NAME", "PRIVILEGE", "OBJECT_NAME"))
    rows = a.fetch(
        f"SELECT {cols} FROM {a.ops_table(GRANTS)} "
        f"WHERE {a.ident('OBJECT_TYPE')} = {a.lit(COLUMNS)}",
        "grants",
    )
    return [(r, p, o) for r, p, o in rows]


def policies_table_exists(a: Adapter) -> bool:
    """Whether keel's apply created the table of column policies, asked of the server
    (PostgreSQL's ``to_regclass``; the RAW writer runs without a read state)."""
    name = a.lit(a.ops_table(GRANTS))
    return bool(a.fetch(f"SELECT to_regclass({name}) IS NOT NULL", "grants")[0][0])
