"""Issue 9, row 10: under the server's Content-Security-Policy (not bypassed, as a visitor's
browser has it) the page and the API docs work: nothing refused, live controls still PATCH."""

import pytest

pytestmark = pytest.mark.browser


def visit(browser, url: str):
    context = browser.new_context(viewport={"width": 1280, "height": 720}, bypass_csp=False)
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(url)
    return context, page


def test_the_page_trains_and_its_live_controls_patch_under_the_csp(browser, base_url, api):
    context, page = visit(browser, base_url + "/")
    page.wait_for_selector("canvas")
    page.wait_for_load_state("networkidle")
    session = page.evaluate("() => backprop.page.session.id")
    with page.expect_response(lambda r: r.url.endswith("/config")) as answer:
        page.fill("#learning_rate", "0.25")
        page.dispatch_event("#learning_rate", "change")
    assert answer.value.status == 200
    with page.expect_response(lambda r: r.url.endswith("/step")) as stepped:
        page.click("#step")
    assert stepped.value.status == 200
    state = api.get(f"/api/sessions/{session}").json()
    context.close()
    assert state["config"]["optimizer"]["learning_rate"] == 0.25
    assert state["step"] >= 1
    assert not [e for e in page.errors if "Content Security Policy" in e], page.errors
    assert not page.errors


def test_the_api_docs_render_under_the_csp(browser, base_url):
    context, page = visit(browser, base_url + "/docs")
    page.wait_for_selector(".opblock")
    context.close()
    assert not [e for e in page.errors if "Content Security Policy" in e], page.errors
