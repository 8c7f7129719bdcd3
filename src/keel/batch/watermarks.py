"""The store of SOPHIA_OPS.KEEL_WATERMARKS, the only code that touches that table.

A stream's watermark is the newest ``_AIRBYTE_EXTRACTED_AT`` it has published; its
batch is every RAW row extracted after it. The watermark moves only inside the publish
transaction, together with the MERGE (:mod:`keel.publish.promote`), by deleting the
stream's row and inserting the new one (portable: no upsert needed on any engine).

``SETTLED_AT`` is the *floor* of the stream's next read (:class:`keel.batch.judged.Scope`):
every RAW row extracted at or before it had committed when a published batch was gated,
so no late row can land below it and the next batch reads no further back. It moves only
when a stream promises its loader's lateness (``meta.keel.max_lateness_seconds``);
otherwise it stays where it was (``None``: the lookback alone bounds the read).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from keel import ops_tables as ops
from keel.adapters.base import Adapter
from keel.batch.window import utc

T = ops.KEEL_WATERMARKS


@dataclass(frozen=True)
class Mark:
    """A stream's watermark (the newest extraction it published) and its read floor."""

    at: dt.datetime
    settled: dt.datetime | None = None


def read(a: Adapter, sources: Iterable[str], floors: bool = True) -> dict[tuple[str, str], Mark]:
    """Every stream's watermark of ``sources`` (one query); ``floors=False``: without the
    read floors (a caller that needs the watermark only and runs before ``keel apply``
    may have added the column)."""
    names = ", ".join(a.lit(s) for s in sorted(set(sources)))
    cols = ["SOURCE", "STREAM", "EXTRACTED_AT"] + (["SETTLED_AT"] if floors else [])
    rows = a.fetch(
        f"SELECT {', '.join(a.ident(c) for c in cols)} FROM {a.ops_table(T)} "
        f"WHERE {a.ident('SOURCE')} IN ({names})",
        "watermarks",
    )
    return {
        (r[0], r[1]): Mark(w, utc(r[3]) if floors else None)
        for r in rows
        if (w := utc(r[2])) is not None
    }


def read_one(a: Adapter, source: str, stream: str) -> Mark | None:
    """The stream's watermark, re-read inside the publish transaction."""
    found = a.fetch(
        f"SELECT {a.ident('EXTRACTED_AT')}, {a.ident('SETTLED_AT')} FROM {a.ops_table(T)} "
        f"WHERE {a.ident('SOURCE')} = {a.lit(source)} AND {a.ident('STREAM')} = {a.lit(stream)}",
        "watermarks",
    )
    at = utc(found[0][0]) if found else None
    return Mark(at, utc(found[0][1])) if at is not None else None


def move_sql(
    a: Adapter,
    source: str,
    stream: str,
    upto: dt.datetime,
    batch_id: str,
    now: dt.datetime,
    settled: dt.datetime | None,
) -> list[str]:
    """The statements that move the watermark to ``upto`` and the read floor to
    ``settled`` (run in the publish transaction)."""
    row = {
        "SOURCE": source,
        "STREAM": stream,
        "EXTRACTED_AT": upto,
        "BATCH_ID": batch_id,
        "UPDATED_AT": now,
        "SETTLED_AT": settled,
    }
    return [
        a.delete_sql(T, {"SOURCE": source, "STREAM": stream}),
        a.insert_sql(T, [row]),
    ]


def rows(a: Adapter) -> list[dict[str, Any]]:
    """Every watermark with when it moved (the status page)."""
    cols = ["SOURCE", "STREAM", "EXTRACTED_AT", "UPDATED_AT"]
    result = a.fetch(
        f"SELECT {', '.join(a.ident(c) for c in cols)} FROM {a.ops_table(T)}", "status"
    )
    return [dict(zip([c.lower() for c in cols], r, strict=True)) for r in result]
