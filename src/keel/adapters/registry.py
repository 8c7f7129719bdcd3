"""Choose and build the adapter for a project's ``warehouse`` block. Drivers load lazily."""

from __future__ import annotations

from keel.adapters.base import Adapter
from keel.errors import KeelError
from keel.project.loader import Project


def adapter_for(project: Project, read_only: bool = False) -> Adapter:
    wh = project.spec.warehouse
    tag = project.spec.metadata_tag
    kwargs = {"tag_name": tag.name.upper(), "tag_schema": tag.schema_.upper()}
    if wh.engine == "duckdb":
        from keel.adapters.duckdb import DuckDBAdapter

        path = wh.path if wh.path == ":memory:" else str(project.root / wh.path)
        return DuckDBAdapter(path, **kwargs)
    if wh.engine == "postgres":
        project.require_env("warehouse.dsn")
        try:
            from keel.adapters.postgres import PostgresAdapter  # type: ignore[import-not-found]
        except ImportError as exc:
            raise KeelError("the postgres engine is not available in this build") from exc
        return PostgresAdapter(wh.dsn.get_secret_value() if wh.dsn else "", **kwargs)  # type: ignore[no-any-return]
    if wh.engine == "snowflake":
        project.require_env("warehouse.account", "warehouse.user")
        try:
            from keel.adapters.snowflake import SnowflakeAdapter  # type: ignore[import-not-found]
        except ImportError as exc:
            raise KeelError("the snowflake engine is not available in this build") from exc
        return SnowflakeAdapter.from_spec(wh, **kwargs)  # type: ignore[no-any-return]
    raise KeelError(f"unknown engine {wh.engine!r}")  # pragma: no cover - validated earlier
