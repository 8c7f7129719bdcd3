from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tests.support.gatekit import Kit

from keel.cli import main
from keel.project.init import write_project


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A fresh Sophia project (DuckDB) in a temporary folder."""
    root = tmp_path / "proj"
    write_project(root)
    return root


@pytest.fixture
def keel(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run the CLI in-process: keel("plan", "--json", project=path)."""
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")

    def run(*args: str, project: Path | None = None, input: str | None = None) -> Result:
        argv = list(args)
        if project is not None:
            argv += ["--project", str(project)]
        runner = CliRunner()
        r = runner.invoke(main, argv, input=input, catch_exceptions=False)
        return Result(r.exit_code, r.stdout, r.stderr)

    return run


@pytest.fixture
def kit(tmp_path: Path) -> Iterator[Callable[..., Kit]]:
    """Build gate test warehouses (tests/support/gatekit.py); closed after the test."""
    made: list[Kit] = []

    def make(tables: list[dict[str, Any]], **kw: Any) -> Kit:
        k = Kit(tmp_path, tables, **kw)
        made.append(k)
        return k

    yield make
    for k in made:
        k.close()
