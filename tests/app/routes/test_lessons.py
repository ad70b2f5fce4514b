"""Lessons over HTTP: listing and reading them, broken ones named by file, line and field, a
slide's actions driving the session as they say, and followers told which slide is shown."""

import pytest
from support_stream import follow_until_lesson, present

from app.config import LESSONS
from app.schemas.presets import PRESETS

BUNDLED = LESSONS

BROKEN = """\
title: Broken
slides:
  - title: One
    do:
      - play_until: {epoch: 0}
"""

RUNNABLE = """\
title: Runnable
slides:
  - title: Start
    do:
      - preset: xor
  - title: Train
    do:
      - play_until: {epoch: 40}
  - title: Forward
    do:
      - step_to: {phase: forward, layer: 2}
  - title: Back
    do:
      - step_to: {phase: backward, layer: 1}
      - highlight: {edge: {layer: 1, i: 1, j: 0}}
  - title: Low loss
    do:
      - play_until: {loss: 0.2, within: 50000}
  - title: Relu
    do:
      - patch: {activation: relu}
  - title: Another network
    do:
      - preset: spiral
  - title: Too deep
    do:
      - step_to: {phase: forward, layer: 9}
  - title: No such node
    do:
      - highlight: {node: {layer: 1, j: 12}}
"""

NO_SUCH_NODE = """\
title: A highlight of a node the network has not
slides:
  - title: Start
    do:
      - preset: xor
  - title: No such node
    do:
      - highlight: {node: {layer: 1, j: 12}}
"""

TOO_WIDE = """\
title: Over the server's limits
slides:
  - title: Fine
    do:
      - preset: xor
  - title: Too wide
    do:
      - config: {dataset: circle, hidden: [40]}
"""


@pytest.fixture
def lessons_dir(tmp_path):
    folder = tmp_path / "lessons"
    folder.mkdir()
    for path in BUNDLED.glob("*.yaml"):
        (folder / path.name).write_text(path.read_text())
    (folder / "broken.yaml").write_text(BROKEN)
    (folder / "runnable.yaml").write_text(RUNNABLE)
    (folder / "too_wide.yaml").write_text(TOO_WIDE)
    (folder / "no_such_node.yaml").write_text(NO_SUCH_NODE)
    return folder


@pytest.fixture
def lesson_client(make_client, lessons_dir):
    return make_client(lessons_dir=lessons_dir)


def show(client, session_id, control, slide, lesson="runnable"):
    answer = client.post(f"/api/sessions/{session_id}/lesson",
                         json={"lesson": lesson, "slide": slide}, headers=control)
    assert answer.status_code == 200, answer.text
    return client.get(f"/api/sessions/{session_id}").json()


def test_the_list_has_every_lesson_and_the_errors_of_a_broken_one(lesson_client):
    listed = {e["name"]: e for e in lesson_client.get("/api/lessons").json()}
    assert set(PRESETS) | {"broken", "runnable", "too_wide", "no_such_node"} == set(listed)
    assert listed["xor"]["errors"] == [] and listed["xor"]["slides"] >= 4
    assert listed["broken"]["title"] is None
    assert listed["broken"]["errors"] == [{
        "file": "broken.yaml", "line": 5, "field": "slides[0].do[0].play_until.epoch",
        "message": "Input should be greater than or equal to 1",
    }]


def test_a_broken_lesson_is_a_422_naming_file_line_and_field(lesson_client):
    for url in ("/api/lessons/broken", "/api/lessons/broken/present"):
        answer = (lesson_client.get if url.endswith("broken") else lesson_client.post)(url)
        assert answer.status_code == 422
        detail = answer.json()["detail"][0]
        assert (detail["file"], detail["line"], detail["field"]) == (
            "broken.yaml", 5, "slides[0].do[0].play_until.epoch")
        assert detail["loc"] == ["lesson", "broken.yaml:5: slides[0].do[0].play_until.epoch"]


def test_a_broken_lessons_page_shows_its_errors_not_a_blank_page(lesson_client):
    page = lesson_client.get("/lesson/broken")
    assert page.status_code == 422
    assert "broken.yaml:5" in page.text and "slides[0].do[0].play_until.epoch" in page.text
    listing = lesson_client.get("/lessons").text
    assert "broken.yaml:5" in listing and 'href="/lesson/xor"' in listing


def test_an_unknown_lesson_is_a_404(lesson_client):
    assert lesson_client.get("/api/lessons/nope").status_code == 404
    assert lesson_client.get("/api/lessons/..%2Fsecret").status_code == 404
    assert lesson_client.get("/lesson/nope").status_code == 404


def test_a_bundled_lesson_reads_as_slides_with_html_narration(lesson_client):
    lesson = lesson_client.get("/api/lessons/worked_example").json()
    assert lesson["slides"][0]["actions"] == [{"preset": "worked_example"}]
    assert '<span class="math display">' in lesson["slides"][0]["html"]
    assert lesson["slides"][4]["highlight"] == {"kind": "W", "layer": 2, "i": 0, "j": 0}


def test_presenting_opens_the_lessons_session_at_its_first_slide(lesson_client):
    session_id, control = present(lesson_client)
    state = lesson_client.get(f"/api/sessions/{session_id}").json()
    assert state["config"]["dataset"] == "xor_table" and state["step"] == 0
    position = lesson_client.get(f"/api/sessions/{session_id}/lesson").json()
    assert position == {"type": "lesson", "lesson": "runnable", "title": "Runnable", "slide": 0,
                        "count": 9, "highlight": None, "race": None, "loss": None}


def test_play_until_an_epoch_reaches_it(lesson_client):
    session_id, control = present(lesson_client)
    state = show(lesson_client, session_id, control, 1)
    assert state["epoch"] >= 40 and state["status"] == "paused"
    again = show(lesson_client, session_id, control, 1)   # there already: nothing more
    assert again["step"] == state["step"]


def test_play_until_a_loss_goes_below_it(lesson_client):
    session_id, control = present(lesson_client)
    state = show(lesson_client, session_id, control, 4)
    assert state["metrics"]["train_loss"] < 0.2


def test_step_to_walks_the_phases_of_one_step_both_ways(lesson_client):
    session_id, control = present(lesson_client)
    forward = show(lesson_client, session_id, control, 2)
    assert forward["phase"]["name"] == "forward" and forward["phase"]["layer"] == 2
    back = show(lesson_client, session_id, control, 3)
    assert (back["phase"]["name"], back["phase"]["layer"]) == ("backward", 1)
    forward_again = show(lesson_client, session_id, control, 2)   # ← to the slide before
    assert forward_again["phase"]["layer"] == 2
    assert forward_again["step"] == back["step"] == forward["step"] > 1   # slide 1 trained


def test_patch_changes_the_session_live_and_preset_starts_it_again_in_place(lesson_client):
    session_id, control = present(lesson_client)
    show(lesson_client, session_id, control, 1)
    relu = show(lesson_client, session_id, control, 5)
    assert relu["config"]["activation"] == "relu" and relu["step"] > 0
    spiral = show(lesson_client, session_id, control, 6)
    assert spiral["id"] == session_id and spiral["config"]["dataset"] == "spiral"
    assert spiral["step"] == 0 and spiral["layers"][1:-1] == [8, 8, 8, 8, 8]


@pytest.mark.parametrize("name, slide, field, written, message", [
    ("runnable", 7, "slides[7].do[0].step_to", "step_to: {phase: forward, layer: 9}",
     "layer: this network has layers 1..6, not 9"),   # slide 6 opened the spiral's network
    # slide 8's state is made through slide 7's, which cannot be: that one is named
    ("runnable", 8, "slides[7].do[0].step_to", "step_to: {phase: forward, layer: 9}",
     "layer: this network has layers 1..6, not 9"),
    ("no_such_node", 1, "slides[1].do[0].highlight", "highlight: {node: {layer: 1, j: 12}}",
     "node.j: layer 1 has nodes 0..1, not 12"),
])
def test_an_action_that_does_not_fit_the_network_names_its_line(lesson_client, name, slide,
                                                                  field, written, message):
    session_id, control = present(lesson_client, name)
    answer = lesson_client.post(f"/api/sessions/{session_id}/lesson",
                                json={"lesson": name, "slide": slide}, headers=control)
    assert answer.status_code == 422
    detail = answer.json()["detail"][0]
    assert (detail["file"], detail["field"], detail["msg"]) == (f"{name}.yaml", field, message)
    text = RUNNABLE if name == "runnable" else NO_SUCH_NODE
    assert detail["line"] == text.splitlines().index(f"      - {written}") + 1


def test_a_config_over_the_servers_limits_is_named_at_its_line_and_the_session_stays(
        lesson_client):
    session_id, control = present(lesson_client, "too_wide")
    answer = lesson_client.post(f"/api/sessions/{session_id}/lesson",
                                json={"lesson": "too_wide", "slide": 1}, headers=control)
    assert answer.status_code == 422
    detail = answer.json()["detail"][0]
    assert (detail["file"], detail["line"], detail["field"]) == (
        "too_wide.yaml", 8, "slides[1].do[0].config")
    assert "hidden" in detail["msg"] and "16" in detail["msg"]
    state = lesson_client.get(f"/api/sessions/{session_id}").json()
    assert state["config"]["dataset"] == "xor_table"


def test_moving_slides_needs_the_control_token_and_a_slide_that_exists(lesson_client):
    session_id, control = present(lesson_client)
    url = f"/api/sessions/{session_id}/lesson"
    assert lesson_client.post(url, json={"lesson": "runnable", "slide": 1}).status_code == 403
    past = lesson_client.post(url, json={"lesson": "runnable", "slide": 9}, headers=control)
    assert past.status_code == 422 and "slides 0..8" in past.json()["detail"][0]["msg"]
    missing = lesson_client.post(url, json={"lesson": "no_such_lesson", "slide": 0},
                                 headers=control)
    # the session in the path exists: the body's lesson name is what is wrong
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "lesson"]


def test_followers_are_sent_the_slide_and_a_late_one_the_slide_shown(lesson_client):
    session_id, control = present(lesson_client)
    stream = f"/api/sessions/{session_id}/stream"
    with lesson_client.websocket_connect(stream) as early:
        assert follow_until_lesson(early, 0)["lesson"] == "runnable"
        show(lesson_client, session_id, control, 3)
        sent = follow_until_lesson(early, 3)
        assert sent["highlight"] == {"kind": "W", "layer": 1, "i": 1, "j": 0}
        assert sent["count"] == 9 and sent["title"] == "Runnable"
        with lesson_client.websocket_connect(stream) as late:
            first = [late.receive_json() for _ in range(4)]
            assert [m["type"] for m in first] == ["state", "lesson", "heatmaps", "frame"]
            assert first[1]["slide"] == 3


def test_a_preset_slide_sends_followers_the_new_network_as_a_state(lesson_client):
    session_id, control = present(lesson_client)
    with lesson_client.websocket_connect(f"/api/sessions/{session_id}/stream") as ws:
        follow_until_lesson(ws, 0)
        show(lesson_client, session_id, control, 6)
        while True:
            message = ws.receive_json()
            if message["type"] == "state" and message["config"]["dataset"] == "spiral":
                break
        assert message["id"] == session_id and message["step"] == 0
        assert follow_until_lesson(ws, 6)["slide"] == 6
