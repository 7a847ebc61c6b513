"""The package's layers (docs/ARCHITECTURE.md, "Layers"), checked from the modules' own imports.

Every ``import`` / ``from ... import`` of every module of ``cam2seg_utils`` (lazy ones inside
functions included) is read with :mod:`ast`. The test fails when a module imports a layer above
its own, when a core package imports another core package the "Inside the core" table does not
allow, when a module is in no layer of the document, or when the imports form a cycle. A new
module or package is held to the same rule once it has its row in the table.
"""
from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "cam2seg_utils"
DOC = REPO / "docs" / "ARCHITECTURE.md"

def _table_rows(text: str, heading: str) -> list[list[str]]:
    """The cells of the first markdown table after ``heading`` (header and rule rows dropped)."""
    after = text.split(heading, 1)[1]
    rows = []
    for line in after.splitlines()[1:]:
        if not line.startswith("|"):
            if rows:
                break
            continue
        rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    return [r for r in rows[2:]]


def _names(cell: str) -> list[str]:
    return re.findall(r"`([\w.]+)`", cell)


def layers() -> dict[str, int]:
    """Top-level module / package name -> layer number, from the "Layers" table."""
    out = {}
    for number, row in enumerate(_table_rows(DOC.read_text(encoding="utf-8"), "## Layers")):
        for name in _names(row[1]):
            out[name] = number
    return out


def core_allowances() -> dict[str, set[str]]:
    """Core package -> the other core packages it may import ("Inside the core")."""
    rows = _table_rows(DOC.read_text(encoding="utf-8"), "### Inside the core")
    return {_names(r[0])[0]: set(_names(r[1])) for r in rows}


def modules() -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package ``__init__``) for every module of the package."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return out


def import_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports (a name imported from a package counts as the
    submodule when one has that name, else as the package)."""
    mods = modules()
    graph: dict[str, set[str]] = {}
    for name, (path, is_package) in mods.items():
        package = name if is_package else name.rsplit(".", 1)[0]
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name.split(".")[0] == "cam2seg_utils"}
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target.split(".")[0] != "cam2seg_utils":
                    continue
                for alias in node.names:
                    deps.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in mods else target)
        unknown = sorted(d for d in deps if d not in mods)
        assert not unknown, f"{path}: imports {unknown}, which are no module of cam2seg_utils"
        graph[name] = deps - {name}
    return graph


def unit(module: str) -> str:
    """The top-level module / package a dotted name belongs to (``__init__`` for the root)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_module_has_a_layer():
    known = layers()
    missing = sorted({unit(m) for m in modules()} - set(known))
    assert not missing, (f"{missing} are in no layer of docs/ARCHITECTURE.md: add them to the 'Layers' "
                         "table (the second column) before using them")


def test_no_module_imports_a_layer_above_it_and_the_core_stays_apart():
    known, allowed = layers(), core_allowances()
    core = {name for name, number in known.items() if number == known["models"]}
    bad = []
    for module, deps in import_graph().items():
        for dep in deps:
            a, b = unit(module), unit(dep)
            if known[b] > known[a]:
                bad.append(f"{module} (layer {known[a]}) imports {dep} (layer {known[b]})")
            elif a in core and b in core and a != b and b not in allowed.get(a, set()):
                bad.append(f"{module} ({a}) imports {dep} ({b}): the core's packages are independent")
    assert not bad, "\n".join(sorted(bad))


def test_no_import_cycle():
    graph = import_graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for dep in sorted(graph[node]):
            if dep not in index:
                visit(dep)
                low[node] = min(low[node], low[dep])
            elif dep in stack:
                low[node] = min(low[node], index[dep])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert not cycles, f"import cycles: {cycles}"


def test_the_checker_sees_upward_imports_and_cycles(monkeypatch, tmp_path):
    """The rules bite: a core module importing the experiments and two modules importing each
    other are found (on a copy of the package with two lines added)."""
    import shutil

    copy = tmp_path / "repo"
    shutil.copytree(PACKAGE, copy / "cam2seg_utils", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(DOC.parent, copy / "docs")
    with open(copy / "cam2seg_utils" / "metrics.py", "a", encoding="utf-8") as fh:
        fh.write("\n\ndef _upward():\n    from .experiments import engine  # noqa: F401\n")
    with open(copy / "cam2seg_utils" / "seeding.py", "a", encoding="utf-8") as fh:
        fh.write("\nfrom . import atomic  # noqa: E402,F401\n")
    with open(copy / "cam2seg_utils" / "atomic.py", "a", encoding="utf-8") as fh:
        fh.write("\nfrom . import seeding  # noqa: E402,F401\n")
    this = sys.modules[__name__]
    monkeypatch.setattr(this, "REPO", copy)
    monkeypatch.setattr(this, "PACKAGE", copy / "cam2seg_utils")
    monkeypatch.setattr(this, "DOC", copy / "docs" / "ARCHITECTURE.md")
    with pytest.raises(AssertionError, match=r"cam2seg_utils\.metrics \(layer 0\) imports "
                                             r"cam2seg_utils\.experiments\.engine \(layer 3\)"):
        test_no_module_imports_a_layer_above_it_and_the_core_stays_apart()
    with pytest.raises(AssertionError, match=r"import cycles: .*\['cam2seg_utils\.atomic', "
                                             r"'cam2seg_utils\.seeding'\]"):
        test_no_import_cycle()
