"""Imports run one way: no module of `mpi_dbm` imports itself back through others (no cycle,
lazy imports inside functions included), and the layer rules of docs/architecture.md hold.

The graph is read from the source with `ast` (nothing is imported): every `import` and
`from ... import` of a module, at any depth, except under `if TYPE_CHECKING:`. Importing
`a.b.c` counts as importing the packages `a.b` too (their `__init__` runs first); a module's
own parent packages are left out (`from . import sibling` is the package idiom).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mpi_dbm"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imported_names(module: str, path: Path) -> set[str]:
    """Every dotted name `module` imports (absolute; relative imports resolved)."""
    is_package = path.name == "__init__.py"
    names: set[str] = set()

    class Visitor(ast.NodeVisitor):
        def visit_If(self, node: ast.If) -> None:
            if "TYPE_CHECKING" in ast.unparse(node.test):
                for child in node.orelse:
                    self.visit(child)
                return
            self.generic_visit(node)

        def visit_Import(self, node: ast.Import) -> None:
            names.update(alias.name for alias in node.names)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names.add(target)
            names.update(f"{target}.{alias.name}" for alias in node.names)

    Visitor().visit(ast.parse(path.read_text(encoding="utf-8")))
    return names


def internal_graph() -> dict[str, set[str]]:
    """module -> the package modules it loads (parents of dotted names included)."""
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        deps: set[str] = set()
        for name in imported_names(module, path):
            parts = name.split(".")
            deps.update(".".join(parts[:i]) for i in range(2, len(parts) + 1))
        graph[module] = {d for d in deps if d in MODULES and d != module and not module.startswith(d + ".")}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_checker_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_the_package():
    assert cycles(internal_graph()) == []


def third_party(module: str) -> set[str]:
    return {n.split(".")[0] for n in imported_names(module, MODULES[module])} - {"mpi_dbm", ""}


@pytest.mark.parametrize(
    ("prefix", "forbidden"),
    [
        ("mpi_dbm.rmt", {"h5py", "mpi4py", "matplotlib", "click"}),  # pure numpy/scipy
        ("mpi_dbm.models", {"h5py", "mpi4py", "matplotlib", "click"}),  # no MPI, no files
        ("mpi_dbm.train", {"h5py", "mpi4py", "matplotlib", "click"}),
        ("mpi_dbm.theory", {"h5py", "mpi4py", "matplotlib", "click"}),
    ],
)
def test_building_blocks_import_no_io_or_mpi(prefix, forbidden):
    for module in MODULES:
        if module == prefix or module.startswith(prefix + "."):
            assert not third_party(module) & forbidden, (module, third_party(module) & forbidden)


def test_only_the_report_modules_plot():
    plotting = {m for m in MODULES if "matplotlib" in third_party(m)}
    assert plotting <= {"mpi_dbm.report", "mpi_dbm.reproduce.figures"}, plotting


def test_building_blocks_never_import_the_cli():
    graph = internal_graph()
    assert not [m for m, deps in graph.items() if "mpi_dbm.cli" in deps and m != "mpi_dbm.__main__"]


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    """Every module `start` loads, directly or through others."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for dep in graph[todo.pop()] - seen:
            seen.add(dep)
            todo.append(dep)
    return seen


def test_the_store_loads_neither_the_trainer_nor_the_driver():
    """The file layer can be tested and changed without the trainer or the driver (issue #13)."""
    graph = internal_graph()
    for module in (m for m in graph if m == "mpi_dbm.store" or m.startswith("mpi_dbm.store.")):
        loaded = reachable(graph, module) & {"mpi_dbm.train", "mpi_dbm.sweep.driver"}
        assert not loaded, (module, loaded)
