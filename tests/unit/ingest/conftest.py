"""Fixtures for ingestion tests: a scriptable fake connector and DuckDB files."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from ingest_fakes import FAKE_CONNECTOR


@pytest.fixture
def fake_connector(tmp_path: Path) -> list[str]:
    script = tmp_path / "fake_source.py"
    script.write_text(FAKE_CONNECTOR)
    return [sys.executable, str(script)]


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield connection
    connection.close()
