"""The schema tells the truth: every session route's answer is typed, the control token is
a declared header, a new session links to every route that takes its id (and token), and a
405 names every method of its path in Allow."""

import pytest

from app.schemas.answers import (
    ExportAnswer,
    GradientCheck,
    HistoryAnswer,
    SessionCreated,
    SessionState,
)

TOKEN = "X-Control-Token"


def operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def success(operation):
    return next((code, r) for code, r in operation["responses"].items() if code.startswith("2"))


def test_every_session_route_types_its_answer(client):
    spec = client.get("/openapi.json").json()
    untyped = []
    for path, method, operation in operations(spec):
        code, response = success(operation)
        content = response.get("content", {})
        if code == "204":
            continue
        if "application/json" in content and not content["application/json"]["schema"]:
            untyped.append(f"{method.upper()} {path}")
        if not content:
            untyped.append(f"{method.upper()} {path}")
    assert untyped == []


@pytest.mark.parametrize(
    ("path", "method", "model"),
    [
        ("/api/sessions", "post", "SessionCreated"),
        ("/api/sessions/import", "post", "SessionCreated"),
        ("/api/sessions/{session_id}", "get", "SessionState"),
        ("/api/sessions/{session_id}/step", "post", "SessionState"),
        ("/api/sessions/{session_id}/export", "get", "ExportAnswer"),
        ("/api/sessions/{session_id}/history.json", "get", "HistoryAnswer"),
        ("/api/sessions/{session_id}/gradcheck", "get", "GradientCheck"),
        ("/api/presets/{name}", "post", "SessionCreated"),
    ],
)
def test_session_answers_name_their_model(client, path, method, model):
    operation = client.get("/openapi.json").json()["paths"][path][method]
    _, response = success(operation)
    assert response["content"]["application/json"]["schema"]["$ref"].endswith(f"/{model}")


def test_the_control_token_is_a_declared_header_on_every_control_route(client):
    spec = client.get("/openapi.json").json()
    for path in ("step", "play", "pause", "reset", "phase", "config", "parameter", "save",
                 "undo", "preset/{name}"):
        for method, operation in spec["paths"][f"/api/sessions/{{session_id}}/{path}"].items():
            assert {"in": "header", "name": TOKEN} in [
                {"in": p["in"], "name": p["name"]} for p in operation["parameters"]
            ], (method, path)


def test_a_new_session_links_to_every_operation_that_takes_its_id_and_token(client):
    spec = client.get("/openapi.json").json()
    links = spec["paths"]["/api/sessions"]["post"]["responses"]["201"]["links"]
    by_target = {link["operationId"]: link["parameters"] for link in links.values()}
    for path, _, operation in operations(spec):
        names = {(p["in"], p["name"]) for p in operation.get("parameters", [])}
        if ("path", "session_id") not in names:
            continue
        assert by_target[operation["operationId"]]["path.session_id"] == "$response.body#/id"
        if ("header", TOKEN) in names:
            token = by_target[operation["operationId"]][f"header.{TOKEN}"]
            assert token == "$response.body#/token", path


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("OPTIONS", "/api/sessions/some-id", "GET, DELETE"),
        ("PUT", "/api/sessions/some-id", "GET, DELETE"),
        ("PATCH", "/api/sessions/import", "POST"),
        ("TRACE", "/api/step", "POST"),
        ("POST", "/watch/some-id", "GET"),
    ],
)
def test_a_405_lists_every_method_of_its_path_in_allow(client, method, path, allow):
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["Allow"] == allow


def test_session_answers_match_their_models(client):
    created = client.post("/api/sessions", json={"hidden": [2]})
    SessionCreated.model_validate_json(created.content)
    session_id, control = created.json()["id"], {TOKEN: created.json()["token"]}
    base = f"/api/sessions/{session_id}"
    stepped = client.post(f"{base}/step", json={"steps": 3}, headers=control)
    SessionState.model_validate_json(stepped.content)
    phase = client.post(f"{base}/phase", json={"direction": "next"}, headers=control)
    assert SessionState.model_validate_json(phase.content).phase.name == "forward"
    ExportAnswer.model_validate_json(client.get(f"{base}/export").content)
    HistoryAnswer.model_validate_json(client.get(f"{base}/history.json").content)
    check = client.get(f"{base}/gradcheck", params={"kind": "W", "layer": 1, "i": 0, "j": 0})
    GradientCheck.model_validate_json(check.content)


def test_a_diverged_sessions_answers_still_match_their_models(client):
    diverging = {"dataset": "plane", "activation": "relu", "output_activation": "linear",
                 "optimizer": {"name": "sgd", "learning_rate": 1e6}}
    created = client.post("/api/sessions", json=diverging).json()
    base, control = f"/api/sessions/{created['id']}", {TOKEN: created["token"]}
    state = client.post(f"{base}/step", json={"steps": 50}, headers=control)
    assert SessionState.model_validate_json(state.content).status == "diverged"
    ExportAnswer.model_validate_json(client.get(f"{base}/export").content)


def test_the_schema_states_the_configured_limits(make_client):
    client = make_client(max_steps=7, max_points=9, max_hidden_layers=2, max_neurons=5)
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["StepBody"]["properties"]["steps"]["maximum"] == 7
    config = schemas["SessionConfig"]["properties"]
    assert config["points"]["anyOf"][0]["maximum"] == 9
    assert config["hidden"]["maxItems"] == 2 and config["hidden"]["items"]["maximum"] == 5
    assert schemas["StepRequest"]["properties"]["inputs"]["maxItems"] == 9
