"""The engine imports only the standard library's maths helpers, numpy and itself."""

import ast
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parents[2] / "engine"
ALLOWED = {"numpy", "math", "dataclasses", "typing", "collections.abc", "functools", "__future__"}
# The compiled training loop needs numba; it stays in the loop and the module that builds its
# kernel (which writes and loads that module's file, and times warm_up), so every other engine
# module still reads as plain NumPy and train.py remains the reference.
# The script writers (engine/scripts/) read the engine's own source text: each formula a script
# shows is the engine's, written once.
ALLOWED_IN = {
    "compiled.py": {"numba", "time", "hashlib", "importlib.util", "inspect", "os", "pathlib",
                    "sys", "tempfile", "types"},
    "loop.py": {"numba"},
    "scripts/source.py": {"ast", "importlib", "inspect"},
    "scripts/parts.py": {"textwrap"},
}


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add("." * node.level + (node.module or ""))
    return names


# The engine's sources, not the kernel module compiled.py writes into __pycache__ (its text is
# engine/loop.py's loop and the dispatch, both checked here at their source).
SOURCES = sorted(p for p in ENGINE.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", SOURCES,
                         ids=lambda p: p.relative_to(ENGINE).as_posix())
def test_engine_module_imports_only_the_allowlist(path):
    allowed_here = ALLOWED_IN.get(path.relative_to(ENGINE).as_posix(), set())
    bad = {
        name
        for name in imported_modules(path)
        if name not in ALLOWED | allowed_here
        and not name.startswith(("engine.", "."))
        and name != "engine"
    }
    assert not bad, f"{path.relative_to(ENGINE)} imports {sorted(bad)}"


def test_purity_check_catches_a_web_import(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text("import fastapi\nfrom app.main import create_app\n")
    assert imported_modules(module) == {"fastapi", "app.main"}


@pytest.mark.parametrize("path", sorted(ENGINE.glob("*.py")), ids=lambda p: p.name)
def test_engine_module_never_uses_the_global_rng_or_prints(path):
    source = path.read_text()
    for forbidden in ("np.random.seed", "np.random.rand(", "np.random.randn", "print("):
        assert forbidden not in source, f"{path.name} uses {forbidden}"
