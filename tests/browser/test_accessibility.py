"""axe-core (vendored under tests/browser/vendor/, never loaded by the app) on every page: the
playground, projector mode, a follower's watch page, /join, the lessons, a lesson (and projector),
a race and /docs, at desktop and phone size. Any violation of any impact fails."""

from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
SIZES = {"desktop": {"width": 1280, "height": 720}, "phone": {"width": 390, "height": 844}}
READY = {
    "playground": "() => window.backprop && backprop.page.frame && backprop.page.state"
                  " && backprop.page.heatmaps",
    "race": "() => window.backpropRace && backpropRace.lanes.length"
            " && backpropRace.lanes.every((l) => l.lane.frame && l.lane.heatmaps)",
    "docs": "() => document.querySelector('.swagger-ui .info')",
    "static": "() => document.readyState === 'complete'",
}


def violations(page, exclude=()) -> list[str]:
    """axe-core's violations on the page as it stands (less the `exclude` selectors' parts), one
    line each with the elements it names."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async (exclude) => {
        const where = { include: [['html']], exclude: exclude.map((s) => [s]) };
        const result = await axe.run(where, { resultTypes: ['violations'] });
        return result.violations.map((v) => `${v.impact} ${v.id}: ${v.help} — ` +
          v.nodes.slice(0, 4).map((n) => n.target.join(' ') + ' ' + n.failureSummary
            .replace(/\\s+/g, ' ')).join(' | '));
    }""", list(exclude))
    return found


@pytest.fixture(scope="module")
def targets(base_url):
    """Each page's path and what to wait for: a session and a race made through the API."""
    with httpx.Client(base_url=base_url, timeout=10) as api:
        session = api.post("/api/sessions", json={}).json()
        api.post(f"/api/sessions/{session['id']}/step", json={"steps": 3},
                 headers={"X-Control-Token": session["token"]})
        race = api.post("/api/races", json={"vary": {"optimizer": ["sgd", "momentum", "adam"]}})
        race = race.json()
    return {
        "playground": ("/", "playground"),
        "projector": ("/?projector=1", "playground"),
        "follower": (f"/watch/{session['id']}", "playground"),
        "join": ("/join", "static"),
        "lessons": ("/lessons", "static"),
        "lesson": ("/lesson/xor", "playground"),
        "lesson-projector": ("/lesson/xor?projector=1", "playground"),
        "race": (f"/race/{race['id']}", "race"),
        "race-projector": (f"/race/{race['id']}?projector=1", "race"),
        "docs": ("/docs", "docs"),
    }


PAGES = ["playground", "projector", "follower", "join", "lessons", "lesson", "lesson-projector",
         "race", "race-projector", "docs"]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", PAGES)
def test_axe_core_finds_no_violation(browser, base_url, targets, shot, name, size):
    path, kind = targets[name]
    phone = size == "phone"
    context = browser.new_context(viewport=SIZES[size], is_mobile=phone, has_touch=phone)
    try:
        page = context.new_page()
        page.goto(base_url + path)
        page.wait_for_function(READY[kind], timeout=15000)
        page.wait_for_timeout(300)
        shot(page, f"axe-{name}-{size}")
        # Swagger UI's own widget (vendored, static/vendor/VENDORED.md) is not ours to fix: its
        # page around it is
        found = violations(page, exclude=["#swagger-ui"] if name == "docs" else [])
        assert not found, "\n".join(found)
    finally:
        context.close()
