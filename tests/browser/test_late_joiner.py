"""A student who opens the watch link at step 40,000 sees the teacher's charts: the train and
test loss lines and the gradient size per layer from step 0, point for point. Also on a server
whose feeds are paced to their floor (app/loop/feeds.py): the teacher's charts, drawn from the
frames
it was sent and the `losses` of those it skipped, are the joiner's, drawn from the history."""

import math

import pytest

from app.config import Settings
from tests.browser.conftest import ServerThread
from tests.browser.support_page import ready

pytestmark = pytest.mark.browser

JOIN_AT = 40_000
SERIES = """() => [...backprop.lossSeries(), ...backprop.gradSeries()].map(s =>
    ({label: s.label, xs: Array.from(s.xs), ys: Array.from(s.ys)}))"""
PAUSED_AT = "(step) => backprop.page.frame.status === 'paused' && backprop.page.frame.step === step"


@pytest.fixture(scope="module", params=["every frame", "paced"])
def base_url(request, base_url):
    if request.param == "every frame":
        yield base_url
        return
    thread = ServerThread(settings=Settings(fanout_rate=1.0, create_burst=10_000))
    thread.start()
    thread.wait_started()
    yield f"http://127.0.0.1:{thread.port}"
    thread.server.should_exit = True
    thread.join(timeout=10)


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_a_late_joiner_draws_the_same_loss_and_gradient_charts_as_the_teacher(open_page, api, shot):
    teacher = open_page("/?pace=max")   # a long run, its charts thinned: not the teaching pace
    session = ready(teacher)
    teacher.click("#play")
    # Function forms only: the page's CSP forbids eval, which Playwright uses for expressions
    teacher.wait_for_function("(n) => backprop.page.frame.step >= n", arg=JOIN_AT,
                              timeout=60_000)
    # and enough frames for a chart worth comparing: a fast machine passes step 40,000 in 20
    teacher.wait_for_function("() => backprop.lossSeries()[1].xs.length > 40", timeout=60_000)
    student = open_page(f"/watch/{session['id']}")
    student.wait_for_function("() => window.backprop && backprop.page.frame && backprop.page.state")
    joined = student.evaluate("() => backprop.page.frame.step")
    assert joined >= JOIN_AT
    student.wait_for_function("(n) => backprop.page.frame.step > n", arg=joined)   # frames go on
    step = api.post(f"/api/sessions/{session['id']}/pause",
                    headers={"X-Control-Token": session["token"]}).json()["step"]
    for page in (teacher, student):
        page.wait_for_function(PAUSED_AT, arg=step)
    shot(teacher, "late-joiner-teacher")
    shot(student, "late-joiner-student")
    theirs, ours = teacher.evaluate(SERIES), student.evaluate(SERIES)
    batch_t, batch_s = theirs.pop(0), ours.pop(0)
    assert [s["label"] for s in ours] == [s["label"] for s in theirs] == ["train", "test", "W1",
                                                                         "W2", "W3"]
    for t, s in zip(theirs, ours, strict=True):
        assert s["xs"] == t["xs"], s["label"]
        assert s["xs"][0] == 0 and s["xs"][-1] == step and len(s["xs"]) > 30
        assert all(map(same, s["ys"], t["ys"])), s["label"]
        assert sum(math.isfinite(y) for y in s["ys"]) >= len(s["ys"]) - 1   # only step 0's W
    # The batch loss comes from the state's history: the whole run, at its own resolution.
    assert batch_s["xs"][0] == 0 and batch_s["xs"][-1] == batch_t["xs"][-1]
    assert teacher.errors == [] and student.errors == []
