"""Races: 2–4 lanes that differ in one setting, played in lockstep; each lane equals a session
run on its own with the same settings, bit for bit."""

import json

import pytest
from support_races import BASE, TOKEN, new_race

from tests.app.support import DIVERGING


def lane_config(base: dict, vary: str, value) -> dict:
    """The documented rule, written out again: the base with one setting changed."""
    optimizer = base.get("optimizer", {"name": "sgd", "learning_rate": 0.03})
    return {
        "optimizer": lambda: {**base, "optimizer": {"name": value,
                                                    "learning_rate": optimizer["learning_rate"]}},
        "learning_rate": lambda: {**base, "optimizer": {**optimizer, "learning_rate": value}},
        "activation": lambda: {**base, "activation": value},
        "init": lambda: {**base, "init": value},
        "batch_size": lambda: {**base, "batch_size": value},
        "l2_rate": lambda: {**base, "regularization": {"name": "l2", "rate": value}},
    }[vary]()


def weights(state: dict) -> tuple:
    return state["network"]["weights"], state["network"]["biases"]


VARIES = {
    "learning_rate": [0.01, 0.3, 3.0],
    "optimizer": ["sgd", "momentum", "adam"],
    "activation": ["tanh", "relu", "sigmoid", "leaky_relu"],
    "init": ["uniform", "xavier"],
    "batch_size": [1, 7, 30],
    "l2_rate": [0.0, 0.01],
}


def test_a_race_has_one_lane_per_value_and_they_differ_only_there(client):
    race_id, _, made = new_race(client, config=BASE, vary={"learning_rate": [0.01, 0.3, 3.0]})
    state = made["state"]
    assert state["id"] == race_id and state["vary"] == "learning_rate"
    assert state["values"] == [0.01, 0.3, 3.0] and state["watch_url"] == f"/race/{race_id}"
    lanes = state["lanes"]
    assert [lane["config"]["optimizer"]["learning_rate"] for lane in lanes] == [0.01, 0.3, 3.0]
    for lane in lanes[1:]:
        same = {k: v for k, v in lane["config"].items() if k != "optimizer"}
        assert same == {k: v for k, v in lanes[0]["config"].items() if k != "optimizer"}
        assert weights(lane) == weights(lanes[0])   # one start for every lane
    assert len({lane["id"] for lane in lanes}) == 3


def test_lanes_that_vary_the_initialisation_start_from_different_weights(client):
    _, _, made = new_race(client, config=BASE, vary={"init": ["uniform", "xavier", "he"]})
    starts = [json.dumps(weights(lane)) for lane in made["state"]["lanes"]]
    assert len(set(starts)) == 3


@pytest.mark.parametrize("vary", VARIES)
def test_a_played_race_s_lanes_equal_separate_sessions_bit_for_bit(client, vary):
    """Play the race (its rounds: the compiled loop, then one recorded step, every lane at
    once), pause, step 37 more (in parts); then run each lane's settings as a session of
    its own, stepped to the same step: every weight, bias and loss is the same float."""
    race_id, control, _ = new_race(client, config=BASE, vary={vary: VARIES[vary]})
    base = f"/api/races/{race_id}"
    with client.websocket_connect(f"{base}/stream"):   # followed: it plays, frames are made
        assert client.post(f"{base}/play", json={"speed": None}, headers=control).status_code == 200
        while client.get(base).json()["step"] < 300:
            pass
        client.post(f"{base}/pause", headers=control)
    state = client.post(f"{base}/step", json={"steps": 37}, headers=control).json()
    steps = {lane["step"] for lane in state["lanes"]}
    assert len(steps) == 1 and state["step"] in steps and state["status"] == "paused"
    for value, lane in zip(VARIES[vary], state["lanes"], strict=True):
        alone = client.post("/api/sessions", json=lane_config(BASE, vary, value)).json()
        stepped = client.post(f"/api/sessions/{alone['id']}/step", json={"steps": state["step"]},
                              headers={TOKEN: alone["token"]}).json()
        assert weights(stepped) == weights(lane), (vary, value)
        assert stepped["optimizer_state"] == lane["optimizer_state"]
        assert stepped["metrics"] == lane["metrics"]
        history = client.get(f"/api/sessions/{alone['id']}/history.json").json()
        assert client.get(f"/api/sessions/{lane['id']}/history.json").json() == history


def test_a_playing_race_s_frames_hold_every_lane_at_the_same_step(client):
    race_id, control, _ = new_race(client, config=BASE, vary={"batch_size": [1, 10, 30]})
    base = f"/api/races/{race_id}"
    with client.websocket_connect(f"{base}/stream") as ws:
        kinds = [json.loads(ws.receive_text())["type"] for _ in range(3)]
        assert sorted(kinds) == ["race_frame", "race_heatmaps", "race_state"]
        client.post(f"{base}/play", json={"speed": None}, headers=control)
        seen = []
        while len(seen) < 8:
            message = json.loads(ws.receive_text())
            assert len(message["lanes"]) == 3
            if message["type"] == "race_frame":
                assert None not in message["lanes"]
                steps = {frame["step"] for frame in message["lanes"]}
                assert len(steps) == 1, steps   # lockstep: one step in every lane's frame
                seen.append(steps.pop())
        client.post(f"{base}/pause", headers=control)
    assert seen == sorted(seen) and seen[-1] > seen[0]


def test_a_set_speed_plays_every_lane_at_it(client):
    race_id, control, _ = new_race(client, config=BASE, vary={"init": ["uniform", "he"]})
    base = f"/api/races/{race_id}"
    with client.websocket_connect(f"{base}/stream") as ws:
        state = client.post(f"{base}/play", json={"speed": 100}, headers=control).json()
        assert state["status"] == "playing" and state["speed"] == 100
        for _ in range(6):
            message = json.loads(ws.receive_text())
            if message["type"] == "race_frame":
                assert len({f["step"] for f in message["lanes"] if f}) <= 1
    state = client.post(f"{base}/pause", headers=control).json()
    assert len({lane["step"] for lane in state["lanes"]}) == 1


def test_a_diverged_lane_stays_where_it_stopped_and_the_others_go_on(client):
    race_id, control, _ = new_race(client, config=DIVERGING,
                                   vary={"learning_rate": [0.001, 1e6]})
    state = client.post(f"/api/races/{race_id}/step", json={"steps": 60}, headers=control).json()
    calm, wild = state["lanes"]
    assert wild["status"] == "diverged" and wild["step"] < 60
    assert calm["status"] == "paused" and calm["step"] == 60 == state["step"]
    assert state["status"] == "paused"
    again = client.post(f"/api/races/{race_id}/step", json={"steps": 5}, headers=control).json()
    assert [lane["step"] for lane in again["lanes"]] == [65, wild["step"]]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"vary": {"learning_rate": [0.1]}}, ["vary", "learning_rate"], "at least 2"),
        ({"vary": {"learning_rate": [0.1, 0.2, 0.3, 0.4, 0.5]}}, ["vary", "learning_rate"],
         "at most 4"),
        ({"vary": {"learning_rate": [0.1, -1]}}, ["vary", "learning_rate", 1], "greater than 0"),
        ({"vary": {"optimizer": ["sgd", "rmsprop"]}}, ["vary", "optimizer", 1], "sgd"),
        ({"vary": {"activation": ["tanh", "softmax"]}}, ["vary", "activation", 1], "relu"),
        ({"vary": {"init": ["he", "zeros"]}}, ["vary", "init", 1], "xavier"),
        ({"vary": {"batch_size": [0, 5]}}, ["vary", "batch_size", 0], "greater than or equal"),
        ({"vary": {"l2_rate": [-0.1, 0]}}, ["vary", "l2_rate", 0], "greater than or equal"),
        ({"vary": {}}, ["vary"], "exactly one of optimizer, learning_rate"),
        ({"vary": {"init": ["he", "xavier"], "batch_size": [1, 2]}}, ["vary"], "exactly one"),
        ({"vary": {"learning_rate": [0.1, 0.1]}}, ["vary"], "each value once"),
        ({"vary": {"optimizer": None}}, ["vary"], "vary.optimizer: a list of 2–4 values, not null"),
        ({"preset": None, "vary": {"init": ["he", "xavier"]}}, [], "preset: leave it out"),
        ({"preset": "xor", "config": {}, "vary": {"init": ["he", "xavier"]}}, [],
         "preset: give a preset or a config"),
        ({"preset": "nope", "vary": {"init": ["he", "xavier"]}}, ["preset"], "xor"),
        ({"preset": "worked_example", "vary": {"init": ["he", "xavier"]}}, [],
         "vary.init: the base sets its weights by hand"),
        # the limits are the server's settings, checked where a session's are
        ({"config": {"hidden": [99]}, "vary": {"init": ["he", "xavier"]}}, ["hidden"], "at most"),
        ({"vary": {"learning_rate": [0.1, 0.2]}, "lanes": 3}, ["lanes"], "not permitted"),
    ],
)
def test_a_bad_race_is_a_422_that_names_the_field(client, body, field, words):
    response = client.post("/api/races", json=body)
    assert response.status_code == 422, response.text
    problems = response.json()["detail"]
    named = [p for p in problems if p["loc"][1:len(field) + 1] == field]
    assert any(words in p["msg"] for p in named), problems


def test_a_batch_too_large_for_the_limits_is_a_422_and_leaves_no_lane(make_client):
    client = make_client(max_record_values=200)
    before = client.app.state.store.sessions.copy()
    response = client.post("/api/races", json={"config": BASE, "vary": {"batch_size": [2, 50]}})
    assert response.status_code == 422 and "batch" in response.text
    assert client.app.state.store.sessions == before and client.app.state.races.races == {}


def test_whole_floats_are_batch_sizes_as_json_schema_counts_them(client):
    response = client.post("/api/races", json={"vary": {"batch_size": [2.0, 5]}})
    assert response.status_code == 201, response.text
    assert response.json()["state"]["values"] == [2, 5]


def test_race_controls_need_the_race_s_token(client):
    race_id, control, made = new_race(client, preset="xor", vary={"init": ["he", "xavier"]})
    base = f"/api/races/{race_id}"
    for method, path, body in [("POST", "/play", {"speed": None}), ("POST", "/pause", None),
                               ("POST", "/step", {"steps": 1}), ("POST", "/reset", None),
                               ("POST", "/save", None), ("DELETE", "", None)]:
        for headers in ({}, {TOKEN: "wrong"}, {TOKEN: "ünïcode".encode()}):
            response = client.request(method, base + path, json=body, headers=headers)
            assert response.status_code == 403, (path, headers)
            assert "X-Control-Token" in response.json()["detail"]
    assert client.get(base).status_code == 200   # reading needs no token
    lane = made["state"]["lanes"][0]["id"]
    # A lane is read like any session, but only the race moves it: lockstep holds.
    assert client.get(f"/api/sessions/{lane}").status_code == 200
    refused = client.post(f"/api/sessions/{lane}/step", json={"steps": 1}, headers=control)
    assert refused.status_code == 403
    assert client.post(f"{base}/step", json={"steps": 2}, headers=control).json()["step"] == 2


def test_an_unknown_race_is_a_404(client):
    assert client.get("/api/races/nope").status_code == 404
    assert client.post("/api/races/nope/play", json={}, headers={TOKEN: "x"}).status_code == 404
    assert client.get("/race/nope").status_code == 404
    assert client.get("/api/saved-races/nope").status_code == 404
    assert client.post("/api/saved-races/nope/open").status_code == 404
    assert client.get("/r/nope").status_code == 404


def test_a_saved_race_opens_again_exactly_as_it_was(client):
    race_id, control, _ = new_race(client, config=BASE, vary={"optimizer": ["sgd", "adam"]})
    stepped = client.post(f"/api/races/{race_id}/step", json={"steps": 25},
                          headers=control).json()
    saved = client.post(f"/api/races/{race_id}/save", headers=control)
    assert saved.status_code == 200
    code = saved.json()["code"]
    assert saved.json()["url"] == f"/r/{code}"
    assert client.get(f"/r/{code}").status_code == 200
    doc = client.get(f"/api/saved-races/{code}").json()
    assert doc["format"] == "backprop-playground/race@1" and doc["vary"] == "optimizer"
    assert [lane["step"] for lane in doc["lanes"]] == [25, 25]
    opened = client.post(f"/api/saved-races/{code}/open")
    assert opened.status_code == 201
    again = opened.json()
    assert again["id"] != race_id and again["token"] != control[TOKEN]
    assert again["state"]["values"] == ["sgd", "adam"]
    for old, new in zip(stepped["lanes"], again["state"]["lanes"], strict=True):
        assert new["step"] == 25 and weights(new) == weights(old) and new["id"] != old["id"]
    # …and goes on as the original does.
    mine = {TOKEN: again["token"]}
    a = client.post(f"/api/races/{again['id']}/step", json={"steps": 10}, headers=mine).json()
    b = client.post(f"/api/races/{race_id}/step", json={"steps": 10}, headers=control).json()
    assert [weights(lane) for lane in a["lanes"]] == [weights(lane) for lane in b["lanes"]]
    # A race's code is not a session's, and a session's is not a race's.
    assert client.post(f"/api/saved/{code}/open").status_code == 404


def test_make_my_own_copy_of_one_lane(client):
    race_id, control, _ = new_race(client, config=BASE, vary={"learning_rate": [0.1, 1.0]})
    state = client.post(f"/api/races/{race_id}/step", json={"steps": 12}, headers=control).json()
    lane = state["lanes"][1]
    copied = client.post(f"/api/sessions/{lane['id']}/copy")
    assert copied.status_code == 201
    mine = copied.json()
    assert mine["state"]["step"] == 12 and weights(mine["state"]) == weights(lane)
    assert mine["state"]["config"]["optimizer"]["learning_rate"] == 1.0
    moved = client.post(f"/api/sessions/{mine['id']}/step", json={"steps": 3},
                        headers={TOKEN: mine["token"]})
    assert moved.json()["step"] == 15   # one's own: it moves alone, the race stays
    assert client.get(f"/api/races/{race_id}").json()["step"] == 12


def test_ending_a_race_ends_its_lanes_and_tells_its_followers(client):
    race_id, control, made = new_race(client, config=BASE, vary={"init": ["he", "xavier"]})
    lanes = [lane["id"] for lane in made["state"]["lanes"]]
    with client.websocket_connect(f"/api/races/{race_id}/stream") as ws:
        for _ in range(3):
            ws.receive_text()
        assert client.delete(f"/api/races/{race_id}", headers=control).status_code == 204
        assert json.loads(ws.receive_text())["type"] == "end"
    assert client.get(f"/api/races/{race_id}").status_code == 404
    assert all(client.get(f"/api/sessions/{lane}").status_code == 404 for lane in lanes)


def test_a_race_ends_with_any_of_its_lanes(client):
    race_id, _, made = new_race(client, config=BASE, vary={"init": ["he", "xavier"]})
    client.app.state.store.remove(made["state"]["lanes"][1]["id"])   # expired, say
    assert client.get(f"/api/races/{race_id}").status_code == 404
    assert client.get(f"/api/sessions/{made['state']['lanes'][0]['id']}").status_code == 404


def test_the_race_page_and_the_playground_s_race_menu(client):
    race_id, _, made = new_race(client, preset="xor", vary={"learning_rate": [1.0, 4.0]})
    page = client.get(f"/race/{race_id}")
    assert page.status_code == 200
    assert f'data-race="{race_id}"' in page.text and "/static/race.js" in page.text
    code = made["state"]["join_code"]
    assert client.get(f"/join/{code}", follow_redirects=False).headers["location"] == \
        f"/race/{race_id}"   # the class joins the whole race
    playground = client.get("/").text
    assert 'id="race-menu"' in playground and "/static/race-start.js" in playground
    lane = made["state"]["lanes"][0]["id"]
    assert 'id="race-menu"' not in client.get(f"/watch/{lane}").text   # followers start none


def test_a_new_race_links_to_every_operation_that_takes_its_id_and_token(client):
    spec = client.get("/openapi.json").json()
    links = spec["paths"]["/api/races"]["post"]["responses"]["201"]["links"]
    by_target = {link["operationId"]: link["parameters"] for link in links.values()}
    taking = set()
    for path, item in spec["paths"].items():
        for operation in item.values():
            names = {(p["in"], p["name"]) for p in operation.get("parameters", [])}
            if ("path", "race_id") not in names:
                continue
            taking.add(operation["operationId"])
            assert by_target[operation["operationId"]]["path.race_id"] == "$response.body#/id"
            if ("header", TOKEN) in names:
                assert by_target[operation["operationId"]][f"header.{TOKEN}"] == \
                    "$response.body#/token", path
    assert set(by_target) == taking and len(taking) == 8   # the QR code's route is the 8th


def test_a_playing_race_nobody_follows_pauses_every_lane_at_one_step(make_client):
    client = make_client(unwatched_seconds=0.3)
    race_id, control, _ = new_race(client, config=BASE, vary={"init": ["he", "xavier"]})
    state = client.post(f"/api/races/{race_id}/play", json={"speed": 200}, headers=control).json()
    assert state["status"] == "playing"
    while state["status"] == "playing":
        state = client.get(f"/api/races/{race_id}").json()
    assert state["status"] == "paused" and len({lane["step"] for lane in state["lanes"]}) == 1
    assert {lane["status"] for lane in state["lanes"]} == {"paused"}
