"""When a ``trigger: changes`` source runs: min_rows with a quiet period, max_wait, and the
fallback interval that every source has."""

from __future__ import annotations

from keel.events.watcher import Watch, due, observe
from keel.project.models import ChangesTrigger

SPEC = ChangesTrigger(min_rows=100, quiet=2, max_wait=30)


def test_min_rows_then_quiet() -> None:
    w = Watch(last_run=0)
    observe(w, 60, 1.0)
    assert due("changes", SPEC, 0, w, 10.0) is None  # below min_rows
    observe(w, 60, 11.0)
    assert due("changes", SPEC, 0, w, 12.0) is None  # still landing
    assert due("changes", SPEC, 0, w, 13.0) == "changes"  # quiet for 2 s


def test_max_wait_bounds_a_steady_trickle() -> None:
    w = Watch(last_run=0)
    for t in range(31):
        observe(w, 1, float(t))  # never quiet, never 100 rows
    assert due("changes", SPEC, 0, w, 29.0) is None
    assert due("changes", SPEC, 0, w, 30.0) == "max_wait"


def test_fallback_for_any_trigger() -> None:
    w = Watch(last_run=0)
    assert due("webhook", SPEC, 900, w, 899.0) is None
    assert due("webhook", SPEC, 900, w, 900.0) == "fallback"
    assert due("webhook", SPEC, 0, w, 10_000.0) is None  # turned off
    observe(w, 500, 1.0)
    assert due("webhook", SPEC, 0, w, 100.0) is None  # a webhook source ignores landed rows
