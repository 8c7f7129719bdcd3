"""Each of keel's own tables (SOPHIA_OPS.KEEL_*) that has a store is touched by that
store only: no other module under src/ names the table in code (``ops.KEEL_X`` or a
string holding ``KEEL_X`` outside a docstring)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from keel import ops_tables as ops

SRC = Path(__file__).resolve().parents[2] / "src" / "keel"
DECLARED = SRC / "ops_tables.py"  # where the tables are declared (names and columns, no SQL)

# table -> the one module that reads and writes it
STORES = {
    "KEEL_EVENTS": "batch/events.py",
    "KEEL_ALERTS": "alerts/outbox.py",
    "KEEL_WATERMARKS": "batch/watermarks.py",
    "KEEL_DQ_RESULTS": "batch/results.py",
    "KEEL_DQ_FAILURES": "batch/results.py",
    "KEEL_APPLY_LOG": "governance/apply_log.py",
    "KEEL_TAGS": "adapters/tag_store.py",
    "KEEL_STATE": "ingest/state_store.py",
    "KEEL_TRANSFORMS": "publish/transform.py",
    "KEEL_JUDGED": "batch/judged.py",
    "KEEL_ROLES": "adapters/role_store.py",
    "KEEL_GRANTS": "adapters/role_store.py",
    "KEEL_ROLE_MEMBERS": "adapters/role_store.py",
}

# tables without a store yet, with every module that touches them today: the set may
# shrink, never grow. KEEL_BATCHES and KEEL_QUARANTINE wait for the batch identity
# change (issue 14: a store in batch/ holding the batch row's insert/replace, the list
# for `keel batches` and the status page, and the quarantine rows).
PENDING = {
    "KEEL_BATCHES": {
        "events/app.py",
        "events/status.py",
        "publish/batches.py",
        "publish/merge.py",
        "publish/transform.py",
        "quality/record.py",
    },
    "KEEL_QUARANTINE": {"publish/merge.py", "publish/promote.py"},
}


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def _listed(tree: ast.AST) -> set[int]:
    """ids of names that are elements of a tuple/list/set display: a declaration of which
    tables a part needs (e.g. the gate's schema check), not a statement against one."""
    return {
        id(e)
        for node in ast.walk(tree)
        if isinstance(node, ast.Tuple | ast.List | ast.Set)
        for e in node.elts
    }


def touching(table: str, root: Path = SRC) -> set[str]:
    """Modules (paths under ``root``) whose code names ``table``."""
    word = re.compile(rf"\b{table}\b")
    found = set()
    for path in sorted(root.rglob("*.py")):
        if path == DECLARED:
            continue
        tree = ast.parse(path.read_text())
        docs, listed = _docstrings(tree), _listed(tree)
        for node in ast.walk(tree):
            if id(node) in listed:
                continue
            named = (isinstance(node, ast.Attribute) and node.attr == table) or (
                isinstance(node, ast.Name) and node.id == table
            )
            in_text = (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docs
                and word.search(node.value) is not None
            )
            if named or in_text:
                found.add(path.relative_to(root).as_posix())
                break
    return found


@pytest.mark.parametrize("table", sorted(STORES))
def test_only_the_store_touches_its_table(table: str) -> None:
    assert touching(table) == {STORES[table]}


def test_every_store_names_a_declared_table() -> None:
    assert set(STORES) <= ops.OPS_TABLE_NAMES


def test_every_declared_table_has_a_store_or_is_listed_as_pending() -> None:
    assert not set(STORES) & set(PENDING)
    assert set(STORES) | set(PENDING) == ops.OPS_TABLE_NAMES


@pytest.mark.parametrize("table", sorted(PENDING))
def test_a_table_without_a_store_spreads_no_further(table: str) -> None:
    assert touching(table) <= PENDING[table]


def test_the_check_sees_sql_text_and_references_but_not_docs(tmp_path: Path) -> None:
    (tmp_path / "store.py").write_text("from keel import ops\nT = ops.KEEL_EVENTS\n")
    (tmp_path / "handler.py").write_text(
        '"""Reads SOPHIA_OPS.KEEL_EVENTS (a docstring)."""\n'
        'def f(a):\n    return a.fetch(\'SELECT 1 FROM "SOPHIA_OPS"."KEEL_EVENTS"\')\n'
    )
    (tmp_path / "doc.py").write_text('"""Only mentions KEEL_EVENTS."""\n')
    (tmp_path / "needs.py").write_text("from keel import ops\nNEEDED = (ops.KEEL_EVENTS,)\n")
    assert touching("KEEL_EVENTS", tmp_path) == {"store.py", "handler.py"}
