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

from keel.adapters.duckdb import DuckDBAdapter
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
        opening = ctx._opening
        assert opening is not None
    assert opening.done()
    # the file lock is free again: another process opens the file
    other = subprocess.run(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; duckdb.connect(sys.argv[1]).close()",
            str(path),
        ],
        capture_output=True,
        text=True,
    )
    assert other.returncode == 0, other.stderr


def test_leaving_on_ctrl_c_does_not_wait_for_the_open(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keel.adapters.registry as registry

    release = threading.Event()
    real = registry.adapter_for

    def slow(p: object) -> object:  # a login that takes long
        release.wait(10)
        return real(p)  # type: ignore[arg-type]

    monkeypatch.setattr(registry, "adapter_for", slow)
    with pytest.raises(KeyboardInterrupt), Context(project) as ctx:
        ctx.open_ahead()
        opening = ctx._opening
        assert opening is not None
        raise KeyboardInterrupt
    # the Context was left while the open was still under way (not joined)
    assert not opening.done()
    assert ctx._opening is None and ctx._adapter is None
    release.set()
    opening.result().close()


def test_an_interrupted_wait_keeps_the_open_to_close(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while the adapter is awaited: the Context still closes what the thread opens."""
    import keel.adapters.registry as registry
    from keel import context

    release = threading.Event()
    opened: list[DuckDBAdapter] = []
    real = registry.adapter_for

    def slow(p: object) -> object:
        release.wait(10)
        opened.append(real(p))  # type: ignore[arg-type]
        return opened[-1]

    def interrupted(self: object) -> None:  # what a Ctrl-C during the join raises
        raise KeyboardInterrupt

    monkeypatch.setattr(registry, "adapter_for", slow)
    ctx = Context(project)
    ctx.open_ahead()
    with monkeypatch.context() as m:
        m.setattr(context._Opening, "result", interrupted)
        with pytest.raises(KeyboardInterrupt):
            _ = ctx.adapter
    assert ctx._opening is not None  # still known to the Context
    release.set()
    ctx.close()
    assert len(opened) == 1 and ctx._adapter is None
    with pytest.raises(Exception, match="closed"):
        opened[0].fetch("SELECT 1")


def test_a_given_adapter_is_kept(project: Path) -> None:
    given = DuckDBAdapter(":memory:")
    with Context(project, adapter=given) as ctx:
        ctx.open_ahead()
        assert ctx.adapter is given
        assert ctx._opening is None
