"""No import cycles among the roles and transport modules, counting every import a module
makes: at the top, inside functions and under TYPE_CHECKING (import-linter's layers see only
imports across layers). The core and its registration modes used to import each other
(network <-> regevent); they now meet in `roles.devices` and a Protocol of the core.
"""

from __future__ import annotations

import ast
from pathlib import Path

import cpmconf

SRC = Path(cpmconf.__file__).parent.parent
PACKAGES = ("cpmconf.roles", "cpmconf.transport")


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (SRC / package.replace(".", "/")).rglob("*.py"):
            name = ".".join(path.relative_to(SRC).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*parts, base] if base else parts)
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names)
    return {m for m in out if m in known and m != name}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_finder_sees_a_function_local_cycle():
    graph = {"a": {"b"}, "b": {"a"}, "c": {"a"}}
    assert cycles(graph) == [["a", "b"]]


def test_roles_and_transport_have_no_import_cycle():
    mods = modules()
    assert "cpmconf.roles.network" in mods and "cpmconf.roles.regevent" in mods
    graph = {name: imports_of(name, path, set(mods)) for name, path in mods.items()}
    assert "cpmconf.roles.regevent" in graph["cpmconf.roles.network"]  # the core calls in
    assert cycles(graph) == []
