"""The outbox: alerts as rows of ``SOPHIA_OPS.KEEL_ALERTS``, written by the gate, read and
updated by the sender.

A row's life: ``pending`` (ATTEMPTS = 0, due at once) -> retried
(ATTEMPTS + 1, NEXT_ATTEMPT_AT later, LAST_ERROR) -> ``delivered`` (DELIVERED_AT) or
``failed`` (a 4xx other than 429: not retried, LAST_ERROR says why).

Invariants:
- ``ALERT_ID`` is a hash of the event's idempotency key: enqueueing the same event
  again inserts nothing (checked before the insert; the primary key catches a race);
- within one (SINK, DEDUP_KEY), CREATED_AT strictly increases in enqueue order (a
  stamp equal to or before the key's last one is moved 1 microsecond past it), so
  "in order of creation" does not depend on the clock's resolution;
- the sender only ever sees the *head* of each (SINK, DEDUP_KEY): its oldest pending
  row; a later row waits while an earlier one is pending, also while it backs off;
- what is open at PagerDuty is read from the table: a dedup key is open when its
  newest PagerDuty row that did not fail is a ``trigger``;
- PAYLOAD holds the body without secrets (the sink resolves them when it sends);
- timestamps are UTC; every statement is built with the adapter's quoting.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from keel import ops_tables as ops
from keel.adapters.base import Adapter
from keel.alerts.model import DELIVERED, FAILED, PENDING, Alert

T = ops.KEEL_ALERTS
TICK = dt.timedelta(microseconds=1)
ROW_COLUMNS = (
    "ALERT_ID",
    "SINK",
    "DEDUP_KEY",
    "ACTION",
    "PAYLOAD",
    "STATUS",
    "ATTEMPTS",
    "NEXT_ATTEMPT_AT",
    "CREATED_AT",
    "LAST_ERROR",
)


@dataclass(frozen=True)
class OutboxRow:
    alert_id: str
    sink: str
    dedup_key: str
    action: str
    payload: dict[str, Any]
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    created_at: dt.datetime
    last_error: str | None = None


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def utc(value: dt.datetime) -> dt.datetime:
    """Aware UTC from a driver's value (DuckDB gives naive UTC, PostgreSQL aware)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def ts_text(a: Adapter, value: dt.datetime) -> str:
    """A timestamp as text for the engine's TIMESTAMP column type: with the offset where
    the column keeps a time zone, as naive UTC where it does not (DuckDB drops offsets)."""
    value = utc(value)
    if "TZ" in a.type_map.get("TIMESTAMP", "TIMESTAMP").upper():
        return value.isoformat()
    return value.replace(tzinfo=None).isoformat(sep=" ")


def ts(a: Adapter, value: dt.datetime) -> str:
    """:func:`ts_text` as a quoted SQL literal."""
    return a.lit(ts_text(a, value))


def _cols(a: Adapter, names: Iterable[str]) -> str:
    return ", ".join(a.ident(c) for c in names)


def _ids(a: Adapter, ids: Iterable[str]) -> str:
    return ", ".join(a.lit(i) for i in ids)


def enqueue(
    a: Adapter,
    alerts: Sequence[Alert],
    *,
    now: dt.datetime | None = None,
    in_transaction: bool = False,
) -> list[str]:
    """Store ``alerts`` as pending rows; returns the ids of the rows it inserted.

    With ``in_transaction`` the caller's open transaction holds the insert (the
    alerts commit or roll back with the caller's work); otherwise it runs in its own.
    Never touches the network."""
    unique: dict[str, Alert] = {}
    for alert in alerts:
        unique.setdefault(alert.alert_id, alert)
    if not unique:
        return []
    if in_transaction:
        return _insert(a, list(unique.values()), utc(now or utcnow()))
    with a.transaction():
        return _insert(a, list(unique.values()), utc(now or utcnow()))


def _insert(a: Adapter, alerts: list[Alert], now: dt.datetime) -> list[str]:
    table = a.ops_table(T)
    found = a.fetch(
        f"SELECT {a.ident('ALERT_ID')} FROM {table} WHERE {a.ident('ALERT_ID')} IN "
        f"({_ids(a, (x.alert_id for x in alerts))})",
        "alerts",
    )
    existing = {r[0] for r in found}
    new = [x for x in alerts if x.alert_id not in existing]
    if not new:
        return []
    last: dict[tuple[str, str], dt.datetime] = {
        (sink, key): utc(at)
        for sink, key, at in a.fetch(
            f"SELECT {_cols(a, ('SINK', 'DEDUP_KEY'))}, MAX({a.ident('CREATED_AT')}) "
            f"FROM {table} WHERE {a.ident('DEDUP_KEY')} IN "
            f"({_ids(a, {x.dedup_key for x in new})}) GROUP BY 1, 2",
            "alerts",
        )
        if at is not None
    }
    rows: list[dict[str, object]] = []
    for x in new:
        prev = last.get((x.sink, x.dedup_key))
        stamp = now if prev is None or now > prev else prev + TICK
        last[(x.sink, x.dedup_key)] = stamp
        payload = json.dumps(x.payload, sort_keys=True, default=str, ensure_ascii=False)
        values = [
            x.alert_id,
            x.sink,
            x.dedup_key,
            x.action,
            payload,
            PENDING,
            0,
            ts_text(a, now),
            ts_text(a, stamp),
            None,
            None,
        ]
        rows.append(
            dict(zip([*ROW_COLUMNS[:-1], "DELIVERED_AT", "LAST_ERROR"], values, strict=True))
        )
    a.execute(a.insert_sql(T, rows))  # every value quoted by the adapter's one builder
    return [x.alert_id for x in new]


def open_keys(a: Adapter, prefix: str = "") -> set[str]:
    """PagerDuty dedup keys (starting with ``prefix``) whose last live action is a trigger."""
    k = a.ident
    where = f"{k('SINK')} = {a.lit('pagerduty')} AND {k('STATUS')} <> {a.lit(FAILED)}"
    if prefix:
        where += f" AND SUBSTR({k('DEDUP_KEY')}, 1, {len(prefix)}) = {a.lit(prefix)}"
    rows = a.fetch(
        f"SELECT {k('DEDUP_KEY')} FROM (SELECT {_cols(a, ('DEDUP_KEY', 'ACTION'))}, "
        f"ROW_NUMBER() OVER (PARTITION BY {k('DEDUP_KEY')} ORDER BY {k('CREATED_AT')} DESC, "
        f"{k('ALERT_ID')} DESC) AS {k('KEEL_RN')} FROM {a.ops_table(T)} WHERE {where}) AS "
        f"{k('KEEL_LAST')} WHERE {k('KEEL_RN')} = 1 AND {k('ACTION')} = {a.lit('trigger')}",
        "alerts",
    )
    return {r[0] for r in rows}


def _row(r: Sequence[Any]) -> OutboxRow:
    payload = json.loads(r[4]) if r[4] else {}
    return OutboxRow(
        alert_id=r[0],
        sink=r[1],
        dedup_key=r[2],
        action=r[3],
        payload=payload if isinstance(payload, dict) else {},
        status=r[5],
        attempts=int(r[6] or 0),
        next_attempt_at=utc(r[7]),
        created_at=utc(r[8]),
        last_error=r[9],
    )


def due(a: Adapter, now: dt.datetime, limit: int = 200) -> list[OutboxRow]:
    """The head of every (SINK, DEDUP_KEY) that is due, oldest first."""
    k = a.ident
    cols = _cols(a, ROW_COLUMNS)
    rows = a.fetch(
        f"SELECT {cols} FROM (SELECT {cols}, ROW_NUMBER() OVER (PARTITION BY {k('SINK')}, "
        f"{k('DEDUP_KEY')} ORDER BY {k('CREATED_AT')}, {k('ALERT_ID')}) AS {k('KEEL_RN')} "
        f"FROM {a.ops_table(T)} WHERE {k('STATUS')} = {a.lit(PENDING)}) AS {k('KEEL_HEADS')} "
        f"WHERE {k('KEEL_RN')} = 1 AND {k('NEXT_ATTEMPT_AT')} <= {ts(a, now)} "
        f"ORDER BY {k('CREATED_AT')}, {k('ALERT_ID')} LIMIT {int(limit)}",
        "alerts",
    )
    return [_row(r) for r in rows]


def rows(a: Adapter, where_status: str | None = None) -> list[OutboxRow]:
    """Every row (or those with one status), in creation order: for tests and tools."""
    k = a.ident
    where = f" WHERE {k('STATUS')} = {a.lit(where_status)}" if where_status else ""
    result = a.fetch(
        f"SELECT {_cols(a, ROW_COLUMNS)} FROM {a.ops_table(T)}{where} "
        f"ORDER BY {k('CREATED_AT')}, {k('ALERT_ID')}",
        "alerts",
    )
    return [_row(r) for r in result]


@contextlib.contextmanager
def claimed(a: Adapter, alert_id: str) -> Iterator[bool]:
    """Whether this sender may deliver ``alert_id`` now; its outcome is written inside.
    With row locks (PostgreSQL) the row is claimed for one transaction (``FOR UPDATE SKIP
    LOCKED`` on a pending row): a second keel serve's sender skips it and, once this one
    commits, no longer finds it pending, so each alert is sent once. Elsewhere one
    process owns the outbox."""
    if not a.row_locks:
        yield True
        return
    with a.transaction():
        rows = a.fetch(
            f"SELECT {a.ident('ALERT_ID')} FROM {a.ops_table(T)} WHERE {a.ident('ALERT_ID')} = "
            f"{a.lit(alert_id)} AND {a.ident('STATUS')} = {a.lit(PENDING)}{a.skip_locked()}",
            "alerts",
        )
        yield bool(rows)


def recent(a: Adapter, limit: int = 20) -> list[dict[str, Any]]:
    """The newest rows (sink, dedup key, action, status, created at): the status page."""
    cols = ["SINK", "DEDUP_KEY", "ACTION", "STATUS", "CREATED_AT"]
    result = a.fetch(
        f"SELECT {_cols(a, cols)} FROM {a.ops_table(T)} "
        f"ORDER BY {a.ident('CREATED_AT')} DESC LIMIT {int(limit)}",
        "status",
    )
    return [dict(zip([c.lower() for c in cols], r, strict=True)) for r in result]


def _update(a: Adapter, alert_id: str, sets: dict[str, str]) -> None:
    assignments = ", ".join(f"{a.ident(c)} = {v}" for c, v in sets.items())
    a.execute(
        f"UPDATE {a.ops_table(T)} SET {assignments}, "
        f"{a.ident('ATTEMPTS')} = {a.ident('ATTEMPTS')} + 1 "
        f"WHERE {a.ident('ALERT_ID')} = {a.lit(alert_id)} "
        f"AND {a.ident('STATUS')} = {a.lit(PENDING)}"
    )


def mark_delivered(a: Adapter, alert_id: str, now: dt.datetime) -> None:
    _update(a, alert_id, {"STATUS": a.lit(DELIVERED), "DELIVERED_AT": ts(a, now)})


def mark_retry(a: Adapter, alert_id: str, next_at: dt.datetime, error: str) -> None:
    _update(a, alert_id, {"NEXT_ATTEMPT_AT": ts(a, next_at), "LAST_ERROR": a.lit(error[:2000])})


def mark_failed(a: Adapter, alert_id: str, error: str) -> None:
    _update(a, alert_id, {"STATUS": a.lit(FAILED), "LAST_ERROR": a.lit(error[:2000])})


def pending_counts(a: Adapter) -> dict[str, int]:
    """Pending rows per sink (the queue depth of the outbox)."""
    k = a.ident
    result = a.fetch(
        f"SELECT {k('SINK')}, COUNT(*) FROM {a.ops_table(T)} "
        f"WHERE {k('STATUS')} = {a.lit(PENDING)} GROUP BY 1",
        "alerts",
    )
    return {str(s): int(n) for s, n in result}


def prune(a: Adapter, before: dt.datetime) -> None:
    """Delete delivered and failed rows created before ``before``, keeping the newest row
    of every (SINK, DEDUP_KEY), and its newest row that did not fail, so what is open at
    PagerDuty stays known. Pending rows are never deleted."""
    k = a.ident
    table = a.ops_table(T)
    failed = f"CASE WHEN {k('STATUS')} = {a.lit(FAILED)} THEN 1 ELSE 0 END"
    a.execute(
        f"DELETE FROM {table} WHERE {k('STATUS')} IN ({_ids(a, (DELIVERED, FAILED))}) "
        f"AND {k('CREATED_AT')} < {ts(a, before)} AND {k('ALERT_ID')} NOT IN ("
        f"SELECT {k('ALERT_ID')} FROM (SELECT {k('ALERT_ID')}, ROW_NUMBER() OVER "
        f"(PARTITION BY {k('SINK')}, {k('DEDUP_KEY')}, {failed} ORDER BY {k('CREATED_AT')} "
        f"DESC, {k('ALERT_ID')} DESC) AS {k('KEEL_RN')} FROM {table}) AS {k('KEEL_LAST')} "
        f"WHERE {k('KEEL_RN')} = 1)"
    )
