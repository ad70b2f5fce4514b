"""The page's state has one declaration (static/page-state.js): every field a module reads or
writes on it is declared there with a comment, only main.js makes it, and main.js stays wiring
(the stream, the sizing, the selection, own points and live changes live in their own modules)."""

import re
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "static"
DECLARED = re.compile(r"^    (\w+): .*?,\s+// \S", re.M)
USED = re.compile(r"\bpage\.(\w+)")


def declared() -> set[str]:
    return set(DECLARED.findall((STATIC / "page-state.js").read_text()))


def test_every_field_of_the_page_is_declared_once_with_a_comment():
    source = (STATIC / "page-state.js").read_text()
    fields = DECLARED.findall(source)
    assert len(fields) == len(set(fields))
    read_by_tests = {"settings", "session", "api", "state", "full", "frame", "heatmaps", "target"}
    assert read_by_tests <= set(fields)
    assert "Object.seal(" in source   # a field not declared here cannot be added at run time


def test_the_modules_use_only_declared_fields_of_the_page():
    fields = declared()
    for path in STATIC.glob("*.js"):
        text = re.sub(r"\bpage\.(css|py)\b", "", path.read_text())   # file names in comments
        undeclared = set(USED.findall(text)) - fields
        assert not undeclared, f"{path.name}: page.{sorted(undeclared)} not in page-state.js"


def test_only_main_makes_the_page_state_and_no_module_builds_its_own():
    for path in STATIC.glob("*.js"):
        text = path.read_text()
        if path.name not in ("main.js", "page-state.js"):
            assert "createPageState(" not in text, path.name
        assert not re.search(r"\bconst page = \{", text), path.name


def test_the_controller_is_wiring():
    main = (STATIC / "main.js").read_text()
    moved_out = ("setTimeout", "WebSocket", "gradcheck", "editPoints", "innerWidth",
                 "performance.now", "htmx", "hx-vals")
    for moved in moved_out:
        assert moved not in main, moved
    assert not (STATIC / "hyper.js").exists()
