"""The gate reads keel's tables and never migrates them: an older SOPHIA_OPS is refused
with what it lacks, and keel apply's one migration path (Adapter.ops_ddl) adds it."""

from __future__ import annotations

import pytest

from keel import ops_tables as ops
from keel.adapters.duckdb import DuckDBAdapter
from keel.batch import reads
from keel.errors import QualityError

OPS = [(ops.OPS_SCHEMA, table.name) for table in reads.GATE_TABLES]


def test_an_older_sophia_ops_is_refused_and_keel_apply_migrates_it() -> None:
    a = DuckDBAdapter()
    for statement in a.bootstrap_sql():
        a.execute(statement)
    a.execute(f"ALTER TABLE {a.ops_table(ops.KEEL_BATCHES)} DROP COLUMN {a.ident('REASON')}")
    a.execute(f"DROP TABLE {a.ops_table(ops.KEEL_TRANSFORMS)}")
    columns = reads.read_columns(a, OPS)
    with pytest.raises(QualityError, match="lacks KEEL_BATCHES.REASON, KEEL_TRANSFORMS: run"):
        reads.require_ops(a, columns)
    assert reads.read_columns(a, OPS) == columns  # the gate changed nothing

    a.mark_ops(a.read_state(set(), set()))
    for statement in a.ops_ddl():
        a.execute(statement)
    reads.require_ops(a, reads.read_columns(a, OPS))


def test_a_warehouse_without_sophia_ops_is_refused() -> None:
    with pytest.raises(QualityError, match="SOPHIA_OPS does not exist"):
        reads.require_ops(DuckDBAdapter(), {})
