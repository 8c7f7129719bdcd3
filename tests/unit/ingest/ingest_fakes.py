"""Helpers for ingestion tests: a scriptable fake connector and message builders."""

from __future__ import annotations

import textwrap
from typing import Any

import orjson

# A tiny Airbyte source whose behaviour comes from its config: config[verb] may hold
# "stdout" (lines; objects are dumped as JSON), "stderr" (text), "exit" (code),
# "forever" (emit records until killed, writing its pid first), "files" (report the
# files it was given, and their modes, as a LOG message).
FAKE_CONNECTOR = textwrap.dedent(
    """
    import json, os, stat, sys
    args = sys.argv[1:]
    verb, opts = args[0], dict(zip(args[1::2], args[2::2]))
    config = json.load(open(opts["--config"])) if "--config" in opts else {}
    plan = config.get(verb, {})
    if plan.get("files"):
        report = {k: oct(stat.S_IMODE(os.stat(v).st_mode)) for k, v in opts.items()}
        report["config_path"] = opts["--config"]
        if "--state" in opts:
            report["state"] = json.load(open(opts["--state"]))
        report["catalog"] = json.load(open(opts["--catalog"])) if "--catalog" in opts else None
        msg = {"type": "LOG", "log": {"level": "INFO", "message": json.dumps(report)}}
        print(json.dumps(msg), flush=True)
    for line in plan.get("stdout", []):
        sys.stdout.write((line if isinstance(line, str) else json.dumps(line)) + "\\n")
    sys.stdout.flush()
    sys.stderr.write(plan.get("stderr", ""))
    if plan.get("forever"):
        open(plan["forever"], "w").write(str(os.getpid()))
        n = 0
        while True:
            n += 1
            rec = {"type": "RECORD", "record": {"stream": "s", "data": {"id": n}, "emitted_at": 0}}
            sys.stdout.write(json.dumps(rec) + "\\n")
    sys.exit(plan.get("exit", 0))
    """
)


def record(stream: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": "RECORD", "record": {"stream": stream, "data": data, "emitted_at": 0}}


def state(stream: str, cursor: object) -> dict[str, Any]:
    blob = {"updated_at": cursor}
    return {
        "type": "STATE",
        "state": {
            "type": "STREAM",
            "stream": {"stream_descriptor": {"name": stream}, "stream_state": blob},
        },
    }


def catalog_message(streams: dict[str, dict[str, Any]], key: bool = True) -> dict[str, Any]:
    """A CATALOG message: stream -> JSON-schema properties; id key and updated_at cursor."""
    out = []
    for name, props in streams.items():
        stream: dict[str, Any] = {
            "name": name,
            "json_schema": {"type": "object", "properties": props},
            "supported_sync_modes": ["full_refresh", "incremental"],
            "source_defined_cursor": True,
            "default_cursor_field": ["updated_at"],
        }
        if key:
            stream["source_defined_primary_key"] = [["id"]]
        out.append(stream)
    return {"type": "CATALOG", "catalog": {"streams": out}}


def dumps(obj: object) -> str:
    return orjson.dumps(obj).decode()
