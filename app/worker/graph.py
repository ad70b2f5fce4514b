"""One neuron's computation graph as JSON, for GET /api/sessions/{id}/graph (engine/graph.py).

The last step's record, θ before that step and its batch's targets go in; every number comes
out of the engine, null where it is not finite (a diverged step).
"""

from app.worker.encode import number
from app.worker.session import Session
from engine.errors import EngineError
from engine.graph import neuron_graph
from engine.network import Network


def shown_example(session: Session, N: int) -> int:
    """The session's chosen example where the batch has it, else the first: the inspector's d."""
    d = session.example
    return d if d is not None and 0 <= d < N else 0


def graph_json(session: Session, layer: int, node: int, example: int | None) -> dict:
    trainer, record = session.trainer, session.trainer.last
    if record is None or trainer.last_batch is None or session.before is None:
        raise EngineError("step: take one step first (the graph shows the last step's numbers)",
                          "step")
    net = trainer.net
    before = Network(net.sizes, net.activations, session.before)
    d = shown_example(session, len(record.o[0])) if example is None else example
    graph = neuron_graph(before, record, trainer.last_batch[1], trainer.cfg.step.loss,
                         layer, node, d)
    return {
        "layer": graph.k,
        "node": graph.j,
        "example": graph.d,
        "batch": graph.N,
        "step": trainer.step_count,
        "activation": graph.activation,
        "loss": trainer.cfg.step.loss,
        "fused": graph.fused,
        "nodes": [
            {"name": n.name, "op": n.op, "value": number(n.value), "grad": _maybe(n.grad),
             "inputs": [{"name": source, "local": _maybe(local)} for source, local in n.inputs]}
            for n in graph.nodes
        ],
        "forward": list(graph.forward),
        "backward": list(graph.backward),
        "paths": [
            {"i": p.i, "term": number(p.term), "batch": number(p.batch),
             "factors": [{"name": name, "value": _maybe(v)} for name, v in p.factors]}
            for p in graph.paths
        ],
        "dE_db": number(graph.dE_db),
    }


def _maybe(x: float | None) -> float | None:
    return None if x is None else number(x)


