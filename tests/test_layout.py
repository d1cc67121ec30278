"""The layout keeps the pipeline readable: no import cycle among the packages (importing
``a.b.c`` runs ``a`` and ``a.b`` first, so those count), and no rule imports another rule
(what two rules share lives outside integrity/rules)."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

from tests.conftest import REPO

PACKAGES = ("integrity", "graph", "api")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            name = ".".join(path.relative_to(REPO).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def _imports(path: Path) -> list[str]:
    """What a module imports when it is imported (imports inside functions are deferred)."""
    out: list[str] = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out += [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
    return out


def _graph() -> nx.DiGraph:
    modules = _modules()
    g = nx.DiGraph()
    g.add_nodes_from(modules)
    for name, path in modules.items():
        for target in _imports(path):
            parts = target.split(".")
            for i in range(1, len(parts) + 1):
                run = ".".join(parts[:i])
                if run in modules and run != name and not name.startswith(run + "."):
                    g.add_edge(name, run)
    return g


def test_no_import_cycle() -> None:
    g = _graph()
    assert len(g) > 60
    cycles = list(nx.simple_cycles(g))
    assert cycles == [], [" -> ".join(c) for c in cycles[:5]]


def test_no_rule_imports_another() -> None:
    g = _graph()
    rules = {n for n in g if n.startswith("integrity.rules.") and n != "integrity.rules.registry"}
    assert len(rules) >= 9
    crossing = [(a, b) for a, b in g.edges if a in rules and b in rules]
    assert crossing == []


MAX_LINES = 600


def test_no_module_over_600_lines() -> None:
    """A module that grows a second job is split in the same change (the developers' guide)."""
    lines = {n: len(p.read_text(encoding="utf-8").splitlines()) for n, p in _modules().items()}
    assert len(lines) > 60
    assert {n: k for n, k in lines.items() if k > MAX_LINES} == {}
