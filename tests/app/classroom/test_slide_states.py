"""A slide is a state: whichever order a lesson's slides are shown in — forward, back, or
straight to one — each shows the state its actions make from the lesson's start, to the bit."""

import pytest

from app.config import Settings

BUNDLED = Settings().lessons_dir
# What a slide shows: everything the session's state says but who follows it.
UNSHOWN = {"followers", "speed"}


@pytest.fixture
def lesson_client(make_client):
    return make_client(lessons_dir=BUNDLED)


def present(client, name):
    created = client.post(f"/api/lessons/{name}/present")
    assert created.status_code == 201, created.text
    body = created.json()
    return body["id"], {"X-Control-Token": body["token"]}


def shown(client, session, lesson, slide):
    """Show the slide; the session's state as it then is, all but who follows it."""
    session_id, control = session
    answer = client.post(f"/api/sessions/{session_id}/lesson",
                         json={"lesson": lesson, "slide": slide}, headers=control)
    assert answer.status_code == 200, answer.text
    state = client.get(f"/api/sessions/{session_id}").json()
    return {k: v for k, v in state.items() if k not in UNSHOWN | {"id", "join_code",
                                                                   "watch_url"}}


def in_order(client, lesson, count):
    session = present(client, lesson)
    return [shown(client, session, lesson, n) for n in range(count)]


def test_every_order_of_visits_shows_each_worked_example_slide_as_in_order(lesson_client):
    states = in_order(lesson_client, "worked_example", 8)
    session = present(lesson_client, "worked_example")
    # back and forth, jumps both ways, and a slide shown twice in a row
    for n in (6, 5, 7, 2, 3, 3, 1, 7, 4, 0, 6):
        assert shown(lesson_client, session, "worked_example", n) == states[n], f"slide {n}"


def test_a_slide_reached_straight_in_a_new_session_replays_to_the_same_bits(lesson_client):
    states = in_order(lesson_client, "vanishing_sigmoid", 5)
    for n in (4, 3):   # each in a session that never showed the slides before it
        assert shown(lesson_client, present(lesson_client, "vanishing_sigmoid"),
                     "vanishing_sigmoid", n) == states[n], f"slide {n}"


def test_back_from_the_relu_slide_shows_the_sigmoid_network_again(lesson_client):
    session = present(lesson_client, "vanishing_sigmoid")
    first = [shown(lesson_client, session, "vanishing_sigmoid", n) for n in range(5)]
    assert first[4]["activations"][1] == "relu"
    back = shown(lesson_client, session, "vanishing_sigmoid", 3)
    assert back["activations"][:-1] == ["sigmoid"] * 6
    assert back["config"]["activation"] == "sigmoid"
    assert back == first[3]
    assert back["step"] < first[4]["step"]


def test_the_update_slide_shows_the_narrated_weights_after_the_thousand_steps_slide(
        lesson_client):
    session = present(lesson_client, "worked_example")
    for n in range(8):
        shown(lesson_client, session, "worked_example", n)
    update = shown(lesson_client, session, "worked_example", 6)   # ← from "a thousand steps"
    assert update["step"] == 1 and update["phase"]["name"] == "update"
    W = update["network"]["weights"]
    # w5+ = 0.40 - 0.5 · 0.082167041 and w1+ = 0.15 - 0.5 · 0.000438568, as narrated
    assert W[1][0][0] == pytest.approx(0.35891648, abs=5e-9)
    assert W[0][0][0] == pytest.approx(0.149780716, abs=5e-10)
    assert update["record"]["loss"] == pytest.approx(0.298371109, abs=5e-10)


def test_a_teachers_own_steps_on_a_slide_do_not_carry_into_the_next(lesson_client):
    session = present(lesson_client, "worked_example")
    states = [shown(lesson_client, session, "worked_example", n) for n in range(3)]
    session_id, control = session
    lesson_client.post(f"/api/sessions/{session_id}/step", json={"steps": 50}, headers=control)
    assert shown(lesson_client, session, "worked_example", 2) == states[2]


def test_followers_are_sent_the_slides_state(lesson_client):
    session = present(lesson_client, "vanishing_sigmoid")
    for n in range(5):
        shown(lesson_client, session, "vanishing_sigmoid", n)
    with lesson_client.websocket_connect(f"/api/sessions/{session[0]}/stream") as ws:
        shown(lesson_client, session, "vanishing_sigmoid", 3)
        while True:
            message = ws.receive_json()
            if message["type"] == "state" and message["activations"][1] == "sigmoid":
                break
        while (message := ws.receive_json())["type"] != "lesson":
            pass
        assert message["slide"] == 3


def test_the_loss_slide_names_the_narrations_e_before_the_update(lesson_client):
    session_id, control = present(lesson_client, "worked_example")
    url = f"/api/sessions/{session_id}/lesson"
    position = lesson_client.post(url, json={"lesson": "worked_example", "slide": 3},
                                  headers=control).json()
    assert position["loss"]["shown"] == "before" and position["loss"]["step"] == 1
    assert position["loss"]["value"] == pytest.approx(0.298371109, abs=5e-10)   # as narrated
    assert lesson_client.get(url).json()["loss"] == position["loss"]   # as late joiners get it
    slides = lesson_client.get("/api/lessons/worked_example").json()["slides"]
    assert [s["loss"] for s in slides] == [None] * 3 + ["before"] + [None] * 3 + ["after"]
