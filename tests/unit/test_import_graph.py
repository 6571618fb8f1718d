"""The package import graph (computed from the source with ``ast``, lazy imports included) has no
cycles, and channel code never touches crm's tables.

Dependencies point one way: ``config, crm.messaging ← crm ← {channels, routing, knowledge} ←
bootstrap ← app`` (ARCHITECTURE.md, "Channel accounts and the one inbound pipeline").
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.source import parse_python

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("channels", "crm", "routing", "knowledge", "config")
# Entry points build a runtime like app.py does (they sit above every package, next to bootstrap).
ENTRY_POINTS = {"knowledge.cli", "routing.cli", "crm.privacy_cli"}
# Imports still pointing the wrong way, by module, each with its way out. This list only shrinks:
# test_pending_inversions_are_still_real fails once one is fixed, so it is removed here too.
PENDING_INVERSIONS: dict[tuple[str, str], str] = {}


def _modules(package: str) -> Iterator[tuple[str, Path]]:
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        parts = path.relative_to(ROOT).with_suffix("").parts
        yield ".".join(p for p in parts if p != "__init__"), path


def imports_of(path: Path) -> set[str]:
    """Every module name imported anywhere in the file (top level or inside functions)."""
    names: set[str] = set()
    for node in ast.walk(parse_python(path)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def module_edges() -> set[tuple[str, str]]:
    """(module, package it imports) for every module of the packages (entry points excluded)."""
    edges: set[tuple[str, str]] = set()
    for package in PACKAGES:
        for module, path in _modules(package):
            if module in ENTRY_POINTS:
                continue
            for name in imports_of(path):
                target = name.split(".")[0]
                if target in (*PACKAGES, "bootstrap", "app") and target != package:
                    edges.add((module, target))
    return edges


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {p: set() for p in (*PACKAGES, "bootstrap", "app")}
    for module, target in module_edges():
        if (module, target) not in PENDING_INVERSIONS:
            graph[module.split(".")[0]].add(target)
    for root in ("bootstrap", "app"):
        for name in imports_of(ROOT / f"{root}.py"):
            if (target := name.split(".")[0]) in graph and target != root:
                graph[root].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if state.get(nxt) is None and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        stack.pop()
        return None

    for node in sorted(graph):
        if state.get(node) is None and (cycle := visit(node)):
            return cycle
    return None


def test_no_cycles_between_packages() -> None:
    graph = package_graph()
    cycle = find_cycle(graph)
    assert cycle is None, f"import cycle between packages: {' -> '.join(cycle or [])}; graph: {graph}"


def test_pending_inversions_are_still_real() -> None:
    edges = module_edges()
    fixed = [edge for edge in PENDING_INVERSIONS if edge not in edges]
    assert fixed == [], f"fixed: remove {fixed} from PENDING_INVERSIONS"


def test_find_cycle_sees_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_config_is_the_bottom_layer_and_nothing_imports_the_composition_root() -> None:
    graph = package_graph()
    assert graph["config"] == set(), graph["config"]
    assert not [p for p in PACKAGES if "bootstrap" in graph[p]]


def test_no_channel_module_imports_crm_models() -> None:
    offenders = [
        name
        for name, path in _modules("channels")
        if any(i == "crm.models" or i.startswith("crm.models.") for i in imports_of(path))
    ]
    assert offenders == []
