"""``keel audit``: is the warehouse what the project says, and does it meet the bar?

Violations (each with kind, object, message): untagged tables and critical
columns, tags that differ from the desired value, schemas or roles missing,
declared grants missing, grants that exist but are not declared (drift), and
sources with fewer than three data tests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from keel.governance.desired import Coverage
from keel.plan.diff import drift
from keel.project.loaded import Project
from keel.resources import ActualState, DesiredState

MIN_TESTS = 3


@dataclass
class Violation:
    kind: str
    object: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "object": self.object, "message": self.message}


@dataclass
class AuditReport:
    engine: str
    tables: tuple[int, int]  # tagged, total
    critical_columns: tuple[int, int]
    tests: dict[str, int]
    violations: list[Violation] = field(default_factory=list)
    rbac_enforced: bool = True
    notes: list[str] = field(default_factory=list)
    # tags a contract does not declare, proposed by classification: {object, key, value}
    proposed: list[dict[str, str]] = field(default_factory=list)
    not_run: dict[str, int] = field(default_factory=dict)  # tests kept, not run by the gate
    # Airbyte could not be (fully) read: an empty violations list then proves nothing
    connection_notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def add_connections(self, findings: list[tuple[str, str]], notes: list[str]) -> None:
        """Airbyte connection findings (keel.airbyte.audit), as ``connection`` violations."""
        self.violations += [Violation("connection", obj, message) for obj, message in findings]
        self.notes += notes
        self.connection_notes += notes

    def of_kind(self, *kinds: str) -> list[Violation]:
        return [v for v in self.violations if v.kind in kinds]

    @staticmethod
    def _pct(pair: tuple[int, int]) -> float:
        return 100.0 if pair[1] == 0 else round(100.0 * pair[0] / pair[1], 1)

    def to_dict(self) -> dict[str, Any]:
        rbac_kinds = ("grant_missing", "grant_drift", "role_missing", "membership_missing")
        return {
            "ok": self.ok,
            "engine": self.engine,
            "tag_coverage": {
                "tables": {
                    "tagged": self.tables[0],
                    "total": self.tables[1],
                    "percent": self._pct(self.tables),
                },
                "critical_columns": {
                    "tagged": self.critical_columns[0],
                    "total": self.critical_columns[1],
                    "percent": self._pct(self.critical_columns),
                },
            },
            "rbac": {
                "enforced": self.rbac_enforced,
                "violations": [v.to_dict() for v in self.of_kind(*rbac_kinds)],
            },
            "tests": {"minimum": MIN_TESTS, "sources": self.tests, "not_run": self.not_run},
            "proposed": self.proposed,
            "connections": {
                "violations": [v.to_dict() for v in self.of_kind("connection")],
                "notes": self.connection_notes,
            },
            "violations": [v.to_dict() for v in self.violations],
            "notes": self.notes,
        }


def audit(
    project: Project,
    desired: DesiredState,
    coverage: Coverage,
    actual: ActualState,
    engine: str,
    rbac_enforced: bool,
) -> AuditReport:
    v: list[Violation] = []
    for schema in desired.schemas:
        if schema not in actual.schemas:
            v.append(Violation("schema_missing", schema, "schema does not exist; run keel apply"))
    tagged_tables = 0
    for key in sorted(coverage.tables):
        if key in actual.tags:
            tagged_tables += 1
        else:
            v.append(
                Violation("untagged_table", key.object_name, f"table has no {project.tag_name} tag")
            )
    tagged_cols = 0
    for key in sorted(coverage.critical_columns):
        if key in actual.tags:
            tagged_cols += 1
        else:
            v.append(
                Violation(
                    "untagged_column",
                    key.object_name,
                    f"critical column has no {project.tag_name} tag",
                )
            )
    for key, want in sorted(desired.tags.items()):
        have = actual.tags.get(key)
        if have is not None and have != want:
            v.append(Violation("tag_drift", key.object_name, f"tag is {have}, expected {want}"))
    for role in sorted(desired.roles):
        if role not in actual.roles:
            v.append(Violation("role_missing", role, "role does not exist"))
    for g in sorted(desired.grants - actual.grants):
        v.append(
            Violation("grant_missing", g.object_name, f"declared but not granted: {g.describe()}")
        )
    for g in drift(desired, actual):
        v.append(
            Violation("grant_drift", g.object_name, f"granted but not declared: {g.describe()}")
        )
    for m in sorted(desired.memberships - actual.memberships):
        v.append(Violation("membership_missing", m.role, f"{m.role} is not granted to {m.member}"))
    tests = dict.fromkeys(project.sources, 0)
    for stream in project.streams.values():
        tests[stream.source] += len(stream.all_tests)
    for name, count in sorted(tests.items()):
        if count < MIN_TESTS:
            v.append(
                Violation(
                    "too_few_tests",
                    name,
                    f"source has {count} data tests; at least {MIN_TESTS} are required",
                )
            )
    proposed = [
        {"object": f"{stream.key}", "key": key, "value": stream.tag[key], "origin": "proposed"}
        for stream in project.streams.values()
        for key in stream.proposed
    ]
    not_run: dict[str, int] = {}
    for test in project.not_run_tests():
        not_run[test.name] = not_run.get(test.name, 0) + 1
    notes = (
        []
        if rbac_enforced
        else [f"roles and grants are recorded in SOPHIA_OPS; {engine} does not enforce them"]
    )
    v.extend(_unmasked(desired, actual))
    return AuditReport(
        engine,
        (tagged_tables, len(coverage.tables)),
        (tagged_cols, len(coverage.critical_columns)),
        tests,
        v,
        rbac_enforced,
        notes,
        proposed,
        not_run,
    )


TEXT = ("VARCHAR", "TEXT", "STRING", "CHAR")


def _unmasked(desired: DesiredState, actual: ActualState) -> list[Violation]:
    """Masking by policy (engines that report ``actual.masking``): each column whose tag
    says a masked pii_level and that is not masked: the policy is missing or differs from the
    declared one, or the column is not text (keel's policy masks text columns only)."""
    if actual.masking is None or not desired.masking:
        return []
    levels = {e.partition(":")[0] for e in desired.masking}
    policy_ok = set(actual.masking) == desired.masking
    types = {
        (t.schema, t.name, c): ty.upper() for t in actual.tables.values() for c, ty in t.columns
    }
    out = []
    for key, value in sorted(desired.tags.items()):
        if key.object_type != "column":
            continue
        try:
            level = json.loads(value).get("pii_level")
        except (json.JSONDecodeError, AttributeError):
            continue
        if level not in levels:
            continue
        schema, table, column = key.object_name.split(".", 2)
        kind = types.get((schema, table, column), "")
        if not kind:
            continue
        why = None
        if not policy_ok:
            why = "the masking policy on the metadata tag is missing or out of date; run keel apply"
        elif not kind.startswith(TEXT):
            why = f"its type {kind} is not text: keel's masking policy masks text columns only"
        elif actual.tags.get(key) != value:
            why = "its tag is missing or differs, so the tag-based policy does not apply"
        if why:
            out.append(
                Violation("unmasked_column", key.object_name, f"{level} column not masked: {why}")
            )
    return out
