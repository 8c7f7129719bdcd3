"""The diff is a pure function of two values: tested with no warehouse at all."""

from __future__ import annotations

from keel.plan.diff import diff
from keel.resources import ActualState, DesiredState, Grant, Membership, Proposal, TagKey


def desired(**kw: object) -> DesiredState:
    d = DesiredState(
        schemas=["SOPHIA_OPS", "GONG_DATA_RAW"],
        managed_schemas={"SOPHIA_OPS", "GONG_DATA_RAW"},
        roles={"APP": "read"},
        grants={Grant("APP", "USAGE", "SCHEMA", "GONG_DATA")},
        memberships={Membership("APP", "SYSADMIN")},
        tags={TagKey("table", "GONG_DATA_RAW.CALLS"): '{"entity_type":"call"}'},
    )
    for k, v in kw.items():
        setattr(d, k, v)
    return d


def converged() -> ActualState:
    d = desired()
    return ActualState(
        schemas=set(d.schemas),
        roles=set(d.roles),
        grants=set(d.grants),
        memberships=set(d.memberships),
        tags=dict(d.tags),
        ops_ready=True,
    )


def kinds(changes: list) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(c.kind, c.object) for c in changes]


def test_empty_warehouse_gets_everything_in_dependency_order() -> None:
    changes = diff(desired(), ActualState())
    assert kinds(changes) == [
        ("bootstrap_ops", "SOPHIA_OPS"),
        ("create_schema", "SOPHIA_OPS"),
        ("create_schema", "GONG_DATA_RAW"),
        ("create_role", "APP"),
        ("grant_role", "APP -> SYSADMIN"),
        ("grant", "USAGE on schema GONG_DATA to APP"),
        ("set_tag", "table GONG_DATA_RAW.CALLS"),
    ]


def test_converged_state_has_no_changes() -> None:
    assert diff(desired(), converged()) == []


def test_changed_tag_value_is_set_with_before_and_after() -> None:
    actual = converged()
    actual.tags[TagKey("table", "GONG_DATA_RAW.CALLS")] = '{"entity_type":"user"}'
    (change,) = diff(desired(), actual)
    assert change.kind == "set_tag"
    assert change.before == '{"entity_type":"user"}'
    assert change.after == '{"entity_type":"call"}'


def test_stale_tag_in_managed_schema_is_unset_and_outside_left_alone() -> None:
    actual = converged()
    actual.tags[TagKey("column", "GONG_DATA_RAW.CALLS.OLD")] = '{"pii_level":"none"}'
    actual.tags[TagKey("table", "OTHER.T")] = '{"entity_type":"call"}'
    assert kinds(diff(desired(), actual)) == [("unset_tag", "column GONG_DATA_RAW.CALLS.OLD")]


def test_undeclared_grant_is_drift_and_revoked() -> None:
    actual = converged()
    actual.grants.add(Grant("APP", "SELECT", "ALL_TABLES", "GONG_DATA_RAW"))
    (change,) = diff(desired(), actual)
    assert change.kind == "revoke"
    assert change.object == "SELECT on all tables in GONG_DATA_RAW to APP"
    assert change.reason == "drift: not declared"


def test_grants_of_unmanaged_roles_outside_managed_schemas_are_left_alone() -> None:
    actual = converged()
    actual.grants.add(Grant("ANALYST", "SELECT", "ALL_TABLES", "MARKETING"))
    assert diff(desired(), actual) == []


def test_unmanaged_role_holding_privileges_on_managed_schema_is_revoked() -> None:
    actual = converged()
    actual.grants.add(Grant("ANALYST", "SELECT", "ALL_TABLES", "GONG_DATA_RAW"))
    assert kinds(diff(desired(), actual)) == [
        ("revoke", "SELECT on all tables in GONG_DATA_RAW to ANALYST")
    ]


def test_schemas_are_never_dropped() -> None:
    actual = converged()
    actual.schemas.add("LEGACY")
    assert diff(desired(), actual) == []


def test_classification_reason_travels_with_the_change() -> None:
    key = TagKey("column", "GONG_DATA_RAW.CALLS.EMAIL")
    d = desired()
    d.tags[key] = '{"pii_level":"high"}'
    d.proposals.append(Proposal(key, {"pii_level": "high"}, ("name looks like an email",)))
    (change,) = diff(d, converged())
    assert change.reason == "proposed by classification: name looks like an email"


def test_diff_is_pure() -> None:
    d, a = desired(), ActualState()
    before = (d.canonical(), a.canonical())
    assert diff(d, a) == diff(d, a)
    assert (d.canonical(), a.canonical()) == before
