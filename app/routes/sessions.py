"""Training sessions: create, read, control (token holders only), export and import.

Every handler is async so that it runs on the event loop, the one thread that also plays
sessions: a session is never touched by two threads at once.
"""

from typing import Literal

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from app import control
from app.deps import ControlDep, PumpsDep, SessionDep, SettingsDep, StoreDep
from app.schemas.session import (
    ConfigPatch,
    ParameterEdit,
    PhaseBody,
    PlayBody,
    Problem,
    SessionConfig,
    SessionExport,
    StepBody,
)
from app.schemas.step import check_limits
from app.state import session_state

NOT_FOUND = {404: {"model": Problem, "description": "no such session (it may have expired)"}}
FORBIDDEN = {403: {"model": Problem, "description": "no or a wrong X-Control-Token"}}
BAD_BODY = {400: {"model": Problem, "description": "the body could not be read as JSON"}}
FULL = {503: {"model": Problem, "description": "the server has its maximum of sessions"}}

router = APIRouter(prefix="/api/sessions", tags=["sessions"], responses=NOT_FOUND)


def created(session) -> JSONResponse:
    return JSONResponse(
        status_code=201,
        content={
            "id": session.id,
            "token": session.token,
            "watch_url": session.watch_url,
            "join_code": session.join_code,
            "state": session_state(session),
        },
    )


@router.post("", status_code=201, responses={**BAD_BODY, **FULL})
async def create_session(cfg: SessionConfig, store: StoreDep, settings: SettingsDep):
    """Create a training session; the answer holds its control token and watch link."""
    return created(control.create(store, cfg, settings))


@router.post("/import", status_code=201, responses={**BAD_BODY, **FULL})
async def import_session(data: SessionExport, store: StoreDep, settings: SettingsDep):
    """Start a new session from an export; it continues exactly where the export stopped."""
    return created(control.import_session(store, data, settings))


@router.get("/{session_id}")
async def read_session(session: SessionDep):
    """The session's state: network, metrics, the last step's every value, the phase."""
    return session_state(session)


@router.post("/{session_id}/step", responses={**BAD_BODY, **FORBIDDEN})
async def step_session(body: StepBody, session: ControlDep, settings: SettingsDep):
    """Take n training steps now (the session pauses)."""
    check_limits(settings, steps=body.steps)
    session.pause()
    session.step(body.steps)
    session.changed()
    return session_state(session)


@router.post("/{session_id}/play", responses={**BAD_BODY, **FORBIDDEN})
async def play_session(body: PlayBody, session: ControlDep):
    """Train continuously at `speed` steps a second, or as fast as it goes."""
    session.play(body.speed)
    session.changed()
    return session_state(session)


@router.post("/{session_id}/pause", responses=FORBIDDEN)
async def pause_session(session: ControlDep):
    """Stop training; the state is kept."""
    session.pause()
    session.changed()
    return session_state(session)


@router.post("/{session_id}/reset", responses=FORBIDDEN)
async def reset_session(session: ControlDep):
    """Back to step 0: the same seed gives the same start, bit for bit."""
    session.reset()
    session.changed(structure=True)
    return session_state(session)


@router.post("/{session_id}/phase", responses={**BAD_BODY, **FORBIDDEN})
async def move_phase(body: PhaseBody, session: ControlDep):
    """Step-through: the next or previous phase of one training step."""
    session.pause()
    session.move_phase(body.direction)
    session.changed()
    return session_state(session)


@router.patch("/{session_id}/config", responses={**BAD_BODY, **FORBIDDEN})
async def patch_config(patch: ConfigPatch, session: ControlDep):
    """Change hyper-parameters live: learning rate, optimizer, regularisation, batch…"""
    control.patch_config(session, patch)
    session.changed(structure=True)
    return session_state(session)


@router.put("/{session_id}/parameter", responses={**BAD_BODY, **FORBIDDEN})
async def set_parameter(edit: ParameterEdit, session: ControlDep):
    """Set one weight w_ij^k or bias b_i^k by hand."""
    control.set_parameter(session, edit)
    session.changed()
    return session_state(session)


@router.get("/{session_id}/gradcheck")
async def check_gradient(
    session: SessionDep, kind: Literal["W", "b"], layer: int, i: int, j: int | None = None
):
    """Analytic against numeric gradient for one weight or bias, on the last step's batch."""
    return control.check_one(session, kind, layer, i, j)


@router.get("/{session_id}/export")
async def export_session(session: SessionDep):
    """Config, network, optimizer state, batch order and loss history as JSON."""
    return control.export(session)


@router.delete("/{session_id}", status_code=204, responses=FORBIDDEN)
async def delete_session(session: ControlDep, store: StoreDep, pumps: PumpsDep):
    """End the session and disconnect its followers."""
    pumps.discard(session)
    store.remove(session.id)
    return Response(status_code=204)
