"""``keel run SOURCE``: ingest, gate, promote, transform: what a sync event triggers.

The ingest step is pluggable: pass ``ingest`` (a callable ``(context, source) ->
result``), or let :func:`default_ingest` find ``keel.ingest.runner.ingest_for_run``
(the same signature) when this build has it. Without one, the step is skipped and
the report says so; the rest runs on whatever RAW already holds (in production
Airbyte has already landed it). An ingest failure stops the run before the gate.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from keel.publish.promote import promote
from keel.quality.model import SourceReport

if TYPE_CHECKING:
    from keel.context import Context

IngestStep = Callable[["Context", str], Any]
INGEST_HOOK = ("keel.ingest.api", "ingest_for_run")


def default_ingest() -> IngestStep | None:
    module_name, name = INGEST_HOOK
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    found = getattr(module, name, None)
    return found if callable(found) else None


@dataclass
class RunReport:
    source: str
    ingest: dict[str, Any] = field(default_factory=dict)
    promote: SourceReport | None = None

    @property
    def ok(self) -> bool:
        failed = self.ingest.get("status") == "failed"
        return not failed and (self.promote is None or self.promote.ok)

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
    ctx: Context,
    source: str,
    *,
    ingest: IngestStep | None = None,
    find_ingest: Callable[[], IngestStep | None] = default_ingest,
    transform: bool = True,
    **promote_kwargs: Any,
) -> RunReport:
    """Ingest (when a step is available), then :func:`keel.publish.promote.promote`."""
    from keel.errors import KeelError

    report = RunReport(source)
    step = ingest or find_ingest()
    if step is None:
        report.ingest = {
            "status": "skipped",
            "message": "no ingest step in this build (keel.ingest.runner.ingest_for_run); "
            "gating what the RAW tables already hold",
        }
    else:
        try:
            done = _as_dict(step(ctx, source))
            report.ingest = {**done, "status": done.get("status", "succeeded")}
        except KeelError as exc:
            report.ingest = {"status": "failed", "message": exc.message}
            return report
    report.promote = promote(
        ctx.project, ctx.adapter, source, transform=transform, **promote_kwargs
    )
    return report
