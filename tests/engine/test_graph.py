"""One neuron's computation graph: its values and gradients are the record's, and each
gradient is what a central difference of E finds when that one node of example d moves."""

import math

import numpy as np
import pytest

from engine.activations import ACTIVATIONS
from engine.errors import EngineError
from engine.graph import neuron_graph
from engine.network import make_network
from engine.optimizers import OPTIMIZERS, OptimizerConfig
from engine.train import StepConfig, loss_value, record_step

EPS = 1e-6
N = 4


def case(name: str, regularization: str | None = None):
    """A 2-3-n network with `name` wherever it may go, one step recorded on a batch of N."""
    rng = np.random.default_rng(7)
    if name == "bce":
        sizes, acts, loss = [2, 3, 1], ["tanh", "sigmoid"], "bce"
        Y = rng.integers(0, 2, (N, 1)).astype(float)
    elif ACTIVATIONS[name].output_only:
        sizes, acts, loss = [2, 3, 3], ["tanh", name], "softmax_ce"
        Y = np.eye(3)[rng.integers(0, 3, N)]
    else:
        sizes, acts, loss = [2, 3, 2], [name, name], "mse"
        Y = rng.normal(size=(N, 2))
    net = make_network(sizes, acts, init="xavier", rng=rng)
    X = rng.normal(size=(N, 2))
    cfg = StepConfig(loss=loss, optimizer=OptimizerConfig(learning_rate=0.1),
                     regularization=regularization, regularization_rate=0.01)
    state = OPTIMIZERS["sgd"].init_state(net.layout.n_params)
    return net, X, Y, cfg, record_step(net, state, X, Y, cfg)


CASES = [*ACTIVATIONS, "bce"]


def every_graph(net, X, Y, cfg, record):
    for k in range(1, net.L + 1):
        for j in range(net.sizes[k]):
            for d in range(N):
                yield neuron_graph(net, record, Y, cfg.loss, k, j, d)


def loss_with(net, X, Y, cfg, graph, name: str, eps: float) -> float:
    """E with one node of example d's graph of node j, layer k moved by eps: the forward pass
    again, written out here (not the engine's), the rest of the batch as it was."""
    k, j, d = graph.k, graph.j, graph.d
    o = X
    for m in range(1, net.L + 1):
        a = o @ net.W[m] + net.b[m]
        if m == k:
            o_in, w, b = o[d].copy(), net.W[m][:, j].copy(), net.b[m][j]
            kind, i = name[0], int(name[1:]) if name[1:] else None
            if kind == "o" and i is not None:
                o_in[i] += eps            # o_i as this neuron's product sees it
            if kind == "w":
                w[i] += eps
            p = o_in * w
            if kind == "p":
                p[i] += eps
            s = p.sum() + (eps if name == "s" else 0.0)
            a[d, j] = s + b + (eps if name == "b" else 0.0) + (eps if name == "a" else 0.0)
        o = net.g[m].g(a)
        if m == k and name == "o":
            o = o.copy()
            o[d, j] += eps
    return loss_value(net, a, o, Y, cfg)


@pytest.mark.parametrize("name", CASES)
def test_every_nodes_gradient_equals_a_central_difference(name):
    net, X, Y, cfg, record = case(name)
    for graph in every_graph(net, X, Y, cfg, record):
        for node in graph.nodes:
            if node.grad is None or node.name == "E":
                continue
            numeric = (loss_with(net, X, Y, cfg, graph, node.name, EPS)
                       - loss_with(net, X, Y, cfg, graph, node.name, -EPS)) / (2 * EPS)
            assert math.isclose(node.grad, numeric, rel_tol=1e-6, abs_tol=1e-9), (
                graph.k, graph.j, graph.d, node.name, node.grad, numeric)


@pytest.mark.parametrize("name", CASES)
def test_values_and_deltas_are_the_records(name):
    net, X, Y, cfg, record = case(name)
    for graph in every_graph(net, X, Y, cfg, record):
        k, j, d = graph.k, graph.j, graph.d
        node = {n.name: n for n in graph.nodes}
        assert node["a"].value == record.a[k][d, j] and node["o"].value == record.o[k][d, j]
        assert node["a"].grad == record.delta[k][d, j]
        assert node["b"].value == net.b[k][j] and node["E"].value == record.E
        for i in range(net.sizes[k - 1]):
            assert node[f"o{i}"].value == record.o[k - 1][d, i]
            assert node[f"w{i}"].value == net.W[k][i, j]
        assert node["s"].value + node["b"].value == pytest.approx(node["a"].value, abs=1e-12)


@pytest.mark.parametrize("name", CASES)
def test_the_examples_terms_add_up_to_the_records_weight_gradient(name):
    net, X, Y, cfg, record = case(name)
    for k in range(1, net.L + 1):
        for j in range(net.sizes[k]):
            graphs = [neuron_graph(net, record, Y, cfg.loss, k, j, d) for d in range(N)]
            for i in range(net.sizes[k - 1]):
                terms = sum(g.paths[i].term for g in graphs)
                assert terms == pytest.approx(record.dE_dW[k][i, j], abs=1e-12)
                assert all(g.paths[i].batch == record.dE_dW[k][i, j] for g in graphs)
            bias = sum(next(n.grad for n in g.nodes if n.name == "b") for g in graphs)
            assert bias == pytest.approx(record.dE_db[k][j], abs=1e-12)
            assert all(g.dE_db == record.dE_db[k][j] for g in graphs)


@pytest.mark.parametrize("name", CASES)
def test_the_chain_rule_product_along_the_path_is_the_weights_term(name):
    net, X, Y, cfg, record = case(name)
    for graph in every_graph(net, X, Y, cfg, record):
        for path in graph.paths:
            assert math.prod(v for _, v in path.factors) == pytest.approx(path.term, abs=1e-14)
        fused = graph.k == net.L and name in ("softmax", "bce")
        assert graph.fused == fused
        assert [n for n, _ in graph.paths[0].factors][:2] == (
            ["delta", "da_ds"] if fused else ["dE_do", "dg"])


def test_the_batch_gradient_carries_the_penalty_the_terms_do_not():
    net, X, Y, cfg, record = case("tanh", regularization="l2")
    graphs = [neuron_graph(net, record, Y, cfg.loss, 1, 0, d) for d in range(N)]
    terms = sum(g.paths[1].term for g in graphs)
    assert graphs[0].paths[1].batch == record.dE_dW[1][1, 0]
    assert graphs[0].paths[1].batch == pytest.approx(terms + 0.01 * net.W[1][1, 0], abs=1e-12)


def test_the_orders_visit_every_node_once_forward_then_backward():
    net, X, Y, cfg, record = case("relu")
    graph = neuron_graph(net, record, Y, cfg.loss, 2, 1, 0)
    names = [n.name for n in graph.nodes]
    assert sorted(graph.forward) == sorted(names) == sorted(graph.backward)
    position = {name: i for i, name in enumerate(graph.forward)}
    for node in graph.nodes:        # every input is computed before the node that uses it
        assert all(position[source] < position[node.name] for source, _ in node.inputs)
    assert graph.backward[0] == "E" and graph.backward[-1] in ("o1", "w1", "o2", "w2")


@pytest.mark.parametrize(("field", "where"), [("layer", (3, 0, 0)), ("layer", (0, 0, 0)),
                                              ("node", (1, 3, 0)), ("example", (1, 0, N))])
def test_an_index_outside_the_network_or_batch_names_its_field(field, where):
    net, X, Y, cfg, record = case("tanh")
    with pytest.raises(EngineError, match=f"^{field}: must be in"):
        neuron_graph(net, record, Y, cfg.loss, *where)
