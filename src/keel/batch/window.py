"""Batches as windows over a RAW table, and the SQL every step shares to read one.

A stream's *batch* is every RAW row with ``_AIRBYTE_EXTRACTED_AT`` in the window
``(after, upto]``: ``after`` is the stream's watermark (``None``: everything),
``upto`` the newest extraction time the gate saw. Invariants:

- Ingestion commits rows with a strictly increasing ``_AIRBYTE_EXTRACTED_AT``,
  so rows landing after a gate fall outside its window, and a window's row
  set can only shrink (a replaced key moves past ``upto``). Publishing checks
  that the window still holds exactly the rows the gate counted.
- :func:`dedup_sql` is the one definition of "the batch deduplicated by
  primary key": the newest cursor wins (nulls last), then the newest
  extraction, then the greatest ``_AIRBYTE_RAW_ID``. Gate, samples, quarantine
  and MERGE all read the batch through it, so they judge and publish the same
  rows. A stream without a primary key is keyed by ``_AIRBYTE_RAW_ID``.
- :func:`wins_sql` is the one definition of "a batch row replaces the promoted
  row": its cursor is newer (without a cursor: its extraction is newer).
  Equal rows never replace each other, so replaying a batch changes nothing.
- Times cross into SQL as UTC ISO literals with an explicit offset, and come
  back through :func:`utc`, whatever the session time zone.

Every name and value is quoted through the adapter (``ident``/``lit``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from keel.batch.judged import Scope, not_judged_sql, stream_name, stream_pending_sql

if TYPE_CHECKING:
    from keel.adapters.base import Adapter
    from keel.project.loaded import Stream

EXTRACTED_AT = "_AIRBYTE_EXTRACTED_AT"
RAW_ID = "_AIRBYTE_RAW_ID"
CDC_DELETED_AT = "_AB_CDC_DELETED_AT"
# helper columns the gate adds next to the data (never published, never sampled)
RN, N, DEL, OLD, WIN = "__KEEL_RN", "__KEEL_N", "__KEEL_DEL", "__KEEL_OLD", "__KEEL_WIN"
HELPERS = frozenset({RN, N, DEL, OLD, WIN})


def utc(value: Any) -> dt.datetime | None:
    """A timestamp from the warehouse as an aware UTC datetime (naive values are UTC)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if not isinstance(value, dt.datetime):
        raise TypeError(f"not a timestamp: {value!r}")
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


@dataclass(frozen=True)
class Window:
    """``(after, upto]`` over ``_AIRBYTE_EXTRACTED_AT``; ``None`` bounds are open.

    With a ``scope`` (what the gate and publish use) the window holds the stream's pending
    rows: see :class:`Scope`. ``after`` stays the watermark (it names the batch); the
    lower bound of the read is ``after - scope.lookback``, or the stream's settled floor
    when that is later (:meth:`Scope.lower`)."""

    after: dt.datetime | None
    upto: dt.datetime | None = None
    scope: Scope | None = None

    def bounded(self, upto: dt.datetime | None) -> Window:
        return replace(self, upto=upto)


@dataclass(frozen=True)
class Layout:
    """Where a stream lives and how its rows are keyed, ordered and deleted.

    ``columns`` are the RAW table's columns (canonical name, engine type) in table
    order; ``promoted`` the promoted table's, or ``None`` while it does not exist.
    """

    source: str
    stream: str
    raw: tuple[str, str]
    data: tuple[str, str]
    columns: tuple[tuple[str, str], ...]
    promoted: tuple[tuple[str, str], ...] | None
    keys: tuple[str, ...]
    cursor: str | None
    deleted: tuple[str, ...]

    @classmethod
    def of(
        cls,
        stream: Stream,
        raw_columns: Sequence[tuple[str, str]],
        promoted: Sequence[tuple[str, str]] | None,
    ) -> Layout:
        names = {c for c, _ in raw_columns}
        keys = tuple(k.upper() for k in stream.keel.primary_key) or (RAW_ID,)
        cursor = stream.keel.cursor.upper() if stream.keel.cursor else None
        deleted = tuple(
            c for c in (CDC_DELETED_AT, (stream.keel.deleted_at or "").upper()) if c and c in names
        )
        return cls(
            stream.source,
            stream.name,
            (stream.raw_schema, stream.table),
            (stream.data_schema, stream.table),
            tuple(raw_columns),
            tuple(promoted) if promoted is not None else None,
            keys,
            cursor,
            tuple(dict.fromkeys(deleted)),
        )

    @property
    def key(self) -> str:
        return f"{self.source}.{self.stream}"

    @property
    def names(self) -> list[str]:
        return [c for c, _ in self.columns]

    def with_promoted(self) -> Layout:
        """The layout once the promoted table exists with every RAW column."""
        have = dict(self.promoted or ())
        merged = list(self.promoted or ()) + [(c, t) for c, t in self.columns if c not in have]
        return replace(self, promoted=tuple(merged))


def window_sql(a: Adapter, window: Window, alias: str | None = None) -> str:
    """The rows of the window, as a condition on the relation :func:`relation_sql` names."""
    scope = window.scope
    if scope is not None and a.change_streams:
        return stream_pending_sql(a, alias)
    col = a.ident(alias, EXTRACTED_AT) if alias else a.ident(EXTRACTED_AT)
    parts = []
    judged = scope is not None  # whether the read reaches rows a publish may have taken
    if window.after is not None:
        lower = scope.lower(window.after) if scope is not None else window.after
        parts.append(f"{col} > {a.lit(lower)}")
        # only rows at or below the watermark can have been judged (keel.batch.judged)
        judged = judged and lower < window.after
    if window.upto is not None:
        parts.append(f"{col} <= {a.lit(window.upto)}")
    if scope is not None and judged:
        parts.append(not_judged_sql(a, scope, alias))
    return " AND ".join(parts) or "1 = 1"


def relation_sql(a: Adapter, raw: tuple[str, str], window: Window) -> str:
    """What a batch is read from: the RAW table, or its change stream (Snowflake)."""
    if window.scope is not None and a.change_streams:
        return a.ident(*stream_name(window.scope.raw))
    return a.ident(*raw)


def deleted_sql(a: Adapter, layout: Layout, alias: str | None = None) -> str:
    """1 when the source marks the row deleted, else 0."""
    if not layout.deleted:
        return "0"
    cond = " OR ".join(
        f"{a.ident(alias, c) if alias else a.ident(c)} IS NOT NULL" for c in layout.deleted
    )
    return f"CASE WHEN {cond} THEN 1 ELSE 0 END"


def dedup_sql(a: Adapter, layout: Layout, window: Window) -> str:
    """The batch, one row per key: the RAW columns plus ``__KEEL_N`` (rows of the key in
    the window) and ``__KEEL_DEL`` (1 when the winning row is a delete). A query that can
    stand as a subquery; :func:`dedup_parts` gives its common table expression and body."""
    (name, cte), body = dedup_parts(a, layout, window)
    return f"WITH {a.ident(name)} AS ({cte}) {body}"


def dedup_parts(a: Adapter, layout: Layout, window: Window) -> tuple[tuple[str, str], str]:
    """``((name, keys with several rows), the deduplicating SELECT that reads it)``."""
    # Keys with one row in the window (nearly all of them) pass straight through; only the
    # keys with several rows are ranked. A hash aggregate over the key columns costs what a
    # dbt `unique` costs; ranking every row (a window over all columns) costs twice that.
    cols = ", ".join(a.ident(c) for c in layout.names)
    keys = ", ".join(a.ident(k) for k in layout.keys)
    table, where = relation_sql(a, layout.raw, window), window_sql(a, window)
    order = [f"{a.ident(layout.cursor)} DESC NULLS LAST"] if layout.cursor else []
    order += [f"{a.ident(EXTRACTED_AT)} DESC", f"{a.ident(RAW_ID)} DESC"]
    dup, r = a.ident("__KEEL_DUP"), a.ident("__KEEL_R")
    match = " AND ".join(f"{dup}.{a.ident(k)} = {r}.{a.ident(k)}" for k in layout.keys)
    single = (
        f"SELECT {cols}, 1 AS {a.ident(N)} FROM {table} AS {r} WHERE {where} "
        f"AND NOT EXISTS (SELECT 1 FROM {dup} WHERE {match})"
    )
    ranked = (
        f"SELECT {cols}, ROW_NUMBER() OVER (PARTITION BY {keys} ORDER BY {', '.join(order)}) "
        f"AS {a.ident(RN)}, COUNT(*) OVER (PARTITION BY {keys}) AS {a.ident(N)} "
        f"FROM {table} AS {r} WHERE {where} AND EXISTS (SELECT 1 FROM {dup} WHERE {match})"
    )
    several = (
        f"SELECT {cols}, {a.ident(N)} FROM ({ranked}) AS {a.ident('__KEEL_W')} "
        f"WHERE {a.ident(RN)} = 1"
    )
    cte = f"SELECT {keys} FROM {table} WHERE {where} GROUP BY {keys} HAVING COUNT(*) > 1"
    body = (
        f"SELECT {cols}, {a.ident(N)}, {deleted_sql(a, layout)} AS {a.ident(DEL)} "
        f"FROM ({single} UNION ALL {several}) AS {a.ident('__KEEL_U')}"
    )
    return ("__KEEL_DUP", cte), body


def keys_equal(a: Adapter, layout: Layout, left: str, right: str) -> str:
    return " AND ".join(f"{a.ident(left, k)} = {a.ident(right, k)}" for k in layout.keys)


def wins_sql(a: Adapter, layout: Layout, src: str, tgt: str) -> str:
    """True when row ``src`` replaces row ``tgt`` of the same key."""
    col = layout.cursor or EXTRACTED_AT
    s, t = a.ident(src, col), a.ident(tgt, col)
    return f"({s} > {t} OR ({t} IS NULL AND {s} IS NOT NULL))"


def batch_id(source: str, stream: str, window: Window) -> str:
    """Deterministic: the same window always has the same id (re-gating updates it)."""
    upto = window.upto or dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    after = window.after.isoformat() if window.after else "-"
    digest = hashlib.sha256(f"{source}.{stream}|{after}|{upto.isoformat()}".encode()).hexdigest()
    return f"{upto.strftime('%Y%m%dT%H%M%S')}-{digest[:8]}"
