"""A race started from a session (RaceConfig.from_session) takes the session's followers along:
a `race` message on the session's stream names it, a follower who joins meanwhile gets it
too, and when the race ends (deleted, a lane expired) `race` null brings them back, still
following the session."""

import pytest
from support_races import BASE, TOKEN, new_race

VARY = {"learning_rate": [0.1, 1.0]}


def follow_until_race(websocket) -> dict:
    """The next `race` message of a session's stream (its state, frames and heatmaps skipped)."""
    while True:
        message = websocket.receive_json()
        assert message["type"] != "end", message
        if message["type"] == "race":
            return message


def start_from(client, session_id, token, **body):
    return new_race(client, config=BASE, vary=VARY,
                    from_session={"id": session_id, "token": token}, **body)


def test_a_session_s_followers_are_taken_to_its_race_and_back_when_it_ends(client, new_session):
    session_id, control, _ = new_session(**BASE)
    stream = f"/api/sessions/{session_id}/stream"
    with client.websocket_connect(stream) as early:
        race_id, race_control, made = start_from(client, session_id, control[TOKEN])
        assert made["state"]["session"] == session_id
        taken = follow_until_race(early)["race"]
        assert taken == {"id": race_id, "watch_url": f"/race/{race_id}", "vary": "learning_rate",
                         "values": [0.1, 1.0]}
        with client.websocket_connect(stream) as late:   # joins while the race runs
            first = [late.receive_json() for _ in range(4)]
            assert [m["type"] for m in first] == ["state", "race", "heatmaps", "frame"]
            assert first[1]["race"] == taken
        assert client.delete(f"/api/races/{race_id}", headers=race_control).status_code == 204
        assert follow_until_race(early)["race"] is None   # back: the stream goes on
        assert client.post(f"/api/sessions/{session_id}/step", json={"steps": 1},
                           headers=control).status_code == 200
        while early.receive_json()["type"] != "frame":
            pass
    with client.websocket_connect(stream) as after:   # nothing of the race is left over
        assert [after.receive_json()["type"] for _ in range(3)] == ["state", "heatmaps", "frame"]


def test_a_race_whose_lane_expired_brings_the_followers_back(client, new_session):
    session_id, control, _ = new_session(**BASE)
    with client.websocket_connect(f"/api/sessions/{session_id}/stream") as ws:
        _, _, made = start_from(client, session_id, control[TOKEN])
        assert follow_until_race(ws)["race"] is not None
        client.app.state.store.remove(made["state"]["lanes"][0]["id"])
        assert follow_until_race(ws)["race"] is None


def test_a_race_started_again_is_the_one_shown_when_the_first_ends(client, new_session):
    session_id, control, _ = new_session(**BASE)
    with client.websocket_connect(f"/api/sessions/{session_id}/stream") as ws:
        first, first_control, _ = start_from(client, session_id, control[TOKEN])
        second, _, _ = start_from(client, session_id, control[TOKEN])
        assert follow_until_race(ws)["race"]["id"] == first
        assert follow_until_race(ws)["race"]["id"] == second
        client.delete(f"/api/races/{first}", headers=first_control)
        client.post(f"/api/sessions/{session_id}/step", json={"steps": 1}, headers=control)
        while (message := ws.receive_json())["type"] != "frame":
            assert message["type"] != "race", message   # the second race still shows


def test_a_race_without_a_session_tells_no_session(client):
    race_id, _, made = new_race(client, config=BASE, vary=VARY)
    assert made["state"]["session"] is None
    assert client.app.state.races.escort.away == {}


@pytest.mark.parametrize("source, status, words", [
    ({"id": "nope", "token": "t"}, 422, "no session 'nope'"),
    ({"id": None, "token": "wrong"}, 403, "not that session's control token"),
    ({"id": None}, 422, "token"),
    (None, 422, "leave it out rather than null"),
])
def test_a_bad_source_session_is_refused_and_starts_no_race(client, new_session, source, status,
                                                           words):
    session_id, _, _ = new_session(**BASE)
    if source is not None and source["id"] is None:
        source = {**source, "id": session_id}
    answer = client.post("/api/races", json={"config": BASE, "vary": VARY,
                                             "from_session": source})
    assert answer.status_code == status, answer.text
    assert words in answer.text
    assert client.app.state.races.races == {}
