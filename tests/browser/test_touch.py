"""A student's pages on a phone (390 × 844, touch): every control a 44 × 44 px target, and no hint
that names a key."""

import httpx
import pytest

pytestmark = pytest.mark.browser

# Every visible control's target: a checkbox's or a radio button's is its label.
TARGETS = """() => [...document.querySelectorAll('button, select, input, summary, a[href]')]
  .filter((e) => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
  .map((e) => {
    const target = (e.type === 'checkbox' || e.type === 'radio') && e.closest('label') || e;
    const r = target.getBoundingClientRect();
    return { what: e.outerHTML.slice(0, 80), width: r.width, height: r.height };
  })"""


@pytest.fixture(scope="module")
def student_paths(base_url):
    with httpx.Client(base_url=base_url, timeout=10) as api:
        session = api.post("/api/sessions", json={}).json()
        api.post(f"/api/sessions/{session['id']}/step", json={"steps": 2},
                 headers={"X-Control-Token": session["token"]})
        race = api.post("/api/races", json={"vary": {"learning_rate": [0.1, 1.0]}}).json()
    return {"watch": f"/watch/{session['id']}", "race": f"/race/{race['id']}",
            "lessons": "/lessons"}


@pytest.mark.parametrize("name", ["watch", "race", "lessons"])
def test_every_control_on_a_student_s_phone_is_a_44px_target(browser, base_url, student_paths,
                                                             shot, name):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    try:
        page = context.new_page()
        page.goto(base_url + student_paths[name])
        page.wait_for_load_state("load")
        page.wait_for_timeout(800)
        shot(page, f"touch-{name}-390x844")
        targets = page.evaluate(TARGETS)
        assert targets
        small = [t for t in targets if t["width"] < 44 or t["height"] < 44]
        assert small == []
    finally:
        context.close()


def test_a_phone_shows_no_hint_that_names_a_key(browser, base_url, student_paths):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    try:
        page = context.new_page()
        page.goto(base_url + "/")
        page.wait_for_function("window.backprop && backprop.page.frame")
        hint = page.locator("#inspector .hint")
        assert "Pick an edge or a node" in hint.inner_text()
        assert "→" not in hint.inner_text()
    finally:
        context.close()
