"""A race from the "race…" menu takes the class along, in Chromium: students follow a teacher's
session through /join and the code; the teacher starts a race from the menu; every student's
page shows the race's lanes in place of the session (a student who joins meanwhile too), still
on the session's watch page; the teacher ends it from the race page ("end · back to the
session"), or goes back to the session with the browser's ←, and every student is back on the
session with its join code, not "ended". No page has a console error."""

import httpx
import pytest

from tests.browser.support_page import SHOWN, join, ready

pytestmark = pytest.mark.browser

LANES = 3   # the menu's suggested learning rates: 0.003, 0.03, 0.3
LANES_DRAWN = """([id, n]) => window.backpropLessonRace && backpropLessonRace.id === id
  && backpropLessonRace.lanes.length === n
  && backpropLessonRace.lanes.every((l) => l.lane.frame && l.lane.heatmaps)"""


def start_race(teacher) -> str:
    """The race menu, its suggested values, "start the race": the teacher is on its page."""
    teacher.click("#race-menu summary")
    teacher.click("#race-start")
    teacher.wait_for_url("**/race/**")
    teacher.wait_for_function("backpropRace.lanes && backpropRace.lanes.length === 3")
    return teacher.evaluate("backpropRace.id")


def shows_race(student, race_id, session_id, code):
    student.wait_for_function(LANES_DRAWN, arg=[race_id, LANES], timeout=30000)
    assert student.is_visible("#slide-race") and not student.is_visible("#network")
    labels = student.eval_on_selector_all("#slide-race .lane-label",
                                          "e => e.map((x) => x.textContent)")
    assert labels == ["learning_rate = 0.003", "learning_rate = 0.03", "learning_rate = 0.3"]
    on_session(student, session_id, code)


def on_session(student, session_id, code):
    seen = student.evaluate(SHOWN)
    assert seen["path"] == f"/watch/{session_id}" and not seen["ended"], seen
    assert seen["code"] == code, seen


def back_on_session(student, session_id, code):
    student.wait_for_function("backpropLessonRace.id === null", timeout=30000)
    student.wait_for_function("document.getElementById('network').checkVisibility()")
    assert not student.is_visible("#slide-race")
    on_session(student, session_id, code)


def test_a_race_from_the_menu_takes_the_class_along_and_back(open_page, base_url, shot):
    teacher = open_page("/")
    session = ready(teacher)
    sid = session["id"]
    code = httpx.get(f"{base_url}/api/sessions/{sid}", timeout=10).json()["join_code"]
    students = [join(open_page, code, sid) for _ in range(2)]

    race_id = start_race(teacher)
    assert race_id != sid
    assert teacher.is_visible("#race-back")
    for student in students:
        shows_race(student, race_id, sid, code)
    students.append(join(open_page, code, sid))   # a late joiner is taken to the race too
    shows_race(students[-1], race_id, sid, code)
    teacher.click("#race-play")
    students[0].wait_for_function(
        "backpropLessonRace.lanes.every((l) => l.lane.heatmaps.step > 0)", timeout=30000)
    shot(students[0], "race-takes-class-student-390x844")
    shot(teacher, "race-takes-class-teacher-1280x720")

    teacher.click("#race-back")   # the race ends; the teacher is back on the session
    teacher.wait_for_url(f"**/?session={sid}**")
    assert ready(teacher)["id"] == sid
    for student in students:
        back_on_session(student, sid, code)
    assert httpx.get(f"{base_url}/api/races/{race_id}", timeout=10).status_code == 404
    shot(students[0], "race-takes-class-student-back-390x844")

    second = start_race(teacher)   # again; this time the browser's ← leaves the race
    for student in students:
        shows_race(student, second, sid, code)
    teacher.go_back()
    assert ready(teacher)["id"] == sid
    for student in students:
        back_on_session(student, sid, code)
    assert httpx.get(f"{base_url}/api/races/{second}", timeout=10).status_code == 404
    assert teacher.evaluate(SHOWN)["code"] == code

    for page in [teacher, *students]:
        assert page.errors == [], (page.url, page.errors)
