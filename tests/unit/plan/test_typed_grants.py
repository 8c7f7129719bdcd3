"""Typed grant objects and change subjects (issue 10): built and read in one place, and a
plan file round-trips them."""

from __future__ import annotations

import pytest

from keel.errors import PlanError
from keel.plan.diff import drift
from keel.plan.model import Change, Plan
from keel.resources import (
    ActualState,
    DesiredState,
    Grant,
    Membership,
    OnAccountObject,
    OnAll,
    OnColumns,
    OnRelation,
    OnSchema,
    TagKey,
)

OBJECTS = [
    OnAccountObject("DATABASE", "SOPHIA"),
    OnAccountObject("WAREHOUSE", "WH"),
    OnSchema("GONG_DATA"),
    OnAll("GONG_DATA"),
    OnAll("GONG_DATA", future=True),
    OnAll("GONG_DATA", future=True, creator="ETL"),
    OnRelation("GONG_DATA", "CALLS"),
    OnRelation("GONG_DATA", "CALLS_V", "view"),
    OnColumns("GONG_DATA", "CALLS", ("ID",), single=True),
    OnColumns("GONG_DATA", "CALLS", ("ID", "TITLE")),
]


@pytest.mark.parametrize("on", OBJECTS, ids=[repr(o) for o in OBJECTS])
def test_typed_object_round_trips(on: object) -> None:
    grant = Grant.to("APP", "SELECT", on)  # type: ignore[arg-type]
    assert grant.on == on
    assert Change("grant", "x", subject=grant).data["target"] == grant.target


def test_plan_file_keeps_subjects(tmp_path: object) -> None:
    from pathlib import Path

    changes = (
        Change("grant", "g", subject=Grant.to("R", "USAGE", OnSchema("S"), "DATABASE_ROLE")),
        Change("grant_role", "m", subject=Membership("A", "SYSADMIN")),
        Change("set_tag", "t", after='{"a":"b = c"}', subject=TagKey("column", "S.T.C")),
    )
    path = Path(str(tmp_path)) / "plan.json"
    Plan(changes, "fp", "snowflake").save(path)
    loaded = Plan.load(path)
    assert [c.subject for c in loaded.changes] == [c.subject for c in changes]


def test_malformed_change_data_is_a_plan_error() -> None:
    with pytest.raises(PlanError, match="not understood"):
        Change.from_dict({"kind": "grant", "object": "x", "data": {"foo": 1}})


def test_per_object_grant_inside_a_declared_on_all_grant_is_not_drift() -> None:
    desired = DesiredState(
        roles={"APP": ""},
        managed_schemas={"S"},
        grants={Grant.to("APP", "SELECT", OnAll("S"))},
    )
    actual = ActualState(
        grants={
            Grant.to("APP", "SELECT", OnRelation("S", "A")),
            Grant.to("APP", "INSERT", OnRelation("S", "A")),
        }
    )
    assert drift(desired, actual) == [Grant.to("APP", "INSERT", OnRelation("S", "A"))]
    # where the role may read some columns only, a table-level SELECT is a leak
    desired.grants.add(Grant.to("APP", "SELECT", OnColumns("S", "A", ("ID",))))
    assert Grant.to("APP", "SELECT", OnRelation("S", "A")) in drift(desired, actual)
