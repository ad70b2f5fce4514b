"""The `race` lesson action: its arguments checked by the race's own schema with file, line and
field named; a race slide starts a race the presentation owns and plays it, followers are told
which (the `lesson` message's `race`), and moving between slides never leaves a race behind."""

import time

import pytest
from support_lessons import one_problem
from support_stream import follow_until_lesson, present

RACING = """\
title: Racing
slides:
  - title: Start
    do:
      - preset: xor
  - title: Three step sizes
    do:
      - race: {vary: learning_rate, values: [0.2, 2, 20]}
  - title: Back to the session
    do:
      - step: 1
  - title: From a preset, slowly
    do:
      - race: {vary: activation, values: [tanh, relu], preset: spiral, speed: 50}
  - title: Hand-set weights
    do:
      - preset: worked_example
      - race: {vary: init, values: [he, xavier]}
  - title: A race, then a step that fails
    do:
      - race: {vary: learning_rate, values: [0.1, 1]}
      - step_to: {phase: forward, layer: 9}
"""


# --- the file: the race's own schema, named by file, line and field --------------------------

def race_problem(race: str) -> tuple[int, str, str]:
    return one_problem(f"""\
        title: T
        slides:
          - title: One
            do:
              - preset: xor
          - title: Two
            do:
              - race: {race}
        """)


@pytest.mark.parametrize("race, field, message", [
    ("{vary: learning_rate, values: [0.1, -1, 1]}", "values[1]", "greater than 0"),
    ("{vary: learning_rate, values: [0.1, fast]}", "values[1]", "valid number"),
    ("{vary: batch_size, values: [1, 2.5]}", "values[1]", "integer"),
    ("{vary: optimizer, values: [sgd, nesterov]}", "values[1]", "'sgd', 'momentum' or 'adam'"),
    ("{vary: learning_rate, values: [0.1]}", "values", "at least 2"),
    ("{vary: learning_rate, values: [1, 2, 3, 4, 5]}", "values", "at most 4"),
    ("{vary: learning_rate, values: [0.1, 0.1]}", "values", "each value once"),
    ("{vary: lr, values: [0.1, 1]}", "vary", "'learning_rate'"),
    ("{vary: learning_rate}", "values", "required"),
    ("{vary: learning_rate, values: [0.1, 1], speed: -1}", "speed", "greater than 0"),
    ("{vary: learning_rate, values: [0.1, 1], lanes: 2}", "lanes", "unknown field 'lanes'"),
    ("{vary: learning_rate, values: [0.1, 1], preset: nope}", "preset", "'xor'"),
    ("{vary: init, values: [he, xavier], preset: worked_example}", "",
     "sets its weights by hand"),
])
def test_a_broken_race_names_its_file_line_and_field(race, field, message):
    line, named, said = race_problem(race)
    assert line == 8
    assert named == "slides[1].do[0].race" + (f".{field}" if field[:1].isalpha() else field)
    assert message in said, said


def test_a_value_on_its_own_line_is_named_at_that_line():
    line, field, message = one_problem("""\
        title: T
        slides:
          - title: One
            do:
              - race:
                  vary: learning_rate
                  values:
                    - 0.1
                    - 0
        """)
    assert (line, field) == (9, "slides[0].do[0].race.values[1]")
    assert message == "Input should be greater than 0"


# --- presenting ----------------------------------------------------------------------------

@pytest.fixture
def racing(make_client, tmp_path):
    folder = tmp_path / "lessons"
    folder.mkdir()
    (folder / "racing.yaml").write_text(RACING)
    return make_client(lessons_dir=folder)


def move(client, session_id, control, slide):
    return client.post(f"/api/sessions/{session_id}/lesson",
                       json={"lesson": "racing", "slide": slide}, headers=control)


def shown(client, session_id, control, slide) -> dict:
    answer = move(client, session_id, control, slide)
    assert answer.status_code == 200, answer.text
    return answer.json()


def live(client) -> tuple[int, int]:
    """(live races, live sessions: lanes included)."""
    return len(client.app.state.races.races), len(client.app.state.store.sessions)


def race_of(client, position) -> dict:
    answer = client.get(f"/api/races/{position['race']['id']}")
    assert answer.status_code == 200, answer.text
    return answer.json()


def until_stepped(client, race_id, steps, seconds=120.0) -> dict:
    """The race once its lanes have taken `steps` steps (a bound only against a hang)."""
    deadline = time.monotonic() + seconds
    while True:
        race = client.get(f"/api/races/{race_id}").json()
        if race["step"] >= steps or time.monotonic() > deadline:
            return race
        time.sleep(0.05)


def test_a_race_slide_races_the_sessions_config_over_the_values_and_plays(racing):
    session_id, control = present(racing, "racing")
    config = racing.get(f"/api/sessions/{session_id}").json()["config"]
    position = shown(racing, session_id, control, 1)
    assert position["race"]["vary"] == "learning_rate"
    assert position["race"]["values"] == [0.2, 2.0, 20.0]
    assert position["race"]["watch_url"] == f"/race/{position['race']['id']}"
    race = race_of(racing, position)
    assert race["status"] == "playing" and race["speed"] is None
    rates = [lane["config"]["optimizer"]["learning_rate"] for lane in race["lanes"]]
    assert rates == [0.2, 2.0, 20.0]
    for lane in race["lanes"]:   # everything else is the session's, as the slide found it
        lane["config"]["optimizer"]["learning_rate"] = config["optimizer"]["learning_rate"]
        assert lane["config"] == config
    race = until_stepped(racing, race["id"], 20)
    assert race["step"] >= 20 and len({lane["step"] for lane in race["lanes"]}) == 1
    # the race's control token stays with the presentation
    assert racing.post(f"/api/races/{race['id']}/pause", headers=control).status_code == 403


def test_a_race_from_a_preset_at_a_speed(racing):
    session_id, control = present(racing, "racing")
    race = race_of(racing, shown(racing, session_id, control, 3))
    assert race["speed"] == 50.0 and race["status"] == "playing"
    assert [lane["config"]["activation"] for lane in race["lanes"]] == ["tanh", "relu"]
    assert {lane["config"]["dataset"] for lane in race["lanes"]} == {"spiral"}
    # the session itself stays as it was (xor): the race is beside it, not in it
    assert racing.get(f"/api/sessions/{session_id}").json()["config"]["dataset"] == "xor_table"


def test_followers_are_told_which_race_the_slide_shows_and_when_it_shows_none(racing):
    session_id, control = present(racing, "racing")
    stream = f"/api/sessions/{session_id}/stream"
    with racing.websocket_connect(stream) as follower:
        assert follow_until_lesson(follower, 0)["race"] is None
        position = shown(racing, session_id, control, 1)
        sent = follow_until_lesson(follower, 1)
        assert sent["race"] == position["race"] and sent["race"]["id"]
        assert racing.get(f"/api/sessions/{session_id}/lesson").json()["race"] == sent["race"]
        with racing.websocket_connect(stream) as late:   # joins late: told the race shown now
            assert follow_until_lesson(late, 1)["race"] == sent["race"]
        with racing.websocket_connect(f"/api/races/{sent['race']['id']}/stream") as watcher:
            first = watcher.receive_json()
            assert first["type"] == "race_state" and first["race"]["values"] == [0.2, 2.0, 20.0]
            assert len(first["lanes"]) == 3
        shown(racing, session_id, control, 2)
        assert follow_until_lesson(follower, 2)["race"] is None


def test_moving_back_and_forth_leaves_no_race_behind(racing):
    session_id, control = present(racing, "racing")
    assert live(racing) == (0, 1)
    first = shown(racing, session_id, control, 1)["race"]["id"]
    assert live(racing) == (1, 4)                  # the session and three lanes
    shown(racing, session_id, control, 2)          # leaving the slide ends its race
    assert live(racing) == (0, 1)
    assert racing.get(f"/api/races/{first}").status_code == 404
    again = shown(racing, session_id, control, 1)["race"]["id"]
    twice = shown(racing, session_id, control, 1)["race"]["id"]   # re-entered: replaced
    assert len({first, again, twice}) == 3 and live(racing) == (1, 4)
    assert racing.get(f"/api/races/{again}").status_code == 404
    shown(racing, session_id, control, 3)          # one race slide to another
    assert live(racing) == (1, 3)
    assert racing.delete(f"/api/sessions/{session_id}", headers=control).status_code == 204
    assert live(racing) == (0, 0)                  # the lesson's session ends: its race too


def test_a_slide_that_fails_after_its_race_leaves_no_race(racing):
    session_id, control = present(racing, "racing")
    shown(racing, session_id, control, 1)
    answer = move(racing, session_id, control, 5)
    assert answer.status_code == 422
    [problem] = answer.json()["detail"]
    assert (problem["line"], problem["field"]) == (22, "slides[5].do[1].step_to")
    assert live(racing) == (0, 1)


def test_a_race_the_sessions_config_cannot_make_is_named_at_its_line(racing):
    session_id, control = present(racing, "racing")
    answer = move(racing, session_id, control, 4)
    assert answer.status_code == 422
    [problem] = answer.json()["detail"]
    assert (problem["file"], problem["line"], problem["field"]) == (
        "racing.yaml", 18, "slides[4].do[1].race")
    assert "sets its weights by hand" in problem["msg"]
    assert live(racing) == (0, 1)
