"""The page by keyboard: shortcuts leave a focused control's keys to it, the focus ring shows in
every mode, and the network's nodes and edges are reached with the arrows and opened with Enter."""

import httpx
import pytest

from tests.browser.support_page import ready

pytestmark = pytest.mark.browser


def test_space_on_a_focused_button_presses_that_button_instead_of_playing(open_page):
    page = open_page("/")
    ready(page)
    page.focus("#step")
    page.keyboard.press("Space")
    page.wait_for_function("backprop.page.frame.step === 1")
    page.focus("#share-toggle")
    page.keyboard.press("Space")
    page.wait_for_selector("#share-panel:not([hidden])")
    page.keyboard.press("Escape")
    page.focus("#step")
    page.keyboard.press("Enter")
    page.wait_for_function("backprop.page.frame.step === 2")
    page.wait_for_timeout(300)
    assert page.evaluate("backprop.page.frame.status") != "playing"
    assert page.evaluate("backprop.page.frame.step") == 2
    assert page.errors == []


def test_the_shortcuts_still_work_when_no_control_has_the_focus(open_page):
    page = open_page("/")
    ready(page)
    page.focus("#step")
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("s")
    page.wait_for_function("backprop.page.frame.step === 1")
    page.keyboard.press("Space")
    page.wait_for_function("backprop.page.frame.status === 'playing'")
    page.keyboard.press("Space")
    page.wait_for_function("backprop.page.frame.status !== 'playing'")


def focus_ring(page) -> dict:
    """The outline of the element Tab moves the focus to first."""
    page.keyboard.press("Tab")
    return page.evaluate("""() => {
        const s = getComputedStyle(document.activeElement);
        return { width: parseFloat(s.outlineWidth), style: s.outlineStyle, color: s.outlineColor,
                 tag: document.activeElement.tagName };
    }""")


@pytest.fixture(scope="module")
def mode_paths(base_url):
    with httpx.Client(base_url=base_url, timeout=10) as api:
        session = api.post("/api/sessions", json={}).json()
        race = api.post("/api/races", json={"vary": {"learning_rate": [0.1, 1.0]}}).json()
    return {"normal": "/", "projector": "/?projector=1", "follower": f"/watch/{session['id']}",
            "lesson": "/lesson/xor", "lesson-projector": "/lesson/xor?projector=1",
            "race": f"/race/{race['id']}", "race-projector": f"/race/{race['id']}?projector=1"}


@pytest.mark.parametrize("mode", ["normal", "projector", "follower", "lesson", "lesson-projector",
                                  "race", "race-projector"])
def test_the_keyboard_focus_ring_is_at_least_3px_and_dark_in_every_mode(open_page, mode_paths,
                                                                          shot, mode):
    page = open_page(mode_paths[mode])
    page.wait_for_load_state("load")
    page.wait_for_timeout(500)
    ring = focus_ring(page)
    shot(page, f"focus-ring-{mode}")
    assert ring["width"] >= 3 and ring["style"] == "solid", ring
    r, g, b = (int(v) for v in ring["color"].removeprefix("rgb(").rstrip(")").split(",")[:3])
    # relative luminance of the ring: dark enough for ≥ 7:1 against the white pages
    lum = [((c / 255) / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4)
           for c in (r, g, b)]
    assert 1.05 / (0.2126 * lum[0] + 0.7152 * lum[1] + 0.0722 * lum[2] + 0.05) >= 7, ring


def test_the_arrows_walk_the_network_and_enter_opens_the_inspector(open_page, shot):
    page = open_page("/")
    ready(page)
    page.keyboard.press("s")
    page.wait_for_function("backprop.page.frame.step === 1")
    page.focus("#network")
    readout = "#network-readout"
    assert "arrow keys" in page.text_content(readout)
    page.keyboard.press("ArrowDown")                     # the first arrow: the first input
    assert page.text_content(readout).startswith("input x")
    page.keyboard.press("ArrowDown")
    assert "node 2 of layer 0" in page.text_content(readout)
    page.keyboard.press("ArrowRight")                    # its first edge out
    edge = "weight from node 2 of layer 0 to node 1 of layer 1"
    assert page.text_content(readout).startswith(edge)
    page.keyboard.press("ArrowDown")
    assert "to node 2 of layer 1" in page.text_content(readout)
    page.keyboard.press("Enter")
    page.wait_for_selector("#inspector h3:has-text('node 2 of layer 0 → node 2 of layer 1')")
    page.keyboard.press("ArrowRight")                    # the node the edge feeds
    assert page.text_content(readout).startswith("hidden node 2 of layer 1: o ")
    assert "(batch mean)" in page.text_content(readout)
    page.keyboard.press("Enter")
    page.wait_for_selector("#inspector .target h3:has-text('Node 2 of layer 1')")
    assert page.get_attribute(readout, "aria-live") == "polite"
    assert page.evaluate("document.activeElement.id") == "network"
    # the arrows were the network's: no phase was walked, no step taken
    assert page.evaluate("backprop.page.frame.step") == 1
    assert page.evaluate("backprop.page.frame.phase") is None
    shot(page, "keyboard-network-1280x720")
    assert page.errors == []


def test_the_arrows_reach_every_bias_edge_and_stop_at_the_ends(open_page):
    page = open_page("/")
    ready(page)
    page.focus("#network")
    sizes = page.evaluate("backprop.page.state.layers")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    for _ in range(sizes[0] * sizes[1] + sizes[1] + 2):
        page.keyboard.press("ArrowDown")
    assert page.text_content("#network-readout").startswith(f"bias of node {sizes[1]} of layer 1")
    page.keyboard.press("ArrowRight")
    assert page.text_content("#network-readout") == f"hidden node {sizes[1]} of layer 1"
    assert page.errors == []
