"""The core's modules import each other without a circle, and interfaces stay light.

The graph is built with ``ast`` from module-level imports only (those that run when a module
is first imported; imports inside functions and under ``if TYPE_CHECKING:`` are deferred and
cannot close a circle at import time). Importing ``a.b.c`` also runs ``a/__init__`` and
``a/b/__init__``, so those are edges too.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "zsl_toolkit"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _module_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.If) and not _is_type_checking(node):
            stack += node.body + node.orelse
        elif isinstance(node, ast.Try):
            stack += node.body + node.orelse + node.finalbody
            for handler in node.handlers:
                stack += handler.body
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the core modules its import runs (parent packages included)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}

    def with_parents(name: str) -> set[str]:
        parts = name.split(".")
        return {".".join(parts[:i]) for i in range(1, len(parts) + 1)} & set(modules)

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        targets: set[str] = set()
        for node in _module_level_imports(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    targets |= with_parents(alias.name)
                continue
            base = node.module or ""
            if node.level:  # relative import
                anchor = name.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets |= with_parents(base)
            for alias in node.names:  # `from pkg import submodule`
                targets |= {f"{base}.{alias.name}"} & set(modules)
        # A module's own parents run before it, but they are not imports it makes.
        graph[name] = {t for t in targets if t != name and not name.startswith(t + ".")}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a path that returns to its start, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def closure(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_the_graph_sees_the_imports():
    graph = import_graph()
    assert "zsl_toolkit.rundir" in graph["zsl_toolkit.export.base"]
    assert "zsl_toolkit.training.trainer" in graph["zsl_toolkit.pipeline"]
    assert "zsl_toolkit.sweep.plan" in graph["zsl_toolkit.sweep"]  # a package's __init__


def test_finds_a_circle_when_there_is_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_circle_among_the_core_modules():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_interfaces_import_no_training_code():
    graph = import_graph()
    heavy = ("zsl_toolkit.pipeline", "zsl_toolkit.training", "zsl_toolkit.sweep", "zsl_toolkit.cli")
    for interface in ("zsl_toolkit.export.base", "zsl_toolkit.rundir", "zsl_toolkit.registry"):
        reached = closure(graph, interface)
        assert not {m for m in reached if m.startswith(heavy)}, (interface, sorted(reached))
