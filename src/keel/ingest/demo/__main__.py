"""``python -m keel.ingest.demo SOURCE spec|check|discover|read``: an Airbyte source.

Messages go to stdout as JSON lines, nothing else does. A bad config is a
TRACE error with ``failure_type: config_error`` and exit code 1 (``check``
answers FAILED instead, as the protocol asks); the ``fail_after`` switch is a
TRACE ``system_error`` and exit code 1.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from keel.ingest.demo.source import (
    SOURCES,
    SPEC,
    DemoConfigError,
    DemoFailure,
    catalog,
    check,
    parse_config,
    read,
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m keel.ingest.demo")
    parser.add_argument("source", choices=SOURCES)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("spec")
    for name in ("check", "discover", "read"):
        cmd = commands.add_parser(name)
        cmd.add_argument("--config", required=True, type=Path)
        if name == "read":
            cmd.add_argument("--catalog", required=True, type=Path)
            cmd.add_argument("--state", type=Path)
    return parser


def _load(path: Path | None, what: str) -> Any:
    if path is None:
        return None
    try:
        return orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise DemoConfigError([f"cannot read the {what} file: {exc}"]) from exc


def _messages(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    if args.command == "spec":
        yield {"type": "SPEC", "spec": SPEC}
        return
    raw = _load(args.config, "config")
    if args.command == "check":
        yield check(args.source, raw)
        return
    config = parse_config(args.source, raw)
    if args.command == "discover":
        yield catalog(config)
        return
    yield from read(config, _load(args.catalog, "catalog") or {}, _load(args.state, "state"))


def _trace(message: str, failure_type: str) -> dict[str, Any]:
    return {
        "type": "TRACE",
        "trace": {
            "type": "ERROR",
            "emitted_at": time.time() * 1000,
            "error": {"message": message, "failure_type": failure_type},
        },
    }


def main(argv: list[str] | None = None, out: IO[bytes] | None = None) -> int:
    args = _parser().parse_args(argv)
    stream = out if out is not None else sys.stdout.buffer
    dumps = orjson.dumps
    try:
        try:
            for message in _messages(args):
                stream.write(dumps(message) + b"\n")
        except DemoConfigError as exc:
            stream.write(dumps(_trace(f"invalid config: {exc}", "config_error")) + b"\n")
            return 1
        except DemoFailure as exc:
            stream.write(dumps(_trace(str(exc), "system_error")) + b"\n")
            return 1
        finally:
            stream.flush()
    except BrokenPipeError:  # the reader went away (keel was stopped): nothing to tell
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
