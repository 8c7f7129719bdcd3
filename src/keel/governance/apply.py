"""Carry out a Plan, change by change, logging each in keel's apply log (:mod:`.apply_log`).

Each change runs in its own transaction together with its log row, so a
change is either applied and logged, or neither. On engines whose DDL
auto-commits (Snowflake) every statement keel emits is idempotent (IF NOT
EXISTS, SET TAG, GRANT), so re-running a half-applied plan is safe. When a
change fails the apply stops and says what was applied and what was not.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from keel.adapters.base import Adapter
from keel.errors import ApplyError, KeelError
from keel.governance.apply_log import ApplyLog
from keel.plan.model import Change, Plan


@dataclass
class ApplyResult:
    apply_id: str
    applied: list[Change] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "apply_id": self.apply_id,
            "applied": len(self.applied),
            "changes": [c.to_dict() for c in self.applied],
        }


def apply_plan(
    plan: Plan, adapter: Adapter, progress: Callable[[Change], None] | None = None
) -> ApplyResult:
    apply_id = uuid.uuid4().hex[:12]
    log = ApplyLog(adapter, apply_id, plan.fingerprint, adapter.current_user())
    result = ApplyResult(apply_id)
    log_ready = not any(c.kind == "bootstrap_ops" for c in plan.changes)
    for seq, change in enumerate(plan.changes):
        try:
            with adapter.transaction():
                for statement in change.sql:
                    adapter.execute(statement)
                if change.kind == "bootstrap_ops":
                    log_ready = True
                if log_ready:
                    log.write(seq, change, "applied")
        except KeelError as exc:
            rest = plan.changes[seq + 1 :]
            if log_ready:
                # the log is best effort once the warehouse refuses; the error says it all
                with contextlib.suppress(KeelError):
                    log.write(seq, change, "failed", exc.message[:2000])
            applied = [f"{c.kind} {c.object}" for c in result.applied]
            raise ApplyError(
                f"apply {apply_id} stopped at change {seq + 1} of {len(plan.changes)} "
                f"({change.kind} {change.object}): {exc.message}\n"
                f"  applied: {len(applied)} change(s); not applied: {len(rest) + 1} "
                f"(this one and {len(rest)} after it). Fix the cause and run keel apply again.",
                applied=applied,
                failed=f"{change.kind} {change.object}",
                not_applied=[f"{c.kind} {c.object}" for c in rest],
            ) from exc
        result.applied.append(change)
        if progress:
            progress(change)
    return result
