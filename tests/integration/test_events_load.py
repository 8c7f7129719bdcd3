"""A bounded burst on loopback: 1,000 webhook posts, 20% repeats of earlier job ids.
Every distinct job is stored and processed exactly once, no 5xx, nothing lost.
(Speed is recorded by bench/events.py, not asserted here.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.events import prepare, run_load


def test_burst_of_webhooks_is_processed_exactly_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEEL_WEBHOOK_TOKEN", "bench-token")
    prepare(tmp_path / "p")
    out = run_load(tmp_path / "p", posts=1000, concurrency=64, repeat_share=0.2)
    assert out["status_codes"] == {202: 1000}
    assert out["answers"] == {"queued": 800, "duplicate": 200}
    assert out["drained"]
    assert out["stored"] == {"done": {"events": 800, "jobs": 800}}
