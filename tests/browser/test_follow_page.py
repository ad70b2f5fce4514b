"""The classroom in headless Chromium: followers, presets, save links, projector mode, exports."""

import time
from urllib.parse import urlsplit

import pytest

from tests.browser.support_page import click_edge, ready, stepped_projector

pytestmark = pytest.mark.browser

CONTROLS = ["#play", "#step", "#reset", "#phase-next", "#phase-prev", "#learning_rate",
            "#add-layer", "#remove-layer", "#regenerate", "#save"]


def within(seconds, check, what):
    """Poll `check` until it is true; fail if that takes `seconds` or more."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if check():
            return time.monotonic() - start
        time.sleep(0.02)
    pytest.fail(f"{what} took {seconds} s or more")


def values(page, selector):
    """The float64 values behind the numbers shown in an equation."""
    return page.eval_on_selector_all(f"{selector} .num", "e => e.map(x => +x.dataset.value)")


def teacher_and_follower(open_page, path="/?preset=worked_example"):
    teacher = open_page(path)
    session = ready(teacher)
    follower = open_page(f"/watch/{session['id']}", 390, 844)
    follower.wait_for_function("window.backprop && backprop.page.frame && backprop.page.state")
    return teacher, session, follower


def test_a_follower_sees_the_teachers_step_and_phase_within_a_second(open_page, api, shot):
    teacher, session, follower = teacher_and_follower(open_page)
    teacher.keyboard.press("s")
    within(1.0, lambda: follower.inner_text("#step-count") == "1", "the follower seeing step 1")
    headers = {"X-Control-Token": session["token"]}
    api.post(f"/api/sessions/{session['id']}/step", json={"steps": 2}, headers=headers)
    within(1.0, lambda: follower.inner_text("#step-count") == "3", "the follower seeing step 3")
    heading = "#inspector .phase h3"
    for name in ["forward layer 1", "forward layer 2", "loss"]:
        teacher.keyboard.press("ArrowRight")
        teacher.wait_for_selector(f"{heading}:has-text('{name}')")
        within(1.0, lambda n=name: n in (follower.text_content(heading) or ""),
               f"the follower's phase panel showing {name}")
    state = api.get(f"/api/sessions/{session['id']}").json()
    assert values(follower, "[data-field=loss]") == [state["record"]["loss"]]
    shot(follower, "classroom-follower-phase-390x844")
    assert follower.errors == [] and teacher.errors == []


def test_a_follower_has_no_controls_and_its_control_requests_get_403(open_page, api):
    teacher, session, follower = teacher_and_follower(open_page)
    for selector in CONTROLS:
        assert follower.locator(selector).count() == 0, selector
    assert follower.is_visible("#copy")
    statuses = follower.evaluate(
        """async (id) => {
          const post = (path, body) => fetch(`/api/sessions/${id}/${path}`, {method: 'POST',
            headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
          const answers = [await post('step', {steps: 1}), await post('play', {speed: null}),
            await post('phase', {direction: 'next'}), await post('reset', {}),
            await post('save', {}),
            await fetch(`/api/sessions/${id}/config`, {method: 'PATCH',
              headers: {'Content-Type': 'application/json'}, body: '{"learning_rate": 9}'})];
          return answers.map(a => a.status);
        }""",
        session["id"],
    )
    assert statuses == [403] * 6
    follower.keyboard.press("s")
    follower.keyboard.press("ArrowRight")
    follower.wait_for_timeout(300)
    state = api.get(f"/api/sessions/{session['id']}").json()
    assert state["step"] == 0 and state["phase"] is None
    assert state["config"]["optimizer"]["learning_rate"] == 0.5


def test_the_worked_example_preset_opens_from_the_menu_with_its_hand_set_weights(open_page, api):
    page = open_page("/")
    first = ready(page)
    page.click("#presets summary")
    page.wait_for_selector("[data-preset=worked_example]:has-text('2-2-2 worked example')")
    page.click("[data-preset=worked_example]")
    page.wait_for_function("backprop.page.state && backprop.page.state.config.dataset === 'custom'")
    assert page.evaluate("backprop.page.session") == first   # the class's session, rebuilt
    page.wait_for_url("**/?preset=worked_example")
    session = page.evaluate("backprop.page.session")
    state = api.get(f"/api/sessions/{session['id']}").json()
    assert state["network"]["weights"] == [[[0.15, 0.25], [0.2, 0.3]], [[0.4, 0.5], [0.45, 0.55]]]
    click_edge(page, 1, 0, 0)
    page.wait_for_selector("#inspector h3:has-text('Edge')")
    assert page.input_value("#edit-value") == "0.15"
    page.keyboard.press("ArrowRight")
    page.wait_for_selector("#inspector [data-field=a]")
    # net_h1 = .15·.05 + .20·.10 + .35 = .3775, net_h2 = .25·.05 + .30·.10 + .35 = .3925
    assert values(page, "[data-field=a]") == pytest.approx([0.3775, 0.3925], abs=1e-12)
    assert page.errors == []


def test_a_preset_url_opens_the_preset_and_keeps_live_changes(open_page, api):
    page = open_page("/?preset=xor&learning_rate=0.7")
    session = ready(page)
    page.wait_for_function("backprop.page.state.config.dataset === 'xor_table'")
    page.wait_for_timeout(300)
    state = api.get(f"/api/sessions/{session['id']}").json()
    assert state["config"]["optimizer"]["learning_rate"] == 0.7
    assert "preset=xor" in page.url and "hidden" not in page.url


def test_save_gives_a_short_link_that_opens_exactly_the_saved_session(open_page, api, shot):
    teacher = open_page("/?preset=worked_example")
    session = ready(teacher)
    for _ in range(3):
        teacher.keyboard.press("s")
    teacher.wait_for_function("backprop.page.frame.step === 3")
    teacher.click("#share-toggle")
    teacher.click("#save")
    teacher.wait_for_selector("#saved-url")
    link = teacher.input_value("#saved-url")
    assert "/s/" in link
    shot(teacher, "classroom-saved-link")
    saved = api.get(f"/api/sessions/{session['id']}").json()
    student = open_page(urlsplit(link).path)
    opened = ready(student)
    assert opened["id"] != session["id"]
    student.wait_for_function("location.search.startsWith('?session=')")
    state = api.get(f"/api/sessions/{opened['id']}").json()
    assert state["network"] == saved["network"] and state["step"] == 3
    history = api.get(f"/api/sessions/{opened['id']}/history.json").json()
    assert history == api.get(f"/api/sessions/{session['id']}/history.json").json()
    student.reload()
    assert ready(student)["id"] == opened["id"]           # the token survives a reload of the tab
    assert student.errors == []


def test_make_my_own_copy_continues_in_a_session_of_ones_own(open_page, api):
    teacher, session, follower = teacher_and_follower(open_page)
    teacher.keyboard.press("s")
    follower.wait_for_function("document.getElementById('step-count').textContent === '1'")
    follower.click("#copy")
    follower.wait_for_url("**/?session=*")
    own = ready(follower)
    assert own["id"] != session["id"] and own["token"]
    assert "token" not in follower.url
    follower.click("#step")
    follower.wait_for_function("backprop.page.frame.step === 2")
    assert api.get(f"/api/sessions/{session['id']}").json()["step"] == 1
    assert follower.locator("#play").count() == 1
    assert follower.errors == []


def test_the_join_box_leads_to_the_watch_page_and_a_bad_code_says_so(open_page, api):
    teacher = open_page("/")
    session = ready(teacher)
    code = api.get(f"/api/sessions/{session['id']}").json()["join_code"]
    student = open_page("/")
    ready(student)
    student.fill("#join-input", code.lower())
    student.press("#join-input", "Enter")
    student.wait_for_url(f"**/watch/{session['id']}")
    student.wait_for_function("window.backprop && backprop.page.frame")
    student.goto(student.url.split("/watch/")[0] + "/join/NOPE99")
    assert "NOPE99" in student.inner_text("#notfound-message")


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 720)])
def test_projector_mode_is_large_and_folds_the_controls(open_page, shot, size):
    width, height = size
    page = stepped_projector(open_page, "/?preset=worked_example&projector=1", width, height)
    shot(page, f"projector-{width}x{height}")
    px = page.evaluate("""() => ['body', '#inspector .eq', '#inspector .phase h3'].map(s =>
        parseFloat(getComputedStyle(document.querySelector(s)).fontSize))""")
    assert px[0] >= 13 * 1.5 and px[1] >= 14 * 1.5 and px[2] >= 13 * 1.5
    for hidden in ["#learning_rate", "#datasets", "#add-layer", "#reset"]:
        assert not page.is_visible(hidden), hidden
    for shown in ["#play", "#step", "#phase-prev", "#phase-next", "#share-toggle"]:
        assert page.is_visible(shown), shown
    box = page.locator("#inspector").bounding_box()
    assert box["x"] + box["width"] <= width and box["y"] + box["height"] <= height
    page.click("#share-toggle")
    page.wait_for_function("(document.getElementById('qr') || {}).naturalWidth > 0")
    shot(page, f"projector-share-{width}x{height}")
    qr = page.locator("#qr").bounding_box()
    assert qr["width"] >= 0.3 * height and qr["y"] + qr["height"] <= height
    assert page.errors == []


def test_exports_give_the_history_and_pngs_of_the_canvases(open_page, api):
    page = open_page("/")
    session = ready(page)
    page.click("#step")
    page.wait_for_function("backprop.page.frame.step === 1")
    page.click("#share-toggle")
    href = page.get_attribute("#export-csv", "href")
    assert href == f"/api/sessions/{session['id']}/history.csv"
    assert api.get(href).text.startswith("step,loss")
    pngs = [("#png-network", "network-step-1.png"), ("#png-plane", "output-step-1.png")]
    for button, name in pngs:
        with page.expect_download() as info:
            page.click(button)
        download = info.value
        assert download.suggested_filename == name
        with open(download.path(), "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
