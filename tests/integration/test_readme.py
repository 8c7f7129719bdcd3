"""The README's runnable blocks work as written (in a temporary folder, on DuckDB)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def runnable_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"<!-- runnable -->\s*```sh\n(.*?)```", text, flags=re.DOTALL)


def test_readme_has_a_runnable_block() -> None:
    assert runnable_blocks()


def test_readme_runnable_blocks_work_as_written(tmp_path: Path) -> None:
    bin_dir = str(Path(sys.executable).parent)  # the environment's `keel` lives beside python
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""), "NO_COLOR": "1"}
    for block in runnable_blocks():
        r = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert r.returncode == 0, (
            f"README block failed:\n{block}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
        )
    assert (tmp_path / "my-platform/catalog.json").stat().st_size > 1000
