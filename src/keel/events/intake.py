"""A webhook body made safe before anything else reads it.

The webhook endpoint takes bodies from the network: nothing in them is trusted.
:func:`clean_body` turns any byte string into either a clean JSON body (what
:func:`keel.events.payload.parse_webhook` then validates as Airbyte's shape) or one
:class:`~keel.errors.WebhookError` saying what is wrong (HTTP 400):

* the body is UTF-8 (strict) and JSON, nested at most ``MAX_DEPTH`` levels (checked
  before parsing: Python's parser recurses and would fail on ``[`` x 3,000);
* numbers have at most ``MAX_DIGITS`` digits and are finite (a 5,000-digit job id
  trips Python's int limit; ``NaN`` and ``Infinity`` are not JSON);
* the values keel uses to find and store the event (``data.jobId``,
  ``data.connection.id``, ``data.connection.name``) are short printable text: no NUL,
  no unpaired surrogate, no control character, nothing over ``MAX_ID`` characters;
* every other string is normalised: NUL and unpaired surrogates become U+FFFD and
  text over ``MAX_TEXT`` characters is cut, so what is stored and logged is bounded
  and always encodes.

:func:`short` bounds a value for a log line; :class:`TruncatingFilter` does it for
every record of a logger.
"""

from __future__ import annotations

import json
import logging
import math
import re
from typing import Any

from keel.errors import WebhookError

MAX_BODY = 1024 * 1024
MAX_DEPTH = 32
MAX_DIGITS = 19
MAX_ID = 256
MAX_TEXT = 8192
LOG_LIMIT = 200

_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")
_UNSAFE_ID = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
# the fields that find the event and become SQL values and log text
KEY_FIELDS = {("data", "jobId"), ("data", "connection", "id"), ("data", "connection", "name")}


def clean_body(body: bytes) -> bytes:
    """``body`` as clean UTF-8 JSON, or WebhookError naming the problem."""
    if len(body) > MAX_BODY:
        raise WebhookError(f"body over {MAX_BODY} bytes")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WebhookError(f"body is not UTF-8 (byte {exc.start})") from exc
    depth = nesting(body)
    if depth > MAX_DEPTH:
        raise WebhookError(f"body is JSON nested deeper than {MAX_DEPTH} levels")
    try:
        data = json.loads(body, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except WebhookError:
        raise
    except (ValueError, RecursionError) as exc:
        raise WebhookError(f"body is not JSON: {short(str(exc))}") from exc
    clean = _normalise(data, ())
    return json.dumps(clean, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def nesting(body: bytes) -> int:
    """The deepest ``[``/``{`` nesting of a JSON text (strings skipped)."""
    depth = deepest = 0
    for m in _BRACKETS.finditer(_STRINGS.sub(b'""', body)):
        if m.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise WebhookError(f"body has a number with more than {MAX_DIGITS} digits")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or len(text) > 64:
        raise WebhookError(f"body has a number keel cannot store: {short(text, 40)}")
    return value


def _constant(text: str) -> Any:
    raise WebhookError(f"body has {text}, which is not JSON")


def _normalise(value: Any, path: tuple[str, ...]) -> Any:
    if path in KEY_FIELDS and value is not None:
        return _key_field(value, path)
    if isinstance(value, dict):
        return {_text(str(k)): _normalise(v, (*path, str(k))) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v, (*path, "[]")) for v in value]
    if isinstance(value, str):
        return _text(value)
    return value


def _key_field(value: Any, path: tuple[str, ...]) -> Any:
    where = ".".join(path)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise WebhookError(f"{where} must be a string or an integer")
    if isinstance(value, int):
        if value < 0:
            raise WebhookError(f"{where} must not be negative")
        return value
    bad = _UNSAFE_ID.search(value)
    if bad:
        what = "a NUL character" if bad.group() == "\x00" else f"character U+{ord(bad.group()):04X}"
        raise WebhookError(f"{where} contains {what}")
    if len(value) > MAX_ID:
        raise WebhookError(f"{where} is longer than {MAX_ID} characters")
    return value


def _text(value: str) -> str:
    value = _SURROGATES.sub("\ufffd", value.replace("\x00", "\ufffd"))
    return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + "\u2026"


def short(value: object, limit: int = LOG_LIMIT) -> str:
    """``value`` for a log line: printable, at most ``limit`` characters."""
    text = value if isinstance(value, str) else str(value)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    text = text.replace("\x00", "\\x00")
    if len(text) > limit:
        return f"{text[:limit]}... ({len(text)} characters)"
    return text


class TruncatingFilter(logging.Filter):
    """Cuts every string argument of a record (and a long message) to ``limit`` characters,
    so a 900 KB connection id never becomes a 900 KB log line."""

    def __init__(self, limit: int = LOG_LIMIT):
        super().__init__()
        self.limit = limit

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                short(a, self.limit) if isinstance(a, str | bytes) else a for a in record.args
            )
        if isinstance(record.msg, str) and len(record.msg) > 4 * self.limit:
            record.msg = short(record.msg, 4 * self.limit)
        return True
