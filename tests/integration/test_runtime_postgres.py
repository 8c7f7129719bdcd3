"""keel's own tables on a real PostgreSQL server: the event store's insert-if-absent with
bound parameters (psycopg's ``%s``), two connections racing for the same events."""

from __future__ import annotations

import threading
from typing import Any

from tests.support.events import Event

from keel.adapters.postgres import PostgresAdapter
from keel.batch.events import EventStore


def test_two_connections_storing_the_same_events_store_each_once(pg_db: Any) -> None:
    dsn = pg_db.admin_dsn
    first = PostgresAdapter(dsn)
    for statement in first.bootstrap_sql():
        first.execute(statement)
    second = first.fork()
    body = '{"x": "%s it\'s 100% -- ; "}' * 1000
    items = [(Event(f"e{i}", str(i)), "gong", body, "queued") for i in range(200)]
    won: list[set[str]] = [set(), set()]
    start = threading.Barrier(2)

    def store(n: int, adapter: PostgresAdapter) -> None:
        start.wait()
        for i in range(0, 200, 10):
            won[n] |= EventStore(adapter).record_many(items[i : i + 10])

    threads = [threading.Thread(target=store, args=(n, a)) for n, a in enumerate((first, second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert won[0].isdisjoint(won[1]) and won[0] | won[1] == {f"e{i}" for i in range(200)}
    ((count, length),) = first.fetch(
        'SELECT count(*), min(length("payload")) FROM "sophia_ops"."keel_events"'
    )
    assert (count, length) == (200, len(body))
    first.close()
    second.close()
