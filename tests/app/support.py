"""Helpers for the server tests: design.md's example, strict JSON, stream array decoding."""

import base64
import copy
import json
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

# design.md's worked /api/step request, as the README's curl sends it; its loss is 0.42230395…
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "example.json"
DESIGN_STEP = json.loads(EXAMPLE.read_text())

# A network that overflows: relu hidden layer, linear output, a huge learning rate.
DIVERGING = {
    "dataset": "plane",
    "activation": "relu",
    "output_activation": "linear",
    "optimizer": {"name": "sgd", "learning_rate": 1e6},
}


def _no_constants(name):
    raise ValueError(f"{name} is not JSON")


def strict_json(text: str):
    """Parse JSON the way a strict parser does: NaN and ±Infinity are refused."""
    return json.loads(text, parse_constant=_no_constants)


def f32(text: str) -> np.ndarray:
    """Decode a stream array: base64 of little-endian float32."""
    return np.frombuffer(base64.b64decode(text), dtype="<f4")


def bf16(text: str) -> np.ndarray:
    """Decode a stream loss series: base64 of little-endian bfloat16 (float32's top half)."""
    half = np.frombuffer(base64.b64decode(text), dtype="<u2").astype("<u4")
    return (half << 16).view("<f4")


def design_step(**changes) -> dict:
    body = copy.deepcopy(DESIGN_STEP)
    body.update(changes)
    return body


def answered_as_by(reference, client, path: str, **request):
    """POST `path` with `request` to the `reference` app and through `client`: the
    reference's answer, once the client's is checked to be the same (status and JSON)."""
    with TestClient(reference) as referee:
        expected = referee.post(path, **request)
    got = client.post(path, **request)
    assert (got.status_code, got.json()) == (expected.status_code, expected.json())
    return expected


def call(client, method, session_id, action, body, headers=None):
    """A session route called as `method`: /api/sessions/{session_id}/{action}."""
    url = f"/api/sessions/{session_id}" + (f"/{action}" if action else "")
    kwargs = {"headers": headers or {}}
    if body is not None:
        kwargs["json"] = body
    return client.request(method.upper(), url, **kwargs)


def step(client, session_id, control, n=1):
    """n steps of a session through its route, with its control token: the state."""
    response = client.post(f"/api/sessions/{session_id}/step", json={"steps": n}, headers=control)
    assert response.status_code == 200, response.text
    return response.json()
