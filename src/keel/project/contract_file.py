"""Pydantic models of a contract file's YAML (dbt sources, version 2).

Only the loader reads these: what a table declares ends up in the loaded
project's own values (:mod:`keel.project.models`, :mod:`keel.project.loaded`).
Models are strict about their own keys (``extra="forbid"``) except where dbt
allows free-form content (``meta``, ``config``). Data tests are normalised into
:class:`~keel.project.models.DataTest` before the contract is validated, so
every test carries its file and line.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from keel.project.models import DataTest, Freshness


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ColumnContract(Strict):
    name: str
    description: str | None = None
    data_type: str | None = None
    meta: dict[str, Any] = {}
    data_tests: list[DataTest] = []
    tags: list[str] | str = []
    quote: bool | None = None
    config: dict[str, Any] = {}
    constraints: list[Any] = []
    docs: dict[str, Any] = {}
    # accepted as dbt does (dbt-core 1.11 jsonschema ColumnProperties); keel does not use them
    column_mask: Any = None
    databricks_tags: Any = None
    dimension: Any = None
    entity: Any = None
    granularity: Any = None
    policy_tags: Any = None


class TableContract(Strict):
    name: str
    description: str | None = None
    identifier: str | None = None
    meta: dict[str, Any] = {}
    loaded_at_field: str | None = None
    freshness: Freshness | None = None
    columns: list[ColumnContract] = []
    data_tests: list[DataTest] = []
    tags: list[str] | str = []
    config: dict[str, Any] = {}
    quoting: dict[str, Any] = {}
    external: dict[str, Any] | None = None
    loader: str | None = None
    docs: dict[str, Any] = {}


class SourceContract(Strict):
    name: str
    description: str | None = None
    database: str | None = None
    schema_: str | None = Field(None, alias="schema")
    meta: dict[str, Any] = {}
    loader: str | None = None
    loaded_at_field: str | None = None
    freshness: Freshness | None = None
    tables: list[TableContract] = []
    tags: list[str] | str = []
    config: dict[str, Any] = {}
    quoting: dict[str, Any] = {}
    catalog: str | None = None
    overrides: Any = None  # deprecated in dbt 1.10; accepted, unused


class ContractFile(Strict):
    version: Literal[2]
    sources: list[SourceContract] = []
    anchors: list[Any] | None = None  # dbt 1.10+: a home for YAML anchors, otherwise unused
