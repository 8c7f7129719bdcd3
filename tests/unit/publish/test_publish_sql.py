"""Golden SQL for publishing, per engine, and the order of DDL around BEGIN."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, ClassVar

from tests.support.gatekit import Kit, companies

from keel.adapters.base import Capabilities
from keel.adapters.duckdb import DuckDBAdapter
from keel.adapters.postgres import PostgresAdapter
from keel.batch.window import Layout, Window, batch_id, dedup_sql
from keel.publish import merge
from keel.quality.gate import GateRun, Target
from keel.resources import TagKey

Make = Callable[..., Kit]
W = Window(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2026, 1, 2, tzinfo=dt.UTC))
LAYOUT = Layout(
    "hubspot",
    "companies",
    ("HUBSPOT_DATA_RAW", "COMPANIES"),
    ("HUBSPOT_DATA", "COMPANIES"),
    (
        ("ID", "VARCHAR"),
        ("UPDATED_AT", "TIMESTAMPTZ"),
        ("_AB_CDC_DELETED_AT", "TIMESTAMPTZ"),
        ("_AIRBYTE_RAW_ID", "VARCHAR"),
        ("_AIRBYTE_EXTRACTED_AT", "TIMESTAMPTZ"),
    ),
    None,
    ("ID",),
    "UPDATED_AT",
    ("_AB_CDC_DELETED_AT",),
)


def test_merge_golden_duckdb() -> None:
    sql = merge.merge_sql(DuckDBAdapter(), LAYOUT, W, None)
    assert sql.startswith(
        'MERGE INTO "HUBSPOT_DATA"."COMPANIES" AS "__KEEL_TGT" USING (WITH "__KEEL_DUP" AS '
        '(SELECT "ID" FROM "HUBSPOT_DATA_RAW"."COMPANIES" WHERE "_AIRBYTE_EXTRACTED_AT" > '
        "'2026-01-01T00:00:00+00:00' AND \"_AIRBYTE_EXTRACTED_AT\" <= '2026-01-02T00:00:00+00:00'"
        ' GROUP BY "ID" HAVING COUNT(*) > 1) SELECT '
    )
    wins = (
        '("__KEEL_SRC"."UPDATED_AT" > "__KEEL_TGT"."UPDATED_AT" OR ("__KEEL_TGT"."UPDATED_AT" '
        'IS NULL AND "__KEEL_SRC"."UPDATED_AT" IS NOT NULL))'
    )
    assert sql.endswith(
        ') AS "__KEEL_SRC" ON "__KEEL_TGT"."ID" = "__KEEL_SRC"."ID" '
        f'WHEN MATCHED AND "__KEEL_SRC"."__KEEL_DEL" = 1 AND {wins} THEN DELETE '
        f'WHEN MATCHED AND "__KEEL_SRC"."__KEEL_DEL" = 0 AND {wins} THEN UPDATE SET '
        '"ID" = "__KEEL_SRC"."ID", "UPDATED_AT" = "__KEEL_SRC"."UPDATED_AT", '
        '"_AB_CDC_DELETED_AT" = "__KEEL_SRC"."_AB_CDC_DELETED_AT", '
        '"_AIRBYTE_RAW_ID" = "__KEEL_SRC"."_AIRBYTE_RAW_ID", '
        '"_AIRBYTE_EXTRACTED_AT" = "__KEEL_SRC"."_AIRBYTE_EXTRACTED_AT" '
        'WHEN NOT MATCHED AND "__KEEL_SRC"."__KEEL_DEL" = 0 THEN INSERT ("ID", "UPDATED_AT", '
        '"_AB_CDC_DELETED_AT", "_AIRBYTE_RAW_ID", "_AIRBYTE_EXTRACTED_AT") VALUES '
        '("__KEEL_SRC"."ID", "__KEEL_SRC"."UPDATED_AT", "__KEEL_SRC"."_AB_CDC_DELETED_AT", '
        '"__KEEL_SRC"."_AIRBYTE_RAW_ID", "__KEEL_SRC"."_AIRBYTE_EXTRACTED_AT")'
    )
    assert 'CASE WHEN "_AB_CDC_DELETED_AT" IS NOT NULL THEN 1 ELSE 0 END AS "__KEEL_DEL"' in sql


def test_postgres_spells_every_name_in_lower_case() -> None:
    pg = PostgresAdapter("")  # renders without a connection
    sql = merge.merge_sql(pg, LAYOUT, W, "b1")
    assert 'MERGE INTO "hubspot_data"."companies" AS "__keel_tgt"' in sql
    assert '"sophia_ops"."keel_quarantine"."batch_id" = \'b1\'' in sql
    assert '"ID"' not in sql and '"HUBSPOT' not in sql
    assert merge.ddl_sql(pg, LAYOUT) == [
        'CREATE TABLE IF NOT EXISTS "hubspot_data"."companies" AS SELECT * FROM '
        '"hubspot_data_raw"."companies" WHERE 1 = 0'
    ]


def test_ddl_adds_and_widens_columns() -> None:
    promoted = (("ID", "VARCHAR"), ("UPDATED_AT", "TIMESTAMPTZ"), ("_AB_CDC_DELETED_AT", "DATE"))
    layout = Layout(**{**LAYOUT.__dict__, "promoted": promoted})
    assert merge.ddl_sql(DuckDBAdapter(), layout) == [
        'ALTER TABLE "HUBSPOT_DATA"."COMPANIES" ALTER COLUMN "_AB_CDC_DELETED_AT" SET DATA TYPE '
        "TIMESTAMPTZ",
        'ALTER TABLE "HUBSPOT_DATA"."COMPANIES" ADD COLUMN "_AIRBYTE_RAW_ID" VARCHAR',
        'ALTER TABLE "HUBSPOT_DATA"."COMPANIES" ADD COLUMN "_AIRBYTE_EXTRACTED_AT" TIMESTAMPTZ',
    ]


def test_a_stream_without_a_key_is_keyed_by_the_raw_id() -> None:
    layout = Layout(**{**LAYOUT.__dict__, "keys": ("_AIRBYTE_RAW_ID",), "cursor": None})
    sql = dedup_sql(DuckDBAdapter(), layout, W)
    assert 'GROUP BY "_AIRBYTE_RAW_ID"' in sql
    assert 'ORDER BY "_AIRBYTE_EXTRACTED_AT" DESC, "_AIRBYTE_RAW_ID" DESC' in sql


def test_batch_ids_are_a_function_of_the_window() -> None:
    assert batch_id("hubspot", "companies", W) == batch_id("hubspot", "companies", W)
    assert batch_id("hubspot", "companies", W) != batch_id("hubspot", "contacts", W)
    assert batch_id("hubspot", "companies", W).startswith("20260102T000000-")


class Recording(DuckDBAdapter):
    """DuckDB, but claiming Snowflake's capabilities: DDL auto-commits, native tags."""

    caps: ClassVar[Capabilities] = Capabilities(
        enforces_grants=True,
        native_tags=True,
        transactional_ddl=False,
        merge=True,
        column_privileges=False,
        lower_case_names=False,
    )

    def __init__(self, conn: Any) -> None:
        super().__init__(connection=conn)
        self.log: list[str] = []

    def execute(self, sql: str) -> None:
        self.log.append(sql)
        if "SET TAG" not in sql:
            super().execute(sql)

    def begin(self) -> None:
        self.log.append("BEGIN")
        super().begin()

    def commit(self) -> None:
        self.log.append("COMMIT")
        super().commit()

    def tag_sql(self, key: TagKey, value: str | None) -> list[str]:
        return [f"ALTER {key.object_type.upper()} {key.object_name} SET TAG T = {self.lit(value)}"]


def test_ddl_and_native_tags_run_before_begin_where_ddl_auto_commits(kit: Make) -> None:
    k = kit([companies()])
    k.land("companies", [{"id": "c1", "name": "a"}])
    rec = Recording(k.ctx.adapter.conn)  # type: ignore[attr-defined]
    run = GateRun(k.ctx.project, rec, Target("hubspot"), publishing=True)
    verdict = run.judge(run.order[0])
    rec.log.clear()
    from keel.publish.promote import publish

    publish(run, verdict)
    begin = rec.log.index("BEGIN")
    create = next(i for i, s in enumerate(rec.log) if s.startswith("CREATE TABLE"))
    tags = [i for i, s in enumerate(rec.log) if "SET TAG" in s]
    merge_at = next(i for i, s in enumerate(rec.log) if s.startswith("MERGE"))
    assert create < begin and tags and max(tags) < begin < merge_at < rec.log.index("COMMIT")
    assert k.published("companies") == [("c1",)]
