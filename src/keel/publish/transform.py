"""The source's transformation, run after a publish: ``dbt build`` or a command.

``keel.yml``: ``sources.<s>.transform: {dbt: {project_dir, select}}`` runs ``dbt build
--select <select, default source:<s>+> --project-dir <dir>``; ``{command: [...]}``
runs that argv. Both run in the project folder with ``KEEL_SOURCE`` and
``KEEL_BATCH_IDS`` in the environment. The outcome (and the tail of the output) is
recorded in ``SOPHIA_OPS.KEEL_TRANSFORMS`` so alerting can report a failure; a
failure never undoes the publish that preceded it.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from keel import ops_tables as ops
from keel.adapters.base import Adapter
from keel.project.loader import Project
from keel.quality.model import TransformResult

TAIL = 4000  # characters of output kept


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
) -> TransformResult | None:
    """Run and record the transformation (None when the source configures none)."""
    found = transform_command(project, source)
    if found is None:
        return None
    kind, argv = found
    run = runner or subprocess.run
    env = {**os.environ, "KEEL_SOURCE": source, "KEEL_BATCH_IDS": ",".join(batch_ids)}
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
