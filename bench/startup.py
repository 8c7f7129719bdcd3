"""CLI start-up: `keel --help` and `keel plan` on a fresh Sophia project, vs `dbt --version`-free parse.

Run: uv run python bench/startup.py [--runs N]
Prints a JSON object with median seconds; bench/README.md records the results.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# the `keel` executable the install puts beside Python (what a user types), else -m keel
_EXE = Path(sys.executable).with_name("keel")
KEEL = [str(_EXE)] if _EXE.exists() else [sys.executable, "-m", "keel"]


def timed(cmd: list[str], cwd: Path, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            cmd, cwd=cwd, check=False, capture_output=True, env={**os.environ, "NO_COLOR": "1"}
        )
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="keel-bench-startup-"))
    try:
        subprocess.run([*KEEL, "init", str(work / "p")], check=True, capture_output=True)
        subprocess.run(
            [*KEEL, "apply", "--yes", "--project", str(work / "p")], check=True, capture_output=True
        )
        result = {
            "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
            "python_noop_s": round(timed([sys.executable, "-c", "pass"], work, args.runs), 3),
            "keel_help_s": round(timed([*KEEL, "--help"], work, args.runs), 3),
            "keel_plan_s": round(
                timed([*KEEL, "plan", "--project", str(work / "p")], work, args.runs), 3
            ),
            "keel_plan_json_s": round(
                timed([*KEEL, "plan", "--json", "--project", str(work / "p")], work, args.runs), 3
            ),
        }
        dbt = shutil.which("dbt")
        if dbt:
            result["dbt_version_s"] = round(timed([dbt, "--version"], work, 3), 3)
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
