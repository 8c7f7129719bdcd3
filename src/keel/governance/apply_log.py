"""The store of SOPHIA_OPS.KEEL_APPLY_LOG, the only code that touches that table: one
row per change of a ``keel apply``, written in the change's own transaction (applied)
or after the warehouse refused it (failed).

The statements are logged as they were sent (joined by ``;``), with the plan's
fingerprint and the warehouse user who applied it.
"""

from __future__ import annotations

from dataclasses import dataclass

from keel import ops_tables as ops
from keel.adapters.base import Adapter
from keel.adapters.bound import NOW
from keel.plan.model import Change

T = ops.KEEL_APPLY_LOG


@dataclass(frozen=True)
class ApplyLog:
    adapter: Adapter
    apply_id: str
    fingerprint: str
    user: str

    def write(self, seq: int, change: Change, status: str, error: str | None = None) -> None:
        """Log change number ``seq`` of this apply as ``status`` (applied | failed)."""
        row: dict[str, object] = {
            "APPLY_ID": self.apply_id,
            "SEQ": seq,
            "CHANGE_KIND": change.kind,
            "OBJECT_NAME": change.object,
            "SQL_TEXT": ";\n".join(change.sql),
            "STATUS": status,
            "ERROR": error,
            "FINGERPRINT": self.fingerprint,
            "APPLIED_BY": self.user,
            "APPLIED_AT": NOW,
        }
        self.adapter.execute(self.adapter.insert_sql(T, [row]))
