"""A whole lecture in Chromium, as issue 19 tells it: `python -m app --lecture` on a free port,
three students who open the address it printed (on loopback: tests send traffic nowhere else)
and type the code, and a teacher who changes the data set, adds a layer, reloads the page,
presents a lesson, goes three slides on and two back, starts a slide's race, and undoes a
reset. After every move every student is on the teacher's session, at the teacher's step and
slide, and no page has a console error. The students' pages end as screenshots."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from app.classroom.reach import lan_addresses
from tests.browser.conftest import ARTIFACTS, open_in
from tests.browser.support_page import SHOWN, ready
from tests.cluster.cluster_servers import free_port

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
PRINTED = re.compile(r"Students join at (http://[^\s]+/join)")
SETTLE_SECONDS = 20   # a move's effect reaches every page within this (a loaded machine)
STUDENTS = 3
RACE_SLIDE = 7        # lessons/xor.yaml: "How big a step? Three learning rates race"


@pytest.fixture
def lecture(tmp_path):
    """The lecture command as a teacher runs it; yields (its loopback URL, what it printed)."""
    port = free_port()
    log = tmp_path / "server.log"
    env = {**os.environ, "BACKPROP_DATA_DIR": str(tmp_path), "BACKPROP_WORKERS": "1"}
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "app", "--lecture", "--port", str(port)],
                                  cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log.read_text()
            try:
                if httpx.get(url + "/join", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield url, log.read_text()
    finally:
        server.terminate()
        server.wait(timeout=20)


def settled(check, what):
    """Poll `check` (a function answering None when fine, else what is wrong) until it is fine."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while (wrong := check()) is not None:
        if time.monotonic() > deadline:
            pytest.fail(f"after {what}: {wrong}")
        time.sleep(0.1)


def check_class(teacher, students, session, code, what):
    """Every student on the teacher's session, showing its step, slide and race; no errors."""
    def wrong():
        want = teacher.evaluate(SHOWN)
        if want["code"] != code or want["step"] is None:
            return f"the teacher's page shows {want}"
        for n, student in enumerate(students):
            seen = student.evaluate(SHOWN)
            if seen["path"] != f"/watch/{session['id']}" or seen["ended"]:
                return f"student {n} is at {seen['path']}, ended: {seen['ended']}"
            for key in ("code", "step", "layers", "slide", "race"):
                if seen[key] != want[key]:
                    return f"student {n} shows {key} {seen[key]!r}, the teacher {want[key]!r}"
        return None

    settled(wrong, what)
    for page in [teacher, *students]:
        assert page.errors == [], (what, page.url, page.errors)


def slide_to(teacher, index):
    teacher.wait_for_function(f"document.getElementById('slide').dataset.slide === '{index}'"
                              " && !document.getElementById('slide').classList.contains('busy')",
                              timeout=30000)


def test_a_whole_lecture_keeps_every_student_on_the_teachers_session(lecture, browser):
    url, printed = lecture
    found = PRINTED.search(printed)
    assert found, printed
    printed_url = urlsplit(found.group(1))
    assert printed_url.hostname in lan_addresses(), printed   # one of this machine's addresses
    assert printed_url.path == "/join"

    def opened(path, width=1280, height=720):
        return open_in(browser, url + path, width, height)

    teacher = opened("/")
    session = ready(teacher)
    code = httpx.get(f"{url}/api/sessions/{session['id']}", timeout=10).json()["join_code"]

    students = []
    for n in range(STUDENTS):   # the printed address's path, on loopback; the code typed in
        student = opened(printed_url.path, 390, 844)
        student.fill("#join-code-input", code.lower() if n % 2 else code)
        student.press("#join-code-input", "Enter")
        student.wait_for_url(f"**/watch/{session['id']}")
        students.append(student)
    check_class(teacher, students, session, code, "joining")

    teacher.click("[data-dataset=xor]")
    teacher.wait_for_function("backprop.page.state.config.dataset === 'xor'")
    teacher.click("#step")
    check_class(teacher, students, session, code, "another data set and a step")

    teacher.click("#add-layer")
    teacher.wait_for_function("backprop.page.state.layers.length === 5")
    check_class(teacher, students, session, code, "+ layer")

    teacher.reload()
    assert ready(teacher) == session
    check_class(teacher, students, session, code, "the teacher's reload")

    teacher.goto(f"{url}/lesson/xor")
    assert ready(teacher) == session
    slide_to(teacher, 0)
    check_class(teacher, students, session, code, "presenting lessons/xor.yaml")
    for index in (1, 2, 3, 2, 1):   # three slides on, two back
        teacher.click(".slide-next" if index > int(teacher.evaluate(SHOWN)["slide"])
                      else ".slide-prev")
        slide_to(teacher, index)
        check_class(teacher, students, session, code, f"going to slide {index}")

    for index in range(2, RACE_SLIDE + 1):
        teacher.click(".slide-next")
        slide_to(teacher, index)
    teacher.wait_for_function("window.backpropLessonRace.id !== null")
    check_class(teacher, students, session, code, "the slide's race")
    ARTIFACTS.mkdir(exist_ok=True)
    students[0].screenshot(path=str(ARTIFACTS / "journey-student-0-race-390x844.png"))

    teacher.click(".slide-prev")   # the race ends with its slide; everyone is back
    slide_to(teacher, RACE_SLIDE - 1)
    step = teacher.evaluate("backprop.page.frame.step")
    assert step > 0
    teacher.click("#reset")
    teacher.wait_for_function("backprop.page.frame.step === 0")
    check_class(teacher, students, session, code, "reset")
    teacher.keyboard.press("Control+z")
    teacher.wait_for_function(f"backprop.page.frame.step === {step}")
    check_class(teacher, students, session, code, "undoing the reset")

    for n, student in enumerate(students):
        student.screenshot(path=str(ARTIFACTS / f"journey-student-{n}-390x844.png"))
    teacher.screenshot(path=str(ARTIFACTS / "journey-teacher-1280x720.png"))
    for page in [teacher, *students]:
        page.context.close()
