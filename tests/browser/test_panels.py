"""Small things around the network: the presets menu gives way, an edge has one name everywhere."""

import pytest

from tests.browser.support_page import edge_point, ready

pytestmark = pytest.mark.browser


def test_the_presets_menu_closes_when_the_share_panel_opens(open_page):
    page = open_page("/")
    ready(page)
    page.click("#presets summary")
    page.wait_for_selector("[data-preset]")
    assert page.evaluate("document.getElementById('presets').open")
    page.click("#share-toggle")
    page.wait_for_selector("#share-panel:not([hidden])")
    assert not page.evaluate("document.getElementById('presets').open")
    assert not page.is_visible("#preset-list")
    assert page.errors == []


@pytest.mark.parametrize("menu", ["presets", "race-menu"])
def test_the_presets_and_race_menus_close_on_a_click_elsewhere_and_on_escape(open_page, menu):
    page = open_page("/")
    ready(page)
    is_open = f"document.getElementById('{menu}').open"
    page.click(f"#{menu} summary")
    page.mouse.click(5, 400)
    assert not page.evaluate(is_open)
    page.click(f"#{menu} summary")
    assert page.evaluate(is_open)
    page.keyboard.press("Escape")
    assert not page.evaluate(is_open)
    assert page.errors == []


def test_hover_and_inspector_count_an_edges_nodes_alike(open_page):
    page = open_page("/")
    ready(page)
    page.click("#step")
    page.wait_for_function("backprop.page.frame.step === 1")
    point = edge_point(page, 2, 0, 1)          # API indices: node 0 of layer 1 → node 1 of layer 2
    page.mouse.move(*point)
    tip = page.wait_for_selector("#edge-tip:not([hidden])").inner_text()
    page.mouse.click(*point)
    heading = page.wait_for_selector("#inspector .target h3").text_content()
    assert tip.startswith("w₁₂² = ")
    assert "node 1 of layer 1 → node 2 of layer 2" in heading
    assert page.evaluate("backprop.page.target") == {"kind": "W", "layer": 2, "i": 0, "j": 1}
    assert page.errors == []


def test_hovering_a_node_shows_its_o_and_delta(open_page):
    page = open_page("/")
    ready(page)
    page.click("#step")
    page.wait_for_function("backprop.page.frame.step === 1 && backprop.page.heatmaps")
    box = page.evaluate("""() => { const p = backprop.view.nodePosition(1, 0);
        const r = document.getElementById('network').getBoundingClientRect();
        return [r.left + p.x + p.size / 2, r.top + p.y + p.size / 2]; }""")
    page.mouse.move(*box)
    tip = page.wait_for_selector("#edge-tip:not([hidden])").inner_text()
    o = page.evaluate("backprop.page.frame.layers[0].o[0]")
    assert tip.startswith("o ") and "δ " in tip
    assert f"{o:.3g}"[:4] in tip
    assert page.is_visible("#zoom")


def test_equations_are_typeset_once_not_again_on_every_frame(open_page):
    page = open_page("/")
    ready(page)
    page.click("#step")
    page.wait_for_function("backprop.page.frame.step === 1")
    page.mouse.click(*edge_point(page, 2, 0, 1))
    # the pick draws the inspector, then its gradient check's answer draws it once more
    page.wait_for_selector("#inspector .target .check .katex")
    page.evaluate("document.querySelector('#inspector .katex').dataset.mark = 'first'")
    before = page.evaluate("backprop.page.frameTimes.length")
    page.click("#play")
    page.wait_for_function("backprop.page.frame.status === 'playing'")
    page.wait_for_timeout(1000)
    frames = page.evaluate("backprop.page.frameTimes.length") - before
    kept = page.locator("#inspector .katex[data-mark=first]").count()
    page.click("#play")
    assert frames > 10 and kept == 1
    assert page.errors == []
