"""diff(desired, actual) -> changes: pure, no warehouse, tested with plain values.

Rules:
- schemas are created when missing and never dropped (keel does not own data
  it did not declare; an undeclared schema is left alone);
- tags are set when missing or different, and unset on objects in managed
  schemas that should carry none (including tags left on dropped objects);
- roles are created when missing; declared grants and memberships are added;
  grants on managed schemas or to managed roles that are not declared are
  drift, and revoked; roles keel does not manage are left alone unless they
  hold privileges on managed schemas.
"""

from __future__ import annotations

from keel.plan.model import KIND_ORDER, Change
from keel.resources import ActualState, DesiredState, Grant


def _grant_in_scope(grant: Grant, desired: DesiredState) -> bool:
    schema = grant.object_name.split(".")[0]
    return grant.role in desired.roles or schema in desired.managed_schemas


def diff(desired: DesiredState, actual: ActualState) -> list[Change]:
    changes: list[Change] = []
    if not actual.ops_ready:
        changes.append(Change("bootstrap_ops", "SOPHIA_OPS", after="keel operational tables"))
    for schema in desired.schemas:
        if schema not in actual.schemas:
            changes.append(Change("create_schema", schema))
    for role, comment in sorted(desired.roles.items()):
        if role not in actual.roles:
            changes.append(Change("create_role", role, after=comment or None))
    for m in sorted(desired.memberships - actual.memberships):
        changes.append(
            Change(
                "grant_role", f"{m.role} -> {m.member}", data={"role": m.role, "member": m.member}
            )
        )
    for m in sorted(actual.memberships - desired.memberships):
        if m.role in desired.roles and m.member in desired.roles:
            changes.append(
                Change(
                    "revoke_role",
                    f"{m.role} -> {m.member}",
                    reason="not declared",
                    data={"role": m.role, "member": m.member},
                )
            )
    for g in sorted(actual.grants - desired.grants):
        if _grant_in_scope(g, desired):
            changes.append(
                Change("revoke", g.describe(), reason="drift: not declared", data=_grant_data(g))
            )
    for g in sorted(desired.grants - actual.grants):
        changes.append(Change("grant", g.describe(), data=_grant_data(g)))
    for key, value in sorted(actual.tags.items()):
        schema = key.object_name.split(".")[0]
        if key not in desired.tags and schema in desired.managed_schemas:
            changes.append(
                Change(
                    "unset_tag",
                    f"{key.object_type} {key.object_name}",
                    before=value,
                    data={"object_type": key.object_type, "object_name": key.object_name},
                )
            )
    reasons = {p.key: p.reasons for p in desired.proposals}
    for key, value in sorted(desired.tags.items()):
        if actual.tags.get(key) != value:
            why = reasons.get(key)
            changes.append(
                Change(
                    "set_tag",
                    f"{key.object_type} {key.object_name}",
                    before=actual.tags.get(key),
                    after=value,
                    reason=("proposed by classification: " + "; ".join(why)) if why else None,
                    data={"object_type": key.object_type, "object_name": key.object_name},
                )
            )
    changes.sort(key=lambda c: KIND_ORDER[c.kind])  # stable: keeps name order within a kind
    return changes


def _grant_data(g: Grant) -> dict[str, str]:
    return {
        "role": g.role,
        "privilege": g.privilege,
        "target": g.target,
        "object_name": g.object_name,
    }
