"""The statements that publish a batch: DDL for the promoted table, MERGE and
tags, and the quarantined rows (stored by :mod:`keel.batch.quarantine`).

- :func:`ddl_sql`: create ``<SOURCE>_DATA.<STREAM>`` like the RAW table when missing,
  add the columns RAW gained, widen the ones RAW widened. Idempotent; run before
  ``BEGIN`` on engines whose DDL auto-commits (``caps.transactional_ddl`` off).
- :func:`merge_sql`: standard SQL MERGE (DuckDB 1.4+, PostgreSQL 15+, Snowflake) of the
  deduplicated batch: insert new keys, update a key only when the batch row wins
  (:func:`keel.batch.window.wins_sql`), delete a key the source marks deleted. Rows
  quarantined for this batch are left out *after* deduplication, so an older version
  of a quarantined key never slips in.
- :func:`tag_sqls`: more of the publish transaction (the watermark, the batch's decision
  and its quarantined rows are their stores': :mod:`keel.batch.watermarks`,
  :mod:`keel.batch.batches`, :mod:`keel.batch.quarantine`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from keel.adapters.base import Adapter
from keel.batch import quarantine
from keel.batch.quarantine import QuarantineRow
from keel.batch.window import DEL, RAW_ID, Layout, Window, dedup_sql, keys_equal, wins_sql
from keel.resources import TagKey


def ddl_sql(a: Adapter, layout: Layout) -> list[str]:
    raw, data = a.ident(*layout.raw), a.ident(*layout.data)
    if layout.promoted is None:
        return [f"CREATE TABLE IF NOT EXISTS {data} AS SELECT * FROM {raw} WHERE 1 = 0"]
    have = dict(layout.promoted)
    out = []
    for column, kind in layout.columns:
        if column not in have:
            out.append(f"ALTER TABLE {data} ADD COLUMN {a.ident(column)} {kind}")
        elif have[column].upper() != kind.upper():
            out.append(f"ALTER TABLE {data} ALTER COLUMN {a.ident(column)} SET DATA TYPE {kind}")
    return out


def merge_sql(a: Adapter, layout: Layout, window: Window, quarantine_batch: str | None) -> str:
    src, tgt = "__KEEL_SRC", "__KEEL_TGT"
    source = dedup_sql(a, layout, window)
    if quarantine_batch is not None:
        kept = quarantine.excluded_sql(a, quarantine_batch, a.ident("__KEEL_Q", RAW_ID))
        source = f"SELECT * FROM ({source}) AS {a.ident('__KEEL_Q')} WHERE {kept}"
    names = layout.names
    deleted = f"{a.ident(src, DEL)} = 1"
    wins = wins_sql(a, layout, src, tgt)
    sets = ", ".join(f"{a.ident(c)} = {a.ident(src, c)}" for c in names)
    cols = ", ".join(a.ident(c) for c in names)
    values = ", ".join(a.ident(src, c) for c in names)
    return (
        f"MERGE INTO {a.ident(*layout.data)} AS {a.ident(tgt)} USING ({source}) AS {a.ident(src)} "
        f"ON {keys_equal(a, layout, tgt, src)} "
        f"WHEN MATCHED AND {deleted} AND {wins} THEN DELETE "
        f"WHEN MATCHED AND {a.ident(src, DEL)} = 0 AND {wins} THEN UPDATE SET {sets} "
        f"WHEN NOT MATCHED AND {a.ident(src, DEL)} = 0 THEN INSERT ({cols}) VALUES ({values})"
    )


def promoted_tags(
    layout: Layout,
    recorded: Mapping[tuple[str, str], str],
    contract: Mapping[TagKey, str],
) -> dict[TagKey, str]:
    """The promoted table's tags: the RAW table's recorded tags renamed, over the
    contract's (the RAW record wins: it is what governance applied)."""
    raw = ".".join(layout.raw)
    data = ".".join(layout.data)
    wanted: dict[TagKey, str] = dict(contract)
    for (kind, name), value in recorded.items():
        if kind not in ("table", "column"):
            continue
        if name == raw or name.startswith(raw + "."):
            key = TagKey("table" if kind == "table" else "column", data + name[len(raw) :])
            wanted[key] = value
    return wanted


def tag_sqls(
    a: Adapter, wanted: Mapping[TagKey, str], recorded: Mapping[tuple[str, str], str]
) -> list[str]:
    """Statements setting the tags that differ from what is recorded (none on a replay)."""
    out: list[str] = []
    for key in sorted(wanted):
        if recorded.get((key.object_type, key.object_name)) != wanted[key]:
            out += a.tag_sql(key, wanted[key])
    return out


def quarantine_rows(
    source: str,
    stream: str,
    batch_id: str,
    layout: Layout,
    names: Sequence[str],
    check_ids: Sequence[str],
    rows: Sequence[Sequence[object]],
    now: dt.datetime,
) -> list[QuarantineRow]:
    """The quarantined rows from the quarantine read (data columns, then one flag per check)."""
    import json

    from keel.quality.evaluate import jsonable

    out = []
    width = len(names)
    raw_at = names.index(RAW_ID)
    key_at = [names.index(k) for k in layout.keys]
    for row in rows:
        data = {n.lower(): jsonable(v) for n, v in zip(names, row[:width], strict=True)}
        failed = [c for c, f in zip(check_ids, row[width:], strict=True) if f]
        out.append(
            QuarantineRow(
                batch_id,
                source,
                stream,
                str(row[raw_at]),
                json.dumps([jsonable(row[i]) for i in key_at], default=str),
                ",".join(failed),
                json.dumps(data, sort_keys=True, default=str),
                now,
            )
        )
    return out
