"""Stateless REST: single training steps and gradient checks, worked out in a worker process
(the event loop only moves bytes: app/routes/bodies.py parses them there too), their cost bounded
before they start (app/worker/cost.py)."""

from fastapi import APIRouter, Request, Response

from app.loop.ratelimit import stateless_running
from app.routes import bodies
from app.routes.deps import HubDep
from app.routes.sessions import BAD_BODY
from app.schemas.step import (
    GradcheckRequest,
    GradcheckResponse,
    StepRequest,
    StepResponse,
    check_limits,
)
from app.worker import cost

router = APIRouter(prefix="/api", tags=["stateless"], responses=BAD_BODY)
TOO_MANY = {429: {"description": "Too many requests of this client address running at once"}}
CLIENT_GONE = 499   # nginx's "client closed request": logged, never received


def bounded_step(req: StepRequest, settings) -> None:
    """A step's limits and cost, checked in the worker that parsed it (app/routes/bodies.py)."""
    check_limits(settings, layers=req.network.layers, rows=len(req.inputs), steps=req.steps)
    cost.check_stateless(settings, req.network.layers, len(req.inputs), req.steps)


def bounded_gradcheck(req: GradcheckRequest, settings) -> None:
    check_limits(settings, layers=req.network.layers, rows=len(req.inputs))
    cost.check_stateless(settings, req.network.layers, len(req.inputs), None)


@bodies.post(router, "/step", response_model=StepResponse, responses=TOO_MANY)
async def step(req: StepRequest, hub: HubDep, request: Request):
    """Take `steps` training steps on the given network and batch; return every value."""
    return await _answer(request, hub, "step", req, bounded_step)


@bodies.post(router, "/gradcheck", response_model=GradcheckResponse, responses=TOO_MANY)
async def gradcheck(req: GradcheckRequest, hub: HubDep, request: Request):
    """Analytic against central-difference gradients for every weight and bias."""
    return await _answer(request, hub, "gradcheck", req, bounded_gradcheck)


async def _answer(request: Request, hub, op: str, req, bounded) -> Response:
    """Worked in parts in a worker (parsed there too), while the client is there to take it:
    a client gone stops it within a part (nobody reads CLIENT_GONE)."""
    with stateless_running(request):   # a 429 past BACKPROP_STATELESS_PER_ADDRESS at once
        answer = await bodies.answered(hub, op, bodies.pending(request, req), bounded,
                                       request.is_disconnected)
    if answer is None:
        return Response(status_code=CLIENT_GONE)
    return Response(answer, media_type="application/json")
