from __future__ import annotations

from collections.abc import Iterator

import pytest
from alertkit import FakeClock, make_ops

from keel.adapters.duckdb import DuckDBAdapter


@pytest.fixture
def adapter() -> Iterator[DuckDBAdapter]:
    """An in-memory DuckDB with the alert tables."""
    a = make_ops(DuckDBAdapter(":memory:"))
    yield a
    a.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
