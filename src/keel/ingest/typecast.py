"""Values that do not fit their column, handled as Airbyte's Destinations V2 does.

A destination writes null for a value that cannot be typed as its column and records the
change in the row's ``_airbyte_meta.changes`` as ``{"field", "change": "NULLED", "reason":
"DESTINATION_TYPECAST_ERROR"}``; the sync goes on (docs.airbyte.com
understanding-airbyte/airbyte-metadata-fields). keel's writer first commits as usual (no
per-value check on the hot path); only when the engine refuses a cast does it find the
values to blame, null them, and commit again.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

import orjson
import pyarrow as pa

from keel.adapters.raw import RawSql
from keel.errors import IngestError, KeelError, WarehouseError
from keel.ingest.schema import Column

NULLED = {"change": "NULLED", "reason": "DESTINATION_TYPECAST_ERROR"}


def null_unfit(
    engine: RawSql,
    buffer: list[dict[str, Any]],
    extra: list[tuple[float | None, str | None]],
    fixed: Collection[str | None],
    batch: pa.Table,
    cols: list[Column],
    meta_json: Callable[[list[Any]], str],
) -> bool:
    """Null the staged ``batch``'s values that do not cast, in ``buffer`` (the records the
    batch was made from, in order) and note each in ``extra``'s meta. A primary key or
    cursor field (``fixed``) that does not fit is not nulled (a null key would merge rows
    that are not the same): False, as when no value is to blame."""
    sources = [f"c{i}" for i in range(len(cols))]
    engine.stage(batch)
    try:
        found = engine.bad_values(sources, [c.type for c in cols])
        if not found or any(cols[i].name in fixed for i, _, _ in found):
            return False
        rows = {i: engine.bad_rows(sources[i], cols[i].type) for i, _, _ in found}
    finally:
        engine.unstage()
    changes: dict[int, list[dict[str, str]]] = {}
    for i, seqs in rows.items():
        for seq in seqs:
            buffer[seq] = {**buffer[seq], cols[i].name: None}
            changes.setdefault(seq, []).append({"field": cols[i].name, **NULLED})
    for seq, added in changes.items():
        at, meta = extra[seq]
        before = orjson.loads(meta)["changes"] if meta else []
        extra[seq] = (at, meta_json([*before, *added]))
    return bool(changes)


def explain(
    engine: RawSql,
    stream: str,
    key: Sequence[str],
    buffer: list[dict[str, Any]],
    batch: pa.Table,
    cols: list[Column],
    exc: BaseException,
) -> KeelError:
    """Name the field whose values did not cast, or pass the engine's message on."""
    engine.stage(batch)
    try:
        found = engine.bad_values([f"c{i}" for i in range(len(cols))], [c.type for c in cols])
    finally:
        engine.unstage()
    if not found:
        first_line = (str(exc).splitlines() or [type(exc).__name__])[0]
        return WarehouseError(f"writing stream {stream!r} failed: {first_line}")
    index, count, first = found[0]
    column = cols[index]
    record = buffer[first]
    named = ", ".join(f"{k}={record.get(k)!r}" for k in key)
    at = f" (first in the record with {named})" if named else f" (first in record {first + 1})"
    fields = ", ".join(repr(cols[i].name) for i, _, _ in found)
    also = f"; other fields that do not fit: {fields}" if len(found) > 1 else ""
    return IngestError(
        f"stream {stream!r}: field {column.name!r} has {count} value(s) that do not "
        f"fit its type {column.type}{at}{also}"
    )
