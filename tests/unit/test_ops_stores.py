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
    "KEEL_BATCHES": "batch/batches.py",
    "KEEL_QUARANTINE": "batch/quarantine.py",
    "KEEL_ROLES": "adapters/role_store.py",
    "KEEL_GRANTS": "adapters/role_store.py",
    "KEEL_ROLE_MEMBERS": "adapters/role_store.py",
}

# a bare name that is not the table: (table, module) -> why. Only a string that is exactly
# the name is let through there; SQL naming the table in that module still counts.
NOT_THE_TABLE = {
    ("KEEL_BATCHES", "publish/transform.py"): "the transformation's environment variable",
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
        bare_ok = (table, path.relative_to(root).as_posix()) in NOT_THE_TABLE
        for node in ast.walk(tree):
            if id(node) in listed:
                continue
            if bare_ok and isinstance(node, ast.Constant) and node.value == table:
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


def test_every_declared_table_has_a_store() -> None:
    assert set(STORES) == ops.OPS_TABLE_NAMES


def test_the_check_sees_sql_text_and_references_but_not_docs(tmp_path: Path) -> None:
    (tmp_path / "store.py").write_text("from keel import ops\nT = ops.KEEL_EVENTS\n")
    (tmp_path / "handler.py").write_text(
        '"""Reads SOPHIA_OPS.KEEL_EVENTS (a docstring)."""\n'
        'def f(a):\n    return a.fetch(\'SELECT 1 FROM "SOPHIA_OPS"."KEEL_EVENTS"\')\n'
    )
    (tmp_path / "doc.py").write_text('"""Only mentions KEEL_EVENTS."""\n')
    (tmp_path / "needs.py").write_text("from keel import ops\nNEEDED = (ops.KEEL_EVENTS,)\n")
    assert touching("KEEL_EVENTS", tmp_path) == {"store.py", "handler.py"}


def test_a_bare_name_let_through_is_only_that_name(tmp_path: Path) -> None:
    (tmp_path / "publish").mkdir()
    module = tmp_path / "publish" / "transform.py"
    module.write_text('ENV = {"KEEL_BATCHES": "{}"}\n')
    assert touching("KEEL_BATCHES", tmp_path) == set()
    module.write_text('ENV = {"KEEL_BATCHES": "{}"}\nQ = "SELECT 1 FROM KEEL_BATCHES"\n')
    assert touching("KEEL_BATCHES", tmp_path) == {"publish/transform.py"}
    module.write_text("from keel import ops\nT = ops.KEEL_BATCHES\n")
    assert touching("KEEL_BATCHES", tmp_path) == {"publish/transform.py"}
    module.unlink()
    (tmp_path / "other.py").write_text('ENV = {"KEEL_BATCHES": "{}"}\n')  # not the listed module
    assert touching("KEEL_BATCHES", tmp_path) == {"other.py"}
