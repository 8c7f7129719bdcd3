"""The ``trigger: changes`` probe on PostgreSQL reads the statistics' insert counters
(``pg_stat_user_tables.n_tup_ins``: "number of rows inserted", PostgreSQL's cumulative
statistics, reported by a backend when its transaction ends, at most about once a
second), never the RAW table."""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.server import wait_until

from keel.adapters.postgres import PostgresAdapter

pytestmark = pytest.mark.postgres


def test_the_insert_counter_sees_rows_land(pg_db: Any) -> None:
    pg_db.sql(
        "CREATE SCHEMA hubspot_data_raw",
        "CREATE TABLE hubspot_data_raw.companies (id text, _airbyte_raw_id text)",
    )
    a = PostgresAdapter(pg_db.admin_dsn)
    try:
        sql = a.inserted_sql([("HUBSPOT_DATA_RAW", "COMPANIES")])
        assert sql is not None and "pg_stat_user_tables" in sql and "companies" in sql

        def inserted() -> int:
            rows = a.fetch(sql)
            return int(rows[0][2]) if rows else -1

        assert wait_until(lambda: inserted() == 0, 10)
        pg_db.sql(
            "INSERT INTO hubspot_data_raw.companies SELECT 'c' || g, 'r' || g "
            "FROM generate_series(1, 25) g"
        )
        assert wait_until(lambda: inserted() == 25, 10)
    finally:
        a.close()
