"""A new race's lanes are made in the worker they live in, never on the event loop
(app/routes/lanes.py), and every answer to POST /api/races is what it was when FastAPI parsed the
body and the route made the lanes on the loop: the same 400s and 422s, loc and all, in the
same order around the create rate limit; a race of one's own data still plays."""

import asyncio
import json
import pickle
import random

import pytest
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.testclient import TestClient
from pydantic import ValidationError
from starlette.requests import Request
from support import answered_as_by

from app.main import _invalid_request
from app.routes import lanes, races
from app.routes.bodies import KEPT, PARSED_HERE_BYTES, Pending
from app.routes.guards import BodyLimit
from app.schemas.race import MAX_LANES, VARIED, RaceConfig
from app.schemas.session import SessionConfig

MAX_POINTS = 5000   # Settings.max_points's default
JSON = {"content-type": "application/json"}
TOKEN = "X-Control-Token"


def reference_app() -> FastAPI:
    """POST /api/races as it was: FastAPI parses and validates the body on the event loop and
    the route makes the lanes there, with the app's 422 handler, row counting and limits."""
    app = FastAPI()

    @app.post("/api/races")
    async def create_race(cfg: RaceConfig):
        try:
            cfg.lane_configs()
        except ValidationError as err:   # a lane the base and its value cannot make
            raise RequestValidationError(
                [{**e, "loc": ("body", "vary", *e["loc"])} for e in err.errors()]
            ) from None
        return {}

    app.add_middleware(BodyLimit, limit=4 * 2**20, max_rows=MAX_POINTS)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    return app


def own_data(n: int, width: int = 16, seed: int = 0) -> dict:
    rnd = random.Random(seed)
    return {"dataset": "custom", "hidden": [8], "batch_size": 50, "data": {
        "inputs": [[round(rnd.uniform(-6, 6), 4), round(rnd.uniform(-6, 6), 4)]
                   for _ in range(n)],
        "targets": [[round(rnd.uniform(-1, 1), 5) for _ in range(width)] for _ in range(n)]}}


def body(**race) -> bytes:
    return json.dumps(race).encode()


def bad_races() -> dict[str, tuple[bytes, dict]]:
    big = own_data(1500)
    out_of_the_box = json.loads(json.dumps(big))
    out_of_the_box["data"]["inputs"][1000] = [7.5, 0.0]
    by_hand = {**own_data(3000, width=1), "hidden": [], "network": {
        "weights": [[[0.5, -0.5]]], "biases": [[0.1]]}}
    lr = {"learning_rate": [0.1, 0.2]}
    races = {
        "not JSON": b'{"vary": {"learning_rate": [0.1, 0.2]',
        "not UTF-8": b'{"preset": "\xff\xfe", "vary": {}}',
        "a JSON array": b"[1, 2]",
        "a bad vary value": body(preset="xor", vary={"learning_rate": [0.1, -1]}),
        "vary null": body(vary={"optimizer": None}),
        "two settings vary": body(vary={"init": ["he", "xavier"], "batch_size": [1, 2]}),
        "preset and config": body(preset="xor", config={}, vary=lr),
        "an unknown preset": body(preset="nope", vary=lr),
        "a bad base": body(config={"hidden": [0], "dataset": "custom"}, vary=lr),
        "hand-set weights and init varies": body(preset="worked_example",
                                                 vary={"init": ["he", "xavier"]}),
        "an unknown field": body(vary=lr, lanes=3),
        # over PARSED_HERE_BYTES: parsed in a worker before, and now
        "big: not JSON": b'{"config": ' + json.dumps(big).encode(),
        "big: a JSON array": json.dumps(list(range(30_000))).encode(),
        "big: a bad vary value": body(config=big, vary={"batch_size": [0, 5]}),
        "big: a bad base": body(config=out_of_the_box, vary=lr),
        "big: over the point limit": body(config=own_data(MAX_POINTS + 1, width=2), vary=lr),
        "big: a bad base and vary value": body(config=out_of_the_box,
                                               vary={"learning_rate": [0.1, 0.1]}),
        "big: hand-set weights and init varies": body(config=by_hand,
                                                      vary={"init": ["he", "xavier"]}),
    }
    for name, content in races.items():
        assert (len(content) > PARSED_HERE_BYTES) == name.startswith("big"), name
    races.update({"no content type": b'{"preset": "xor"}', "text/plain": b'{"preset": "xor"}',
                  "an empty body": b""})
    headers = {"no content type": {"content-type": ""}, "text/plain": {"content-type":
                                                                       "text/plain"}}
    return {name: (content, headers.get(name, JSON)) for name, content in races.items()}


BAD_RACES = bad_races()


@pytest.mark.parametrize("name", list(BAD_RACES))
def test_a_bad_race_is_answered_as_it_was_on_the_loop(client, name):
    content, headers = BAD_RACES[name]
    expected = answered_as_by(reference_app(), client, "/api/races", content=content,
                              headers=headers)
    assert expected.status_code in (400, 422)
    assert client.app.state.store.sessions == {} and client.app.state.races.races == {}


def test_refusals_come_in_the_same_order_around_the_rate_limit(make_client):
    """FastAPI refused a body that is not JSON before the route's dependencies, a Checked
    route a large body that is not a race; the create rate limit came before the rest."""
    client = make_client(creates_per_minute=0, create_burst=1)
    assert client.post("/api/races", json={"vary": {"init": ["he", "xavier"]}}).status_code \
        == 201
    order = {
        "not JSON": 422, "not UTF-8": 400, "big: not JSON": 422, "big: a bad base": 422,
        "big: a bad vary value": 422, "a bad base": 429, "a bad vary value": 429,
        "hand-set weights and init varies": 429, "big: hand-set weights and init varies": 422,
    }
    for name, status in order.items():
        content, headers = BAD_RACES[name]
        assert client.post("/api/races", content=content, headers=headers).status_code == \
            status, name
    assert client.post("/api/races", json={"vary": {"init": ["he", "xavier"]}}).status_code \
        == 429


@pytest.fixture
def on_the_loop(monkeypatch):
    """Every SessionConfig validated in this process (the server's event loop and its threads)
    from a config that carries its own data, and every body FastAPI parsed here."""
    seen = []
    real = SessionConfig.__pydantic_validator__

    class Spy:
        def __getattr__(self, name):
            return getattr(real, name)

        def validate_python(self, value, *args, **kwargs):
            if isinstance(value, dict) and value.get("data") is not None:
                seen.append(("SessionConfig", value["data"]["inputs"][0]))
            return real.validate_python(value, *args, **kwargs)

    real_json = Request.json

    async def parsed_here(self):
        if not hasattr(self, "_json"):
            seen.append(("json", self.url.path))
        return await real_json(self)

    monkeypatch.setattr(SessionConfig, "__pydantic_validator__", Spy())
    monkeypatch.setattr(Request, "json", parsed_here)
    SessionConfig.model_validate(own_data(2, width=1))
    assert seen == [("SessionConfig", own_data(2, width=1)["data"]["inputs"][0])]   # it sees
    seen.clear()
    return seen


@pytest.mark.parametrize("points", [1500, 40])
def test_a_race_s_lanes_are_never_made_on_the_event_loop(client, on_the_loop, points):
    race = {"config": own_data(points), "vary": {"learning_rate": [0.01, 0.03, 0.1, 0.3]}}
    assert (len(json.dumps(race)) > PARSED_HERE_BYTES) == (points > 100)
    made = client.post("/api/races", json=race)
    assert made.status_code == 201, made.text[:300]
    assert len(made.json()["state"]["lanes"]) == 4
    assert on_the_loop == []


def test_a_race_of_own_data_plays_and_its_lanes_differ_only_in_what_varies(client):
    race = {"config": own_data(1500, width=3, seed=7),
            "vary": {"learning_rate": [0.01, 0.1, 0.5]}}
    made = client.post("/api/races", json=race)
    assert made.status_code == 201, made.text[:300]
    race_id, control = made.json()["id"], {TOKEN: made.json()["token"]}
    lanes = made.json()["state"]["lanes"]
    for lane, config in zip(lanes, RaceConfig.model_validate(race).lane_configs(), strict=True):
        # what the lane's config leaves to its session (null: the default) is filled in
        assert {k: lane["config"][k] for k, v in config.items() if v is not None} == \
            {k: v for k, v in config.items() if v is not None}
    same = [{k: v for k, v in lane["config"].items() if k != "optimizer"} for lane in lanes]
    assert same == same[:1] * 3
    assert [lane["id"] for lane in lanes] == [f"{race_id}.{n}" for n in range(3)]
    starts = {json.dumps([lane["network"]["weights"], lane["network"]["biases"]])
              for lane in lanes}
    assert len(starts) == 1   # one start for every lane
    base = f"/api/races/{race_id}"
    with client.websocket_connect(f"{base}/stream"):
        playing = client.post(f"{base}/play", json={"speed": None}, headers=control).json()
        assert playing["status"] == "playing"
        while client.get(base).json()["step"] < 20:
            pass
        client.post(f"{base}/pause", headers=control)
    state = client.post(f"{base}/step", json={"steps": 3}, headers=control).json()
    assert len({lane["step"] for lane in state["lanes"]}) == 1 and state["step"] >= 23
    ends = {json.dumps(lane["network"]["weights"]) for lane in state["lanes"]}
    assert len(ends) == 3   # each learning rate took its own path
    lane = client.get(f"/api/sessions/{lanes[1]['id']}").json()
    assert lane["config"]["optimizer"]["learning_rate"] == 0.1
    assert lane["config"]["data"] == {**race["config"]["data"], "labels": None}


# --- the worker's side, in this process -----------------------------------------------------

def pending(race: dict) -> Pending:
    return Pending(RaceConfig, json.dumps(race).encode(), "application/json", MAX_POINTS)


def test_create_race_is_a_route_that_makes_its_lanes_in_a_worker(client):
    route = next(r for r in races.router.routes if r.endpoint is races.create_race)
    assert isinstance(route, lanes.LanesInWorker)
    spec = client.get("/openapi.json").json()["paths"]["/api/races"]["post"]
    assert spec["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/RaceConfig"}


def test_a_lane_unpickles_in_its_worker_as_the_model_kept_there():
    body = pending({"config": own_data(30), "vary": {"batch_size": [1, 7.0, 30]}})
    assert lanes.make_lanes(body, "k1") == ("batch_size", [1, 7, 30], None)
    kept = [lanes.LANES[("k1", n)] for n in range(3)]
    assert [lane.batch_size for lane in kept] == [1, 7, 30]
    assert pickle.loads(pickle.dumps(lanes.Lane("k1", 1, body))) is kept[1]
    assert ("k1", 1) not in lanes.LANES
    # a worker restarted since: every lane made again from the body, the others kept
    lanes.LANES.clear()
    again = pickle.loads(pickle.dumps(lanes.Lane("k1", 1, body)))
    assert again == kept[1] and again is not kept[1]
    assert pickle.loads(pickle.dumps(lanes.Lane("k1", 2, body))) == kept[2]
    assert ("k1", 0) in lanes.LANES and ("k1", 2) not in lanes.LANES
    lanes.LANES.clear()


def test_a_lost_lane_of_a_body_that_no_longer_validates_is_none_not_an_error():
    body = pending({"vary": {"batch_size": [0, 1]}})
    assert pickle.loads(pickle.dumps(lanes.Lane("gone", 0, body))) is None


def test_a_worker_keeps_the_lanes_of_only_a_few_races_that_never_opened():
    for i in range(KEPT + 3):
        made = lanes.make_lanes(pending({"vary": {"init": ["he", "xavier", "uniform"]}}), f"r{i}")
        assert made == ("init", ["he", "xavier", "uniform"], None)
    assert len(lanes.LANES) <= KEPT * MAX_LANES and ("r0", 0) not in lanes.LANES
    assert (f"r{KEPT + 2}", 2) in lanes.LANES
    lanes.LANES.clear()


@pytest.mark.parametrize("points", [20, 1500])
def test_a_lane_the_base_cannot_make_is_refused_as_the_route_refused_it(monkeypatch, points):
    """No lane of a valid race fails today; were one to, it is answered as the route did:
    a 422 at body.vary…, after the route's dependencies (the rate limit) had their say."""
    monkeypatch.setitem(VARIED, "init", lambda base, v: {**base, "init": v, "hidden": [0, v]})
    race = {"config": own_data(points), "vary": {"init": ["he", "xavier"]}}
    with TestClient(reference_app()) as reference:
        expected = reference.post("/api/races", json=race)
    refused = lanes.make_lanes(pending(race), "bad")
    assert isinstance(refused, lanes.Refused) and refused.at == "lanes"
    assert not refused.now(pending(race))
    assert expected.status_code == 422
    assert (refused.status, {"detail": refused.detail}) == (422, expected.json())
    assert expected.json()["detail"][0]["loc"][:3] == ["body", "vary", "hidden"]
    assert not any(key == "bad" for key, _ in lanes.LANES)


def test_a_race_whose_worker_does_not_make_its_lanes_in_time_gets_a_prompt_503(
    make_client, monkeypatch,
):
    client = make_client(create_timeout_seconds=0.5)
    real = lanes.make

    async def stuck(hub, body):
        await asyncio.sleep(60)
        return await real(hub, body)

    monkeypatch.setattr(lanes, "make", stuck)
    refused = client.post("/api/races", json={"preset": "xor", "vary": {"init": ["he", "xavier"]}})
    assert refused.status_code == 503 and refused.headers["Retry-After"]
    assert "too busy to start a race" in refused.json()["detail"]
    assert client.app.state.store.sessions == {} and client.app.state.races.races == {}
    monkeypatch.setattr(lanes, "make", real)
    assert client.post("/api/races", json={"preset": "xor", "vary": {"init": ["he", "xavier"]}}
                       ).status_code == 201
