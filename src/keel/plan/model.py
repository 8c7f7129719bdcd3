"""A Plan is a value: an ordered list of Changes, each able to show its SQL.

Building a plan has no side effects. A saved plan carries the fingerprint of
the state it was built on; ``keel apply PLAN_FILE`` refuses it when the
warehouse or the project has changed since.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from keel.errors import PlanError
from keel.resources import Grant, Membership, TagKey

# what a change is about, typed: the grant, the membership, or the object a tag is on
# (schema-level changes carry their object in ``Change.object``)
Subject = Grant | Membership | TagKey

ChangeKind = Literal[
    "bootstrap_ops",
    "create_schema",
    "create_role",
    "grant_role",
    "revoke_role",
    "grant",
    "revoke",
    "set_tag",
    "unset_tag",
    "enable_managed_access",
    "set_masking",
    "transfer_ownership",
]

# the order changes run in: what others depend on first
KIND_ORDER: dict[str, int] = {
    "bootstrap_ops": 0,
    "create_schema": 1,
    "enable_managed_access": 2,
    "create_role": 3,
    "grant_role": 4,
    "revoke_role": 5,
    "transfer_ownership": 6,
    "revoke": 7,
    "grant": 8,
    "unset_tag": 9,
    "set_tag": 10,
    "set_masking": 11,
}


def subject_to_dict(subject: Subject | None) -> dict[str, Any]:
    """The serialised form of a change's subject (plan files: ``data``)."""
    if isinstance(subject, Grant):
        out = {
            "role": subject.role,
            "privilege": subject.privilege,
            "target": subject.target,
            "object_name": subject.object_name,
        }
        if subject.grantee != "ROLE":
            out["grantee"] = subject.grantee
        return out
    if isinstance(subject, Membership):
        return {"role": subject.role, "member": subject.member}
    if isinstance(subject, TagKey):
        return {"object_type": subject.object_type, "object_name": subject.object_name}
    return {}


def subject_from_dict(data: dict[str, Any]) -> Subject | None:
    """The typed subject back from ``data``; a malformed one is a PlanError."""
    if not data:
        return None
    try:
        if "privilege" in data:
            return Grant(
                str(data["role"]),
                str(data["privilege"]),
                data["target"],
                str(data["object_name"]),
                data.get("grantee", "ROLE"),
            )
        if "member" in data:
            return Membership(str(data["role"]), str(data["member"]))
        if "object_type" in data:
            return TagKey(data["object_type"], str(data["object_name"]))
    except KeyError as exc:
        raise PlanError(f"change data is missing {exc}") from exc
    raise PlanError(f"change data not understood: {sorted(data)}")


@dataclass(frozen=True)
class Change:
    kind: ChangeKind
    object: str
    before: str | None = None
    after: str | None = None
    sql: tuple[str, ...] = ()
    note: str | None = None  # e.g. "recorded, not enforced by this engine"
    reason: str | None = None  # e.g. "proposed by classification: ..."
    # the serialised subject; kept in step with ``subject`` (either may be given)
    data: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    subject: Subject | None = None

    def __post_init__(self) -> None:
        if self.subject is None and self.data:
            object.__setattr__(self, "subject", subject_from_dict(self.data))
        elif self.subject is not None and not self.data:
            object.__setattr__(self, "data", subject_to_dict(self.subject))

    @property
    def grant(self) -> Grant:
        if not isinstance(self.subject, Grant):
            raise PlanError(f"{self.kind} {self.object}: not a grant change")
        return self.subject

    @property
    def membership(self) -> Membership:
        if not isinstance(self.subject, Membership):
            raise PlanError(f"{self.kind} {self.object}: not a role membership change")
        return self.subject

    @property
    def tag_key(self) -> TagKey:
        if not isinstance(self.subject, TagKey):
            raise PlanError(f"{self.kind} {self.object}: not a tag change")
        return self.subject

    def with_sql(self, sql: list[str], note: str | None = None) -> Change:
        """This change with its SQL (and a note). A copy of the fields, not ``replace``:
        nothing to re-check, and a plan renders tens of thousands of changes."""
        other = object.__new__(Change)
        other.__dict__.update(self.__dict__)
        other.__dict__["sql"] = tuple(sql)
        if note is not None:
            other.__dict__["note"] = note
        return other

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "object": self.object, "sql": list(self.sql)}
        for key in ("before", "after", "note", "reason"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.data:
            out["data"] = self.data
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Change:
        return cls(
            kind=raw["kind"],
            object=raw["object"],
            before=raw.get("before"),
            after=raw.get("after"),
            sql=tuple(raw.get("sql", ())),
            note=raw.get("note"),
            reason=raw.get("reason"),
            data=dict(raw.get("data", {})),
        )


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    fingerprint: str
    engine: str
    project: str = ""
    notes: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.changes

    def summary(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for change in self.changes:
            out[change.kind] = out.get(change.kind, 0) + 1
        return out

    def to_dict(self) -> dict[str, Any]:
        changes = [c.to_dict() for c in self.changes]  # made once: 80,000 for 10,000 tables
        return {
            "format": "keel-plan/1",
            "engine": self.engine,
            "project": self.project,
            "fingerprint": self.fingerprint,
            "summary": self.summary(),
            "notes": list(self.notes),
            "changes": changes,
            "checksum": self.checksum(changes),
        }

    def checksum(self, changes: list[dict[str, Any]] | None = None) -> str:
        """Of the changes as :meth:`to_dict` gives them (``changes``, when made already)."""
        if changes is None:
            changes = [c.to_dict() for c in self.changes]
        body = json.dumps(changes, sort_keys=True)
        return hashlib.sha256((self.fingerprint + body).encode()).hexdigest()[:16]

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Plan:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise PlanError(f"cannot read plan file {path}: {exc.strerror}") from exc
        except json.JSONDecodeError as exc:
            raise PlanError(
                f"{path}:{exc.lineno}: not a keel plan (invalid JSON: {exc.msg})"
            ) from exc
        if not isinstance(raw, dict) or raw.get("format") != "keel-plan/1":
            raise PlanError(f"{path}: not a keel plan (expected format keel-plan/1)")
        try:
            plan = cls(
                changes=tuple(Change.from_dict(c) for c in raw["changes"]),
                fingerprint=str(raw["fingerprint"]),
                engine=str(raw["engine"]),
                project=str(raw.get("project", "")),
                notes=tuple(raw.get("notes", ())),
            )
        except (KeyError, TypeError) as exc:
            raise PlanError(f"{path}: not a keel plan (missing {exc})") from exc
        if raw.get("checksum") != plan.checksum():
            raise PlanError(
                f"{path}: the plan was edited after it was saved (checksum mismatch); "
                "run keel plan again"
            )
        return plan


def fingerprint(actual: dict[str, object], desired: dict[str, object]) -> str:
    text = json.dumps({"actual": actual, "desired": desired}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
