"""Every live control reaches the session through the one api.patch path (static/live.js): its
change is one PATCH /api/sessions/{id}/config with the ConfigPatch settings.js makes, and the
session's config (REST state) says so — no new session, the step count kept."""

import pytest

pytestmark = pytest.mark.browser

READY = (
    "() => window.backprop && backprop.page.frame && backprop.page.state && backprop.page.session"
)


def fill(selector: str, value: str):
    def act(page):
        page.fill(selector, value)
        page.press(selector, "Enter")   # commits the value: one "change", as a user typing
    return act


def select(selector: str, value: str):
    return lambda page: page.select_option(selector, value)


# (what the user does, the PATCH body it sends, what the REST state then says)
CHANGES = [
    (fill("#learning_rate", "0.25"), {"learning_rate": 0.25},
     lambda s: s["config"]["optimizer"]["learning_rate"] == 0.25),
    (select("#activation", "relu"), {"activation": "relu"},
     lambda s: s["config"]["activation"] == "relu"),
    (fill("#batch_size", "7"), {"batch_size": 7}, lambda s: s["config"]["batch_size"] == 7),
    (select("#optimizer", "momentum"), {"optimizer": {"name": "momentum", "learning_rate": 0.25,
                                                      "momentum": 0.9}},
     lambda s: s["config"]["optimizer"]["name"] == "momentum"),
    (fill("#momentum", "0.5"), {"optimizer": {"name": "momentum", "learning_rate": 0.25,
                                              "momentum": 0.5}},
     lambda s: s["config"]["optimizer"]["momentum"] == 0.5),
    (lambda page: page.uncheck("#train_biases"), {"train_biases": False},
     lambda s: s["config"]["train_biases"] is False),
    (select("#regularization", "l1"), {"regularization": {"name": "l1", "rate": 0.001}},
     lambda s: s["config"]["regularization"] == {"name": "l1", "rate": 0.001}),
    (fill("#reg_rate", "0.01"), {"regularization": {"name": "l1", "rate": 0.01}},
     lambda s: s["config"]["regularization"] == {"name": "l1", "rate": 0.01}),
    (select("#regularization", "none"), {"regularization": None, "regularization_off": True},
     lambda s: s["config"]["regularization"] is None),
    (select("#example", "2"), {"example": 2}, lambda s: s["example"] == 2),
]


def test_each_live_control_patches_the_session_it_controls(open_page, api):
    page = open_page("/")
    page.wait_for_function(READY, timeout=15000)
    session = page.evaluate("backprop.page.session")
    page.click("#step")
    page.wait_for_function("backprop.page.frame.step === 1")
    for act, body, holds in CHANGES:
        with page.expect_response(lambda r: r.url.endswith("/config")) as answer:
            act(page)
        request = answer.value.request
        assert request.method == "PATCH" and answer.value.status == 200, body
        assert request.headers["x-control-token"] == session["token"]
        assert request.post_data_json == body
        state = api.get(f"/api/sessions/{session['id']}").json()
        assert holds(state), (body, state["config"])
    assert page.evaluate("backprop.page.session.id") == session["id"]   # live: the same session
    assert state["step"] == 1
    assert page.errors == []


def test_a_control_that_cannot_reach_the_server_says_so_on_the_page(open_page):
    page = open_page("/")
    page.wait_for_function(READY, timeout=15000)
    page.route("**/config", lambda route: route.abort())
    page.fill("#learning_rate", "0.5")
    page.dispatch_event("#learning_rate", "change")
    page.wait_for_selector("#message:not([hidden])")
    assert "not answering" in page.inner_text("#message")
    assert page.locator(".control-error").count() == 0
