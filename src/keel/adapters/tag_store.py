"""The store of SOPHIA_OPS.KEEL_TAGS, the only code that touches that table: keel's
record of the metadata tag it set on each object (the tag itself on engines without
object tags; on Snowflake the exact value while ACCOUNT_USAGE lags).

A row is keyed by (object type, object name, tag name). Values are read back from
this table as they were stored, never recovered from SQL text. The functions take
any adapter; they sit beside the adapters because an adapter's ``tag_sql`` writes
the record in the same change as the tag.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from keel import ops_tables as ops
from keel.adapters.bound import NOW

if TYPE_CHECKING:
    from keel.adapters.base import Adapter
    from keel.resources import ActualState, TagKey

T = ops.KEEL_TAGS
KEY = ("OBJECT_TYPE", "OBJECT_NAME", "TAG_NAME")
RECORD = (*KEY, "TAG_VALUE", "UPDATED_AT")


def present(state: ActualState) -> bool:
    """Whether the warehouse has the table (a first plan runs before keel's tables exist)."""
    return T.name in state.ops_tables


def _key(a: Adapter, key: TagKey) -> dict[str, object]:
    return dict(zip(KEY, (key.object_type, key.object_name, a.tag_name), strict=True))


def record_sql(a: Adapter, key: TagKey, value: str | None, now: object) -> str:
    """Record ``value`` on ``key`` (upsert, ``now`` as the time), or forget it (``None``:
    delete)."""
    if value is None:
        return a.delete_sql(T, _key(a, key))
    # the upsert of ``Adapter._upsert``, spelled out: a plan renders one per tag (80,000
    # for 10,000 tables), and this skips building a dict of values for each
    head, tail = a._upsert_head(T, RECORD)
    values = (key.object_type, key.object_name, a.tag_name, value)
    stamp = "CURRENT_TIMESTAMP" if now is NOW else a.lit(now)
    return head + ", ".join(map(a.lit, values)) + ", " + stamp + tail


def merge_sql(a: Adapter, key: TagKey, value: str | None) -> str:
    """Record ``value`` on ``key`` with one MERGE that keeps a NULL value as the record of
    an unset [Snowflake sql-reference/sql/merge: WHEN MATCHED THEN UPDATE / WHEN NOT
    MATCHED THEN INSERT over a one-row source]."""
    t, s = a.ident("T"), a.ident("S")
    src = ", ".join(f"{a.lit(v)} AS {a.ident(c)}" for c, v in _key(a, key).items())
    src += f", {a.lit(value)} AS {a.ident('TAG_VALUE')}"
    on = " AND ".join(f"{t}.{a.ident(c)} = {s}.{a.ident(c)}" for c in KEY)
    all_cols = [*KEY, "TAG_VALUE"]
    return (
        f"MERGE INTO {a.ops_table(T)} AS {t} USING (SELECT {src}) AS {s} "
        f"ON {on} WHEN MATCHED THEN UPDATE SET {t}.{a.ident('TAG_VALUE')} = "
        f"{s}.{a.ident('TAG_VALUE')}, {t}.{a.ident('UPDATED_AT')} = "
        f"CURRENT_TIMESTAMP() WHEN NOT MATCHED THEN INSERT "
        f"({', '.join(a.ident(c) for c in [*all_cols, 'UPDATED_AT'])}) VALUES "
        f"({', '.join(f'{s}.{a.ident(c)}' for c in all_cols)}, CURRENT_TIMESTAMP())"
    )


def read_all(a: Adapter) -> list[tuple[TagKey, str | None]]:
    """Every recorded tag of the adapter's tag name (one query)."""
    from keel.resources import TagKey

    cols = ", ".join(a.ident(c) for c in ("OBJECT_TYPE", "OBJECT_NAME", "TAG_VALUE"))
    rows = a.fetch(
        f"SELECT {cols} FROM {a.ops_table(T)} WHERE {a.ident('TAG_NAME')} = {a.lit(a.tag_name)}",
        "tags",
    )
    return [(TagKey(t, n), v) for t, n, v in rows]


def read_with_age(a: Adapter, lag_hours: int) -> list[tuple[TagKey, str | None, bool]]:
    """Every recorded tag, and whether it changed within ``lag_hours`` (Snowflake: IFF and
    DATEADD [sql-reference/functions/iff, dateadd]; one query)."""
    from keel.resources import TagKey

    cols = ", ".join(a.ident(c) for c in ("OBJECT_TYPE", "OBJECT_NAME", "TAG_VALUE"))
    at = a.ident("UPDATED_AT")
    rows = a.fetch(
        f"SELECT {cols}, IFF({at} > DATEADD(hour, -{int(lag_hours)}, CURRENT_TIMESTAMP()), 1, 0) "
        f"FROM {a.ops_table(T)} WHERE {a.ident('TAG_NAME')} = {a.lit(a.tag_name)}",
        "tags",
    )
    return [(TagKey(t, n), v, bool(r)) for t, n, v, r in rows]


def read_under(a: Adapter, schemas: Iterable[str]) -> dict[tuple[str, str], str]:
    """Recorded tags (object type, object name) -> JSON of each of ``schemas`` (schema or
    ``schema.table`` names) and every object under it (one query)."""
    name = a.ident("OBJECT_NAME")
    ranges = " OR ".join(
        f"({name} = {a.lit(s)} OR SUBSTR({name}, 1, {len(s) + 1}) = {a.lit(s + '.')})"
        for s in sorted(set(schemas))
    )
    if not ranges:
        return {}
    rows = a.fetch(
        f"SELECT {a.ident('OBJECT_TYPE')}, {name}, {a.ident('TAG_VALUE')} "
        f"FROM {a.ops_table(T)} WHERE {a.ident('TAG_NAME')} = {a.lit(a.tag_name)} "
        f"AND ({ranges})",
        "tags",
    )
    return {(t, n): v for t, n, v in rows}


def read_table(a: Adapter, schema: str, table: str) -> dict[tuple[str, str], str]:
    """Recorded tags (object type, object name) -> JSON of ``schema.table`` and its columns
    (one query)."""
    return read_under(a, [f"{schema}.{table}"])
