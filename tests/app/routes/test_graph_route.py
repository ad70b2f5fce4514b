"""GET /api/sessions/{id}/graph: one neuron's computation graph from the last step's record,
the same numbers as the session's state, and a 422 naming the field for an index outside."""

import pytest

WORKED = {"dataset": "xor", "hidden": [2], "activation": "sigmoid", "batch_size": 4}


def stepped(client, new_session, **config):
    session_id, control, _ = new_session(**(config or WORKED))
    state = client.post(f"/api/sessions/{session_id}/step", json={"steps": 1}, headers=control)
    assert state.status_code == 200, state.text
    return session_id, control, state.json()


def graph(client, session_id, **params):
    return client.get(f"/api/sessions/{session_id}/graph", params=params)


def by_name(answer):
    return {n["name"]: n for n in answer["nodes"]}


def test_the_graph_of_a_hidden_node_carries_the_records_numbers(client, new_session):
    session_id, _, state = stepped(client, new_session)
    rec = state["record"]
    answer = graph(client, session_id, layer=1, node=1, example=2)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    node = by_name(body)
    assert (body["layer"], body["node"], body["example"], body["batch"]) == (1, 1, 2, 4)
    assert node["a"]["value"] == rec["layers"][0]["a"][2][1]
    assert node["o"]["value"] == rec["layers"][0]["o"][2][1]
    assert node["a"]["grad"] == rec["layers"][0]["delta"][2][1]
    assert node["o0"]["value"] == rec["inputs"][2][0]
    assert node["w1"]["value"] == rec["weights_before"][0][1][1]
    assert node["b"]["value"] == rec["biases_before"][0][1]
    assert node["E"]["value"] == rec["loss"]
    assert body["paths"][1]["batch"] == rec["gradients"]["weights"][0][1][1]
    assert body["dE_db"] == rec["gradients"]["biases"][0][1]
    assert body["forward"][-1] == "E" and body["backward"][0] == "E"


def test_the_output_nodes_factors_multiply_to_its_weights_term(client, new_session):
    session_id, _, state = stepped(client, new_session)
    body = graph(client, session_id, layer=2, node=0, example=0).json()
    path = body["paths"][0]
    assert [f["name"] for f in path["factors"]] == ["dE_do", "dg", "da_ds", "ds_dp", "dp_dw"]
    product = 1.0
    for factor in path["factors"]:
        product *= factor["value"]
    assert product == pytest.approx(path["term"], abs=1e-15)
    assert path["term"] == by_name(body)["w0"]["grad"]


def test_a_softmax_output_is_fused_with_its_loss(client, new_session):
    session_id, _, _ = stepped(client, new_session, dataset="three_class", hidden=[3])
    body = graph(client, session_id, layer=2, node=2).json()
    assert body["fused"] and body["activation"] == "softmax"
    assert by_name(body)["o"]["grad"] is None
    assert body["paths"][0]["factors"][0]["name"] == "delta"


def test_without_an_example_the_graph_is_for_the_sessions_chosen_one(client, new_session):
    session_id, control, _ = stepped(client, new_session)
    assert graph(client, session_id, layer=1, node=0).json()["example"] == 0
    client.patch(f"/api/sessions/{session_id}/config", json={"example": 3}, headers=control)
    assert graph(client, session_id, layer=1, node=0).json()["example"] == 3


def test_anyone_with_the_link_reads_the_graph_without_the_token(client, new_session):
    session_id, _, _ = stepped(client, new_session)
    assert graph(client, session_id, layer=2, node=0).status_code == 200


def test_before_any_step_the_graph_is_a_422_naming_step(client, new_session):
    session_id, _, _ = new_session()
    answer = graph(client, session_id, layer=1, node=0)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"][-1] == "step"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"layer": 3, "node": 0}, "layer"),
        ({"layer": 0, "node": 0}, "layer"),
        ({"layer": 1, "node": 2}, "node"),
        ({"layer": 1, "node": -1}, "node"),
        ({"layer": 1, "node": 0, "example": 4}, "example"),
        ({"layer": "x", "node": 0}, "layer"),
        ({"node": 0}, "layer"),
    ],
)
def test_an_index_outside_the_network_is_a_422_naming_its_field(client, new_session, params,
                                                                 field):
    session_id, _, _ = stepped(client, new_session)
    answer = graph(client, session_id, **params)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"][-1] == field


def test_an_unknown_session_is_a_404(client):
    assert graph(client, "nope", layer=1, node=0).status_code == 404


def test_the_graph_route_is_linked_from_a_new_session_and_names_its_model(client):
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/api/sessions/{session_id}/graph"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/NeuronGraphAnswer")
    links = spec["paths"]["/api/sessions"]["post"]["responses"]["201"]["links"]
    assert operation["operationId"] in links
