"""JSON / VARIANT values, read key by key.

Airbyte lands ``object`` and ``array`` properties as one JSON (VARIANT) column (a Slack
user's ``profile``, HubSpot's ``properties``, Stripe's ``billing_details``). Each sampled
document is parsed and walked; every leaf is filed under its key path (list items
under their list's path, so ``[{"value": "ann@x.org"}]`` gives ``value``), and each key
path is then classified like a column of its own: its name is the last two keys
(``address.line1`` reads as ``address_line1``), its type what its values are, its
samples its leaf values. The column is as sensitive as its most sensitive key.

Bounded: documents over 64 KiB are not parsed, and at most 200 key paths and 50
values per key path are kept.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

MAX_DOCUMENT_CHARS = 65536
MAX_KEYS = 200
MAX_VALUES_PER_KEY = 50
MAX_DEPTH = 8


def parse_documents(values: Sequence[str]) -> list[Any] | None:
    """The parsed JSON objects/arrays, or None unless at least half the values are one."""
    docs: list[Any] = []
    for value in values:
        text = value.strip()
        if not text or text[0] not in "[{" or len(text) > MAX_DOCUMENT_CHARS:
            continue
        try:
            doc = json.loads(text)
        except ValueError:
            continue
        if isinstance(doc, dict | list):
            docs.append(doc)
    if not values or len(docs) * 2 < len(values):
        return None
    return docs


def leaves(docs: Sequence[Any]) -> dict[str, list[str]]:
    """Leaf values (as text) per key path; ``""`` is the path of top-level list items."""
    out: dict[str, list[str]] = {}

    def add(path: str, value: object) -> None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return
        if path not in out:
            if len(out) >= MAX_KEYS:
                return
            out[path] = []
        bucket = out[path]
        if len(bucket) < MAX_VALUES_PER_KEY:
            if isinstance(value, bool):
                bucket.append("true" if value else "false")
            else:
                bucket.append(str(value))

    def walk(node: object, path: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            return
        if isinstance(node, dict):
            for key, child in node.items():
                walk(child, f"{path}.{key}" if path else str(key), depth + 1)
        elif isinstance(node, list):
            for item in node:
                walk(item, path, depth + 1)
        else:
            add(path, node)

    for doc in docs:
        walk(doc, "", 0)
    return out


def key_name(path: str, column: str) -> str:
    """The name a key path is classified under: its last two keys, or the column's name
    for top-level list items."""
    if not path:
        return column
    return "_".join(path.split(".")[-2:])


def value_type(values: Sequence[str]) -> str:
    """BOOLEAN, DOUBLE or VARCHAR, from what the leaf values are."""
    if values and all(v in ("true", "false") for v in values):
        return "BOOLEAN"
    try:
        for v in values:
            float(v)
    except ValueError:
        return "VARCHAR"
    return "DOUBLE" if values else "VARCHAR"
