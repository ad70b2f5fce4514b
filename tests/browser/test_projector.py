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
