"""Stateless REST: single training steps and gradient checks, worked out in a worker process
(the event loop only moves bytes), their cost bounded before they start (app/cost.py)."""

from fastapi import APIRouter, Response

from app import cost
from app.deps import HubDep, SettingsDep
from app.routes.sessions import BAD_BODY
from app.schemas.step import (
    GradcheckRequest,
    GradcheckResponse,
    StepRequest,
    StepResponse,
    check_limits,
)

router = APIRouter(prefix="/api", tags=["stateless"], responses=BAD_BODY)


@router.post("/step", response_model=StepResponse)
async def step(req: StepRequest, settings: SettingsDep, hub: HubDep):
    """Take `steps` training steps on the given network and batch; return every value."""
    check_limits(settings, layers=req.network.layers, rows=len(req.inputs), steps=req.steps)
    cost.check_stateless(settings, req.network.layers, len(req.inputs), req.steps)
    return Response(await hub.anywhere("step", req), media_type="application/json")


@router.post("/gradcheck", response_model=GradcheckResponse)
async def gradcheck(req: GradcheckRequest, settings: SettingsDep, hub: HubDep):
    """Analytic against central-difference gradients for every weight and bias."""
    check_limits(settings, layers=req.network.layers, rows=len(req.inputs))
    cost.check_stateless(settings, req.network.layers, len(req.inputs), None)
    return Response(await hub.anywhere("gradcheck", req), media_type="application/json")
