"""diff(desired, actual) -> changes: pure, no warehouse, tested with plain values.

Rules:
- schemas are created when missing and never dropped (keel does not own data
  it did not declare; an undeclared schema is left alone);
- tags are set when missing or different, and unset on objects in managed
  schemas that should carry none (including tags left on dropped objects);
- roles are created when missing; declared grants and memberships are added;
  grants on managed schemas or to managed roles that are not declared are
  drift, and revoked; roles keel does not manage are left alone unless they
  hold privileges on managed schemas. A per-object grant that a declared ON ALL
  grant includes is not drift (an ON ALL grant is reported by some engines as
  one row per object; one object missing it re-grants ON ALL, nothing else);
- schemas without managed access get it, where the engine has the notion;
- a schema whose owner differs from the role declared to own it (``own:``) is
  transferred to that role, as its own change (ownership is never revoked), where
  the engine reports owners;
- masking policies declared on the metadata tag are set where the engine masks
  by policy.
"""

from __future__ import annotations

from keel.plan.model import KIND_ORDER, Change
from keel.resources import ActualState, DesiredState, Grant, OnColumns, OnRelation, TagKey


def _grant_in_scope(grant: Grant, desired: DesiredState) -> bool:
    if grant.grantee == "ROLE" and grant.role in desired.roles:
        return True
    return grant.schema is not None and grant.schema in desired.managed_schemas


def drift(desired: DesiredState, actual: ActualState) -> list[Grant]:
    """Grants that exist, are in keel's scope, and are neither declared nor part of a
    declared ON ALL grant: what apply revokes and the audit reports."""
    # tables a role may read only some columns of: a table-level grant there is a leak
    partial = {
        (g.role, g.on.schema, g.on.table) for g in desired.grants if isinstance(g.on, OnColumns)
    }
    out = []
    for g in sorted(actual.grants - desired.grants):
        if not _grant_in_scope(g, desired):
            continue
        on = g.on
        if (
            g.covered_by() in desired.grants
            and isinstance(on, OnRelation)
            and (g.role, on.schema, on.name) not in partial
        ):
            continue
        out.append(g)
    return out


def _by_tag_key(item: tuple[TagKey, str]) -> tuple[str, str]:
    """A tag's place in the plan: TagKey's own order (type, then name), as a plain tuple
    (the dataclass comparison is slow over tens of thousands of tags)."""
    return (item[0].object_type, item[0].object_name)


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
    if actual.managed_access is not None:
        for schema in desired.schemas:
            if schema in actual.schemas and schema not in actual.managed_access:
                changes.append(
                    Change("enable_managed_access", schema, reason="schema exists without it")
                )
    if actual.schema_owners is not None:
        for schema, owner in sorted(desired.schema_owners.items()):
            have = actual.schema_owners.get(schema)
            if have is not None and have != owner:
                changes.append(
                    Change(
                        "transfer_ownership",
                        schema,
                        before=have,
                        after=owner,
                        reason="declared owner (own:) differs; current grants are kept",
                    )
                )
    for m in sorted(desired.memberships - actual.memberships):
        changes.append(Change("grant_role", f"{m.role} -> {m.member}", subject=m))
    for m in sorted(actual.memberships - desired.memberships):
        if m.role in desired.roles and m.member in desired.roles:
            changes.append(
                Change("revoke_role", f"{m.role} -> {m.member}", reason="not declared", subject=m)
            )
    for g in drift(desired, actual):
        changes.append(Change("revoke", g.describe(), reason="drift: not declared", subject=g))
    for g in sorted(desired.grants - actual.grants):
        changes.append(Change("grant", g.describe(), subject=g))
    for key, value in sorted(actual.tags.items(), key=_by_tag_key):
        if key not in desired.tags and key.schema in desired.managed_schemas:
            changes.append(
                Change(
                    "unset_tag", f"{key.object_type} {key.object_name}", before=value, subject=key
                )
            )
    reasons = {p.key: p.reasons for p in desired.proposals}
    tags_now = actual.tags
    # only the tags that differ are sorted (a warehouse of 10,000 tables has 80,000 tags)
    for key, value in sorted(
        ((k, v) for k, v in desired.tags.items() if tags_now.get(k) != v), key=_by_tag_key
    ):
        why = reasons.get(key)
        changes.append(
            Change(
                "set_tag",
                f"{key.object_type} {key.object_name}",
                before=tags_now.get(key),
                after=value,
                reason=("proposed by classification: " + "; ".join(why)) if why else None,
                subject=key,
            )
        )
    if actual.masking is not None and desired.masking != actual.masking:
        changes.append(
            Change(
                "set_masking",
                "masking policy on the metadata tag",
                before=",".join(sorted(actual.masking)) or None,
                after=",".join(sorted(desired.masking)),
                reason="columns whose pii_level is masked read in clear only for the roles "
                "listed (LEVEL:ROLE)",
            )
        )
    changes.sort(key=lambda c: KIND_ORDER[c.kind])  # stable: keeps name order within a kind
    return changes
