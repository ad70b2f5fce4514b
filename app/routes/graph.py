"""One neuron's computation graph for one example of the last step (engine/graph.py)."""

from typing import Annotated

from fastapi import APIRouter, Query

from app.crossing import Graph
from app.routes.deps import HubDep, SessionDep, answer
from app.routes.sessions import NOT_FOUND
from app.schemas.graph import NeuronGraphAnswer

router = APIRouter(prefix="/api/sessions", tags=["sessions"], responses=NOT_FOUND)


@router.get("/{session_id}/graph", response_model=NeuronGraphAnswer)
async def neuron_graph(
    session: SessionDep,
    hub: HubDep,
    layer: Annotated[int, Query(ge=1, description="k = 1..L")],
    node: Annotated[int, Query(ge=0, description="j: the node in layer k, from 0")],
    example: Annotated[int | None, Query(ge=0, description="row of the last batch; "
                                         "default: the session's example, else 0")] = None,
):
    """One neuron's computation graph: each operation's value and gradient, one example."""
    return answer(await hub.control(session, Graph(layer, node, example)))
