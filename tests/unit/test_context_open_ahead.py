"""Context.open_ahead: the warehouse opens on a thread while a verb imports its modules.
The adapter it gives is the one the verb uses; an error opening it is raised where the
adapter is first used, as the same keel error; a connection opened ahead and never used is
still closed with the Context (DuckDB's file lock is released)."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from keel.adapters.duckdb import DuckDBAdapter, connect
from keel.context import Context
from keel.errors import WarehouseLockedError

HOLD = "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True); sys.stdin.read()"


def test_the_adapter_opened_ahead_is_the_one_used(project: Path) -> None:
    with Context(project) as ctx:
        ctx.open_ahead()
        ctx.open_ahead()  # once is enough: a second call changes nothing
        adapter = ctx.adapter
        assert isinstance(adapter, DuckDBAdapter)
        assert ctx.adapter is adapter
        assert adapter.fetch("SELECT 41 + 1") == [(42,)]
        assert adapter.path == str(project / ".keel" / "warehouse.duckdb")
    assert ctx._adapter is None  # closed with the Context


def test_opened_on_another_thread(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import keel.adapters.registry as registry

    threads: list[str] = []
    real = registry.adapter_for

    def spy(p: object) -> object:
        threads.append(threading.current_thread().name)
        return real(p)  # type: ignore[arg-type]

    monkeypatch.setattr(registry, "adapter_for", spy)
    with Context(project) as ctx:
        ctx.open_ahead()
        ctx.adapter.fetch("SELECT 1")
    assert threads == ["keel-open"]


def test_an_error_opening_is_raised_where_the_adapter_is_used(project: Path) -> None:
    path = project / ".keel" / "warehouse.duckdb"
    path.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(  # another process holds DuckDB's file lock
        [sys.executable, "-c", HOLD, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        with Context(project) as ctx:
            ctx.open_ahead()  # does not raise: the verb's imports go on
            with pytest.raises(WarehouseLockedError, match="is in use"):
                _ = ctx.adapter
    finally:
        holder.communicate(b"")


def test_opened_ahead_and_unused_is_closed(project: Path) -> None:
    path = project / ".keel" / "warehouse.duckdb"
    with Context(project) as ctx:
        ctx.open_ahead()
    # the file lock is free again: another connection opens it
    connect(str(path)).close()


def test_a_given_adapter_is_kept(project: Path) -> None:
    given = DuckDBAdapter(":memory:")
    with Context(project, adapter=given) as ctx:
        ctx.open_ahead()
        assert ctx.adapter is given
        assert ctx._opening is None
