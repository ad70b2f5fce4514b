"""Stateless REST: single training steps and gradient checks."""

from fastapi import APIRouter

from app.deps import SettingsDep
from app.routes.sessions import BAD_BODY
from app.schemas.step import (
    GradcheckRequest,
    GradcheckResponse,
    StepRequest,
    StepResponse,
    check_limits,
)
from app.stepping import run_gradcheck, run_steps

router = APIRouter(prefix="/api", tags=["stateless"], responses=BAD_BODY)


@router.post("/step", response_model=StepResponse)
def step(req: StepRequest, settings: SettingsDep):
    """Take `steps` training steps on the given network and batch; return every value."""
    check_limits(settings, layers=req.network.layers, rows=len(req.inputs), steps=req.steps)
    return run_steps(req)


@router.post("/gradcheck", response_model=GradcheckResponse)
def gradcheck(req: GradcheckRequest, settings: SettingsDep):
    """Analytic against central-difference gradients for every weight and bias."""
    check_limits(settings, layers=req.network.layers, rows=len(req.inputs))
    return run_gradcheck(req)
