"""The source's transformation, run after a publish: ``dbt build`` or a command.

``keel.yml``: ``sources.<s>.transform: {dbt: {project_dir, select}}`` runs ``dbt build
--select <select, default source:<s>+> --project-dir <dir>``; ``{command: [...]}``
runs that argv. Both run in the project folder with ``KEEL_SOURCE`` and
``KEEL_BATCH_IDS`` in the environment.

The transformation knows its batch (issue 14): ``KEEL_BATCH_ID`` (the batches' ids,
comma-separated when several streams published), ``KEEL_BATCH_FROM`` / ``KEEL_BATCH_TO``
(the oldest and newest ``_AIRBYTE_EXTRACTED_AT`` the batches published, ISO 8601) and
``KEEL_BATCHES`` (JSON: per stream its id, bounds and rows), and for dbt the same as
``--vars`` (``keel_batch_id``, ``keel_batch_ids``, ``keel_batch_from``, ``keel_batch_to``,
``keel_batches``). Extraction bounds alone do not name the rows (loaders commit out of
order): the exact rows of a batch are the raw ids ``SOPHIA_OPS.KEEL_JUDGED`` records under
its id, which is what an incremental model should join (docs/transformations.md). The outcome (and the tail of the output) is
recorded in ``SOPHIA_OPS.KEEL_TRANSFORMS`` so alerting can report a failure; a
failure never undoes the publish that preceded it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from keel import ops_tables as ops
from keel.adapters.base import Adapter
from keel.project.loaded import Project
from keel.quality.model import TransformResult

TAIL = 4000  # characters of output kept


@dataclass(frozen=True)
class BatchWindow:
    """What one published batch covered."""

    stream: str
    id: str
    first: dt.datetime | None  # oldest _AIRBYTE_EXTRACTED_AT published
    upto: dt.datetime | None  # newest
    rows: int


def batch_context(windows: Sequence[BatchWindow]) -> tuple[dict[str, str], dict[str, Any]]:
    """(environment variables, dbt vars) naming the published batches."""
    firsts = [w.first for w in windows if w.first is not None]
    uptos = [w.upto for w in windows if w.upto is not None]
    lo = min(firsts).isoformat() if firsts else ""
    hi = max(uptos).isoformat() if uptos else ""
    per_stream = {
        w.stream: {
            "id": w.id,
            "from": w.first.isoformat() if w.first else None,
            "to": w.upto.isoformat() if w.upto else None,
            "rows": w.rows,
        }
        for w in windows
    }
    ids = [w.id for w in windows]
    env = {
        "KEEL_BATCH_ID": ",".join(ids),
        "KEEL_BATCH_FROM": lo,
        "KEEL_BATCH_TO": hi,
        "KEEL_BATCHES": json.dumps(per_stream, sort_keys=True),
    }
    dbt_vars = {
        "keel_batch_id": ids[0] if len(ids) == 1 else ",".join(ids),
        "keel_batch_ids": ids,
        "keel_batch_from": lo,
        "keel_batch_to": hi,
        "keel_batches": per_stream,
    }
    return env, dbt_vars


def transform_command(project: Project, source: str) -> tuple[str, list[str]] | None:
    spec = project.sources[source].transform
    if spec is None:
        return None
    if spec.dbt is not None:
        dbt = shutil.which("dbt") or "dbt"
        select = spec.dbt.select or f"source:{source}+"
        project_dir = str((project.root / spec.dbt.project_dir).resolve())
        return "dbt", [dbt, "build", "--select", select, "--project-dir", project_dir]
    if spec.command:
        return "command", list(spec.command)
    return None


def run_transform(
    project: Project,
    adapter: Adapter,
    source: str,
    batch_ids: Sequence[str],
    now: dt.datetime,
    runner: Callable[..., Any] | None = None,
    windows: Sequence[BatchWindow] = (),
) -> TransformResult | None:
    """Run and record the transformation (None when the source configures none)."""
    found = transform_command(project, source)
    if found is None:
        return None
    kind, argv = found
    run = runner or subprocess.run
    batch_env, dbt_vars = batch_context(windows)
    if kind == "dbt":
        argv = [*argv, "--vars", json.dumps(dbt_vars, sort_keys=True)]
    env = {
        **os.environ,
        "KEEL_SOURCE": source,
        "KEEL_BATCH_IDS": ",".join(batch_ids),
        **batch_env,
    }
    start = time.perf_counter()
    try:
        done = run(argv, cwd=project.root, env=env, capture_output=True, text=True, check=False)
        code: int | None = int(done.returncode)
        output = (done.stdout or "") + (done.stderr or "")
    except OSError as exc:
        code, output = None, f"cannot run {argv[0]}: {exc}"
    seconds = time.perf_counter() - start
    result = TransformResult(
        kind,
        argv,
        "succeeded" if code == 0 else "failed",
        code,
        output[-TAIL:],
        seconds,
        uuid.uuid4().hex[:16],
    )
    adapter.execute(
        adapter.insert_sql(
            ops.KEEL_TRANSFORMS,
            [
                {
                    "RUN_ID": result.run_id,
                    "SOURCE": source,
                    "KIND": kind,
                    "COMMAND": " ".join(argv),
                    "STATUS": result.status,
                    "EXIT_CODE": code,
                    "OUTPUT": result.output,
                    "BATCH_IDS": ",".join(batch_ids),
                    "STARTED_AT": now,
                    "FINISHED_AT": now + dt.timedelta(seconds=seconds),
                }
            ],
        )
    )
    return result
