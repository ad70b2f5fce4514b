"""The projector view from the back row: no label over a node or another label, none clipped."""

import pytest

from tests.browser.support_page import ready, stepped_projector

pytestmark = pytest.mark.browser

SIZES = [(1920, 1080), (1280, 720), (1024, 768)]
NETWORKS = {"worked": "/?preset=worked_example&projector=1", "circle": "/?projector=1"}


def overlap(a, b):
    return a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and \
        a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("net", NETWORKS)
def test_no_projector_label_overlaps_a_node_or_a_label_or_leaves_the_canvas(open_page, shot,
                                                                               size, net):
    width, height = size
    page = stepped_projector(open_page, NETWORKS[net], width, height)
    shot(page, f"projector-labels-{net}-{width}x{height}")
    drawn = page.evaluate("backprop.labels()")
    labels, nodes = drawn["labels"], drawn["nodes"]
    assert labels and nodes
    for box in labels + nodes:
        assert box["x"] >= 0 and box["y"] >= 0, box
        assert box["x"] + box["w"] <= drawn["width"] and box["y"] + box["h"] <= drawn["height"], box
    for n, a in enumerate(labels):
        for b in labels[n + 1:] + nodes:
            assert not overlap(a, b), (a, b)
    last = len(page.evaluate("backprop.page.state.layers")) - 1
    shown = {(tuple(b["key"]), b["text"][0]) for b in labels if b["kind"] == "value"}
    outputs = page.evaluate("backprop.page.state.layers")[last]
    assert {((last, j), c) for j in range(outputs) for c in "oδ"} <= shown
    assert all(len(b["text"]) <= len("δ -8.53e-5") for b in labels if b["kind"] == "value")
    assert page.errors == []


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_projector_panels_fit_the_screen_side_by_side(open_page, size):
    width, height = size
    page = stepped_projector(open_page, NETWORKS["circle"], width, height)
    parts = ["#network", "#boundary", "#inspector", "#loss-chart", "#grad-chart", "#legend"]
    boxes = {p: page.locator(p).bounding_box() for p in parts}
    for name, b in boxes.items():
        assert b["x"] >= 0 and b["y"] >= 0, name
        assert b["x"] + b["width"] <= width + 0.5 and b["y"] + b["height"] <= height + 0.5, name
    rect = {p: {"x": b["x"], "y": b["y"], "w": b["width"], "h": b["height"]}
            for p, b in boxes.items()}
    for n, a in enumerate(parts):
        for b in parts[n + 1:]:
            assert not overlap(rect[a], rect[b]), (a, b)
    # the output plane is the biggest picture after the network: at least a third of the height
    assert boxes["#boundary"]["height"] >= height / 3.2
    assert page.errors == []


# Every visible text on the page, with the size it is drawn at: KaTeX's MathML copy (for screen
# readers, not drawn) and what is clipped to nothing (the network's readout unfocused) left out.
TEXTS = """() => {
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let t = walk.nextNode(); t; t = walk.nextNode()) {
    const el = t.parentElement;
    if (!t.textContent.trim() || !el || el.closest('.katex-mathml, script, style')) continue;
    const range = document.createRange();
    range.selectNodeContents(t);
    const r = range.getBoundingClientRect();
    if (r.width < 2 || r.height < 2 || !el.checkVisibility({ visibilityProperty: true })) continue;
    const px = parseFloat(getComputedStyle(el).fontSize);
    out.push({ text: t.textContent.trim().slice(0, 40), px, where: el.className || el.tagName });
  }
  return out;
}"""


@pytest.mark.parametrize("path", ["/?projector=1", "/?preset=worked_example&projector=1"])
def test_no_projector_text_is_under_16px_at_1024x768_katex_scripts_included(open_page, shot, path):
    page = stepped_projector(open_page, path, 1024, 768)
    page.focus("#network")
    for key in ["ArrowDown", "ArrowRight", "ArrowRight", "Enter"]:   # a hidden node's chain rule
        page.keyboard.press(key)
    page.wait_for_selector("#inspector .target h3:has-text('Node 1 of layer 1')")
    small_texts(page, shot, f"projector-type-{path[2:8]}-node-1024x768")
    page.keyboard.press("ArrowLeft")                     # the node's first edge in: ∂E/∂w
    page.keyboard.press("Enter")
    page.wait_for_selector("#inspector .target h3:has-text('Edge')")
    small_texts(page, shot, f"projector-type-{path[2:8]}-edge-1024x768")
    assert page.errors == []


def small_texts(page, shot, name):
    page.wait_for_timeout(300)
    shot(page, name)
    texts = page.evaluate(TEXTS)
    assert any("mtight" in t["where"] for t in texts)   # KaTeX's scripts are among them
    small = [t for t in texts if t["px"] < 16]
    assert not small, "\n".join(map(str, small))


# What the inspector cuts: its own content past its box (it scrolls), a line wider than its box, a
# line or the inspector past the window's edge. (A line's scripts may overhang its line box by a
# pixel or two: the inspector, not the line, would cut them, so a line's height is not compared.)
CLIPPED = """() => {
  const el = document.getElementById('inspector');
  const box = el.getBoundingClientRect();
  const out = (r, b) => r.left < b.left - 0.5 || r.top < b.top - 0.5 || r.right > b.right + 0.5 ||
    r.bottom > b.bottom + 0.5;
  const whole = { left: 0, top: 0, right: innerWidth, bottom: innerHeight };
  const cut = el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1 ||
    out(box, whole) ? [['inspector', el.scrollHeight, el.clientHeight, el.scrollWidth]] : [];
  for (const line of el.querySelectorAll('h3, p, li')) {
    if (!line.checkVisibility()) continue;               // left out on a projector (page.css)
    if (line.scrollWidth > line.clientWidth + 1 || out(line.getBoundingClientRect(), box)) {
      cut.push([line.className, line.textContent.slice(0, 40), line.scrollWidth, line.clientWidth]);
    }
  }
  return cut;
}"""


@pytest.mark.parametrize("size", [(1024, 768), (1280, 800), (1920, 1080)],
                         ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("pick", ["edge", "node"])
def test_a_walked_step_with_a_selection_fits_the_projector_inspector(open_page, shot, size, pick):
    """Every phase of a step, with an edge or a hidden node picked: the inspector takes the right
    column and nothing in it scrolls or is cut, the last lines (the chain rule, the update) too."""
    width, height = size
    page = open_page("/?projector=1", width, height)
    ready(page)
    page.keyboard.press("s")
    page.wait_for_function("backprop.page.frame.step === 1 && backprop.page.heatmaps")
    page.focus("#network")
    for key in ["ArrowDown", "ArrowRight", "ArrowRight", "Enter"] + \
            (["ArrowLeft", "Enter"] if pick == "edge" else []):
        page.keyboard.press(key)
    heading = "Edge" if pick == "edge" else "Node 1 of layer 1"
    page.wait_for_selector(f"#inspector .target h3:has-text('{heading}')")
    page.evaluate("document.activeElement.blur()")      # → walks the phases, not the network
    count = None
    for index in range(8):
        page.keyboard.press("ArrowRight")
        page.wait_for_function(f"backprop.page.full.phase?.index === {index}")
        page.wait_for_selector(f"#inspector .phase h3:has-text('Phase {index + 1} of')")
        page.wait_for_timeout(200)                      # the grid settles around the inspector
        count = page.evaluate("backprop.page.full.phase.count")
        clipped = page.evaluate(CLIPPED)
        if clipped or index in (0, count - 1):
            shot(page, f"projector-inspector-{pick}-{width}x{height}-phase{index + 1}")
        assert not clipped, (index, clipped)
        if index == count - 1:
            break
    assert page.locator("#inspector .target").count() == 1
    assert count and page.errors == []
