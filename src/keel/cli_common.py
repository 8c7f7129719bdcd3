"""Shared plumbing for every ``keel`` command: common options, the console, error handling.

Command modules (``keel.cli`` and the ``cli`` module of each part) decorate
their click commands with :func:`command`; it adds ``--project`` and
``--json``, builds the Console, and turns any KeelError into one message on
stderr and exit code 1 (``--debug`` shows the traceback).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from keel.console import Console
    from keel.context import Context

F = TypeVar("F", bound=Callable[..., Any])


class State:
    debug = False


def make_console(json_mode: bool) -> Console:
    from keel.console import Console

    return Console(json_mode=json_mode, color=None if os.environ.get("NO_COLOR") is None else False)


def command(fn: F) -> F:
    """Common options (--project, --json) and error handling for every command."""

    @click.option(
        "--project",
        "project_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("."),
        show_default=True,
        help="The keel project folder.",
    )
    @click.option("--json", "json_mode", is_flag=True, help="Print JSON for scripts.")
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from keel.errors import KeelError

        console = make_console(kwargs["json_mode"])
        try:
            return fn(*args, console=console, **kwargs)
        except KeelError as exc:
            if State.debug:
                raise
            if console.json_mode:
                console.emit_json({"error": exc.message})
            console.error(exc.message)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            console.error("interrupted")
            sys.exit(130)
        except Exception as exc:  # a bug in keel: still no traceback without --debug
            if State.debug:
                raise
            console.error(
                f"internal error: {type(exc).__name__}: {exc} "
                "(run with --debug for the traceback, and please report it)"
            )
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def open_context(project_dir: Path, console: Console) -> Context:
    from keel.context import Context

    return Context(project_dir, console)


def finish_plan(
    console: Console,
    *,
    data: dict[str, Any],
    render: Callable[[], None],
    out: Path | None,
    save: Callable[[Path], object],
    apply_command: str,
    empty: bool,
    detailed_exitcode: bool,
) -> None:
    """The end of every plan command (`keel plan`, `keel airbyte plan`): save the plan when
    asked, print it (JSON or for people), and exit 2 under ``--detailed-exitcode`` when it
    has changes."""
    if out:
        save(out)
    if console.json_mode:
        console.emit_json(data)
    else:
        render()
        if out:
            console.line(f"saved to {out}; apply it with: {apply_command} {out}")
    if detailed_exitcode and not empty:
        sys.exit(2)
