"""Stateless REST: single training steps and gradient checks, worked out in a worker process
(the event loop only moves bytes: app/routes/bodies.py parses them there too), their cost bounded
before they start (app/worker/cost.py)."""

from fastapi import APIRouter, Request, Response

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


def bounded_step(req: StepRequest, settings) -> None:
    """A step's limits and cost, checked in the worker that parsed it (app/routes/bodies.py)."""
    check_limits(settings, layers=req.network.layers, rows=len(req.inputs), steps=req.steps)
    cost.check_stateless(settings, req.network.layers, len(req.inputs), req.steps)


def bounded_gradcheck(req: GradcheckRequest, settings) -> None:
    check_limits(settings, layers=req.network.layers, rows=len(req.inputs))
    cost.check_stateless(settings, req.network.layers, len(req.inputs), None)


@bodies.post(router, "/step", response_model=StepResponse)   # parsed in a worker
async def step(req: StepRequest, hub: HubDep, request: Request):
    """Take `steps` training steps on the given network and batch; return every value."""
    answer = await bodies.answered(hub, "step", bodies.pending(request, req), bounded_step)
    return Response(answer, media_type="application/json")


@bodies.post(router, "/gradcheck", response_model=GradcheckResponse)
async def gradcheck(req: GradcheckRequest, hub: HubDep, request: Request):
    """Analytic against central-difference gradients for every weight and bias."""
    pending = bodies.pending(request, req)
    answer = await bodies.answered(hub, "gradcheck", pending, bounded_gradcheck)
    return Response(answer, media_type="application/json")
