"""The RAW writer's engine SQL as the adapter hands it out, and PostgreSQL's spelling,
without a server.

The writer against a live PostgreSQL is tested in tests/integration/test_postgres_flow.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import pytest

from keel.adapters.duckdb import DuckDBAdapter
from keel.adapters.duckdb_raw import DuckDBRaw
from keel.adapters.postgres import PostgresAdapter
from keel.adapters.postgres_raw import PostgresRaw
from keel.adapters.snowflake import SnowflakeAdapter
from keel.errors import WarehouseError
from keel.ingest import state_store
from keel.ingest.writer import RawWriter


class Recorder:
    """Stands in for a psycopg connection: records the statements it is sent."""

    closed = False

    def __init__(self) -> None:
        self.sent: list[str] = []

    def execute(self, sql: bytes) -> Recorder:
        self.sent.append(sql.decode())
        return self

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [(False,)] if "to_regclass" in self.sent[-1] else []


def _engine() -> tuple[PostgresRaw, Recorder]:
    conn = Recorder()
    return PostgresAdapter(connection=conn).raw_writer(), conn


def test_the_writer_takes_its_sql_from_the_adapter() -> None:
    con = duckdb.connect()
    try:
        plain = RawWriter(con, source="shop", sync_id=1)
        assert type(plain.raw) is DuckDBRaw and plain.raw.a.conn is con
        adapter = DuckDBAdapter(connection=con)
        assert RawWriter(adapter, source="shop", sync_id=1).raw.a is adapter
    finally:
        con.close()
    pg = PostgresAdapter(connection=Recorder())
    writer = RawWriter(pg, source="shop", sync_id=1)
    assert type(writer.raw) is PostgresRaw and writer.raw.a is pg


def test_other_engines_are_refused() -> None:
    with pytest.raises(WarehouseError, match="on snowflake Airbyte loads the _RAW schemas"):
        RawWriter(SnowflakeAdapter(Recorder(), "SOPHIA"), source="shop", sync_id=1)


def test_postgres_names_are_lower_case_and_quoted() -> None:
    eng, conn = _engine()
    eng.create_table("SHOP_DATA_RAW", "ORDERS", [("ID", "BIGINT"), ("_AIRBYTE_META", "JSON")])
    eng.widen_column("SHOP_DATA_RAW", "ORDERS", "ID", "DOUBLE")
    assert conn.sent == [
        "BEGIN TRANSACTION",
        'CREATE TABLE IF NOT EXISTS "shop_data_raw"."orders" ("id" bigint, "_airbyte_meta" jsonb)',
        'SELECT to_regclass(\'"sophia_ops"."keel_grants"\') IS NOT NULL',
        "COMMIT",
        'ALTER TABLE "shop_data_raw"."orders" ALTER COLUMN "id" SET DATA TYPE double precision '
        'USING CAST("id" AS double precision)',
    ]


def test_postgres_dedup_stage_uses_distinct_on() -> None:
    eng, _ = _engine()
    select = eng.typed_select(
        ["c0", "c1"],
        [("ID", "BIGINT"), ("UPDATED_AT", "TIMESTAMPTZ")],
        {"_AIRBYTE_EXTRACTED_AT": "2026-01-01T00:00:00+00:00", "_AIRBYTE_META": "{}",
         "_AIRBYTE_GENERATION_ID": 0},
    )  # fmt: skip
    assert select[:3] == [
        'CAST("c0" AS bigint) AS "id"',
        'CAST("c1" AS timestamptz) AS "updated_at"',
        'CAST(gen_random_uuid() AS text) AS "_airbyte_raw_id"',
    ]
    sql = eng.dedup_stage_sql(select, ["ID", "UPDATED_AT"], ["ID"], "UPDATED_AT")
    assert 'SELECT DISTINCT ON ("id") "id", "updated_at" FROM typed' in sql
    assert sql.endswith('ORDER BY "id", "updated_at" DESC NULLS LAST, "keel_seq" DESC')
    assert "QUALIFY" not in sql


def test_postgres_state_is_upserted_with_a_timestamptz() -> None:
    eng, conn = _engine()
    now = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    state_store.upsert(eng, "shop", "orders", '{"a":1}', 3, now)
    (sql,) = conn.sent
    assert sql.startswith(
        'INSERT INTO "sophia_ops"."keel_state" ("source", "stream", "state", "records", '
        "\"updated_at\") VALUES ('shop', 'orders', '{\"a\":1}', 3, "
        "CAST('2026-01-02T03:04:05+00:00' AS timestamptz)) "
        'ON CONFLICT ("source", "stream") DO UPDATE SET'
    )
    assert '"records" = COALESCE("keel_state"."records", 0) + excluded."records"' in sql


class Refusing(Recorder):
    """A psycopg connection whose server refuses every statement."""

    def execute(self, sql: bytes) -> Recorder:
        import psycopg

        self.sent.append(sql.decode())
        raise psycopg.errors.UndefinedTable('relation "shop_data_raw.orders" does not exist')


def test_a_refused_raw_statement_is_the_adapters_warehouse_error() -> None:
    """One error translation: the writer's statements go through the adapter, so a refusal
    surfaces as the adapter's WarehouseError naming the engine and the statement."""
    con = duckdb.connect()
    try:
        with pytest.raises(WarehouseError) as duck:
            DuckDBAdapter(connection=con).raw_writer().widen_column(
                "SHOP", "ORDERS", "ID", "DOUBLE"
            )
    finally:
        con.close()
    with pytest.raises(WarehouseError) as pg:
        PostgresAdapter(connection=Refusing()).raw_writer().widen_column(
            "SHOP", "ORDERS", "ID", "DOUBLE"
        )
    assert str(duck.value).startswith(
        'DuckDB refused: Catalog Error: Table with name "SHOP.ORDERS" does not exist'
    )
    assert str(duck.value).endswith(
        '\n  SQL: ALTER TABLE "SHOP"."ORDERS" ALTER COLUMN "ID" SET DATA TYPE DOUBLE'
    )
    assert str(pg.value) == (
        'PostgreSQL refused: relation "shop_data_raw.orders" does not exist\n'
        '  SQL: ALTER TABLE "shop"."orders" ALTER COLUMN "id" SET DATA TYPE double precision '
        'USING CAST("id" AS double precision)'
    )
