"""Test kit for the gate: a small project, a warehouse handle, and RAW landing like Airbyte.

``Kit(tmp_path, tables)`` writes keel.yml (the Sophia one) and one contract for the
``hubspot`` source with the given tables (dbt sources format), bootstraps SOPHIA_OPS and
the source's schemas directly (no full apply: fast), and lands rows into RAW tables laid
out as Airbyte's destination does: each ``land`` is one committed sync with a strictly
larger ``_AIRBYTE_EXTRACTED_AT``; with ``dedupe`` (the default) older rows of the same
key are replaced, as Append + Deduped does.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import uuid
from pathlib import Path
from typing import Any

import yaml

from keel.context import Context
from keel.project.init import write_project
from keel.publish.promote import promote
from keel.quality.gate import gate
from keel.quality.model import SourceReport

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)

TYPES = {
    "varchar": "VARCHAR",
    "bigint": "BIGINT",
    "double": "DOUBLE",
    "timestamp": "TIMESTAMPTZ",
    "boolean": "BOOLEAN",
    "date": "DATE",
}


def col(
    name: str, data_type: str = "varchar", tests: list[Any] | None = None, pii: str | None = None
) -> dict[str, Any]:
    c: dict[str, Any] = {"name": name, "data_type": data_type}
    if tests:
        c["data_tests"] = tests
    if pii:
        c["meta"] = {"pii_level": pii}
    return c


def table(
    name: str,
    entity: str,
    columns: list[dict[str, Any]],
    *,
    pk: str | None = "id",
    cursor: str | None = "updated_at",
    on_fail: str | None = None,
    tests: list[Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    keel: dict[str, Any] = {}
    if pk:
        keel["primary_key"] = [pk]
    if cursor:
        keel["cursor"] = cursor
    if on_fail:
        keel["on_fail"] = on_fail
    t: dict[str, Any] = {
        "name": name,
        "meta": {"entity_type": entity, "keel": keel},
        "columns": columns,
        **extra,
    }
    if tests:
        t["data_tests"] = tests
    return t


def companies(**kw: Any) -> dict[str, Any]:
    return table(
        "companies",
        "company",
        [
            col("id", tests=["not_null", "unique"]),
            col("name", tests=["not_null"]),
            col("updated_at", "timestamp"),
        ],
        **kw,
    )


def contacts(**kw: Any) -> dict[str, Any]:
    return table(
        "contacts",
        "contact",
        [
            col("id", tests=["not_null", "unique"]),
            col("email", tests=["not_null"], pii="high"),
            col(
                "company_id",
                tests=[
                    {
                        "relationships": {
                            "arguments": {"to": "source('hubspot', 'companies')", "field": "id"}
                        }
                    }
                ],
            ),
            col(
                "stage",
                tests=[{"accepted_values": {"arguments": {"values": ["lead", "customer"]}}}],
            ),
            col(
                "score",
                "bigint",
                tests=[{"accepted_range": {"arguments": {"min_value": 0, "max_value": 100}}}],
            ),
            col("updated_at", "timestamp"),
        ],
        **kw,
    )


class Kit:
    def __init__(
        self,
        tmp: Path,
        tables: list[dict[str, Any]],
        source: str = "hubspot",
        transform: dict[str, Any] | None = None,
    ):
        self.root = tmp / "proj"
        self.source = source
        write_project(self.root)
        for f in (self.root / "contracts").glob("*.yml"):
            f.unlink()
        self.write_contract(tables)
        if transform is not None:
            doc = yaml.safe_load((self.root / "keel.yml").read_text())
            doc["sources"][source]["transform"] = transform
            (self.root / "keel.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
        self.ctx = Context(self.root)
        a = self.ctx.adapter
        for sql in a.bootstrap_sql():
            a.execute(sql)
        for suffix in ("_DATA_RAW", "_DATA"):
            a.execute(f"CREATE SCHEMA IF NOT EXISTS {a.ident(source.upper() + suffix)}")
        self._tick = itertools.count(1)
        self.columns: dict[str, list[tuple[str, str]]] = {}

    def write_contract(self, tables: list[dict[str, Any]]) -> None:
        doc = {"version": 2, "sources": [{"name": self.source, "tables": tables}]}
        (self.root / "contracts" / f"{self.source}.yml").write_text(
            yaml.safe_dump(doc, sort_keys=False)
        )
        if hasattr(self, "ctx"):
            self.ctx._project = None  # reload

    # ---- warehouse -------------------------------------------------------------------

    def sql(self, *statements: str) -> None:
        for s in statements:
            self.ctx.adapter.execute(s)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return self.ctx.adapter.fetch(sql)

    def raw(self, stream: str) -> str:
        return f'"{self.source.upper()}_DATA_RAW"."{stream.upper()}"'

    def data(self, stream: str) -> str:
        return f'"{self.source.upper()}_DATA"."{stream.upper()}"'

    def create_raw(self, stream: str, columns: list[tuple[str, str]]) -> None:
        cols = [
            *columns,
            ("_AIRBYTE_RAW_ID", "VARCHAR"),
            ("_AIRBYTE_EXTRACTED_AT", "TIMESTAMPTZ"),
            ("_AIRBYTE_META", "JSON"),
            ("_AIRBYTE_GENERATION_ID", "BIGINT"),
        ]
        ddl = ", ".join(f'"{c}" {t}' for c, t in cols)
        self.sql(f"CREATE TABLE IF NOT EXISTS {self.raw(stream)} ({ddl})")
        self.columns[stream] = list(columns)

    def contract_columns(self, stream: str) -> list[tuple[str, str]]:
        s = self.ctx.project.streams[f"{self.source}.{stream}"]
        return [(c.name, TYPES.get(c.data_type or "varchar", "VARCHAR")) for c in s.columns]

    def land(
        self, stream: str, rows: list[dict[str, Any]], *, dedupe: bool = True, key: str = "ID"
    ) -> dt.datetime:
        """One committed sync: ``rows`` (column -> value; ``updated_at`` defaults to T0 plus
        the sync number in minutes) with one new _AIRBYTE_EXTRACTED_AT."""
        if stream not in self.columns:
            self.create_raw(stream, self.contract_columns(stream))
        n = next(self._tick)
        extracted = T0 + dt.timedelta(hours=n)
        names = [c for c, _ in self.columns[stream]]
        a = self.ctx.adapter
        with a.transaction():
            for row in rows:
                row = {k.upper(): v for k, v in row.items()}
                row.setdefault("UPDATED_AT", T0 + dt.timedelta(minutes=n))
                if dedupe and key in row:
                    a.execute(f'DELETE FROM {self.raw(stream)} WHERE "{key}" = {a.lit(row[key])}')
                values = [a.lit(row.get(c)) for c in names] + [
                    a.lit(uuid.uuid4().hex),
                    a.lit(extracted),
                    a.lit(json.dumps({})),
                    "1",
                ]
                a.execute(f"INSERT INTO {self.raw(stream)} VALUES ({', '.join(values)})")
        return extracted

    # ---- keel ------------------------------------------------------------------------

    def gate(self, target: str | None = None, **kw: Any) -> SourceReport:
        kw.setdefault("now", lambda: NOW)
        return gate(self.ctx.project, self.ctx.adapter, target or self.source, **kw)

    def promote(self, target: str | None = None, **kw: Any) -> SourceReport:
        kw.setdefault("now", lambda: NOW)
        return promote(self.ctx.project, self.ctx.adapter, target or self.source, **kw)

    def published(self, stream: str, columns: str = '"ID"') -> list[tuple[Any, ...]]:
        return self.rows(f"SELECT {columns} FROM {self.data(stream)} ORDER BY 1")

    def watermark(self, stream: str) -> Any:
        found = self.rows(
            'SELECT "EXTRACTED_AT" FROM "SOPHIA_OPS"."KEEL_WATERMARKS" '
            f"WHERE \"SOURCE\" = '{self.source}' AND \"STREAM\" = '{stream}'"
        )
        return found[0][0] if found else None

    def batches(self, stream: str) -> list[tuple[Any, ...]]:
        return self.rows(
            'SELECT "STATUS", "ROWS", "PUBLISHED_ROWS", "QUARANTINED_ROWS", "FORCED_BY", '
            '"REASON", "SUPERSEDED_BY" FROM "SOPHIA_OPS"."KEEL_BATCHES" '
            f'WHERE "STREAM" = \'{stream}\' ORDER BY "CREATED_AT", "BATCH_ID"'
        )

    def close(self) -> None:
        self.ctx.close()


def result(report: SourceReport, stream: str, check_id: str) -> Any:
    s = report.stream(stream)
    return next(r for r in s.checks if r.check.id == check_id)
