"""``keel run SOURCE``: ingest, gate, promote, transform: what a sync event triggers.

The ingest step is a callable ``(source) -> result`` handed in by the caller (the
facade, ``Context.run``, passes its own ``ingest``); without one the step is
skipped and the report says so, and the rest runs on whatever RAW already holds (in
production Airbyte has already landed it, so ``keel serve`` passes none). An ingest
failure stops the run before the gate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from keel.errors import KeelError
from keel.publish.promote import promote
from keel.quality.model import SourceReport

if TYPE_CHECKING:
    from keel.adapters.base import Adapter
    from keel.project.loaded import Project

IngestStep = Callable[[str], Any]
SKIPPED = "no ingest step for this run (Airbyte loads RAW); gating what the RAW tables already hold"


@dataclass
class RunReport:
    source: str
    ingest: dict[str, Any] = field(default_factory=dict)
    promote: SourceReport | None = None

    @property
    def ok(self) -> bool:
        failed = self.ingest.get("status") == "failed"
        return not failed and (self.promote is None or self.promote.ok)

    @property
    def blocked(self) -> bool:
        """What keel serve marks an event with: anything short of ok holds the source."""
        return not self.ok

    @property
    def published_rows(self) -> int:
        return self.promote.published_rows if self.promote is not None else 0

    @property
    def gate(self) -> SourceReport:
        """The gate's report of this run (empty when the run stopped before the gate)."""
        return self.promote if self.promote is not None else SourceReport(self.source)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source, "ingest": self.ingest}
        if self.promote is not None:
            out.update({k: v for k, v in self.promote.to_dict().items() if k != "source"})
        else:
            out["streams"] = []
        return out


def _as_dict(result: Any) -> dict[str, Any]:
    if hasattr(result, "to_dict"):
        data = result.to_dict()
        return dict(data) if isinstance(data, dict) else {"result": data}
    if isinstance(result, dict):
        return dict(result)
    return {} if result is None else {"result": str(result)}


def run_source(
    project: Project,
    adapter: Adapter,
    source: str,
    *,
    ingest: IngestStep | None = None,
    transform: bool = True,
    **promote_kwargs: Any,
) -> RunReport:
    """Ingest (when a step is given), then :func:`keel.publish.promote.promote`."""
    report = RunReport(source)
    if ingest is None:
        report.ingest = {"status": "skipped", "message": SKIPPED}
    else:
        try:
            done = _as_dict(ingest(source))
            report.ingest = {**done, "status": done.get("status", "succeeded")}
        except KeelError as exc:
            report.ingest = {"status": "failed", "message": exc.message}
            return report
    report.promote = promote(project, adapter, source, transform=transform, **promote_kwargs)
    return report
