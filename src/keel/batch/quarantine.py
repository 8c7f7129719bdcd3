"""The store of SOPHIA_OPS.KEEL_QUARANTINE, the only code that touches that table: the
rows a publish held back (``on_fail: quarantine_rows``), kept whole for repair.

Both statements belong to the publish transaction (:mod:`keel.publish.promote`), in this
order: :func:`replace_sql` stores the batch's failing rows (replacing an earlier publish
attempt's), then the MERGE leaves them out through :func:`excluded_sql`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields

from keel import ops_tables as ops
from keel.adapters.base import Adapter

T = ops.KEEL_QUARANTINE
CHUNK = 500  # rows per INSERT statement


@dataclass(frozen=True)
class QuarantineRow:
    """A row of KEEL_QUARANTINE (fields are its columns in order, lower case)."""

    batch_id: str
    source: str
    stream: str
    raw_id: str
    row_key: str  # JSON list of the row's key values
    failed_checks: str  # comma-separated check ids
    row_json: str  # the whole row (JSON, lower-case column names)
    quarantined_at: dt.datetime

    def values(self) -> dict[str, object]:
        """Column -> value, in the table's column order."""
        return dict(zip(COLUMNS, astuple(self), strict=True))


COLUMNS = tuple(f.name.upper() for f in fields(QuarantineRow))  # a test keeps them T's columns


def replace_sql(a: Adapter, batch_id: str, rows: Sequence[QuarantineRow]) -> list[str]:
    """Delete what an earlier attempt kept for ``batch_id``, insert ``rows`` (in chunks)."""
    return [
        a.delete_sql(T, {"BATCH_ID": batch_id}),
        *a.inserts_sql(T, [r.values() for r in rows], CHUNK),
    ]


def excluded_sql(a: Adapter, batch_id: str, raw_id: str) -> str:
    """True for a row the batch did not quarantine; ``raw_id`` is the (quoted) column
    holding the row's raw id."""
    q = a.ops_table(T)
    return (
        f"NOT EXISTS (SELECT 1 FROM {q} WHERE {q}.{a.ident('BATCH_ID')} = {a.lit(batch_id)} "
        f"AND {q}.{a.ident('RAW_ID')} = {raw_id})"
    )
