"""The OpenAPI schema: a working example for every request body, and schemathesis over it all."""

import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import allow_header_conformance, positive_data_acceptance

from app.config import Settings
from app.main import create_app


def operations(spec):
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def body_schema(spec, operation):
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    return spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]


def test_every_request_body_in_the_openapi_schema_has_an_example(client):
    spec = client.get("/openapi.json").json()
    missing = [
        f"{method.upper()} {path}"
        for path, method, operation in operations(spec)
        if "requestBody" in operation and not body_schema(spec, operation).get("examples")
    ]
    assert missing == []


def test_every_operation_has_a_summary_for_the_docs(client):
    spec = client.get("/openapi.json").json()
    assert all(operation.get("summary") for _, _, operation in operations(spec))


def test_docs_page_is_served(client):
    response = client.get("/docs")
    assert response.status_code == 200 and "swagger" in response.text.lower()


def example_of(client, path, method):
    spec = client.get("/openapi.json").json()
    return body_schema(spec, spec["paths"][path][method])["examples"][0]


def test_the_step_example_runs_and_gives_design_mds_loss(client):
    example = example_of(client, "/api/step", "post")
    response = client.post("/api/step", json=example)
    assert response.status_code == 200
    assert response.json()["loss"] == pytest.approx(0.4223039553650916, abs=1e-15)


def test_the_gradcheck_example_runs(client):
    response = client.post("/api/gradcheck", json=example_of(client, "/api/gradcheck", "post"))
    assert response.status_code == 200


def test_the_session_example_creates_a_session(client):
    response = client.post("/api/sessions", json=example_of(client, "/api/sessions", "post"))
    assert response.status_code == 201


def test_the_import_example_creates_a_session_at_its_step(client):
    example = example_of(client, "/api/sessions/import", "post")
    response = client.post("/api/sessions/import", json=example)
    assert response.status_code == 201
    assert response.json()["state"]["step"] == 3


@pytest.mark.parametrize(
    ("path", "method", "action"),
    [
        ("/api/sessions/{session_id}/step", "post", "step"),
        ("/api/sessions/{session_id}/play", "post", "play"),
        ("/api/sessions/{session_id}/phase", "post", "phase"),
        ("/api/sessions/{session_id}/config", "patch", "config"),
        ("/api/sessions/{session_id}/parameter", "put", "parameter"),
    ],
)
def test_each_session_control_example_is_accepted(client, new_session, path, method, action):
    session_id, control, _ = new_session()
    response = client.request(
        method.upper(),
        f"/api/sessions/{session_id}/{action}",
        json=example_of(client, path, method),
        headers=control,
    )
    assert response.status_code == 200, response.text
    client.post(f"/api/sessions/{session_id}/pause", headers=control)


# ---- schemathesis: the whole schema, in process ---------------------------------------

# positive_data_acceptance: shapes that must chain, a batch order as long as the training
#   set… are rules JSON Schema cannot state; their 422 is by design.
# allow_header_conformance: Starlette's 405 lists only the first matching route's methods
#   (GET and DELETE /api/sessions/{id} are two routes); a router quirk, not ours.
EXCLUDED = [allow_header_conformance, positive_data_acceptance]

# Saved sessions (none here: saving needs a token) would go to a throwaway directory.
APP = create_app(Settings(data_dir=Path(tempfile.mkdtemp(prefix="schemathesis-"))))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_5xx_or_breaks_its_schema(case):
    case.call_and_validate(excluded_checks=EXCLUDED)
