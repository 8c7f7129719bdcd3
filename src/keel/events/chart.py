"""A small chart of a stream's recent batches for the status page (inline SVG, no script).

One bar per batch, oldest to newest: its height is the batch's rows (relative to the
largest of the shown batches), its colour the verdict (promoted green, blocked red,
warned or pending amber, quarantined or forced violet), and its tooltip the numbers:
rows, verdict, and freshness (from the batch's oldest ``_AIRBYTE_EXTRACTED_AT`` to the
decision, the figure ``/metrics`` reports as ``keel_commit_to_publish_seconds``).
"""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Any

SHOWN = 20
COLOURS = {
    "promoted": "#2f9e55",
    "passed": "#2f9e55",
    "blocked": "#d23c3c",
    "warned": "#d9a400",
    "pending": "#d9a400",
    "quarantined": "#7a52d1",
    "forced": "#7a52d1",
}
BAR, GAP, HEIGHT = 8, 2, 36


def _utc(value: Any) -> dt.datetime | None:
    if not isinstance(value, dt.datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def freshness(batch: dict[str, Any]) -> float | None:
    """Seconds from the batch's oldest extraction to its decision (None: undecided)."""
    first, decided = _utc(batch.get("min_extracted_at")), _utc(batch.get("decided_at"))
    if first is None or decided is None:
        return None
    return max(0.0, (decided - first).total_seconds())


def _span(seconds: float | None) -> str:
    if seconds is None:
        return "not decided"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.1f}s"


def recent(batches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The last :data:`SHOWN` batches (given newest first), oldest first, with freshness."""
    out = [{**b, "freshness_s": freshness(b)} for b in batches[:SHOWN]]
    return list(reversed(out))


def svg(anchor: str, batches: list[dict[str, Any]]) -> str:
    if not batches:
        return '<span class="none">no batches yet</span>'
    top = max(int(b.get("rows") or 0) for b in batches) or 1
    bars = []
    for i, b in enumerate(batches):
        rows = int(b.get("rows") or 0)
        h = max(2, round(HEIGHT * rows / top))
        status = str(b.get("status") or "pending")
        tip = f"{status} · {rows} rows · freshness {_span(b.get('freshness_s'))}"
        bars.append(
            f'<rect x="{i * (BAR + GAP)}" y="{HEIGHT - h}" width="{BAR}" height="{h}" '
            f'fill="{COLOURS.get(status, "#8a93a3")}" data-status="{escape(status, quote=True)}"'
            f' data-rows="{rows}"><title>{escape(tip)}</title></rect>'
        )
    width = len(batches) * (BAR + GAP)
    last = batches[-1]
    label = f"recent batches of {anchor}"
    return (
        f'<svg id="chart-{escape(anchor, quote=True)}" role="img" '
        f'aria-label="{escape(label, quote=True)}" width="{width}" height="{HEIGHT}" '
        f'viewBox="0 0 {width} {HEIGHT}">{"".join(bars)}</svg>'
        f'<div class="none">last: {escape(_span(last.get("freshness_s")))}</div>'
    )
