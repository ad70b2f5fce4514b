"""The import graph of app/ and engine/ keeps its floors: no cycles, and nothing imports upward.

Every import counts, at any depth (one inside a function as much as one at the top), so an
import moved into a function cannot hide a cycle. The floors, top down (docs/architecture.md):

    app.main, app.__main__     the entry points: build the app, serve it
    app.routes                 the HTTP face (imported by nothing but the entry points)
    app.cluster                several instances, Redis between them
    app.loop, app.classroom    the event loop's parts; the classroom around a session
    app.worker                 the worker process: sessions, frames, logs
    app.crossing               what crosses the process boundary, loop <-> worker
    app.schemas                the shapes of what comes in and goes out
    app.config                 settings
    engine                     the NumPy engine

A module may import its own package's modules and anything on a lower floor; two packages on
one floor do not import each other.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FLOORS = [
    ["app.main", "app.__main__"],
    ["app.routes"],
    ["app.cluster"],
    ["app.loop", "app.classroom"],
    ["app.worker"],
    ["app.crossing"],
    ["app.schemas"],
    ["app.config", "app"],
    ["engine"],
]
HEIGHT = {part: len(FLOORS) - i for i, parts in enumerate(FLOORS) for part in parts}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for top in ("app", "engine") for p in (ROOT / top).rglob("*.py")}
# Parsed once, at collection: every test reads these trees.
TREES = {name: ast.parse(path.read_text(), str(path)) for name, path in MODULES.items()}


def imports(name: str) -> set[str]:
    """The modules of this tree that `name` imports, wherever in the file the import stands."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(TREES[name]):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: imports(name) for name in MODULES}


def floor_of(name: str) -> tuple[str, int]:
    """The part (the longest prefix in FLOORS) a module belongs to, and its height."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        part = ".".join(parts[:n])
        if part in HEIGHT:
            return part, HEIGHT[part]
    raise AssertionError(f"{name} stands on no floor: add its package to FLOORS")


def test_every_module_stands_on_a_floor():
    for name in MODULES:
        floor_of(name)


def test_nothing_imports_upward_or_sideways():
    wrong = []
    for name, targets in GRAPH.items():
        part, height = floor_of(name)
        for target in sorted(targets):
            its_part, its_height = floor_of(target)
            if its_part != part and its_height >= height:
                wrong.append(f"{name} -> {target} ({part} -> {its_part})")
    assert not wrong, "imports against the floors:\n" + "\n".join(wrong)


def cycles() -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
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

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles():
    assert not cycles(), f"import cycles: {cycles()}"


def test_routes_are_imported_by_the_entry_points_alone():
    outside = [
        f"{name} -> {target}"
        for name, targets in GRAPH.items()
        for target in targets
        if target.startswith("app.routes") and not name.startswith("app.routes")
        and floor_of(name)[0] not in ("app.main", "app.__main__")
    ]
    assert not outside


@pytest.mark.parametrize("package", sorted(p for p in MODULES if MODULES[p].name == "__init__.py"
                                            and p.startswith("app")))
def test_every_package_says_its_job(package):
    doc = ast.get_docstring(TREES[package])
    assert doc and doc.strip(), f"{package}/__init__.py: a docstring that says its job"


def test_no_test_file_imports_another_test_file():
    """Helpers that tests share live in support modules (tests/app/support*.py, …), not in a
    test file that another imports (which would run its tests again under a new name)."""
    wrong = []
    for path in (ROOT / "tests").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            wrong += [f"{path.relative_to(ROOT)}: {name}" for name in names
                      if name.rpartition(".")[2].startswith("test_")]
    assert not wrong


def test_no_module_reads_another_modules_underscore_names():
    """A name with a leading underscore is its module's own: another module that needs it
    asks for a public one (the race code once reached into the hub and the worker 22 times).
    Only reads count: FastAPI's parsed-body cache (request._json) is set from outside."""
    private = {}
    trees = {name: tree for name, tree in TREES.items() if name.startswith("app")}
    for name, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                private.setdefault(node.name, set()).add(name)
    wrong = []
    for name, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                wrong += [f"{name}: from {node.module} import {a.name}" for a in node.names
                          if a.name.startswith("_") and not a.name.startswith("__")]
            elif (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load)
                  and node.attr.startswith("_") and not node.attr.startswith("__")
                  and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
                  and name not in private.get(node.attr, {name})):
                wrong.append(f"{name}:{node.lineno}: {ast.unparse(node)}")
    assert not wrong, "\n".join(wrong)
