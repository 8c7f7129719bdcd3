"""The ``keel`` executable (keel.entry.run) ends the process with os._exit once the command
is done. What a normal exit would do must still happen: every byte written reaches a pipe,
the exit status is the command's, atexit handlers run, and a non-daemon thread still at
work is waited for (then the exit is the usual one)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from keel.entry import exit_code

# a stand-in for keel's click group, so the test controls what the command does
SCRIPT = textwrap.dedent(
    """
    import atexit, os, sys, threading, time
    import click
    import keel.cli

    out, mode = sys.argv[1], sys.argv[2]

    @click.command()
    def fake():
        atexit.register(lambda: open(out, "a").write("atexit\\n"))
        if mode == "short":  # waits in the stream's buffer: only a flush writes it
            sys.stdout.write("short, no newline")
            sys.exit(0)
        if mode == "closed":  # flushing fails: Python's own exit gives 120
            sys.stdout.write("lost")
            os.close(sys.stdout.fileno())
            sys.exit(0)
        sys.stdout.write("x" * 1_000_000 + "\\n")  # more than a pipe buffer holds
        if mode == "thread":
            def work():
                time.sleep(0.3)
                open(out, "a").write("thread done\\n")
            threading.Thread(target=work).start()
        if mode == "message":
            sys.exit("the command failed")
        sys.exit(int(mode) if mode.isdigit() else 0)

    keel.cli.main = fake
    sys.argv = ["keel"]
    from keel.entry import run
    run()
    """
)


def call(tmp_path: Path, mode: str) -> tuple[subprocess.CompletedProcess[str], str]:
    out = tmp_path / "out.txt"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # buffered stdout
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(out), mode], capture_output=True, text=True, env=env
    )
    return done, out.read_text() if out.exists() else ""


@pytest.mark.parametrize("mode,status", [("0", 0), ("1", 1), ("2", 2)])
def test_status_output_and_atexit(tmp_path: Path, mode: str, status: int) -> None:
    done, side = call(tmp_path, mode)
    assert done.returncode == status
    assert done.stdout == "x" * 1_000_000 + "\n"
    assert side == "atexit\n"


def test_a_message_exit_prints_it_and_gives_1(tmp_path: Path) -> None:
    done, side = call(tmp_path, "message")
    assert done.returncode == 1
    assert done.stderr.strip() == "the command failed"
    assert side == "atexit\n"


def test_buffered_output_is_flushed(tmp_path: Path) -> None:
    done, side = call(tmp_path, "short")
    assert (done.returncode, done.stdout, side) == (0, "short, no newline", "atexit\n")


def test_a_failed_flush_gives_120(tmp_path: Path) -> None:
    done, side = call(tmp_path, "closed")
    assert (done.returncode, done.stdout, side) == (120, "", "atexit\n")


def test_a_working_thread_is_waited_for(tmp_path: Path) -> None:
    done, side = call(tmp_path, "thread")
    assert done.returncode == 0
    assert side.splitlines() == ["thread done", "atexit"]


def test_exit_code_follows_sys_exit() -> None:
    assert exit_code(None) == 0
    assert exit_code(3) == 3
    assert exit_code(256 + 2) == 2
    assert exit_code(-1) == 255
    assert exit_code(2**64) == 255  # beyond a C long, as Python's own exit


def test_python_m_keel_and_the_command_give_the_same(project: Path) -> None:
    """The real commands through the executable's path: JSON complete, status kept."""
    done = subprocess.run(
        [sys.executable, "-m", "keel", "plan", "--json", "--project", str(project)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("}")
    bad = subprocess.run(
        [sys.executable, "-m", "keel", "gate", "nosuch", "--project", str(project)],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1
    assert "unknown source 'nosuch'" in bad.stderr
