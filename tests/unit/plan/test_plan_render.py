"""A plan for people: every change up to cli.SHOWN, then a count (a first plan of 10,000
tables holds 80,000 tag changes); `keel plan --full` prints them all."""

from __future__ import annotations

from typing import Any

from keel.cli import SHOWN, _render_plan
from keel.console import Console
from keel.plan.model import Change, Plan
from keel.resources import TagKey


class Lines(Console):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def line(self, text: str = "", style: str | None = None) -> None:
        self.lines.append(text)

    def sql(self, statements: Any, indent: str = "    ") -> None:
        self.lines.extend(indent + s for s in statements)


def _plan(n: int) -> Plan:
    changes = tuple(
        Change(
            "set_tag",
            f"column S.T.C{i:05d}",
            after='{"pii_level":"none"}',
            sql=(f"INSERT {i}",),
            subject=TagKey("column", f"S.T.C{i:05d}"),
        )
        for i in range(n)
    )
    return Plan(changes, "f" * 16, "duckdb")


def test_a_large_plan_prints_the_first_changes_and_a_count() -> None:
    out = Lines()
    _render_plan(out, _plan(SHOWN + 7))
    printed = [line for line in out.lines if line.startswith("~ set_tag")]
    assert len(printed) == SHOWN and printed[-1].endswith(f"C{SHOWN - 1:05d}")
    assert "... and 7 more change(s)" in "\n".join(out.lines)
    assert f"Plan: {SHOWN + 7} change(s): {SHOWN + 7} set_tag." in "\n".join(out.lines)


def test_full_prints_every_change_and_a_small_plan_is_whole() -> None:
    out = Lines()
    _render_plan(out, _plan(SHOWN + 7), full=True)
    assert sum(line.startswith("~ set_tag") for line in out.lines) == SHOWN + 7
    assert sum(line == f"      INSERT {SHOWN + 6}" for line in out.lines) == 1
    small = Lines()
    _render_plan(small, _plan(3))
    assert sum(line.startswith("~ set_tag") for line in small.lines) == 3
    assert not any("more change(s)" in line for line in small.lines)
