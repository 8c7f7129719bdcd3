"""All output goes through a Console: rich text for people, JSON for scripts, or nothing.

The library never prints; commands hand their results to the console. rich is
imported only when something is shown to a person, so ``keel --help`` and JSON
output start fast.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator, Sequence
from typing import Any, Protocol


class Progress(Protocol):
    def advance(self, n: int = 1) -> None: ...

    def update(self, completed: int, total: int | None = None) -> None: ...


class _NoProgress:
    def advance(self, n: int = 1) -> None:
        pass

    def update(self, completed: int, total: int | None = None) -> None:
        pass


class _RichProgress:
    def __init__(self, progress: Any, task: Any):
        self._p, self._t = progress, task

    def advance(self, n: int = 1) -> None:
        self._p.advance(self._t, n)

    def update(self, completed: int, total: int | None = None) -> None:
        self._p.update(self._t, completed=completed, total=total)


class Console:
    """Terminal output (stderr for progress and errors, stdout for results)."""

    json_mode = False

    def __init__(self, json_mode: bool = False, quiet: bool = False, color: bool | None = None):
        self.json_mode = json_mode
        self.quiet = quiet
        self._color = color
        self._out: Any = None
        self._err: Any = None

    @property
    def out(self) -> Any:
        if self._out is None:
            from rich.console import Console as RichConsole

            self._out = RichConsole(highlight=False, soft_wrap=True, no_color=self._color is False)
        return self._out

    @property
    def err(self) -> Any:
        if self._err is None:
            from rich.console import Console as RichConsole

            self._err = RichConsole(
                stderr=True, highlight=False, soft_wrap=True, no_color=self._color is False
            )
        return self._err

    # ---- results ----------------------------------------------------------------------

    def emit_json(self, data: Any) -> None:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
        sys.stdout.flush()

    def line(self, text: str = "", style: str | None = None) -> None:
        if self.json_mode or self.quiet:
            return
        self.out.print(text, style=style, markup=False)

    def markup(self, text: str) -> None:
        if self.json_mode or self.quiet:
            return
        self.out.print(text)

    def heading(self, text: str) -> None:
        self.line(text, style="bold")

    def ok(self, text: str) -> None:
        self.line("✓ " + text, style="green")

    def warn(self, text: str) -> None:
        if not self.quiet:
            self.err.print("warning: " + text, style="yellow", markup=False)

    def error(self, text: str) -> None:
        self.err.print("error: " + text, style="bold red", markup=False)

    def table(
        self, title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        if self.json_mode or self.quiet:
            return
        from rich.table import Table

        table = Table(title=title, title_justify="left", show_edge=False, header_style="bold")
        for c in columns:
            table.add_column(c)
        for r in rows:
            table.add_row(*("" if v is None else str(v) for v in r))
        self.out.print(table)

    def sql(self, statements: Sequence[str], indent: str = "    ") -> None:
        if self.json_mode or self.quiet:
            return
        for s in statements:
            self.out.print(indent + s, style="dim", markup=False, soft_wrap=True)

    # ---- progress ---------------------------------------------------------------------

    @contextlib.contextmanager
    def progress(self, description: str, total: int | None = None) -> Iterator[Progress]:
        if self.json_mode or self.quiet or not self.err.is_terminal:
            yield _NoProgress()
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.err,
            transient=True,
        ) as p:
            yield _RichProgress(p, p.add_task(description, total=total))


class NullConsole(Console):
    """Shows nothing: for the library used in-process (server, tests)."""

    def __init__(self) -> None:
        super().__init__(quiet=True)

    def emit_json(self, data: Any) -> None:
        pass

    def error(self, text: str) -> None:
        pass
