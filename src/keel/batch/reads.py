"""Reading what the gate needs, in bulk: a fixed number of queries per call, whatever the
number of streams.

- :func:`read_columns`: every column of the given schemas (one ``information_schema`` query);
- :func:`read_watermarks`: every stream's watermark of some sources (one query);
- :func:`probe`: each RAW table's pending window, row count and newest extraction
  (one ``UNION ALL`` query for all streams);
- :func:`read_tags`: the recorded tag rows under some schemas (one query, engines
  without native tags);
- :func:`require_ops`: refuses, naming them, when keel's tables lack what the gate
  uses (no DDL here: ``keel apply`` migrates keel's tables).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from keel import ops_tables as ops
from keel.adapters import tag_store
from keel.adapters.base import Adapter
from keel.batch import watermarks
from keel.batch.judged import Scope
from keel.batch.window import EXTRACTED_AT, RAW_ID, Window, relation_sql, utc, window_sql
from keel.errors import QualityError

if TYPE_CHECKING:
    from keel.project.loaded import Stream

Columns = dict[tuple[str, str], list[tuple[str, str]]]  # (SCHEMA, TABLE) -> [(COLUMN, type)]

GATE_TABLES = (
    ops.KEEL_WATERMARKS,
    ops.KEEL_BATCHES,
    ops.KEEL_DQ_RESULTS,
    ops.KEEL_DQ_FAILURES,
    ops.KEEL_QUARANTINE,
    ops.KEEL_JUDGED,
    ops.KEEL_TRANSFORMS,
    ops.KEEL_TAGS,
)


def read_columns(a: Adapter, tables: Iterable[tuple[str, str]]) -> Columns:
    """Columns of each of ``tables`` (canonical schema, table) that exists, in order."""
    return a.table_columns(sorted(set(tables)))


def require_ops(a: Adapter, columns: Columns) -> None:
    """Refuse, naming what is missing, when keel's tables lack a table or column the gate
    uses. ``columns`` must include SOPHIA_OPS. The gate runs no DDL: keel's tables have one
    migration path, ``keel apply`` (:meth:`keel.adapters.base.Adapter.ops_ddl`, additive)."""
    present = {t for s, t in columns if s == ops.OPS_SCHEMA}  # of GATE_TABLES, when read
    if not present:
        raise QualityError(
            f"{ops.OPS_SCHEMA} does not exist in this warehouse: run `keel apply` first"
        )
    missing = []
    for table in GATE_TABLES:
        if table.name not in present:
            missing.append(table.name)
            continue
        have = {c for c, _ in columns[(ops.OPS_SCHEMA, table.name)]}
        missing += [f"{table.name}.{name}" for name, _ in table.columns if name not in have]
    if missing:
        raise QualityError(
            f"{ops.OPS_SCHEMA} was made by an older keel and lacks {', '.join(missing)}: "
            "run `keel apply` (it adds keel's new tables and columns) and gate again"
        )


def read_watermarks(
    a: Adapter, sources: Iterable[str], floors: bool = True
) -> dict[tuple[str, str], watermarks.Mark]:
    return watermarks.read(a, sources, floors)


def pending_window(
    stream: Stream, mark: watermarks.Mark | None, upto: dt.datetime | None, scoped: bool = True
) -> Window:
    """The window of a stream's pending rows after its watermark ``mark``: scoped (late
    rows, judged ids, the settled floor: :class:`keel.batch.judged.Scope`) unless not."""
    scope = Scope.of(stream, mark.settled if mark else None) if scoped else None
    return Window(mark.at if mark else None, upto, scope)


@dataclass(frozen=True)
class Pending:
    """What a RAW table holds after its watermark."""

    window: Window  # (watermark, newest extraction]
    rows: int
    first: dt.datetime | None  # the oldest extraction in the window
    digest: int = 0  # sum of the hashes of the raw ids (keel.batch.judged.fingerprint_sql)


def probe(a: Adapter, targets: Sequence[tuple[str, tuple[str, str], Window]]) -> dict[str, Pending]:
    """Pending rows per stream key, for ``(key, (schema, table), Window(after))`` targets."""
    if not targets:
        return {}
    ext, digest = a.ident(EXTRACTED_AT), a.hash_sql(a.ident(RAW_ID))
    parts = [
        f"SELECT {a.lit(key)} AS k, COUNT(*) AS n, MIN({ext}) AS lo, MAX({ext}) AS hi, "
        f"SUM({digest}) AS h FROM {relation_sql(a, table, window)} WHERE {window_sql(a, window)}"
        for key, table, window in targets
    ]
    windows = {key: window for key, _, window in targets}
    out: dict[str, Pending] = {}
    for key, n, lo, hi, h in a.fetch(" UNION ALL ".join(parts), "probe"):
        window = windows[key].bounded(utc(hi))
        out[key] = Pending(window, int(n), utc(lo), int(h or 0))
    return out


def read_tags(a: Adapter, schemas: Iterable[str]) -> dict[tuple[str, str], str]:
    """Recorded tags (object type, object name) -> JSON under ``schemas``."""
    return tag_store.read_under(a, schemas)


def table_columns(
    columns: Mapping[tuple[str, str], list[tuple[str, str]]], schema: str, table: str
) -> list[tuple[str, str]] | None:
    return columns.get((schema.upper(), table.upper()))
