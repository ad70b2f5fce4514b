"""→ after `s` in headless Chromium: it walks the phases of the step `s` took (forward layer by
layer, loss, backward, update) and only then takes a new step; both charts name the step shown."""

import pytest

from tests.browser.support_page import ready

pytestmark = pytest.mark.browser

WALK = [("forward", 1), ("forward", 2), ("forward", 3), ("loss", None),
        ("backward", 3), ("backward", 2), ("backward", 1), ("update", None)]  # fmt: skip


def shown(page) -> dict:
    return page.evaluate("""() => ({step: backprop.page.frame.step,
        phase: backprop.page.frame.phase, charts: backprop.chartSteps()})""")


def press_until(page, key: str, index: int, step: int) -> dict:
    """Press `key` and wait for the frame showing phase `index` of step `step`."""
    page.keyboard.press(key)
    page.wait_for_function(
        "([i, s]) => backprop.page.frame.step === s && backprop.page.frame.phase?.index === i",
        arg=[index, step],
    )
    return shown(page)


def test_right_after_s_walks_the_step_just_taken_and_the_charts_agree_on_it(open_page, api, shot):
    page = open_page("/")
    session = ready(page)
    page.keyboard.press("s")
    page.wait_for_function("backprop.page.frame.step === 1")
    taken = api.get(f"/api/sessions/{session['id']}").json()["record"]
    at = shown(page)
    assert at["phase"] is None
    assert at["charts"]["loss"]["to"] == at["charts"]["grad"]["to"] == 1
    for index, (name, layer) in enumerate(WALK):
        at = press_until(page, "ArrowRight", index, 1)
        assert (at["phase"]["name"], at["phase"]["layer"]) == (name, layer)
        assert at["charts"]["loss"]["to"] == at["charts"]["grad"]["to"] == 1
        if name == "loss":
            shot(page, "step-walk-after-s-loss")
    # the walk showed the step `s` took, not another
    assert api.get(f"/api/sessions/{session['id']}").json()["record"] == taken
    at = press_until(page, "ArrowRight", 0, 2)   # past the update: the next step, from its start
    assert at["charts"]["loss"]["to"] == at["charts"]["grad"]["to"] == 2
    assert page.inner_text("#step-count") == "2"
    assert page.errors == []
