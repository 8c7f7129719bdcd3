"""``keel demo``: the whole flow with the built-in demo sources, in one command.

On DuckDB by default; :func:`run_demo` also runs it on PostgreSQL (``engine="postgres"``,
or an existing project), where the integration tests prove the same verdicts.

1. write the Sophia project in a fresh folder;
2. apply the foundation (schemas, roles recorded, tags);
3. ingest the four demo sources (sync 1), tag the new tables, gate and publish;
4. ingest again (sync 2): HubSpot contacts carry a null email, a lifecycle
   stage outside the accepted values and an orphan company id; Gong calls
   bring a new column, CUSTOMER_EMAIL, that no contract knows;
5. apply again: classification tags the new column from its name;
6. gate and publish: three sources publish, HubSpot contacts is blocked with
   its failing checks and masked samples, and the alert goes to the local sink;
7. audit: tag coverage.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel.context import Context
from keel.project.init import write_project

if TYPE_CHECKING:
    from keel.quality.model import SourceReport

SYNC2_FAULTS: dict[str, list[dict[str, Any]]] = {
    "hubspot": [
        {"kind": "null", "stream": "contacts", "column": "email", "count": 1},
        {"kind": "bad_value", "stream": "contacts", "column": "lifecycle_stage", "count": 1},
        {"kind": "orphan_fk", "stream": "contacts", "column": "company_id", "count": 1},
    ],
    "gong": [{"kind": "new_column", "stream": "calls", "column": "customer_email"}],
}

Step = Callable[[str], None]


def _promote_all(ctx: Context) -> list[SourceReport]:
    return [ctx.promote(source) for source in ctx.project.sources]


def _alerts(ctx: Context, reports: list[SourceReport]) -> dict[str, Any]:
    """Queue the gate's alerts and deliver them to the configured sinks once (locally: the
    console sink, a file). One pass in this thread, so on the project's own connection."""
    from keel.alerts.notify import notify, sinks_for
    from keel.alerts.sender import AlertSender

    for report in reports:
        notify(ctx, "gate", report)
    sender = AlertSender(ctx.adapter, sinks_for(ctx.project.spec.alerts, ctx.root))
    try:
        result = sender.run_once()
    finally:
        sender.close()
    sink = ctx.project.spec.alerts.console.path
    return {"delivered": result.delivered, "failed": result.failed, "sink": sink}


def run_demo(
    directory: Path | None = None,
    step: Step | None = None,
    *,
    engine: str = "duckdb",
    write: bool = True,
) -> dict[str, Any]:
    """The demo flow; returns what each step did.

    ``engine`` is the warehouse of the project written into ``directory`` (``duckdb``, or
    ``postgres`` with ``KEEL_PG_DSN`` set). With ``write=False`` the Sophia project already
    in ``directory`` is used as it is (its keel.yml names the engine and the roles), e.g.
    one whose role names carry a test's prefix.
    """
    say = step or (lambda _m: None)
    started = time.perf_counter()
    root = directory or Path(tempfile.mkdtemp(prefix="keel-demo-"))
    if write:
        say(f"writing the Sophia project in {root}")
        write_project(root, engine=engine)
    out: dict[str, Any] = {"directory": str(root)}
    with Context(root) as ctx:
        say("applying the foundation: schemas, roles, grants, tags")
        plan, _ = ctx.apply()
        out["foundation"] = plan.summary()
        say("sync 1: ingesting gong, hubspot, slack and netsuite into their _RAW schemas")
        first = ctx.ingest()
        out["sync1_records"] = sum(r.committed for r in first)
        tagged, _ = ctx.apply()
        out["sync1_tags"] = len(tagged.changes)
        say("sync 1: gating and publishing")
        out["sync1"] = [r.to_dict() for r in _promote_all(ctx)]
        say("sync 2: ingesting again; hubspot contacts carry faults, gong calls a new column")
        second = ctx.ingest(faults=SYNC2_FAULTS)
        out["sync2_records"] = sum(r.committed for r in second)
        say("classifying and tagging what sync 2 brought")
        tags, _ = ctx.apply()
        out["classified"] = [
            {"object": c.object, "tag": c.after, "why": c.reason}
            for c in tags.changes
            if c.reason and c.kind == "set_tag"
        ]
        # where grants are enforced (PostgreSQL): what this apply corrected, e.g. drift
        out["corrected"] = [
            {"object": c.object, "why": c.reason}
            for c in tags.changes
            if c.reason and c.kind != "set_tag"
        ]
        say("sync 2: gating and publishing")
        reports = _promote_all(ctx)
        out["sync2"] = [r.to_dict() for r in reports]
        out["alerts"] = _alerts(ctx, reports)
        say("auditing")
        out["audit"] = ctx.audit().to_dict()
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out
