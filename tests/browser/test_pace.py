"""The teaching pace in headless Chromium: the page, a preset and a race play at a pace stated
in epochs/s (an epoch = ceil(training points / batch size) steps) and ask the server for steps/s."""

import pytest

from tests.browser.support_page import ready
from tests.browser.support_race import new_race

pytestmark = pytest.mark.browser


def chosen_says(page, select: str, text: str) -> None:
    """Wait until the chosen pace of `select` is labelled with `text`."""
    page.wait_for_function(
        "([s, t]) => document.querySelector(`${s} option:checked`).textContent.includes(t)",
        arg=[select, text],
    )


def play_body(page, click: str) -> dict:
    """The body of the POST …/play that clicking `click` sends."""
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/play")) as req:
        page.click(click)
    return req.value.post_data_json


def test_the_page_plays_the_circle_at_ten_epochs_a_second_by_default(open_page, api, shot):
    page = open_page("/")
    session = ready(page)
    assert page.evaluate("backprop.page.settings.pace") == 10
    assert page.input_value("#pace") == "10"
    # TFP's default: 250 training points in batches of 10 are 25 steps an epoch
    assert page.inner_text("#pace option:checked") == "10 epochs/s · 250 steps/s"
    options = page.eval_on_selector_all("#pace option", "e => e.map((o) => o.textContent)")
    assert "as fast as it goes" in options and "60 epochs/s · 1500 steps/s" in options
    assert play_body(page, "#play") == {"speed": 250}
    page.wait_for_function("backprop.page.frame.status === 'playing'")
    assert api.get(f"/api/sessions/{session['id']}").json()["speed"] == 250
    shot(page, "pace-default")
    page.click("#play")
    assert "pace" not in page.url   # the default stays out of the URL
    assert page.errors == []


def test_the_pace_s_steps_follow_the_batch_size(open_page, api):
    page = open_page("/?batch_size=50")
    session = ready(page)
    chosen_says(page, "#pace", "· 50 steps/s")
    assert play_body(page, "#play") == {"speed": 50}   # 10 epochs/s of 5 steps
    page.wait_for_function("backprop.page.frame.status === 'playing'")
    with page.expect_request(lambda r: r.url.endswith("/play")) as req:
        page.fill("#batch_size", "25")
        page.press("#batch_size", "Enter")
    assert req.value.post_data_json == {"speed": 100}   # 10 epochs/s of 10 steps, at once
    chosen_says(page, "#pace", "· 100 steps/s")
    assert api.get(f"/api/sessions/{session['id']}").json()["speed"] == 100
    page.click("#play")
    assert page.errors == []


def test_as_fast_as_it_goes_stays_a_choice(open_page):
    page = open_page("/?pace=max")
    ready(page)
    assert page.input_value("#pace") == "max"
    assert play_body(page, "#play") == {"speed": None}
    page.click("#play")
    assert page.errors == []


def test_a_preset_opens_at_its_own_pace(open_page, api):
    page = open_page("/")
    ready(page)
    preset = next(p for p in api.get("/api/presets").json() if p["name"] == "xor")
    page.click("#presets summary")
    page.click(".preset[data-preset=xor]")
    page.wait_for_url("**preset=xor**")
    page.wait_for_function("backprop.page.state?.config.dataset === 'xor_table'")
    assert page.evaluate("backprop.page.settings.pace") == preset["pace"] == 60
    # the truth table's 4 rows in one batch: an epoch is one step
    assert play_body(page, "#play") == {"speed": 60}
    page.click("#play")
    assert page.errors == []


def test_a_race_plays_at_five_epochs_a_second_by_default(open_page, api):
    made = new_race(api, vary={"optimizer": ["sgd", "momentum", "adam"]})
    page = open_page(made["watch_url"])   # this tab has no token: take the race's own
    page.evaluate("([id, t]) => sessionStorage.setItem(`backprop-token:${id}`, t)",
                  [made["id"], made["token"]])
    page.reload()
    page.wait_for_selector("#race-play", state="visible")
    chosen_says(page, "#race-pace", "steps/s")
    assert page.input_value("#race-pace") == "5"
    assert page.inner_text("#race-pace option:checked") == "5 epochs/s · 125 steps/s"
    assert play_body(page, "#race-play") == {"speed": 125}
    page.click("#race-play")
    assert page.errors == []
