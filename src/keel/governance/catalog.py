"""``keel catalog``: every managed schema, table and column with its parsed metadata.

This is the feed for the platform's SchemaDiscoveryService: it reads what the
warehouse carries (the tags as applied), not what the project wishes.
"""

from __future__ import annotations

import json
from typing import Any

from keel import ops_tables as ops
from keel.resources import ActualState, TagKey


def _meta(state: ActualState, key: TagKey) -> dict[str, Any] | None:
    value = state.tags.get(key)
    if value is None:
        return None
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        return {"_unparsed": value}
    return parsed if isinstance(parsed, dict) else {"_value": parsed}


def catalog(state: ActualState, managed: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for schema in managed:
        if schema not in state.schemas:
            continue
        out.append(
            {
                "object_type": "schema",
                "name": schema,
                "metadata": _meta(state, TagKey("schema", schema)),
            }
        )
        for (s, name), table in sorted(state.tables.items()):
            if s != schema or (s == ops.OPS_SCHEMA and name in ops.OPS_TABLE_NAMES):
                continue
            out.append(
                {
                    "object_type": "table",
                    "name": table.qualified,
                    "kind": table.kind,
                    "schema": schema,
                    "metadata": _meta(state, TagKey("table", table.qualified)),
                }
            )
            for column, data_type in table.columns:
                qualified = f"{table.qualified}.{column}"
                out.append(
                    {
                        "object_type": "column",
                        "name": qualified,
                        "data_type": data_type,
                        "table": table.qualified,
                        "metadata": _meta(state, TagKey("column", qualified)),
                    }
                )
    return out
