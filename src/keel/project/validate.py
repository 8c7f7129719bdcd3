"""Pydantic validation of YAML into keel's model dataclasses (the loader's path only)."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import TypeAdapter

T = TypeVar("T")
_ADAPTERS: dict[type, TypeAdapter[Any]] = {}  # one per model: building one is the cost


def validate(cls: type[T], raw: Any) -> T:
    """``raw`` (from YAML) as a ``cls``; raises pydantic's ValidationError."""
    adapter = _ADAPTERS.get(cls)
    if adapter is None:
        adapter = _ADAPTERS[cls] = TypeAdapter(cls)
    out: T = adapter.validate_python(raw)
    return out
