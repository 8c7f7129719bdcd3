"""``keel audit``: is the warehouse what the project says, and does it meet the bar?

Violations (each with kind, object, message): untagged tables and critical
columns, tags that differ from the desired value, schemas or roles missing,
declared grants missing, grants that exist but are not declared (drift), and
sources with fewer than three data tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from keel.governance.desired import Coverage
from keel.project.loader import Project
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

    @property
    def ok(self) -> bool:
        return not self.violations

    def add_connections(self, findings: list[tuple[str, str]], notes: list[str]) -> None:
        """Airbyte connection findings (keel.airbyte.audit), as ``connection`` violations."""
        self.violations += [Violation("connection", obj, message) for obj, message in findings]
        self.notes += notes

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
            "tests": {"minimum": MIN_TESTS, "sources": self.tests},
            "connections": {"violations": [v.to_dict() for v in self.of_kind("connection")]},
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
    for g in sorted(actual.grants - desired.grants):
        schema = g.object_name.split(".")[0]
        if g.role in desired.roles or schema in desired.managed_schemas:
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
    notes = (
        []
        if rbac_enforced
        else [f"roles and grants are recorded in SOPHIA_OPS; {engine} does not enforce them"]
    )
    return AuditReport(
        engine,
        (tagged_tables, len(coverage.tables)),
        (tagged_cols, len(coverage.critical_columns)),
        tests,
        v,
        rbac_enforced,
        notes,
    )
