"""No import cycles among the modules of any package under src/ (cpmconf, refsut, chaos),
counting every import a module makes: at the top, inside functions and under TYPE_CHECKING
(import-linter's layers see only imports across layers, and its contracts none inside one).

An import names the module it makes Python load: ``from pkg import sub`` imports the
submodule ``pkg.sub`` when there is one, else the package itself (the names of its
``__init__``), as import-linter counts it. The implicit load of a parent package that every
submodule import causes is not an edge, or every package with re-exports would be a cycle.
A failure names each cycle as a module chain (a -> b -> a).
"""

from __future__ import annotations

import ast
from collections import deque
from pathlib import Path

import cpmconf

SRC = Path(cpmconf.__file__).parent.parent
PACKAGES = ("cpmconf", "refsut", "chaos")


def modules(packages: tuple[str, ...] = PACKAGES, src: Path = SRC) -> dict[str, Path]:
    found = {}
    for package in packages:
        for path in (src / package.replace(".", "/")).rglob("*.py"):
            name = ".".join(path.relative_to(src).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Every module of `known` that `name` imports, wherever in the file the import is."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*parts, base] if base else parts)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                out.add(sub if sub in known else base)
    return {m for m in out if m in known and m != name}


def graph_of(mods: dict[str, Path]) -> dict[str, set[str]]:
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def components(graph: dict[str, set[str]]) -> list[list[str]]:
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


def shortest_cycle_through(graph: dict[str, set[str]], start: str, within: set[str]) -> list[str]:
    """The shortest chain start -> ... -> start inside one component (breadth first)."""
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        v = queue.popleft()
        for w in sorted(graph[v] & within):
            if w == start:
                chain = [v]
                while chain[-1] != start:
                    chain.append(came_from[chain[-1]])
                return [*reversed(chain), start]
            if w not in came_from:
                came_from[w] = v
                queue.append(w)
    raise AssertionError(f"{start} is in a component but on no cycle")


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Chains that together pass through every module of every cycle: for each component,
    the shortest cycle through each module no earlier chain of it has visited."""
    chains = []
    for component in components(graph):
        within, seen = set(component), set()
        for module in component:
            if module not in seen:
                chain = shortest_cycle_through(graph, module, within)
                seen.update(chain)
                chains.append(chain)
    return chains


def test_the_finder_names_a_cycle_as_a_chain():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"a"}}
    assert components(graph) == [["a", "b", "c"]]
    assert cycles(graph) == [["a", "b", "c", "a"]]


def test_each_module_of_a_tangle_is_on_some_reported_chain():
    graph = {"a": {"b", "c"}, "b": {"a"}, "c": {"a"}}
    assert cycles(graph) == [["a", "b", "a"], ["c", "a", "c"]]


def test_function_local_type_checking_and_relative_imports_count(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from .a import A\n")
    (pkg / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.b import B\nA = 1\n"
    )
    (pkg / "b.py").write_text("def f():\n    from . import c\n")
    (pkg / "c.py").write_text("def g():\n    import pkg.a\n")
    (pkg / "d.py").write_text("from pkg import a\nfrom pkg import A\n")
    graph = graph_of(modules(("pkg",), tmp_path))
    assert graph["pkg.d"] == {"pkg.a", "pkg"}  # a submodule by name; a package's own name
    assert graph["pkg.b"] == {"pkg.c"}  # not the package whose submodule it names
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]


def test_src_has_no_import_cycle():
    mods = modules()
    assert {"cpmconf.roles.network", "refsut.pf", "chaos.proxy"} <= set(mods)
    graph = graph_of(mods)
    assert "cpmconf.roles.regevent" in graph["cpmconf.roles.network"]  # the core calls in
    found = cycles(graph)
    assert found == [], "import cycles in src/:\n" + "\n".join(" -> ".join(c) for c in found)
