"""Dependencies between raypipe's modules run one way (docs/architecture.md): no module imports,
directly or through others, a module that imports it. Every import counts, also those inside
functions and under ``TYPE_CHECKING``: a deferred import hides a cycle, it does not untie it."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "raypipe"


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(name: str, path: Path, modules: set[str]) -> set[str]:
    """The raypipe modules ``path`` imports (``from pkg import mod`` names ``pkg.mod``)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return (found & modules) - {name}


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: imported_modules(name, path, set(paths)) for name, path in paths.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (its modules, the first repeated at the end), or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = "open"
        stack.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                return [*stack[stack.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[module] = "done"
        stack.pop()
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            return cycle
    return None


def test_the_cycle_finder_sees_a_cycle_through_a_deferred_import(tmp_path):
    a = tmp_path / "a.py"
    a.write_text("from raypipe.b import x\n")
    b = tmp_path / "b.py"
    b.write_text("def f():\n    from raypipe import a\n")
    modules = {"raypipe.a", "raypipe.b"}
    graph = {"raypipe.a": imported_modules("raypipe.a", a, modules), "raypipe.b": imported_modules("raypipe.b", b, modules)}
    assert find_cycle(graph) == ["raypipe.a", "raypipe.b", "raypipe.a"]
    assert find_cycle({"raypipe.a": {"raypipe.b"}, "raypipe.b": set()}) is None


def test_raypipe_modules_import_each_other_one_way_only():
    graph = import_graph()
    assert len(graph) > 100 and graph["raypipe.cluster.step"], "the import graph was not read"
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])
