"""keel's built-in demo sources, shaped like Gong, HubSpot, Slack and NetSuite.

``python -m keel.ingest.demo <source> spec|check|discover|read ...`` speaks
the Airbyte protocol like any source connector (see ``__main__``); the
functions here give tests and benchmarks the same data in-process.

- :mod:`.data`: the deterministic record sequences;
- :mod:`.faults`: the fault switches (null, duplicate_pk, bad_value,
  orphan_fk, late, new_column, removed_column);
- :mod:`.source`: config, catalog and the read loop.
"""

from __future__ import annotations

from keel.ingest.demo.data import SourceData, position_of, timestamp
from keel.ingest.demo.faults import FAULT_KINDS, Fault
from keel.ingest.demo.source import (
    SOURCES,
    DemoConfig,
    DemoConfigError,
    catalog,
    clean_records,
    json_schema,
    latest_versions,
    parse_config,
    read,
)

__all__ = [
    "FAULT_KINDS",
    "SOURCES",
    "DemoConfig",
    "DemoConfigError",
    "Fault",
    "SourceData",
    "catalog",
    "clean_records",
    "latest_versions",
    "json_schema",
    "parse_config",
    "position_of",
    "read",
    "timestamp",
]
