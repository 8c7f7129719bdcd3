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


VIEW = ("GONG_DATA_MASKED", "CALLS")


def with_view(shown: tuple[str, ...] = ("ID", "TITLE"), **kw: object) -> ServerState:
    """GONG_DATA.CALLS masked for APP, with its masking view as keel builds it."""
    s = seen(
        column_grants={(APP, "SELECT", "GONG_DATA", "CALLS"): {"ID", "TITLE"}},
        types={("GONG_DATA", "CALLS"): ("VARCHAR",) * 3, VIEW: ("VARCHAR",) * 3},
        **kw,
    )
    s.relations[VIEW] = "v"
    s.columns[VIEW] = s.columns[("GONG_DATA", "CALLS")]
    s.view_shown[VIEW] = shown
    return s


VIEW_SCHEMA_ACL = [(APP, "USAGE", "GONG_DATA_MASKED")]
VIEW_ACL = {(APP, "SELECT", "GONG_DATA_MASKED"): {"CALLS"}}


def test_masked_tables_hold_columns_not_the_table() -> None:
    """The policy is held with its column privileges and its masking view; the view's own
    USAGE and SELECT are part of the policy, not drift."""
    acl = {(APP, "SELECT", "GONG_DATA"): {"MEETINGS"}, **VIEW_ACL}
    recorded = {(APP, "SELECT", "GONG_DATA", "CALLS"): [("ID", "NOT_YET", "TITLE")]}
    assert grants_from_catalog(with_view(), VIEW_SCHEMA_ACL, acl, recorded) == {
        Grant(APP, "SELECT", "ALL_TABLES", "GONG_DATA"),
        Grant(APP, "SELECT", "COLUMNS", "GONG_DATA.CALLS(ID,NOT_YET,TITLE)"),
    }


def test_a_policy_without_its_masking_view_is_not_held() -> None:
    """Missing view, a stale view (other shown columns), a view the role cannot use: each
    leaves the policy unreported, so the plan rebuilds it and the audit says so."""
    acl = {(APP, "SELECT", "GONG_DATA"): {"MEETINGS"}}
    recorded = {(APP, "SELECT", "GONG_DATA", "CALLS"): [("ID", "TITLE")]}
    cols = {(APP, "SELECT", "GONG_DATA", "CALLS"): {"ID", "TITLE"}}
    expected = {Grant(APP, "SELECT", "ALL_TABLES", "GONG_DATA")}
    assert grants_from_catalog(seen(column_grants=cols), [], acl, recorded) == expected
    stale = with_view(shown=("ID",))
    assert grants_from_catalog(stale, VIEW_SCHEMA_ACL, {**acl, **VIEW_ACL}, recorded) == expected
    assert grants_from_catalog(with_view(), [], {**acl, **VIEW_ACL}, recorded) == expected
    assert grants_from_catalog(with_view(), VIEW_SCHEMA_ACL, acl, recorded) == expected
    retyped = with_view()
    retyped.types[VIEW] = ("VARCHAR", "VARCHAR", "BIGINT")
    assert grants_from_catalog(retyped, VIEW_SCHEMA_ACL, {**acl, **VIEW_ACL}, recorded) == expected


def test_other_grants_on_a_masking_view_are_drift() -> None:
    acl = {**VIEW_ACL, (ETL, "SELECT", "GONG_DATA_MASKED"): {"CALLS"}}
    schema_acl = [*VIEW_SCHEMA_ACL, (ETL, "USAGE", "GONG_DATA_MASKED")]
    recorded = {(APP, "SELECT", "GONG_DATA", "CALLS"): [("ID", "TITLE")]}
    assert grants_from_catalog(with_view(), schema_acl, acl, recorded) == {
        Grant(APP, "SELECT", "COLUMNS", "GONG_DATA.CALLS(ID,TITLE)"),
        Grant(ETL, "USAGE", "SCHEMA", "GONG_DATA_MASKED"),
        Grant(ETL, "SELECT", "TABLE", "GONG_DATA_MASKED.CALLS"),
    }


def test_table_level_access_to_a_masked_table_is_a_leak() -> None:
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


def test_columns_other_than_the_policy_are_reported_as_they_are() -> None:
    cols = {(APP, "SELECT", "GONG_DATA", "CALLS"): {"ID", "TRANSCRIPT"}}
    recorded = {(APP, "SELECT", "GONG_DATA", "CALLS"): [("ID", "TITLE")]}
    assert grants_from_catalog(seen(column_grants=cols), [], {}, recorded) == {
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
