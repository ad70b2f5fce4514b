"""One neuron's computation graph in headless Chromium: it opens from the inspector, shows the
inspector's numbers, lights its nodes phase by phase, and reads at 1280×720 and on a projector."""

import pytest

from tests.browser.support_page import click_edge, ready

pytestmark = pytest.mark.browser

GRAPH = "#graph-panel"


def stepped(open_page, path="/", width=1280, height=720):
    page = open_page(path, width, height)
    ready(page)
    page.keyboard.press("s")
    page.wait_for_function("backprop.page.frame.step === 1 && backprop.page.heatmaps")
    return page


def click_node(page, k, j):
    point = page.evaluate(
        """([k, j]) => { const p = backprop.view.nodePosition(k, j);
           const r = document.getElementById('network').getBoundingClientRect();
           return [r.left + p.x + p.size / 2, r.top + p.y + p.size / 2]; }""",
        [k, j],
    )
    page.mouse.click(*point)


def open_graph(page, k, j):
    """Click node j of layer k, then its "show its computation"; wait for the drawn graph."""
    click_node(page, k, j)
    button = f"#inspector .show-graph[data-graph-layer='{k}'][data-graph-node='{j}']"
    page.wait_for_selector(button).click()
    page.wait_for_selector(f"{GRAPH} .gnode[data-name=E] .katex")


def value(page, selector):
    return float(page.locator(selector).first.get_attribute("data-value"))


def boxes(page):
    return page.evaluate(
        """() => [...document.querySelectorAll('#graph-panel .gnode')].map((b) => {
             const r = b.getBoundingClientRect();
             return {name: b.dataset.name, x: r.left, y: r.top, w: r.width, h: r.height,
                     fits: b.scrollWidth <= b.clientWidth + 1}; })"""
    )


def assert_readable(page):
    """No box over another, none cut off, the panel inside the window, no page error."""
    drawn = boxes(page)
    for a in drawn:
        assert a["fits"], a
        for b in drawn:
            if a is not b:
                assert not (a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"]
                            and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]), (a, b)
    panel = page.locator(GRAPH).bounding_box()
    size = page.viewport_size
    assert panel["x"] >= 0 and panel["x"] + panel["width"] <= size["width"]
    assert panel["y"] >= 0 and panel["y"] + panel["height"] <= size["height"]
    assert page.errors == []


def test_the_graph_shows_the_inspectors_gradient_for_one_weight(open_page, shot):
    page = stepped(open_page)
    click_edge(page, 2, 1, 0)                # w_21^2: node 1 of layer 1 → node 0 of layer 2
    inspector = value(page, "#inspector .target .eq [data-value]")
    term = page.locator("#inspector .target .eq").nth(1).locator("[data-value]")
    delta, o_i = (float(term.nth(q).get_attribute("data-value")) for q in (0, 1))
    open_graph(page, 2, 0)
    page.click(f"{GRAPH} .gnode[data-name=w1]")
    page.wait_for_selector(f"{GRAPH} .gnode[data-name=w1].chosen")
    assert value(page, f"{GRAPH} [data-field=batch] [data-value]") == inspector
    factors = page.locator(f"{GRAPH} [data-field=term] [data-value]")
    assert float(factors.nth(4).get_attribute("data-value")) == o_i   # ∂p/∂w = o_i
    assert value(page, f"{GRAPH} .gnode[data-name=s] .ggrad [data-value]") == delta
    state = page.evaluate("backprop.page.full.record")
    assert value(page, f"{GRAPH} .gnode[data-name=a] .gval [data-value]") == \
        state["layers"][1]["a"][0][0]
    assert value(page, f"{GRAPH} .gnode[data-name=a] .ggrad [data-value]") == \
        state["layers"][1]["delta"][0][0]
    assert page.locator(f"{GRAPH} .gedge.on-path").count() == 5
    assert_readable(page)
    shot(page, "graph-1280x720")


def flashing(page, kind):
    """The names of the boxes flashing `kind` ("forward"/"backward"), by their animation delay."""
    return page.evaluate(
        """(kind) => [...document.querySelectorAll(`#graph-panel .gnode.flash-${kind}`)]
             .map((b) => [parseFloat(getComputedStyle(b).animationDelay), b.dataset.name])
             .sort((a, b) => a[0] - b[0]).map((p) => p[1])""",
        kind,
    )


def walk_to(page, name):
    page.keyboard.press("ArrowRight")
    page.wait_for_selector(f"#inspector .phase h3:has-text('{name}')")
    page.wait_for_function(
        "() => { const p = backprop.page.full && backprop.page.full.phase;"
        " return p && document.querySelector('#graph-panel .gnode[data-name=E]'); }")
    page.wait_for_timeout(100)


def test_stepping_phases_lights_the_nodes_forward_then_backward(open_page):
    page = stepped(open_page)                 # 2-4-2-1: node 0 of layer 2 is the second hidden
    open_graph(page, 2, 0)
    names = page.evaluate("[...document.querySelectorAll('#graph-panel .gnode')]"
                          ".map((b) => b.dataset.name)")
    walk_to(page, "forward layer 1")          # a new step, its first phase: nothing computed yet
    page.wait_for_selector(f"{GRAPH} .gnode.no-value[data-name=a]")
    assert page.locator(f"{GRAPH} .gnode.no-value").count() == len(names)
    walk_to(page, "forward layer 2")
    forward = flashing(page, "forward")
    leaves = [f"{kind}{i}" for i in range(4) for kind in "ow"]
    assert forward == [*leaves, "p0", "p1", "p2", "p3", "s", "b", "a", "o"]
    assert page.locator(f"{GRAPH} .gnode.no-value").count() == 1      # E: the loss phase's
    assert page.locator(f"{GRAPH} .gnode.no-grad").count() == len(names)
    walk_to(page, "forward layer 3")
    assert flashing(page, "forward") == []
    walk_to(page, "loss")
    assert flashing(page, "forward") == ["E"]
    walk_to(page, "backward layer 3")
    assert flashing(page, "backward") == ["o"]                   # ∂E/∂o_j = Σ_m w_jm δ_m^3
    walk_to(page, "backward layer 2")
    backward = flashing(page, "backward")
    assert backward == ["a", "s", "b", "p0", "p1", "p2", "p3", *leaves]
    assert page.locator(f"{GRAPH} .gnode.no-grad").count() == 0
    walk_to(page, "backward layer 1")
    assert flashing(page, "backward") == []
    assert page.errors == []


def test_the_graph_reads_on_a_projector_at_1280_by_720(open_page, shot):
    page = stepped(open_page, "/?preset=worked_example&projector=1")
    open_graph(page, 2, 1)
    page.click(f"{GRAPH} .gnode[data-name=w1]")
    page.wait_for_selector(f"{GRAPH} .gnode[data-name=w1].chosen")
    page.keyboard.press("ArrowRight")        # a new step, forward layer 1
    page.keyboard.press("ArrowRight")        # forward layer 2: this node lights up
    page.wait_for_function("() => document.querySelectorAll('#graph-panel .flash-forward')"
                           ".length > 0")
    page.wait_for_timeout(2500)              # the lighting has run its course
    assert_readable(page)
    size = page.evaluate("parseFloat(getComputedStyle(document.querySelector("
                         "'#graph-panel .gnode .num')).fontSize)")
    assert size >= 16
    shot(page, "graph-projector-forward-1280x720")
    for _ in range(3):                       # forward layer 2 → loss → backward 2 → backward 1
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(300)
    page.wait_for_selector("#inspector .phase h3:has-text('backward layer 1')")
    page.wait_for_timeout(500)
    assert page.locator(f"{GRAPH} .gnode.no-grad").count() == 0
    assert_readable(page)
    shot(page, "graph-projector-1280x720")


def test_closing_the_graph_stops_its_requests_and_escape_closes_it(open_page):
    page = stepped(open_page)
    open_graph(page, 1, 2)
    page.keyboard.press("Escape")
    assert page.locator(GRAPH).is_hidden()
    assert page.evaluate("backprop.page.graph") is None
    open_graph(page, 1, 2)
    page.click(f"{GRAPH} .close")
    assert page.locator(GRAPH).is_hidden()
    assert page.errors == []


def test_a_softmax_output_shows_its_delta_fused_with_the_loss(open_page):
    page = stepped(open_page, "/?dataset=three_class&hidden=3")
    open_graph(page, 2, 1)
    assert page.locator(f"{GRAPH} .gnode[data-name=o] .ggrad .num").inner_text() == "fused"
    delta = page.evaluate("backprop.page.full.record.layers[1].delta[0][1]")
    assert value(page, f"{GRAPH} [data-field=term] [data-value]") == delta   # first factor: δ_j
    assert page.errors == []


def test_a_follower_opens_the_graph_and_it_follows_the_teachers_phases(open_page):
    teacher = open_page("/?preset=worked_example")
    session = ready(teacher)
    follower = open_page(f"/watch/{session['id']}")
    follower.wait_for_function("window.backprop && backprop.page.frame && backprop.page.state")
    teacher.keyboard.press("s")
    follower.wait_for_function("backprop.page.frame.step === 1 && backprop.page.full.record")
    open_graph(follower, 2, 0)
    for _ in range(4):                       # a new step: forward 1, forward 2, loss, backward 2
        teacher.keyboard.press("ArrowRight")
        teacher.wait_for_timeout(200)
    follower.wait_for_selector("#inspector .phase h3:has-text('backward layer 2')")
    follower.wait_for_function("document.querySelectorAll('#graph-panel .flash-backward')"
                               ".length > 0")
    assert flashing(follower, "backward")[:3] == ["o", "a", "s"]
    assert follower.errors == [] and teacher.errors == []
