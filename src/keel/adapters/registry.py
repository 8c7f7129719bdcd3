"""Choose and build the adapter for a project's ``warehouse`` block. Drivers load lazily."""

from __future__ import annotations

import importlib
from typing import Any

from keel.adapters.base import Adapter
from keel.errors import KeelError
from keel.project.loaded import Project

# engine -> (module, class); a module is imported only when its engine is used
ENGINES = {
    "duckdb": ("keel.adapters.duckdb", "DuckDBAdapter"),
    "postgres": ("keel.adapters.postgres", "PostgresAdapter"),
    "snowflake": ("keel.adapters.snowflake", "SnowflakeAdapter"),
}


def adapter_for(project: Project) -> Adapter:
    wh = project.spec.warehouse
    tag = project.spec.metadata_tag
    kwargs: dict[str, Any] = {"tag_name": tag.name.upper(), "tag_schema": tag.schema.upper()}
    module_name, class_name = ENGINES[wh.engine]
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except ImportError as exc:
        raise KeelError(f"the {wh.engine} engine is not available in this build") from exc
    if wh.engine == "duckdb":
        path = wh.path if wh.path == ":memory:" else str(project.root / wh.path)
        return cls(path, **kwargs)  # type: ignore[no-any-return]
    if wh.engine == "postgres":
        project.require_env("warehouse.dsn")
        return cls(wh.dsn.get_secret_value() if wh.dsn else "", **kwargs)  # type: ignore[no-any-return]
    project.require_env("warehouse.account", "warehouse.user")
    adapter: Adapter = cls.from_spec(wh, **kwargs)
    adapter.reopen = lambda: cls.from_spec(wh, **kwargs)  # fork(): a second session
    return adapter
