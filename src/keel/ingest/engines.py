"""Which RAW writer engine serves a target: DuckDB's, or PostgreSQL's (its subclass).

Kept apart from both engine modules so that neither imports the other."""

from __future__ import annotations

from typing import Any

from keel.errors import WarehouseError
from keel.ingest.engine import DuckDBEngine
from keel.ingest.engine_pg import PostgresEngine


def engine_for(target: Any) -> DuckDBEngine:
    """The writer's engine for ``target``: a DuckDB connection, or an adapter (DuckDB's or
    PostgreSQL's). Other engines are refused: Airbyte loads their _RAW schemas."""
    name = getattr(target, "name", None)
    if name == "postgres":
        return PostgresEngine(target)
    if name == "duckdb" and hasattr(target, "conn"):
        return DuckDBEngine(target.conn)
    if isinstance(name, str):
        raise WarehouseError(
            f"keel ingest writes into DuckDB or PostgreSQL; on {name} Airbyte loads the _RAW "
            "schemas and keel gates what it wrote"
        )
    return DuckDBEngine(target)
