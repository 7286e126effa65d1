"""lstm_core's import graph, drawn from the source with ``ast``: no circle, and no import inside a function.

Every ``import`` and ``from ... import`` of an lstm_core module counts, at the top of a file or inside a
function, relative or absolute. An import placed inside a function to dodge a circle hides the circle,
so both are refused. (A package's ``__init__`` running before its modules is not an arrow: Python's
doing, not the module's.)

Run as a script, it prints the graph: ``python tests/test_import_graph.py``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = "lstm_core"
ROOT = Path(__file__).resolve().parent.parent
# The one import by name: Ray is optional and slow to import, so the executor factory loads the Ray executor
# (which imports Ray) only when Ray is asked for. It is no circle-dodge: the arrow is drawn like any other.
BY_NAME = {("lstm_core.execution.factory", "lstm_core.execution.ray_executor")}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted((ROOT / PACKAGE).rglob("*.py"))}


def imported(node: ast.Import | ast.ImportFrom, importer: str, is_package: bool, known: set[str]) -> set[str]:
    """The lstm_core modules one import statement names (``from . import gates`` names lstm_core.gates)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name.split(".")[0] == PACKAGE}
    if node.level:
        base = importer.split(".") if is_package else importer.split(".")[:-1]
        base = base[:len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if target.split(".")[0] != PACKAGE:
        return set()
    submodules = {f"{target}.{alias.name}" for alias in node.names if f"{target}.{alias.name}" in known}
    named_from_target = any(f"{target}.{alias.name}" not in known for alias in node.names)
    return submodules | ({target} if named_from_target else set())


def import_graph() -> tuple[dict[str, set[str]], set[tuple[str, str, int]]]:
    """lstm_core's arrows (module -> modules it imports), and the imports inside functions as
    (importer, imported, line)."""
    found = modules()
    known = set(found)
    arrows: dict[str, set[str]] = {name: set() for name in found}
    hidden: set[tuple[str, str, int]] = set()
    for name, path in found.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        in_function: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                in_function |= {id(inner) for inner in ast.walk(node) if inner is not node}
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                targets = imported(node, name, path.name == "__init__.py", known) - {name}
                arrows[name] |= targets
                if id(node) in in_function:
                    hidden |= {(name, target, node.lineno) for target in targets}
    return arrows, hidden


def cycles(arrows: dict[str, set[str]]) -> list[list[str]]:
    """The graph's strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(arrows.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for node in sorted(arrows):
        if node not in index:
            visit(node)
    return found


def with_imports_by_name(arrows: dict[str, set[str]]) -> dict[str, set[str]]:
    drawn = {name: set(targets) for name, targets in arrows.items()}
    for importer, target in BY_NAME:
        drawn[importer].add(target)
    return drawn


def test_only_the_executor_factory_imports_lstm_core_by_name():
    """``importlib`` would hide an arrow from the drawing: of lstm_core's modules, only the Ray executor is
    loaded that way (a literal third-party name, such as ``torch._dynamo``, is no arrow)."""
    by_name = set()
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                    "import_module", "__import__"):
                argument = node.args[0]
                if isinstance(argument, ast.Constant) and not str(argument.value).startswith((PACKAGE, ".")):
                    continue
                by_name.add(name)
    assert by_name == {importer for importer, _ in BY_NAME}
    assert "ray_executor" in (ROOT / "lstm_core/execution/factory.py").read_text(encoding="utf-8")


def test_the_graph_is_drawn_from_every_kind_of_import():
    """The drawing sees relative, absolute, ``from . import`` and in-function imports alike."""
    arrows, hidden = import_graph()
    assert "lstm_core.runs" in arrows["lstm_core.training.loop"]  # from ..runs import (...)
    assert "lstm_core.gates" in arrows["lstm_core.snapshots"]  # from . import gates
    assert "lstm_core.training.loop" in arrows["lstm_core.training.tasks"]  # from .loop import ...
    assert "lstm_core.cli" in arrows["lstm_core.__main__"]


def test_no_import_circle():
    assert cycles(with_imports_by_name(import_graph()[0])) == []


def test_no_lstm_core_import_inside_a_function():
    hidden = sorted((a, b, line) for a, b, line in import_graph()[1])
    assert hidden == [], "imports inside functions (hiding a circle, or the order of the rooms): " + str(hidden)


def test_the_run_store_knows_files_not_models_or_snapshots():
    """The store sits below the trainings, the tasks and the snapshots; they register into it."""
    arrows = import_graph()[0]
    assert arrows["lstm_core.runs"] <= {"lstm_core.corpus", "lstm_core.run_kinds", "lstm_core.import_checks",
                                        "lstm_core.ownership"}  # files, settings and owners only
    assert arrows["lstm_core.run_kinds"] == set()


def test_every_run_kind_is_registered_by_importing_any_part_of_lstm_core():
    """A fresh process that imports only the store (as a page or script may) can load a run of any kind."""
    code = ("import lstm_core.runs as runs; from lstm_core.run_kinds import KINDS; "
            "print(sorted(KINDS), [c.__name__ for c in runs.IMPORT_CHECKS])")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['char', 'classifier', 'memory', 'tagger'] ['check_snapshots']"


if __name__ == "__main__":
    graph, inside = import_graph()
    for module in sorted(graph):
        print(f"{module} -> {', '.join(sorted(graph[module])) or '-'}")
    print("circles:", cycles(graph) or "none")
    print("inside functions:", sorted(inside) or "none")
