"""The outbox on a real DuckDB: de-duplication, order per dedup key, open keys, heads."""

from __future__ import annotations

import datetime as dt

import pytest
from alertkit import START, FakeClock

from keel.adapters.duckdb import DuckDBAdapter
from keel.alerts import outbox
from keel.alerts.model import Action, Alert, SinkName


def alert(
    key: str, occurrence: str, action: Action = "trigger", sink: SinkName = "pagerduty"
) -> Alert:
    payload = {"event_action": action, "dedup_key": key, "n": occurrence}
    return Alert(sink, key, action, payload, f"{occurrence}|{sink}|{action}|{key}")


def count(a: DuckDBAdapter) -> int:
    return int(a.fetch('SELECT count(*) FROM "SOPHIA_OPS"."KEEL_ALERTS"')[0][0])


def test_enqueue_stores_pending_rows_without_duplicates(adapter: DuckDBAdapter) -> None:
    first = [alert("k", "b1"), alert("k", "b1"), alert("j", "b1", sink="slack")]
    ids = outbox.enqueue(adapter, first, now=START)
    assert len(ids) == 2 and count(adapter) == 2
    assert outbox.enqueue(adapter, first, now=START) == []  # the same event again: nothing
    assert count(adapter) == 2
    (row,) = [r for r in outbox.rows(adapter, "pending") if r.dedup_key == "k"]
    assert row.status == "pending" and row.attempts == 0
    assert row.next_attempt_at == row.created_at == START
    assert row.payload == {"event_action": "trigger", "dedup_key": "k", "n": "b1"}


def test_enqueue_in_the_callers_transaction_rolls_back_with_it(adapter: DuckDBAdapter) -> None:
    adapter.begin()
    outbox.enqueue(adapter, [alert("k", "b1")], in_transaction=True)
    adapter.rollback()
    assert count(adapter) == 0
    with pytest.raises(RuntimeError), adapter.transaction():
        outbox.enqueue(adapter, [alert("k", "b1")], in_transaction=True)
        raise RuntimeError("the gate failed after enqueueing")
    assert count(adapter) == 0


def test_creation_order_per_key_holds_with_a_frozen_clock(adapter: DuckDBAdapter) -> None:
    for occurrence in ("b1", "b2", "b3"):
        outbox.enqueue(adapter, [alert("k", occurrence)], now=START)
    stamps = [r.created_at for r in outbox.rows(adapter)]
    assert stamps == sorted(stamps) and len(set(stamps)) == 3
    assert [r.payload["n"] for r in outbox.rows(adapter)] == ["b1", "b2", "b3"]


def test_due_returns_only_the_head_of_each_key(adapter: DuckDBAdapter, clock: FakeClock) -> None:
    outbox.enqueue(adapter, [alert("k", "b1"), alert("j", "b1")], now=clock())
    outbox.enqueue(adapter, [alert("k", "b2")], now=clock())
    heads = outbox.due(adapter, clock())
    assert sorted((r.dedup_key, r.payload["n"]) for r in heads) == [("j", "b1"), ("k", "b1")]
    k1 = next(r for r in heads if r.dedup_key == "k")
    # the head backs off: the later row of its key waits too
    outbox.mark_retry(adapter, k1.alert_id, clock() + dt.timedelta(seconds=30), "HTTP 500")
    assert [r.dedup_key for r in outbox.due(adapter, clock())] == ["j"]
    clock.advance(30)
    (again,) = [r for r in outbox.due(adapter, clock()) if r.dedup_key == "k"]
    assert again.alert_id == k1.alert_id and again.attempts == 1 and again.last_error == "HTTP 500"
    outbox.mark_delivered(adapter, k1.alert_id, clock())
    (nxt,) = [r for r in outbox.due(adapter, clock()) if r.dedup_key == "k"]
    assert nxt.payload["n"] == "b2"
    # outcomes only change pending rows
    outbox.mark_failed(adapter, k1.alert_id, "late")
    (done,) = [r for r in outbox.rows(adapter) if r.alert_id == k1.alert_id]
    assert done.status == "delivered" and done.attempts == 2


def test_open_keys_follow_the_last_live_pagerduty_action(adapter: DuckDBAdapter) -> None:
    outbox.enqueue(adapter, [alert("s_a/t/c", "b1"), alert("sxa/t/c", "b1")], now=START)
    outbox.enqueue(adapter, [alert("s_a/t/c", "b1", sink="slack")], now=START)
    assert outbox.open_keys(adapter) == {"s_a/t/c", "sxa/t/c"}
    assert outbox.open_keys(adapter, "s_a/") == {"s_a/t/c"}  # "_" is not a wildcard
    (resolve,) = outbox.enqueue(adapter, [alert("s_a/t/c", "b2", "resolve")], now=START)
    assert outbox.open_keys(adapter, "s_a/") == set()
    outbox.mark_failed(adapter, resolve, "HTTP 400")  # the resolve never reached PagerDuty
    assert outbox.open_keys(adapter, "s_a/") == {"s_a/t/c"}


def test_pending_counts_and_prune(adapter: DuckDBAdapter, clock: FakeClock) -> None:
    ids = outbox.enqueue(adapter, [alert("k", f"b{i}") for i in range(3)], now=clock())
    outbox.enqueue(adapter, [alert("j", "b1", sink="slack")], now=clock())
    for i in ids[:2]:
        outbox.mark_delivered(adapter, i, clock())
    assert outbox.pending_counts(adapter) == {"pagerduty": 1, "slack": 1}
    outbox.prune(adapter, clock() + dt.timedelta(days=1))
    left = {r.payload["n"] for r in outbox.rows(adapter) if r.dedup_key == "k"}
    assert left == {"b2"}  # b0 went; b1 is the newest delivered row, b2 is pending
    ids2 = outbox.enqueue(adapter, [alert("k", "b3")], now=clock())
    outbox.mark_delivered(adapter, ids[2], clock())
    outbox.mark_delivered(adapter, ids2[0], clock())
    outbox.prune(adapter, clock() + dt.timedelta(days=1))
    assert [r.payload["n"] for r in outbox.rows(adapter) if r.dedup_key == "k"] == ["b3"]
    assert outbox.open_keys(adapter) == {"k"}
