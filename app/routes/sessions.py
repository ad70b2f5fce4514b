"""Training sessions: create, read, control (token holders only), export and import.

Each handler parses, asks the session's worker through the hub, and answers with the bytes
the worker made: the event loop never trains and never encodes a large answer.
"""

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response

from app.crossing import (
    Code,
    Config,
    Export,
    Gradcheck,
    Outcome,
    Parameter,
    Pause,
    Phase,
    Play,
    Read,
    Rebuild,
    Reset,
    Undo,
)
from app.loop.ratelimit import client_address, create_allowed
from app.loop.store import Handle
from app.routes import bodies
from app.routes.deps import ControlDep, HubDep, SessionDep, SettingsDep, StoreDep, answer
from app.schemas.answers import ExportAnswer, GradientCheck, SessionCreated, SessionState
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
from app.worker import code_export
from app.worker.undo import NothingToUndo

NOT_FOUND = {404: {"model": Problem, "description": "no such session (it may have expired)"}}
FORBIDDEN = {403: {"model": Problem, "description": "no or a wrong X-Control-Token"}}
BAD_BODY = {400: {"model": Problem, "description": "the body could not be read as JSON"}}
FULL = {503: {"model": Problem, "description": "the server has its maximum of sessions"}}
LIMITED = {429: {"model": Problem, "description": "too many new sessions from this address, "
                 "or it holds its share of the sessions, every one in use"}}
CREATES = [Depends(create_allowed)]   # every route that makes a session: rate-limited
BUSY_RETRY_SECONDS = 5

router = APIRouter(   # large bodies parsed in a worker (app/routes/bodies.py)
    prefix="/api/sessions", tags=["sessions"], responses=NOT_FOUND, route_class=bodies.Checked
)


def created(handle: Handle, outcome: Outcome) -> Response:
    """201 with the new session's id, token and links around the state its worker made."""
    head = (
        f'{{"id":"{handle.id}","token":"{handle.token}","watch_url":"{handle.watch_url}",'
        f'"join_code":"{handle.join_code}","state":'
    )
    return Response(
        head.encode() + outcome.body + b"}", status_code=201, media_type="application/json"
    )


async def open_session(store, hub, source: str, data, request: Request) -> Response:
    """A new session in the least loaded worker, built there from a config or an export
    (a dict, or a request body still to parse: parsed in that worker first, app/routes/bodies.py),
    counted in the share of the client's address (app/loop/store.py)."""
    handle = None
    try:   # a worker too busy to build it in time: a prompt 503, never a hang (hub.open
        # removes a session it did not finish, and its worker drops it)
        async with asyncio.timeout(hub.settings.create_timeout_seconds):
            worker, data = await bodies.place(hub, data)
            handle = store.create(worker, owner=client_address(request))
            outcome = await hub.open(handle, source, data)
    except TimeoutError:
        if handle is not None:
            store.remove(handle.id)
        raise HTTPException(
            503, "the server is too busy to start a session now; try again shortly",
            headers={"Retry-After": str(BUSY_RETRY_SECONDS)},
        ) from None
    return created(handle, outcome)


@bodies.post(   # the body is parsed in the session's worker, not on the event loop
    router, "", status_code=201, response_model=SessionCreated,
    responses={**BAD_BODY, **FULL, **LIMITED}, dependencies=CREATES,
)
async def create_session(cfg: SessionConfig, store: StoreDep, hub: HubDep, request: Request):
    """Create a training session; the answer holds its control token and watch link."""
    return await open_session(store, hub, "config", bodies.pending(request, cfg), request)


@bodies.post(
    router, "/import", status_code=201, response_model=SessionCreated,
    responses={**BAD_BODY, **FULL, **LIMITED}, dependencies=CREATES,
)
async def import_session(data: SessionExport, store: StoreDep, hub: HubDep, request: Request):
    """Start a new session from an export; it continues exactly where the export stopped."""
    return await open_session(store, hub, "export", bodies.pending(request, data), request)


@router.get("/{session_id}", response_model=SessionState)
async def read_session(session: SessionDep, hub: HubDep):
    """The session's state: network, metrics, the last step's every value, the phase."""
    return answer(await hub.control(session, Read()))


@router.post(
    "/{session_id}/step", response_model=SessionState, responses={**BAD_BODY, **FORBIDDEN}
)
async def step_session(
    body: StepBody, session: ControlDep, hub: HubDep, settings: SettingsDep, request: Request
):
    """Take n training steps now (the session pauses)."""
    check_limits(settings, steps=body.steps)
    return answer(await hub.step(session, body.steps, request.is_disconnected))


@router.post(
    "/{session_id}/play", response_model=SessionState, responses={**BAD_BODY, **FORBIDDEN}
)
async def play_session(body: PlayBody, session: ControlDep, hub: HubDep):
    """Train continuously at `speed` steps a second, or as fast as it goes."""
    return answer(await hub.control(session, Play(body.speed)))


@router.post("/{session_id}/pause", response_model=SessionState, responses=FORBIDDEN)
async def pause_session(session: ControlDep, hub: HubDep):
    """Stop training; the state is kept."""
    return answer(await hub.control(session, Pause()))


@router.post("/{session_id}/reset", response_model=SessionState, responses=FORBIDDEN)
async def reset_session(session: ControlDep, hub: HubDep):
    """Back to step 0: the same seed gives the same start, bit for bit (undo takes it back)."""
    return answer(await hub.control(session, Reset(undoable=True)))


@router.put(
    "/{session_id}/config", response_model=SessionState, responses={**BAD_BODY, **FORBIDDEN}
)
async def rebuild_session(cfg: SessionConfig, session: ControlDep, hub: HubDep):
    """Start the session again from a new config, in place: the same id, join code and
    followers, who are sent the new network (a new data set, layers, features…; undoable)."""
    return answer(await hub.control(session, Rebuild(config=cfg.model_dump(mode="json"),
                                                      undoable=True)))


@router.post("/{session_id}/undo", response_model=SessionState, responses={
    **FORBIDDEN, 409: {"model": Problem, "description": "nothing to undo"}})
async def undo_change(session: ControlDep, hub: HubDep):
    """Take back the last reset or structural change: the session exactly as it was before."""
    try:
        return answer(await hub.control(session, Undo()))
    except NothingToUndo as err:
        raise HTTPException(409, str(err)) from None


@router.post(
    "/{session_id}/phase", response_model=SessionState, responses={**BAD_BODY, **FORBIDDEN}
)
async def move_phase(body: PhaseBody, session: ControlDep, hub: HubDep):
    """Step-through: the next or previous phase of one training step."""
    return answer(await hub.control(session, Phase(body.direction)))


@router.patch(
    "/{session_id}/config", response_model=SessionState, responses={**BAD_BODY, **FORBIDDEN}
)
async def patch_config(patch: ConfigPatch, session: ControlDep, hub: HubDep):
    """Change hyper-parameters live: learning rate, optimizer, regularisation, batch…"""
    return answer(await hub.control(
        session, Config(patch.model_dump(mode="json", exclude_unset=True))))


@router.put(
    "/{session_id}/parameter", response_model=SessionState, responses={**BAD_BODY, **FORBIDDEN}
)
async def set_parameter(edit: ParameterEdit, session: ControlDep, hub: HubDep):
    """Set one weight w_ij^k or bias b_i^k by hand."""
    return answer(await hub.control(session, Parameter(edit.model_dump(mode="json"))))


@router.get("/{session_id}/gradcheck", response_model=GradientCheck)
async def check_gradient(
    session: SessionDep,
    hub: HubDep,
    kind: Literal["W", "b"],
    layer: Annotated[int, Query(ge=1, description="k = 1..L")],
    i: Annotated[int, Query(ge=0, description="W: source node in layer k−1; b: node in k")],
    j: Annotated[int | None, Query(ge=0, description="W: target node in layer k")] = None,
):
    """Analytic against numeric gradient for one weight or bias, on the last step's batch."""
    return answer(await hub.control(session, Gradcheck(kind, layer, i, j)))


@router.get("/{session_id}/export", response_model=ExportAnswer)
async def export_session(session: SessionDep, hub: HubDep):
    """Config, network, optimizer state, batch order and loss history as JSON."""
    return answer(await hub.control(session, Export()))


@router.get(
    "/{session_id}/export.{fmt}", response_class=Response, responses={
        200: {"content": {media: {} for _, media in code_export.FORMATS.values()},
              "description": "the file, as an attachment"},
        409: {"model": Problem, "description": "imported mid-run: its run from step 0 is gone"}})
async def export_code(
    session: SessionDep, hub: HubDep,
    fmt: Annotated[Literal[tuple(code_export.FORMATS)], Path(description="py: NumPy, ipynb: "
                   "a notebook, torch.py: PyTorch")],
):
    """The code behind the run: a NumPy script, notebook or PyTorch script that replays it."""
    try:
        outcome = await hub.control(session, Code(fmt))
    except code_export.NotReplayable as err:
        raise HTTPException(409, str(err)) from None
    name = code_export.file_name(session.id, fmt)
    return answer(outcome, code_export.FORMATS[fmt][1],
                  headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.delete(
    "/{session_id}", status_code=204, response_class=Response, responses=FORBIDDEN
)
async def delete_session(session: ControlDep, store: StoreDep):
    """End the session and disconnect its followers."""
    store.remove(session.id)
    return Response(status_code=204)
