"""The event store on a real DuckDB: insert-if-absent says which events were new, and a
webhook body travels as a bind parameter, never as SQL text."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from tests.support.events import Event

from keel import ops_tables as ops
from keel.adapters.base import Adapter
from keel.adapters.duckdb import DuckDBAdapter
from keel.batch.events import EventStore
from keel.errors import WarehouseError


class Recording(DuckDBAdapter):
    """A real DuckDB that also keeps the text of every bound statement it ran."""

    def __init__(self) -> None:
        super().__init__()
        self.bound: list[str] = []

    def fetch_bound(
        self, sql: str, params: Sequence[object], kind: str = "data"
    ) -> list[tuple[object, ...]]:
        self.bound.append(sql)
        return super().fetch_bound(sql, params, kind)


def bootstrapped(a: Adapter) -> Adapter:
    for statement in a.bootstrap_sql():
        a.execute(statement)
    return a


def test_insert_if_absent_returns_only_the_new_events() -> None:
    a = bootstrapped(Recording())
    store = EventStore(a)
    body = '{"data": "' + "x" * (1024 * 1024) + "'; DROP TABLE x; --\"}"
    first = store.record_many([(Event("e1", "1"), "gong", body, "queued")])
    again = store.record_many(
        [(Event("e1", "1"), "gong", "{}", "queued"), (Event("e2", "2"), "gong", "{}", "queued")]
    )
    assert (first, again) == ({"e1"}, {"e2"})
    rows = a.fetch(
        f"SELECT {a.ident('EVENT_ID')}, LENGTH({a.ident('PAYLOAD')}) FROM "
        f"{a.ops_table(ops.KEEL_EVENTS)} ORDER BY 1"
    )
    assert rows == [("e1", len(body)), ("e2", 2)]
    assert all(len(sql) < 1000 and "DROP" not in sql for sql in a.bound)
    assert "ON CONFLICT" in a.bound[0] and "RETURNING" in a.bound[0]


def test_kinds_jobs_and_failures_read_back_what_was_stored() -> None:
    store = EventStore(bootstrapped(DuckDBAdapter()))
    store.record_many(
        [
            (Event("e1", "1"), "gong", "{}", "queued"),
            (Event("e2", "2", kind="sync_failed"), "gong", '{"data": {}}', "queued"),
        ]
    )
    assert store.kinds(["e1", "e2", "nope"]) == {"e1": "sync_succeeded", "e2": "sync_failed"}
    assert sorted(store.jobs(["e1", "e2"])) == ["1", "2"]
    assert [r[:2] for r in store.failures(["e2"])] == [("e2", "2")]
    assert store.kinds([]) == {}


def test_an_adapter_without_a_second_connection_says_so_as_a_keel_error() -> None:
    class Bare(DuckDBAdapter):
        name = "bare"

        def fork(self) -> Adapter:
            return Adapter.fork(self)

    with pytest.raises(WarehouseError, match="bare adapter cannot open a second connection"):
        Bare().fork()
