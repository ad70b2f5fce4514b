"""The page takes what it shows from the server: the problem's kind, the running optimizer's
update rule, the hyper-parameter controls of that optimizer, class colours for class indices."""

import pytest

from tests.browser.support_page import ready, walk_to

pytestmark = pytest.mark.browser


def test_the_worked_example_is_called_regression_as_the_engine_treats_it(open_page, api):
    page = open_page("/?preset=worked_example")
    session = ready(page)
    state = api.get(f"/api/sessions/{session['id']}").json()
    assert state["problem"] == {"kind": "regression", "classes": 0, "outputs": 2, "fused": False}
    assert page.text_content("#problem") == "regression, 2 outputs"
    assert page.errors == []


def test_three_classes_are_said_by_the_server_not_guessed_from_the_name(open_page):
    page = open_page("/?dataset=three_class")
    ready(page)
    assert page.evaluate("backprop.page.state.problem.classes") == 3
    assert page.text_content("#problem") == "3 classes"
    assert page.errors == []


def test_the_update_phase_shows_the_running_optimizers_rule(open_page, shot):
    page = open_page("/?optimizer=adam&learning_rate=0.01")
    ready(page)
    assert page.is_visible("#beta1") and page.is_visible("#epsilon")
    assert not page.is_visible("#momentum")
    walk_to(page, "update")
    phase = page.text_content("#inspector .phase")
    assert "adam" in phase and "for sgd" not in phase
    rule = page.inner_html("#inspector [data-field=rule]")
    assert "β" in page.text_content("#inspector [data-field=rule]") or "beta" in rule
    shot(page, "update-phase-adam")
    assert page.errors == []
