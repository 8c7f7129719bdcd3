"""DuckDB's engine, imported without the ``duckdb`` package's Python layer.

The ``duckdb`` package re-exports ``_duckdb``, its C++ extension (connections,
cursors, the exception classes): the package's own docstring says so. The rest of
the package (the relational and expression API, filesystem helpers, a version
lookup through importlib.metadata) costs about 80 ms of start-up that keel never
uses, a quarter of a ``keel gate`` command on a micro-batch (bench/README.md).
Both names give the same classes, so code and tests may mix them. A release that
moves the extension falls back to the package. One thing needs the package:
scanning a Python object (the RAW writer's Arrow batch), which the extension hands
to ``duckdb._sources``; :func:`python_scans` sets that up first.
"""

from __future__ import annotations

try:
    import _duckdb as duckdb
except ImportError:  # pragma: no cover - an older or reorganised duckdb release
    import duckdb  # type: ignore[no-redef]

__all__ = ["duckdb", "python_scans"]


def python_scans() -> None:
    """Before DuckDB scans a Python object: the package sets up ``duckdb._sources``."""
    import duckdb as package  # noqa: F401  (imported for what it registers)
