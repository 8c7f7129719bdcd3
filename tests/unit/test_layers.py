"""The layering of src/keel, checked over the import graph (every import statement,
including the ones inside functions and under TYPE_CHECKING).

Layers, lowest first; a module may import its own layer and the ones below, never
one above (type-only imports under ``TYPE_CHECKING`` count too), and no two modules
may import each other at run time (directly or round a cycle; a type-only import back
is not a cycle, nothing runs it). There is no list of exceptions.
docs/ARCHITECTURE.md draws the same order.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("keel", "keel.errors", "keel.sql", "keel.console", "keel.resources", "keel.ops_tables"),
    ("keel.project",),
    ("keel.plan",),
    ("keel.adapters",),
    ("keel.batch",),
    ("keel.governance",),
    ("keel.ingest",),
    ("keel.quality",),
    ("keel.publish",),
    ("keel.airbyte",),
    ("keel.context",),
    ("keel.alerts",),
    ("keel.events",),
    ("keel.cli", "keel.cli_common", "keel.demo", "keel.docgen", "keel.__main__", "keel.entry"),
)
COMMANDS = len(LAYERS) - 1  # each part's ``cli`` module is a command module: the top layer


def layer_of(module: str) -> int:
    """The layer of a module: its part's, except a part's ``cli`` module (commands)."""
    if module.rsplit(".", 1)[-1] == "cli":
        return COMMANDS
    best, found = -1, -1
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            matches = module == prefix or (prefix != "keel" and module.startswith(prefix + "."))
            if matches and len(prefix) > best:
                best, found = len(prefix), index
    if found < 0:
        if module.count(".") == 1:
            raise AssertionError(f"{module} is in no layer: add it to LAYERS and the docs")
        return 0
    return found


def _type_only(tree: ast.AST) -> set[int]:
    """ids of the import statements inside ``if TYPE_CHECKING:`` blocks."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in node.body:
                out |= {
                    id(n) for n in ast.walk(inner) if isinstance(n, ast.Import | ast.ImportFrom)
                }
    return out


def import_graph(
    src: Path, package: str = "keel", runtime_only: bool = False
) -> dict[str, dict[str, int]]:
    """module -> {imported module: line} for every module under ``src/package``
    (``runtime_only``: without the imports under ``TYPE_CHECKING``)."""
    files = {}
    for path in sorted((src / package).rglob("*.py")):
        parts = path.relative_to(src).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        files[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    graph: dict[str, dict[str, int]] = {}
    for module, (path, is_package) in files.items():
        here = module if is_package else module.rpartition(".")[0]
        edges: dict[str, int] = {}
        tree = ast.parse(path.read_text(), str(path))
        skip = _type_only(tree) if runtime_only else set()
        for node in ast.walk(tree):
            names: list[str] = []
            if id(node) in skip:
                continue
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = here.split(".")[: len(here.split(".")) - node.level + 1]
                    base = ".".join([*up, *([node.module] if node.module else [])])
                names = [f"{base}.{a.name}" for a in node.names]
            for name in names:
                while name and name not in files:
                    name = name.rpartition(".")[0]
                if name and name != module:
                    edges.setdefault(name, node.lineno)
        graph[module] = edges
    return graph


def upward_imports(graph: Mapping[str, Mapping[str, int]]) -> list[str]:
    out = []
    for module, edges in sorted(graph.items()):
        for target, line in sorted(edges.items()):
            if layer_of(target) > layer_of(module):
                out.append(f"{module}:{line} imports {target}, a layer above it")
    return out


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_every_import_points_down() -> None:
    assert upward_imports(import_graph(SRC)) == []


def test_no_import_cycles_between_modules() -> None:
    assert cycles(import_graph(SRC, runtime_only=True)) == []


def test_every_part_of_keel_has_a_layer() -> None:
    for module in import_graph(SRC):
        layer_of(module)  # raises for a top-level module no layer names


def _package(root: Path, files: Mapping[str, str]) -> Path:
    for name, text in files.items():
        path = root / "keel" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_check_fails_on_a_reversed_import(tmp_path: Path) -> None:
    """A synthetic tree where the gate imports the event server: the check names it."""
    src = _package(
        tmp_path,
        {
            "__init__.py": "",
            "quality/__init__.py": "",
            "quality/gate.py": "from keel.batch import window\n\ndef f():\n"
            "    from keel.events.server import build\n",
            "batch/__init__.py": "",
            "batch/window.py": "X = 1\n",
            "events/__init__.py": "",
            "events/server.py": "from keel.quality import gate\n",
            "events/cli.py": "from keel.context import Context\n",
            "context.py": "from keel.quality.gate import f\n",
        },
    )
    graph = import_graph(src)
    assert upward_imports(graph) == [
        "keel.quality.gate:4 imports keel.events.server, a layer above it"
    ]
    assert cycles(graph) == [["keel.events.server", "keel.quality.gate"]]


def test_relative_imports_and_type_checking_imports_count(tmp_path: Path) -> None:
    src = _package(
        tmp_path,
        {
            "__init__.py": "",
            "adapters/__init__.py": "",
            "adapters/base.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from ..publish import merge\n",
            "publish/__init__.py": "",
            "publish/merge.py": "from . import pipeline\n",
            "publish/pipeline.py": "from .merge import X\n",
        },
    )
    graph = import_graph(src)
    assert upward_imports(graph) == [
        "keel.adapters.base:3 imports keel.publish.merge, a layer above it"
    ]
    assert cycles(graph) == [["keel.publish.merge", "keel.publish.pipeline"]]
    assert "keel.publish.merge" not in import_graph(src, runtime_only=True)["keel.adapters.base"]


def test_an_unknown_top_level_part_is_refused(tmp_path: Path) -> None:
    src = _package(tmp_path, {"__init__.py": "", "stray.py": ""})
    try:
        for module in import_graph(src):
            layer_of(module)
    except AssertionError as exc:
        assert "keel.stray is in no layer" in str(exc)
    else:
        raise AssertionError("a module outside every layer was accepted")
