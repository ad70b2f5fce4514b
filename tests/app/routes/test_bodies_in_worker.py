"""Create and import bodies are parsed in a worker process (app/routes/bodies.py), not on the event
loop, and answered exactly as FastAPI answered them there: the same 400s and 422s, loc and
all, the same OpenAPI schema, and a big legitimate body still makes its session."""

import json
import pickle
import random

import pytest
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.testclient import TestClient
from starlette.requests import Request
from support import answered_as_by

from app.config import Settings
from app.main import _engine_error, _invalid_request
from app.routes import api, bodies, sessions
from app.routes.guards import BodyLimit
from app.schemas.session import EXPORT_EXAMPLE, SessionConfig, SessionExport
from app.schemas.step import DESIGN_EXAMPLE, GradcheckRequest, StepRequest
from engine.errors import EngineError

MAX_POINTS = 5000


def reference_app() -> FastAPI:
    """The routes as plain FastAPI parses them (on the event loop), with the app's own 422
    handlers, row counting and limits: what the worker's answers must equal."""
    app = FastAPI()

    @app.post("/api/step")
    async def step(req: StepRequest):
        api.bounded_step(req, Settings())
        return {}

    @app.post("/api/gradcheck")
    async def gradcheck(req: GradcheckRequest):
        api.bounded_gradcheck(req, Settings())
        return {}

    @app.post("/api/sessions")
    async def create(cfg: SessionConfig):
        return {}

    @app.post("/api/sessions/import")
    async def import_(data: SessionExport):
        return {}

    app.add_middleware(BodyLimit, limit=4 * 2**20, max_rows=MAX_POINTS)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(EngineError, _engine_error)
    return app


def points(n: int) -> list:
    rnd = random.Random(n)
    return [[round(rnd.uniform(-6, 6), 3), round(rnd.uniform(-6, 6), 3)] for _ in range(n)]


JSON = {"content-type": "application/json"}
BAD_CREATES = {
    "not JSON": (b'{"dataset": "xor",', JSON),
    "not UTF-8": (b'{"dataset": "\xff\xfe"}', JSON),
    "a JSON array": (b"[1, 2]", JSON),
    "no content type": (b'{"dataset": "xor"}', {"content-type": ""}),
    "text/plain": (b'{"dataset": "xor"}', {"content-type": "text/plain"}),
    "an empty body": (b"", JSON),
    "wrong types": (json.dumps({"dataset": 3, "hidden": ["a"], "noise": "x"}).encode(), JSON),
    "an unknown field": (json.dumps({"datasets": "xor"}).encode(), JSON),
    "a meaningless pairing": (
        json.dumps({"dataset": "xor", "output_activation": "softmax"}).encode(), JSON),
    "NaN": (b'{"dataset": "custom", "data": {"inputs": [[NaN, 1]], "labels": [1]}}', JSON),
    "over the point limit": (json.dumps({"dataset": "custom", "data": {
        "inputs": points(60_000), "labels": [1] * 60_001}}).encode(), JSON),
    "json+suffix content type": (b'{"hidden": [0]}', {"content-type": "application/x+json"}),
}


@pytest.mark.parametrize("name", list(BAD_CREATES))
def test_a_bad_create_is_answered_as_fastapi_answered_it_on_the_loop(client, name):
    body, headers = BAD_CREATES[name]
    expected = answered_as_by(reference_app(), client, "/api/sessions", content=body,
                              headers=headers)
    assert expected.status_code in (400, 422)


def step_with(**changes) -> dict:
    return {**DESIGN_EXAMPLE, **changes}


BAD_STATELESS = {
    "over the point limit": step_with(inputs=[[0, 1]] * 6000, targets=[[1]] * 6000),
    "too many hidden layers": step_with(network={"layers": [2] + [3] * 12 + [1],
                                                 "activations": ["tanh"] * 13}),
    "rows of the wrong width": step_with(inputs=[[0, 1, 2]]),
    "an unknown loss": step_with(loss="hinge"),
    "not JSON": "{",
}
CASES = [(path, name) for path in ("/api/step", "/api/gradcheck") for name in BAD_STATELESS]
ONLY = {("/api/step", "too many steps"): step_with(steps=10**6),
        ("/api/gradcheck", "an epsilon too large"): step_with(epsilon=1.0)}


@pytest.mark.parametrize(("path", "name"), CASES + list(ONLY))
def test_a_bad_stateless_request_is_answered_as_fastapi_answered_it(client, path, name):
    body = ONLY.get((path, name), BAD_STATELESS.get(name))
    if isinstance(body, dict):
        model = StepRequest if path == "/api/step" else GradcheckRequest
        body = json.dumps({k: v for k, v in body.items() if k in model.model_fields})
    expected = answered_as_by(reference_app(), client, path, content=body, headers=JSON)
    assert expected.status_code == 422


def forged_exports() -> dict:
    def forged(**changes):
        return {**EXPORT_EXAMPLE, **changes}

    return {
        "cursor past the order": forged(batch_cursor=2**31),
        "history count a string": forged(history={"stride": 1, "count": "3", "values": []}),
        "wrong format": forged(format="something/else"),
        "config with own data and a named set": forged(
            config={**EXPORT_EXAMPLE["config"], "dataset": "xor"}),
        "rng state too big": forged(rng_state={**EXPORT_EXAMPLE["rng_state"],
                                               "state": {"state": 2**300, "inc": 1}}),
    }


@pytest.mark.parametrize("name", list(forged_exports()))
def test_a_forged_import_is_answered_as_fastapi_answered_it(client, name):
    export = forged_exports()[name]
    expected = answered_as_by(reference_app(), client, "/api/sessions/import", json=export)
    assert expected.status_code == 422
    assert client.app.state.store.sessions == {}   # nothing half-made remains


def test_the_routes_parse_their_bodies_in_a_worker_not_on_the_event_loop(client, monkeypatch):
    """Structural: FastAPI never json.loads these bodies in the server's process."""
    routes = {r.endpoint: r for r in [*sessions.router.routes, *api.router.routes]}
    for endpoint in (sessions.create_session, sessions.import_session, api.step, api.gradcheck):
        assert isinstance(routes[endpoint], bodies.BodyInWorker)
    parsed_here = []
    real_json = Request.json

    async def spy(self):
        if not hasattr(self, "_json"):
            parsed_here.append(self.url.path)
        return await real_json(self)

    monkeypatch.setattr(Request, "json", spy)
    made = client.post("/api/sessions", json={"dataset": "xor", "hidden": [3]})
    imported = client.post("/api/sessions/import", json=EXPORT_EXAMPLE)
    refused = client.post("/api/sessions", json={"hidden": "x"})
    stepped = client.post("/api/step", json=DESIGN_EXAMPLE)
    checked = client.post("/api/gradcheck", json={
        k: DESIGN_EXAMPLE[k] for k in ("network", "loss", "inputs", "targets")})
    assert (made.status_code, imported.status_code, refused.status_code) == (201, 201, 422)
    assert (stepped.status_code, checked.status_code) == (200, 200)
    assert parsed_here == []


def test_a_big_legitimate_create_and_its_export_reimported_work(client):
    rnd = random.Random(1)
    config = {"dataset": "custom", "hidden": [16, 16], "batch_size": 500,
              "data": {"inputs": points(MAX_POINTS),
                       "targets": [[rnd.uniform(-1, 1) for _ in range(16)]
                                   for _ in range(MAX_POINTS)]}}
    made = client.post("/api/sessions", json=config)
    assert made.status_code == 201, made.text[:300]
    state = made.json()["state"]
    assert state["network"]["layers"] == [2, 16, 16, 16]
    headers = {"X-Control-Token": made.json()["token"]}
    client.post(f"/api/sessions/{made.json()['id']}/step", json={"steps": 3}, headers=headers)
    export = client.get(f"/api/sessions/{made.json()['id']}/export").json()
    again = client.post("/api/sessions/import", json=export)
    assert again.status_code == 201, again.text[:300]
    assert again.json()["state"]["step"] == 3
    assert again.json()["state"]["network"] == client.get(
        f"/api/sessions/{made.json()['id']}").json()["network"]


def test_a_bad_body_at_the_session_cap_is_still_a_422_not_a_503(make_client):
    client = make_client(max_sessions=1)
    assert client.post("/api/sessions", json={}).status_code == 201
    refused = client.post("/api/sessions", json={"hidden": [0]})
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"][:2] == [
        "body", "hidden"]
    assert client.post("/api/sessions", json={}).status_code == 503


def test_the_route_signature_still_declares_the_models_as_bodies(client):
    spec = client.get("/openapi.json").json()["paths"]
    create = spec["/api/sessions"]["post"]["requestBody"]["content"]["application/json"]
    imported = spec["/api/sessions/import"]["post"]["requestBody"]["content"]["application/json"]
    assert create["schema"] == {"$ref": "#/components/schemas/SessionConfig"}
    assert imported["schema"] == {"$ref": "#/components/schemas/SessionExport"}
    assert sessions.create_session.__annotations__["cfg"] is SessionConfig


# --- the worker's side, in this process -----------------------------------------------------

def pending_body(config: dict) -> bodies.Pending:
    return bodies.Pending(SessionConfig, json.dumps(config).encode(), "application/json",
                          MAX_POINTS)


def test_a_parsed_body_unpickles_in_its_worker_as_the_model_kept_there():
    body = pending_body({"dataset": "xor", "hidden": [5]})
    assert bodies.check(body, "k1") is None
    kept = bodies.PARSED["k1"]
    assert pickle.loads(pickle.dumps(bodies.Parsed(0, "k1", body))) is kept
    assert "k1" not in bodies.PARSED
    # a worker restarted since: validated again from the bytes
    again = pickle.loads(pickle.dumps(bodies.Parsed(0, "k1", body)))
    assert again == kept and again is not kept


def test_a_worker_keeps_only_a_few_bodies_whose_session_never_came():
    for i in range(bodies.KEPT + 5):
        assert bodies.check(pending_body({"hidden": [i + 1]}), f"left-{i}") is None
    assert len(bodies.PARSED) == bodies.KEPT
    bodies.PARSED.clear()


def test_the_worker_counts_rows_before_validating_them():
    detail = bodies.check(pending_body({"dataset": "custom", "data": {
        "inputs": [[0, 0]] * (MAX_POINTS + 1), "labels": [1] * (MAX_POINTS + 1)}}), "big")
    assert detail[0] == 422
    assert detail[1][0]["loc"] == ["body", "data", "inputs"]
    assert detail[1][0]["msg"] == f"Value error, at most {MAX_POINTS} rows (points), got 5001"


# --- every other route: a large body is parsed in a worker too -------------------------------

def test_every_route_with_a_json_body_parses_a_large_one_in_a_worker():
    from app.routes import classroom, graph, lessons, races

    routers = (api.router, sessions.router, races.router, lessons.router, classroom.router,
               graph.router)
    with_body = [r for router in routers for r in router.routes
                 if getattr(r, "body_field", None) is not None]
    assert len(with_body) >= 12
    assert [r.path for r in with_body if not isinstance(r, bodies.Checked)] == []


def test_a_large_control_body_is_parsed_in_a_worker_and_still_works(client, new_session,
                                                                    monkeypatch):
    session_id, headers, _ = new_session()
    parsed_here = []
    real_json = Request.json

    async def spy(self):
        if not hasattr(self, "_json"):
            parsed_here.append(len(await self.body()))
        return await real_json(self)

    monkeypatch.setattr(Request, "json", spy)
    padded = '{"speed": 5}' + " " * (bodies.PARSED_HERE_BYTES + 1)   # valid JSON, and big
    played = client.post(f"/api/sessions/{session_id}/play", content=padded,
                         headers={**headers, **JSON})
    assert played.status_code == 200 and played.json()["status"] == "playing"
    small = client.post(f"/api/sessions/{session_id}/pause", headers=headers)
    phase = client.post(f"/api/sessions/{session_id}/phase", json={"direction": "next"},
                        headers=headers)
    assert (small.status_code, phase.status_code) == (200, 200)
    assert parsed_here == [len(b'{"direction":"next"}')]   # only the small one, here


def test_a_large_junk_control_body_is_answered_as_fastapi_answered_it(client, new_session):
    from app.schemas.session import PlayBody

    reference_app_ = FastAPI()

    @reference_app_.post("/play")
    async def play(body: PlayBody):
        return {}

    reference_app_.add_exception_handler(RequestValidationError, _invalid_request)
    session_id, headers, _ = new_session()
    for junk in ({"speed": list(range(100_000))}, list(range(100_000)), {"speeds": "x" * 10**5}):
        content = json.dumps(junk)
        with TestClient(reference_app_) as reference:
            expected = reference.post("/play", content=content, headers=JSON)
        got = client.post(f"/api/sessions/{session_id}/play", content=content,
                          headers={**headers, **JSON})
        assert len(content) > bodies.PARSED_HERE_BYTES
        if isinstance(junk, list) or isinstance(junk.get("speed"), list):
            # a list where PlayBody has none is refused by its shape, before it is parsed
            # (app/schemas/shape.py): the same field named, by a rule of its own
            assert got.status_code == 422
            assert got.json()["detail"][0]["loc"] == expected.json()["detail"][0]["loc"]
            assert got.json()["detail"][0]["type"] in ("too_long", "too_deep")
            continue
        assert (got.status_code, got.json()) == (422, expected.json())
