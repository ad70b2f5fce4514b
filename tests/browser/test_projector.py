"""The projector view from the back row: no label over a node or another label, none clipped."""

import pytest

from tests.browser.test_page import ready

pytestmark = pytest.mark.browser

SIZES = [(1920, 1080), (1280, 720), (1024, 768)]
NETWORKS = {"worked": "/?preset=worked_example&projector=1", "circle": "/?projector=1"}


def overlap(a, b):
    return a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and \
        a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]


def stepped_projector(open_page, path, width, height):
    """A projector page after one step, walked to the second forward phase."""
    page = open_page(path, width, height)
    ready(page)
    page.keyboard.press("s")
    page.wait_for_function("backprop.page.frame.step === 1 && backprop.page.heatmaps")
    for _ in range(2):
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(150)
    page.wait_for_selector("#inspector .phase h3:has-text('forward layer 2')")
    page.wait_for_timeout(300)
    return page


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
