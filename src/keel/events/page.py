"""The status page: server-rendered HTML, no build step, every value escaped."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from keel.events import chart

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:16px 28px}header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;color:#b9c0cc;font-size:13px}main{padding:20px 28px;max-width:1200px}
h2{font-size:16px;margin:24px 0 8px}table{border-collapse:collapse;width:100%;background:#fff;
box-shadow:0 1px 2px rgba(0,0,0,.06)}th,td{text-align:left;padding:7px 10px;border-bottom:1px solid
#eceef2;font-size:13px;vertical-align:top}th{background:#fafbfc;font-weight:600}
.pill{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.promoted,.passed,.delivered,.done,.ok,.succeeded{background:#e3f6e8;color:#17692f}.blocked,.fail,.failed{background:#fde7e7;color:#a01b1b}
.warned,.warn,.pending,.queued,.running,.differs{background:#fff4d6;color:#7a5600}.quarantined,.forced{background:#ece6fb;color:#4b2a9b}
.none{color:#8a93a3}.cards{display:flex;gap:14px;flex-wrap:wrap}.card{background:#fff;padding:12px 16px;
min-width:180px;box-shadow:0 1px 2px rgba(0,0,0,.06)}.card b{font-size:22px;display:block}
code{font-size:12px;background:#f0f2f5;padding:1px 4px;border-radius:3px;word-break:break-all}
"""


def _pill(value: Any) -> str:
    text = escape(str(value)) if value is not None else "—"
    return f'<span class="pill {text}">{text}</span>'


def _cell(value: Any) -> str:
    return escape("" if value is None else str(value))


def _sample(row_json: str, column: str | None) -> str:
    """A failing row as its key and the failing column (already masked by the gate)."""
    try:
        row = json.loads(row_json)
    except (TypeError, json.JSONDecodeError):
        return str(row_json)
    if not isinstance(row, dict):
        return str(row_json)
    wanted = {"id", (column or "").lower()}
    shown = {k: v for k, v in row.items() if k.lower() in wanted} or row
    return ", ".join(f"{k}={json.dumps(v)}" for k, v in shown.items())


def render(data: dict[str, Any]) -> str:
    cov = data.get("coverage") or {}
    tables = cov.get("tables", {})
    cols = cov.get("critical_columns", {})
    blocked = [s for s in data["streams"] if s["batch"] and s["batch"]["status"] == "blocked"]
    cards = [
        ("streams", len(data["streams"])),
        ("blocked batches", len(blocked)),
        ("tables tagged", f"{tables.get('tagged', '?')}/{tables.get('total', '?')}"),
        ("critical columns tagged", f"{cols.get('tagged', '?')}/{cols.get('total', '?')}"),
    ]
    out = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        "<meta name=viewport content='width=device-width,initial-scale=1'>",
        f"<title>keel · {_cell(data['project'])}</title><style>{STYLE}</style></head><body>",
        f"<header><h1>keel · {_cell(data['project'])}</h1>",
        f"<p>Data-quality gate between the _RAW schemas and the platform · generated "
        f"{_cell(data['generated_at'])}</p></header><main>",
        "<div class=cards>",
        *(f"<div class=card><b>{_cell(v)}</b>{_cell(k)}</div>" for k, v in cards),
        "</div><h2>Streams</h2><table><tr><th>stream</th><th>last batch</th><th>rows</th>"
        "<th>gate</th><th>failing checks</th><th>watermark age</th><th>recent batches</th></tr>",
    ]
    for s in data["streams"]:
        b = s["batch"]
        anchor = f"{s['source']}.{s['stream']}"
        failing = (
            "".join(
                f"<div>{_pill(c['status'])} <b>{_cell(c['check_name'])}</b> "
                f"{_cell(c['column_name'] or '')} · {_cell(c['failing_rows'])} "
                f"row{'' if c['failing_rows'] == 1 else 's'}"
                + "".join(
                    f"<div><code>{_cell(_sample(x, c['column_name']))}</code></div>"
                    for x in c["samples"]
                )
                + "</div>"
                for c in s["failing_checks"]
            )
            or '<span class="none">none</span>'
        )
        out.append(
            f"<tr id='{escape(anchor, quote=True)}'><td><b>{_cell(anchor)}</b></td>"
            f"<td><code>{_cell(b['batch_id'] if b else '—')}</code></td>"
            f"<td>{_cell(b['rows'] if b else '')}</td>"
            f"<td>{_pill(b['status'] if b else None)}</td><td>{failing}</td>"
            f"<td>{_cell(s['watermark_age'] or '—')}</td>"
            f"<td>{chart.svg(anchor, s.get('recent') or [])}</td></tr>"
        )
    out.append(
        "</table><h2>Airbyte connections</h2><table><tr><th>source</th><th>connection</th>"
        "<th>standard</th><th>differences</th><th>last sync</th></tr>"
    )
    for c in data.get("connections") or []:
        last = c["last_sync"]
        sync = (
            f"{_pill(last['outcome'])} job {_cell(last['job_id'])} · {_cell(last['at'])}"
            if last
            else "—"
        )
        diffs = (
            "".join(f"<div>{_cell(d)}</div>" for d in c["differences"])
            or '<span class="none">none</span>'
        )
        out.append(
            f"<tr><td><b>{_cell(c['source'])}</b></td><td>{_cell(c['connection'] or '—')}</td>"
            f"<td>{_pill(c['standard'])}</td><td>{diffs}</td><td>{sync}</td></tr>"
        )
    out.append(
        "</table><h2>Recent alerts</h2><table><tr><th>sink</th><th>key</th><th>action</th>"
        "<th>status</th><th>created</th></tr>"
    )
    for a in data["alerts"] or [
        {"sink": "—", "dedup_key": "", "action": "", "status": None, "created_at": ""}
    ]:
        out.append(
            f"<tr><td>{_cell(a['sink'])}</td><td>{_cell(a['dedup_key'])}</td>"
            f"<td>{_cell(a['action'])}</td><td>{_pill(a['status'])}</td>"
            f"<td>{_cell(a['created_at'])}</td></tr>"
        )
    out.append(
        "</table><h2>Recent events</h2><table><tr><th>job</th><th>source</th><th>kind</th>"
        "<th>status</th><th>received</th></tr>"
    )
    for e in data["events"]:
        out.append(
            f"<tr><td>{_cell(e['job_id'])}</td><td>{_cell(e['source'])}</td>"
            f"<td>{_cell(e['kind'])}</td><td>{_pill(e['status'])}</td>"
            f"<td>{_cell(e['received_at'])}</td></tr>"
        )
    out.append("</table></main></body></html>")
    return "\n".join(out)
