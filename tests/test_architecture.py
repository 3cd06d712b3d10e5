"""The package's shape, as docs/architecture.md states it: wings import only the wings below them, no
import circles, no module over 500 lines.

Imports are read from the source (every ``import``/``from`` statement, inside functions too), so a lazy
import that runs back up counts like a top-level one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "agentel"
FOUNDATION = {"_background_threads", "_errors", "_internal_errors", "_forksafe", "_otel_internals", "version"}
WINGS = ["_payload", "_conventions", "_export", "_runtime", "_tracing"]  # lowest first
TOP = {"__init__", "__main__", "testing", "_cli", "compat"}  # may import anything below
MAX_LINES = 500



def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imports(module: str, path: Path, known: set[str]) -> set[str]:
    tree = ast.parse(path.read_text())
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module and name != "agentel":
                out.add(name)
    return out


def _rank(module: str) -> float:
    parts = module.split(".")
    if len(parts) == 1:  # agentel/__init__.py: the public face
        return 99
    head = parts[1]
    if head in FOUNDATION:
        return 0
    if head in WINGS:
        return 1 + WINGS.index(head)
    if head in TOP:
        return 99
    raise AssertionError(f"{module}: not in a wing; add it to one (docs/architecture.md)")


GRAPH = {m: _imports(m, p, set(_modules())) for m, p in _modules().items()}


def test_no_wing_imports_a_higher_one() -> None:
    upward = {(m, d) for m, deps in GRAPH.items() for d in deps if _rank(m) < 99 and _rank(d) > _rank(m)}
    assert sorted(upward) == [], "imports that run back up a wing"


def test_no_import_circles() -> None:
    # Tarjan-free: a module is in a circle if it can reach itself.
    def reaches(start: str) -> set[str]:
        seen, todo = set(), list(GRAPH[start])
        while todo:
            m = todo.pop()
            if m not in seen:
                seen.add(m)
                todo.extend(GRAPH.get(m, ()))
        return seen

    in_circles = sorted(m for m in GRAPH if m in reaches(m) and not m.endswith("agentel"))
    packages = {m for m in GRAPH if _modules()[m].name == "__init__.py"}
    # a package's __init__ re-exporting its modules, which import each other through it, is one room
    in_circles = [m for m in in_circles if m not in packages]
    assert in_circles == [], "modules that reach themselves through imports"


@pytest.mark.parametrize("module", sorted(_modules()))
def test_no_module_over_500_lines(module: str) -> None:
    lines = len(_modules()[module].read_text().splitlines())
    assert lines <= MAX_LINES, f"{module}: {lines} lines"
