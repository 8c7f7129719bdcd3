from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# the gate's test kit lives next to the quality tests
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "quality"))

from gatekit import Kit


@pytest.fixture
def kit(tmp_path: Path) -> Iterator[Callable[..., Kit]]:
    made: list[Kit] = []

    def make(tables: list[dict[str, Any]], **kw: Any) -> Kit:
        k = Kit(tmp_path, tables, **kw)
        made.append(k)
        return k

    yield make
    for k in made:
        k.close()
