"""Rendering: Slack messages (``text`` fallback + ``blocks``) and PagerDuty event bodies.

Invariants:
- a Slack message shows names, statuses, counts and, for a failing check, at most a
  few values of *that check's column* taken from the gate's samples, which the gate
  already masked (high and sensitive columns read ``***``); nothing here reads data;
- every piece of text from outside (names, reasons, error messages) is escaped for
  Slack's mrkdwn and passed through :func:`~keel.alerts.model.redact` where it may
  hold a URL; Slack's limits hold (50 blocks, 3000 characters a section, 150 a header);
- a PagerDuty body never holds the routing key: the sink adds it when it sends.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

from keel.alerts.model import truncate
from keel.quality.model import CheckResult, StreamReport

MAX_BLOCKS = 48
SECTION_CHARS = 2900
HEADER_CHARS = 150
FALLBACK_CHARS = 1500
SUMMARY_CHARS = 1024
STREAMS_SHOWN = 20
CHECKS_SHOWN = 10


def escape(text: str) -> str:
    """Slack mrkdwn: ``&``, ``<`` and ``>`` are control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code(text: str) -> str:
    return "`" + escape(text.replace("`", "'")) + "`"


def stream_url(public_url: str, source: str, stream: str | None = None) -> str:
    """The status page, at the stream's row: ``<public_url>/#<source>.<stream>``."""
    base = public_url.rstrip("/") + "/"
    return f"{base}#{urllib.parse.quote(f'{source}.{stream}', safe='._-~')}" if stream else base


def link(url: str, label: str) -> str:
    """``<url|label>``; characters Slack reads as markup are percent-encoded in the URL."""
    for char, encoded in (("|", "%7C"), ("<", "%3C"), (">", "%3E"), (" ", "%20")):
        url = url.replace(char, encoded)
    return f"<{url}|{escape(label)}>"


def header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": truncate(text, HEADER_CHARS)}}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, SECTION_CHARS)}}


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(text, 2000)}]}


def message(text: str, blocks: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {"text": truncate(text, FALLBACK_CHARS), "blocks": list(blocks)[:MAX_BLOCKS]}


def _count(n: int) -> str:
    return f"{n:,}"


def sample_values(check: CheckResult, rows: Sequence[Mapping[str, Any]], limit: int) -> list[str]:
    """Up to ``limit`` distinct values of the check's own column in the (masked) samples."""
    if not check.column or limit <= 0:
        return []
    column = check.column.lower()
    seen: list[str] = []
    for row in rows:
        if column not in row:
            continue
        text = truncate(json.dumps(row[column], default=str, ensure_ascii=False), 40)
        if text not in seen:
            seen.append(text)
        if len(seen) >= limit:
            break
    return seen


def check_line(check: CheckResult, samples: Sequence[Mapping[str, Any]], limit: int) -> str:
    on = f" on {code(check.column.lower())}" if check.column else ""
    rows = "row" if check.failing_rows == 1 else "rows"
    line = (
        f"• {code(check.name)}{on} ({escape(check.severity)}, {escape(check.status)}): "
        f"*{_count(check.failing_rows)}* failing {rows}"
    )
    if check.failing_values is not None and check.failing_values != check.failing_rows:
        line += f" ({_count(check.failing_values)} values)"
    values = sample_values(check, samples, limit)
    if values:
        line += "\n      e.g. " + ", ".join(code(v) for v in values)
    return line


def stream_section(
    source: str, s: StreamReport, public_url: str, sample_limit: int
) -> dict[str, Any]:
    title = link(stream_url(public_url, source, s.stream), f"{source}.{s.stream}")
    batch = f" · batch {code(s.batch_id[:12])}" if s.batch_id else ""
    lines = [f"*{title}* — *{escape(s.status)}*{batch} · {_count(s.rows)} rows"]
    if s.reason:
        lines.append("_" + escape(truncate(s.reason, 300)) + "_")
    failing = s.failing
    for check in failing[:CHECKS_SHOWN]:
        lines.append(check_line(check, s.samples.get(check.key, ()), sample_limit))
    if len(failing) > CHECKS_SHOWN:
        lines.append(f"… and {len(failing) - CHECKS_SHOWN} more failing checks")
    text = "\n".join(lines)
    return section(text)


def gate_fallback(source: str, streams: Sequence[StreamReport]) -> str:
    parts = []
    for s in streams:
        checks = "; ".join(
            f"{c.name}{' ' + c.column.lower() if c.column else ''} {c.failing_rows} rows"
            for c in s.failing[:CHECKS_SHOWN]
        )
        parts.append(f"{s.stream} {s.status}" + (f" ({checks})" if checks else ""))
    held = sum(1 for s in streams if s.blocked)
    return f"keel held back {held} stream(s) of {source}: " + ", ".join(parts)


def gate_message(
    source: str, streams: Sequence[StreamReport], public_url: str, sample_limit: int
) -> dict[str, Any]:
    """One message for one gate run: every stream with a failing check or a block."""
    held = sum(1 for s in streams if s.blocked)
    failing = sum(len(s.failing) for s in streams)
    title = (
        f"keel: {held} stream{'s' if held != 1 else ''} of {source} held back"
        if held
        else f"keel: failing checks in {source}"
    )
    blocks: list[dict[str, Any]] = [header(title)]
    for s in streams[:STREAMS_SHOWN]:
        blocks.append(stream_section(source, s, public_url, sample_limit))
    if len(streams) > STREAMS_SHOWN:
        blocks.append(section(f"… and {len(streams) - STREAMS_SHOWN} more streams"))
    blocks.append(
        context(
            f"{failing} failing check{'s' if failing != 1 else ''} · "
            f"{link(stream_url(public_url, source), 'keel status page')}"
        )
    )
    return message(gate_fallback(source, streams), blocks)


def notice_message(title: str, lines: Sequence[str], url: str) -> dict[str, Any]:
    """A short message: a header, a section of mrkdwn lines, a link to the status page."""
    return message(
        title + ": " + " ".join(lines),
        [header(title), section("\n".join(lines)), context(link(url, "keel status page"))],
    )


def pagerduty_trigger(
    dedup: str,
    summary: str,
    *,
    source: str,
    component: str,
    group: str,
    klass: str,
    details: Mapping[str, Any],
    url: str,
    timestamp: str,
    severity: str = "error",
) -> dict[str, Any]:
    """An Events API v2 ``trigger`` body, without ``routing_key``."""
    return {
        "event_action": "trigger",
        "dedup_key": dedup,
        "payload": {
            "summary": truncate(summary, SUMMARY_CHARS),
            "source": truncate(source, 255),
            "severity": severity,
            "timestamp": timestamp,
            "component": truncate(component, 255),
            "group": truncate(group, 255),
            "class": truncate(klass, 255),
            "custom_details": dict(details),
        },
        "links": [{"href": url, "text": "keel status page"}],
    }


def pagerduty_resolve(dedup: str) -> dict[str, Any]:
    """An Events API v2 ``resolve`` body, without ``routing_key``."""
    return {"event_action": "resolve", "dedup_key": dedup}
