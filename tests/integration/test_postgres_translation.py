"""Catalog facts -> Grant values (PostgresAdapter's ACL translation), with plain values.

These are the invariants the diff relies on; the live-server tests prove the SQL side.
"""

from __future__ import annotations

from keel.adapters.postgres import ServerState, grants_from_catalog
from keel.resources import Grant

APP, ETL, ADMIN = "APP", "ETL", "ADMIN"


def seen(**kw: object) -> ServerState:
    base = ServerState(
        managed_schemas={"GONG_DATA", "GONG_DATA_RAW"},
        managed_roles={APP, ETL, ADMIN},
        user="KEEL",
        relations={("GONG_DATA", "CALLS"): "r", ("GONG_DATA", "MEETINGS"): "r"},
        owners={("GONG_DATA", "CALLS"): "KEEL", ("GONG_DATA", "MEETINGS"): "KEEL"},
        columns={("GONG_DATA", "CALLS"): ("ID", "TITLE", "TRANSCRIPT")},
    )
    for key, value in kw.items():
        setattr(base, key, value)
    return base


FULL_FUTURE = {(APP, "SELECT", "GONG_DATA"): {"KEEL", ETL, ADMIN}}


def test_all_tables_holds_when_every_table_grants_it() -> None:
    acl = {(APP, "SELECT", "GONG_DATA"): {"CALLS", "MEETINGS"}}
    assert grants_from_catalog(seen(), [], acl, {}) == {
        Grant(APP, "SELECT", "ALL_TABLES", "GONG_DATA")
    }


def test_some_tables_only_are_table_grants() -> None:
    acl = {(APP, "SELECT", "GONG_DATA"): {"MEETINGS"}}
    assert grants_from_catalog(seen(), [], acl, {}) == {
        Grant(APP, "SELECT", "TABLE", "GONG_DATA.MEETINGS")
    }


def test_an_empty_schema_holds_all_tables_exactly_when_future_tables_does() -> None:
    empty = seen(relations={}, owners={}, future_holders=FULL_FUTURE)
    assert grants_from_catalog(empty, [], {}, {}) == {
        Grant(APP, "SELECT", "FUTURE_TABLES", "GONG_DATA"),
        Grant(APP, "SELECT", "ALL_TABLES", "GONG_DATA"),
    }
    partial = seen(relations={}, owners={}, future_holders={(APP, "SELECT", "GONG_DATA"): {ETL}})
    assert grants_from_catalog(partial, [], {}, {}) == {
        Grant(APP, "SELECT", "FUTURE_TABLES_OF", "GONG_DATA.ETL")
    }


def test_default_privileges_of_other_creators_are_reported_per_creator() -> None:
    holders = {(APP, "SELECT", "GONG_DATA"): {"KEEL", ETL, ADMIN, "BOB"}}
    got = grants_from_catalog(seen(relations={}, owners={}, future_holders=holders), [], {}, {})
    assert Grant(APP, "SELECT", "FUTURE_TABLES", "GONG_DATA") in got
    assert Grant(APP, "SELECT", "FUTURE_TABLES_OF", "GONG_DATA.BOB") in got


def test_tables_the_role_owns_are_neutral() -> None:
    owners = {("GONG_DATA", "CALLS"): ETL, ("GONG_DATA", "MEETINGS"): "KEEL"}
    acl = {(ETL, "INSERT", "GONG_DATA"): {"MEETINGS"}}
    assert grants_from_catalog(seen(owners=owners), [], acl, {}) == {
        Grant(ETL, "INSERT", "ALL_TABLES", "GONG_DATA")
    }


BASE = ("GONG_DATA_BASE", "CALLS")
POLICY = {(APP, "SELECT", "GONG_DATA", "CALLS"): [("ID", "NOT_YET", "TITLE")]}
ON_VIEW = {(APP, "SELECT", "GONG_DATA"): {"CALLS", "MEETINGS"}}


def with_view(clear: tuple[str, ...] = ("ID", "TITLE"), **kw: object) -> ServerState:
    """GONG_DATA.CALLS served as keel builds it: the data in GONG_DATA_BASE.CALLS, the
    promoted name a view with the same columns, the base table's note naming the policy."""
    s = seen(**kw)
    s.relations[("GONG_DATA", "CALLS")] = "v"
    s.relations[BASE] = "r"
    s.owners[BASE] = "KEEL"
    s.columns[BASE] = s.columns[("GONG_DATA", "CALLS")]
    s.view_policies[BASE] = {APP: clear}
    return s


def test_a_masked_table_is_held_through_its_view() -> None:
    """APP's SELECT on the view at the promoted name is the policy, not a leak; the policy
    is held for every shown set recorded (columns that do not exist yet included)."""
    assert grants_from_catalog(with_view(), [], ON_VIEW, POLICY) == {
        Grant(APP, "SELECT", "ALL_TABLES", "GONG_DATA"),
        Grant(APP, "SELECT", "COLUMNS", "GONG_DATA.CALLS(ID,NOT_YET,TITLE)"),
    }


def test_a_policy_without_its_masking_view_is_not_held() -> None:
    """A plain table at the name, the view dropped, a stale view (other clear columns, or
    other columns than the base table), a view the role cannot read: each leaves the
    policy unreported, so the plan rebuilds it and the audit says so."""
    meetings = {(APP, "SELECT", "GONG_DATA"): {"MEETINGS"}}
    expected = {Grant(APP, "SELECT", "ALL_TABLES", "GONG_DATA")}
    assert grants_from_catalog(seen(), [], meetings, POLICY) == expected
    dropped = with_view()
    del dropped.relations[("GONG_DATA", "CALLS")]
    assert grants_from_catalog(dropped, [], meetings, POLICY) == expected
    stale = with_view(clear=("ID",))
    assert grants_from_catalog(stale, [], ON_VIEW, POLICY) == expected
    widened = with_view()
    widened.columns[BASE] = ("ID", "TITLE", "TRANSCRIPT", "PHONE")
    assert grants_from_catalog(widened, [], ON_VIEW, POLICY) == expected
    assert grants_from_catalog(with_view(), [], meetings, POLICY) == expected


def test_other_grants_on_the_view_or_the_base_table_are_drift() -> None:
    acl = {
        **ON_VIEW,
        (ETL, "SELECT", "GONG_DATA"): {"CALLS"},
        (APP, "SELECT", "GONG_DATA_BASE"): {"CALLS"},
    }
    assert grants_from_catalog(with_view(), [(APP, "USAGE", "GONG_DATA_BASE")], acl, POLICY) == {
        Grant(APP, "SELECT", "ALL_TABLES", "GONG_DATA"),
        Grant(APP, "SELECT", "COLUMNS", "GONG_DATA.CALLS(ID,NOT_YET,TITLE)"),
        Grant(ETL, "SELECT", "TABLE", "GONG_DATA.CALLS"),
        Grant(APP, "SELECT", "TABLE", "GONG_DATA_BASE.CALLS"),
        Grant(APP, "USAGE", "SCHEMA", "GONG_DATA_BASE"),
    }


def test_table_level_access_to_a_plain_masked_table_is_a_leak() -> None:
    acl = {(APP, "SELECT", "GONG_DATA"): {"CALLS", "MEETINGS"}}
    recorded = {(APP, "SELECT", "GONG_DATA", "CALLS"): [("ID", "TITLE")]}
    assert grants_from_catalog(seen(), [], acl, recorded) == {
        Grant(APP, "SELECT", "ALL_TABLES", "GONG_DATA"),
        Grant(APP, "SELECT", "TABLE", "GONG_DATA.CALLS"),
    }


def test_a_recorded_policy_on_a_missing_table_is_held() -> None:
    recorded = {(APP, "SELECT", "GONG_DATA", "USERS"): [("ID",)]}
    assert grants_from_catalog(seen(), [], {}, recorded) == {
        Grant(APP, "SELECT", "COLUMNS", "GONG_DATA.USERS(ID)")
    }


def test_column_privileges_are_reported_as_they_are() -> None:
    """keel grants no column privileges: any found (by hand, or left by an older keel)
    are reported, and revoked as drift."""
    cols = {(APP, "SELECT", "GONG_DATA", "CALLS"): {"ID", "TRANSCRIPT"}}
    assert grants_from_catalog(seen(column_grants=cols), [], {}, {}) == {
        Grant(APP, "SELECT", "COLUMNS", "GONG_DATA.CALLS(ID,TRANSCRIPT)")
    }


def test_scope_is_managed_schemas_and_managed_roles() -> None:
    relations = {("PUBLIC", "NOTES"): "r", ("PUBLIC", "OTHER"): "r"}
    owners = {("PUBLIC", "NOTES"): "KEEL", ("PUBLIC", "OTHER"): "KEEL"}
    acl = {(APP, "SELECT", "PUBLIC"): {"NOTES", "OTHER"}, ("BOB", "SELECT", "PUBLIC"): {"NOTES"}}
    schema_acl = [
        ("BOB", "USAGE", "PUBLIC"),
        ("BOB", "USAGE", "GONG_DATA"),
        (APP, "USAGE", "PUBLIC"),
    ]
    assert grants_from_catalog(seen(relations=relations, owners=owners), schema_acl, acl, {}) == {
        Grant(APP, "SELECT", "TABLE", "PUBLIC.NOTES"),
        Grant(APP, "SELECT", "TABLE", "PUBLIC.OTHER"),
        Grant("BOB", "USAGE", "SCHEMA", "GONG_DATA"),
        Grant(APP, "USAGE", "SCHEMA", "PUBLIC"),
    }
