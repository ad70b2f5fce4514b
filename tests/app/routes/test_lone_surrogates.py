"""Issue 20, row 3: no string a JSON parser accepts is a 500. A lone surrogate ("\\ud800": half
of a UTF-16 pair, not a character) in a key or a value, escaped or as raw bytes, is a 422
naming where it is, and every answer is valid UTF-8 JSON."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

JSON = {"content-type": "application/json"}
TOKEN = "X-Control-Token"


def utf8_json(response):
    """The answer's body as JSON, read as strict UTF-8 (a lone surrogate cannot be in it)."""
    return json.loads(response.content.decode("utf-8"))


def encoded(value, encoding: str) -> bytes:
    """`value` as JSON in `encoding`: "escaped" writes a lone surrogate as \\ud800, the others
    put its code unit in the bytes, as json.loads takes them (surrogatepass)."""
    if encoding == "escaped":
        return json.dumps(value).encode()
    return json.dumps(value, ensure_ascii=False).encode(encoding, "surrogatepass")


@pytest.mark.parametrize("encoding", ["escaped", "utf-8", "utf-16", "utf-32"])
@pytest.mark.parametrize(("path", "body", "loc"), [
    ("/api/sessions", {"dataset": "\ud800"}, ["body", "dataset"]),
    ("/api/sessions", {"\ud800": 1}, ["body", "\\ud800"]),
    ("/api/step", {"loss": "\ud800"}, ["body", "loss"]),
    ("/api/gradcheck", {"network": {"activations": ["relu", "x\udfff"]}},
     ["body", "network", "activations", 1]),
    ("/api/sessions/import", {"config": {"dataset": "\udc00"}}, ["body", "config", "dataset"]),
    ("/api/races", {"preset": "xor", "vary": {"init": ["he", "\ud83d"]}},
     ["body", "vary", "init", 1]),
])
def test_a_lone_surrogate_is_a_422_naming_where_it_is(client, path, body, loc, encoding):
    response = client.post(path, content=encoded(body, encoding), headers=JSON)
    assert response.status_code == 422, response.text
    problem = utf8_json(response)["detail"][0]
    assert problem["loc"] == loc
    assert problem["msg"].startswith(".".join(str(part) for part in loc[1:]) + ":")
    assert "lone surrogate" in problem["msg"]


def test_a_lone_surrogate_on_a_token_route_is_a_422_with_or_without_the_token(
        client, new_session):
    session_id, control, _ = new_session()
    for headers in ({**JSON, **control}, JSON):
        response = client.patch(f"/api/sessions/{session_id}/config",
                                content=b'{"loss": "\\ud800"}', headers=headers)
        assert response.status_code == 422
        assert utf8_json(response)["detail"][0]["loc"] == ["body", "loss"]


def test_a_surrogate_pair_is_one_character_and_no_refusal(client):
    response = client.post("/api/sessions", content=b'{"dataset": "\\ud83d\\ude00"}',
                           headers=JSON)
    assert response.status_code == 422   # no such data set, but a string all the same
    assert "lone surrogate" not in response.text


# --- hypothesis: arbitrary Unicode, surrogates included, on every route with a body ------

# st.text() all but leaves surrogates out, whatever its alphabet: strings built by hand
CHARACTERS = st.characters(exclude_categories=()) | st.characters(categories=["Cs"])
TEXT = st.lists(CHARACTERS, max_size=12).map("".join)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), TEXT)
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


def operations(spec):
    """(method, path, documented example) of every operation with a request body."""
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if "requestBody" in operation:
                ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                schema = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
                yield method.upper(), path, schema["examples"][0]


@st.composite
def bodies(draw, example: dict):
    """A body that reaches each stage of parsing: any JSON value, or the route's example with
    one field set to any value or one key added."""
    kind = draw(st.sampled_from(["any", "field", "key"]))
    if kind == "any" or not example:
        return draw(VALUES)
    body = dict(example)
    if kind == "field":
        body[draw(st.sampled_from(sorted(example)))] = draw(VALUES)
    else:
        body[draw(TEXT)] = draw(VALUES)
    return body


def holds_lone_surrogate(raw: bytes) -> bool:
    """Whether `raw` parses to a string holding a lone surrogate (a pair, as escapes or
    UTF-16, parses to one character; as UTF-8 bytes, to two lone halves)."""
    text = json.dumps(json.loads(raw), ensure_ascii=False)
    return any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def test_no_route_with_a_body_answers_arbitrary_unicode_with_a_500(make_client):
    client = make_client(max_sessions=10_000, sessions_per_address=10_000, create_burst=10_000,
                         creates_per_minute=10_000, max_steps=20)
    session = client.post("/api/sessions", json={"hidden": [2]}).json()
    race = client.post("/api/races", json={"preset": "xor", "vary": {"init": ["he", "xavier"]}})
    race = race.json()
    ids = {"session_id": (session["id"], session["token"]), "race_id": (race["id"], race["token"])}
    routes = list(operations(client.get("/openapi.json").json()))
    assert len(routes) >= 13

    @settings(max_examples=300, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(route=st.sampled_from(routes), data=st.data(),
           encoding=st.sampled_from(["escaped", "utf-8", "utf-16"]))
    def answered_without_a_500(route, data, encoding):
        method, path, example = route
        body = data.draw(bodies(example))
        headers = dict(JSON)
        for name, (value, token) in ids.items():
            if "{" + name + "}" in path:
                path = path.replace("{" + name + "}", value)
                headers[TOKEN] = token
        raw = encoded(body, encoding)
        response = client.request(method, path, content=raw, headers=headers)
        assert response.status_code < 500, (method, path, body, response.text)
        utf8_json(response)   # valid UTF-8 JSON, whatever came in
        if holds_lone_surrogate(raw):
            assert response.status_code in (400, 422), (method, path, body, response.text)
        if response.status_code < 300 and path.endswith("/play"):
            client.post(path.replace("/play", "/pause"), headers=headers)

    answered_without_a_500()
