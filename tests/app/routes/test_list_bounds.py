"""Issue 20, row 2: every list a request can hold has a bound in the schema (maxItems), and a
body is refused by its shape before it is parsed: a 4 MB body of a million items where the
schema allows a short list is a 422 naming the field, with the worker's memory flat and other
sessions answered meanwhile; ordinary bodies pass as before."""

import json
import os
import threading
from pathlib import Path
from unittest.mock import patch

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from support import design_step
from support_server import serving

from app.config import Settings
from app.schemas import shape
from app.schemas.bounds import MOST_HIDDEN_LAYERS, MOST_NEURONS, MOST_POINTS
from app.schemas.session import SessionConfig
from app.schemas.shape import refusal

MILLION = 1_040_000   # 4.16 MB of four-byte items: just under the body limit (4 MiB)


def request_schemas(spec: dict) -> dict:
    """The components any request body refers to, directly or through another component."""
    schemas, found, todo = spec["components"]["schemas"], {}, []

    def refs(node) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                todo.append(node["$ref"].rsplit("/", 1)[-1])
            for value in node.values():
                refs(value)
        elif isinstance(node, list):
            for value in node:
                refs(value)

    for item in spec["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict):
                refs(operation.get("requestBody", {}))
    while todo:
        name = todo.pop()
        if name not in found:
            found[name] = schemas[name]
            refs(schemas[name])
    return found


def unbounded_lists(node, where: str) -> list[str]:
    if isinstance(node, dict):
        here = [where] if node.get("type") == "array" and "maxItems" not in node else []
        return here + [w for key, value in node.items()
                       for w in unbounded_lists(value, f"{where}.{key}")]
    if isinstance(node, list):
        return [w for i, value in enumerate(node) for w in unbounded_lists(value, f"{where}[{i}]")]
    return []


def test_every_list_of_every_request_has_max_items(client):
    schemas = request_schemas(client.get("/openapi.json").json())
    assert {"SessionConfig", "StepRequest", "SessionExport", "RaceConfig"} <= set(schemas)
    assert [w for name, schema in schemas.items() for w in unbounded_lists(schema, name)] == []


def test_list_bounds_follow_the_settings_and_registries(make_client):
    spec = make_client(max_hidden_layers=2, max_neurons=5, max_points=9).get("/openapi.json")
    schemas = spec.json()["components"]["schemas"]
    network = schemas["NetworkSpec"]["properties"]
    assert network["layers"]["maxItems"] == 4
    assert network["activations"]["maxItems"] == 3
    weights = network["weights"]["anyOf"][0]
    assert (weights["maxItems"], weights["items"]["maxItems"],
            weights["items"]["items"]["maxItems"]) == (3, 5, 5)
    assert schemas["OwnData"]["properties"]["inputs"]["maxItems"] == 9
    features = schemas["SessionConfig"]["properties"]["features"]
    assert features["maxItems"] == len(features["items"]["enum"])


@pytest.mark.parametrize("setting", ["max_hidden_layers", "max_neurons", "max_points"])
def test_a_setting_cannot_go_past_the_bound_the_models_hold(setting):
    most = {"max_hidden_layers": MOST_HIDDEN_LAYERS, "max_neurons": MOST_NEURONS,
            "max_points": MOST_POINTS}[setting]
    assert getattr(Settings(**{setting: most}), setting) == most
    with pytest.raises(ValidationError):
        Settings(**{setting: most + 1})


def body_of(prefix: bytes, item: bytes, suffix: bytes) -> bytes:
    return prefix + b"[" + b",".join([item] * MILLION) + b"]" + suffix


# route, a body whose one list has a million items, and the field the 422 must name
HOSTILE = {
    "features": ("/api/sessions", body_of(b'{"features": ', b'"a"', b"}"), ["features"]),
    "hidden": ("/api/sessions", body_of(b'{"hidden": ', b"100", b"}"), ["hidden"]),
    "network.weights": ("/api/step", body_of(
        b'{"inputs": [[0, 1]], "targets": [[1]], "network": {"layers": [2, 1], '
        b'"activations": ["tanh"], "weights": ', b"[1]", b"}}"), ["network", "weights"]),
    "network.activations": ("/api/step", body_of(
        b'{"inputs": [[0, 1]], "targets": [[1]], "network": {"layers": [2, 1], '
        b'"activations": ', b'"a"', b"}}"), ["network", "activations"]),
}
ELSEWHERE = {   # the same, on other routes and deeper
    "gradcheck inputs": ("/api/gradcheck", body_of(
        b'{"targets": [[1]], "network": {"layers": [2, 1], "activations": ["tanh"]}, '
        b'"inputs": ', b"[0]", b"}"), ["inputs"]),
    "an import's batch order": ("/api/sessions/import", body_of(
        b'{"format": "backprop-playground/session@1", "batch_order": ', b"100", b"}"),
        ["batch_order"]),
    "a race's hidden layers": ("/api/races", body_of(
        b'{"vary": {"init": ["he", "xavier"]}, "config": {"hidden": ', b"100", b"}}"),
        ["config", "hidden"]),
    "a row of a hand-set matrix": ("/api/sessions", body_of(
        b'{"network": {"weights": [[[0.5], ', b"0.5", b"]]}}"), ["network", "weights", 0, 1]),
}


def named(response) -> list:
    assert response.status_code == 422, response.text[:300]
    return response.json()["detail"]


@pytest.mark.parametrize("name", list(HOSTILE) + list(ELSEWHERE))
def test_a_million_items_where_a_short_list_goes_is_refused_naming_the_field(client, name):
    path, body, field = {**HOSTILE, **ELSEWHERE}[name]
    assert len(body) <= Settings().max_body_bytes
    detail = named(client.post(path, content=body, headers={"content-type": "application/json"}))
    assert detail[0]["loc"] == ["body", *field]
    assert detail[0]["type"] == "too_long"
    assert detail[0]["ctx"]["max_length"] <= MOST_POINTS


@pytest.mark.parametrize(("path", "field"), [("/api/sessions", b"network"),
                                           ("/api/races", b"config")])
def test_nesting_deeper_than_the_schema_is_refused_naming_where(client, path, field):
    # (before: parsed, then answered as FastAPI answers a list where an object goes)
    body = b'{"' + field + b'": ' + b"[" * 500 + b"]" * 500 + b"}"
    detail = named(client.post(path, content=body, headers={"content-type": "application/json"}))
    assert detail[0]["type"] == "too_deep"
    assert detail[0]["loc"][:2] == ["body", field.decode()]


def test_brackets_commas_and_escaped_quotes_inside_strings_are_not_counted():
    tricky = ',[{\\"]\\\\\\",' * 2000   # in JSON: ,[{\"]\\\",  (escaped: a quote, a backslash)
    body = ('{"dataset": "' + tricky + '", "hidden": [' + "1," * 999 + '1], '
            '"x": "\\\\", "features": ["x1"]}').encode()
    assert json.loads(body)["dataset"].startswith(',[{"]\\",')
    assert refusal(body, SessionConfig) is None
    over = body.replace(b'"features": ["x1"]', b'"features": [' + b'"x1",' * MOST_POINTS + b'"x2"]')
    assert refusal(over, SessionConfig)["loc"] == ["features"]
    as_utf16 = over.decode().encode("utf-16")   # json.loads reads UTF-16 and 32 too
    assert refusal(as_utf16, SessionConfig)["loc"] == ["features"]


def test_ordinary_bodies_of_many_items_still_pass(client):
    points = [[i / 1000, -i / 1000] for i in range(5000)]
    made = client.post("/api/sessions", json={
        "dataset": "custom", "data": {"inputs": points, "labels": [1, -1] * 2500}})
    assert made.status_code == 201, made.text[:300]
    step = client.post("/api/step", json=design_step(inputs=[[0, 1]] * 5000,
                                                     targets=[[1]] * 5000))
    assert step.status_code == 200, step.text[:300]


# --- memory and the others, through a real server ---------------------------------------

def descendants() -> list[int]:
    """This process's descendants: the server's workers (the server runs in a thread here;
    its workers are forked by a fork server, a child of this process)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        try:
            parents[int(entry.name)] = int(
                (entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found, todo = [], [os.getpid()]
    while todo:
        parent = todo.pop()
        children = [pid for pid, of in parents.items() if of == parent]
        found += children
        todo += children
    return found


def status_kib(pid: int, field: str) -> int:
    line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines()
                if x.startswith(f"{field}:"))
    return int(line.split()[1])


def test_the_refusals_cost_the_workers_no_memory_and_others_are_answered(tmp_path):
    with serving(Settings(data_dir=tmp_path, workers=1)) as address:
        base = f"http://{address}"
        other = httpx.post(f"{base}/api/sessions", json={"hidden": [2]}).json()
        workers = descendants()
        assert len(workers) >= 2   # the fork server and the worker it made, at least
        start = {}
        for pid in workers:   # the peak (VmHWM) counted from now on
            Path(f"/proc/{pid}/clear_refs").write_text("5")
            start[pid] = status_kib(pid, "VmRSS")
        for name, (path, body, field) in HOSTILE.items():
            answers = {}

            def send(path=path, body=body, answers=answers) -> None:
                answers["hostile"] = httpx.post(f"{base}{path}", content=body, timeout=60,
                                                headers={"content-type": "application/json"})

            sender = threading.Thread(target=send)
            sender.start()
            read = httpx.get(f"{base}/api/sessions/{other['id']}", timeout=60)
            sender.join(timeout=60)
            assert read.status_code == 200, name
            assert named(answers["hostile"])[0]["loc"] == ["body", *field]
        grown = {pid: (status_kib(pid, "VmHWM") - start[pid]) / 1024 for pid in workers}
        assert max(grown.values()) < 50, grown   # MiB at the peak, over each worker's start


# --- the measure is exact: any JSON, any chunking --------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{},:"\\ab\u00e9\u4e2d'),
    lambda inner: st.lists(inner, max_size=6)
    | st.dictionaries(st.text(alphabet='[]{},:"\\ab', max_size=4), inner, max_size=4),
    max_leaves=40,
)


def violations(value, items: int, depth: int, path=(), level=1):
    """Every container of `value` longer than `items`, or at a depth past `depth`."""
    if not isinstance(value, list | dict):
        return []
    if level > depth:
        return [("too_deep", list(path))]
    found = [("too_long", list(path))] if len(value) > items else []
    children = enumerate(value) if isinstance(value, list) else value.items()
    return found + [v for key, child in children
                    for v in violations(child, items, depth, (*path, key), level + 1)]


@settings(max_examples=300, deadline=None)
@given(value=JSON_VALUES, items=st.integers(1, 4), depth=st.integers(1, 4),
       chunk=st.integers(1, 64), indent=st.sampled_from([None, 1]))
def test_the_measure_finds_a_list_too_long_or_too_deep_exactly_when_there_is_one(
        value, items, depth, chunk, indent):
    body = json.dumps(value, ensure_ascii=False, indent=indent).encode()
    with patch.object(shape, "CHUNK", chunk):
        found = shape._measure(body, shape.Bounds(items, depth))
    expected = violations(value, items, depth)
    assert (found is None) == (not expected)
    if found is not None:
        problem, path, at = found
        assert (problem, path) in expected
        assert body[at:at + 1] in (b"[", b"{")
