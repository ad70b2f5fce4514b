"""A saved link (/s/<code>) opened on the teacher's page goes on in the teacher's own session, in
Chromium: a student who follows it stays (same join code, no "ended") and is shown the saved
session's step and network; the teacher's Ctrl+Z takes it back."""

import httpx
import pytest

from tests.browser.support_page import SHOWN, join, ready

pytestmark = pytest.mark.browser


def test_a_saved_link_opens_in_the_teachers_session_and_the_class_stays(open_page, base_url):
    with httpx.Client(base_url=base_url, timeout=10) as api:
        other = api.post("/api/sessions", json={"dataset": "xor", "hidden": [3]}).json()
        api.post(f"/api/sessions/{other['id']}/step", json={"steps": 42},
                 headers={"X-Control-Token": other["token"]})
        code = api.post(f"/api/sessions/{other['id']}/save",
                        headers={"X-Control-Token": other["token"]}).json()["code"]
        teacher = open_page("/")
        session = ready(teacher)
        join_code = api.get(f"/api/sessions/{session['id']}").json()["join_code"]
    student = join(open_page, join_code, session["id"])

    teacher.goto(f"{base_url}/s/{code}")
    assert ready(teacher)["id"] == session["id"]
    for page in (teacher, student):
        page.wait_for_function("backprop.page.frame.step === 42 "
                               "&& backprop.page.state.layers.join() === '2,3,1'", timeout=20000)
        seen = page.evaluate(SHOWN)
        assert seen["code"] == join_code and not seen["ended"], seen
    assert student.evaluate("location.pathname") == f"/watch/{session['id']}"

    teacher.keyboard.press("Control+z")   # back to the teacher's own network, the class with it
    student.wait_for_function("backprop.page.state.layers.join() === '2,4,2,1'", timeout=20000)
    for page in (teacher, student):
        assert page.errors == [], (page.url, page.errors)
