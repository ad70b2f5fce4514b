"""Classroom: lecture presets, join codes, QR codes, own copies, saved sessions, history."""

from enum import Enum

from fastapi import APIRouter, HTTPException, Request, Response

from app.classroom.qr import qr_svg
from app.classroom.reach import students_url
from app.classroom.saved import off_loop
from app.crossing import Export, HistoryCsv, HistoryJson, Load, Rebuild
from app.loop.ratelimit import JOINS, join_missed
from app.routes.deps import ControlDep, HubDep, SessionDep, StoreDep, answer
from app.routes.sessions import CREATES, LIMITED, open_session
from app.schemas.answers import (
    ExportAnswer,
    HistoryAnswer,
    JoinAnswer,
    Preset,
    SavedLink,
    SessionCreated,
    SessionState,
)
from app.schemas.presets import PRESETS, preset_config
from app.schemas.session import Problem

router = APIRouter(prefix="/api", tags=["classroom"])
# The presets' names as the path's type: an unknown one is a 422 naming `name`
PresetName = Enum("PresetName", {name: name for name in PRESETS}, type=str)
GUESSES = {429: {"model": Problem, "description": "too many unknown join codes from this address"}}


@router.get("/presets", response_model=list[Preset])
async def list_presets():
    """The lecture presets: name, title, description and the session config of each."""
    return [vars(p) for p in PRESETS.values()]


@router.post(
    "/presets/{name}", status_code=201, response_model=SessionCreated, responses=LIMITED,
    dependencies=CREATES,
)
async def open_preset(name: str, store: StoreDep, hub: HubDep, request: Request):
    """Start a session from a lecture preset."""
    return await open_session(store, hub, "config", _preset(name), request)


def _preset(name: str) -> dict:
    """The preset's SessionConfig as JSON, or a 404 naming the presets there are."""
    if name not in PRESETS:
        raise HTTPException(404, f"no preset {name!r}; choose one of {sorted(PRESETS)}")
    return preset_config(name).model_dump(mode="json")


@router.put(
    "/sessions/{session_id}/preset/{name}", response_model=SessionState,
    responses={403: {"model": Problem, "description": "no or a wrong X-Control-Token"}},
)
async def rebuild_from_preset(name: PresetName, session: ControlDep, hub: HubDep):
    """Start the session again from a lecture preset, in place: the same id, join code and
    followers (undoable)."""
    return answer(await hub.control(session, Rebuild(config=_preset(name.value),
                                                      undoable=True)))


@router.get("/join/{code}", response_model=JoinAnswer, responses=GUESSES, dependencies=JOINS)
async def join(code: str, store: StoreDep, request: Request):
    """Find a session by its short join code: its id and watch link."""
    session = store.by_code(code)
    if session is None:
        join_missed(request)   # guesses are limited per address (app/loop/ratelimit.py)
        raise HTTPException(404, f"no session with join code {code!r}")
    return {"id": session.id, "watch_url": session.watch_url}


@router.get(
    "/sessions/{session_id}/qr.svg", response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}, "description": "an SVG image"}},
)
async def qr_code(session: SessionDep, request: Request):
    """A QR code of the session's watch link, made here: the hall needs no internet."""
    # The address students reach (app/classroom/reach.py), never the Host header the teacher's tab
    # sent
    return qr_svg(students_url(request.app.state.settings, session.watch_url))


@router.post(
    "/sessions/{session_id}/copy", status_code=201, response_model=SessionCreated,
    responses=LIMITED, dependencies=CREATES,
)
async def copy_session(session: SessionDep, store: StoreDep, hub: HubDep, request: Request):
    """Make my own copy: a new session (with its own token) at this session's state."""
    return await open_session(store, hub, "export", await hub.export(session), request)


@router.post("/sessions/{session_id}/save", response_model=SavedLink)
async def save_session(session: ControlDep, request: Request, hub: HubDep):
    """Save the session to disk under a short link that survives restarts."""
    export = (await hub.control(session, Export())).body
    code = await off_loop(request.app.state.saved.save, export)
    return {"code": code, "url": f"/s/{code}"}


@router.get("/saved/{code}", responses={200: {"model": ExportAnswer}})
async def read_saved(code: str, request: Request):
    """A saved session's export JSON."""
    return await _saved(request, code)


@router.post(
    "/saved/{code}/open", status_code=201, response_model=SessionCreated, responses=LIMITED,
    dependencies=CREATES,
)
async def open_saved(code: str, request: Request, store: StoreDep, hub: HubDep):
    """Open a saved session as a new live session, exactly as it was saved."""
    return await open_session(store, hub, "export", await _saved(request, code), request)


@router.put(
    "/sessions/{session_id}/saved/{code}", response_model=SessionState,
    responses={403: {"model": Problem, "description": "no or a wrong X-Control-Token"}},
)
async def load_saved(code: str, session: ControlDep, hub: HubDep, request: Request):
    """Continue this session from a saved one, in place: the same id, join code and followers
    (undoable)."""
    return answer(await hub.control(session, Load(export=await _saved(request, code),
                                                   undoable=True)))


async def _saved(request: Request, code: str) -> dict:
    export = await off_loop(request.app.state.saved.load, code)
    if export is None:
        raise HTTPException(404, f"no saved session {code!r}")
    return export


@router.get("/sessions/{session_id}/history.json", response_model=HistoryAnswer)
async def history_json(session: SessionDep, hub: HubDep):
    """The loss history: the recent steps exactly, the whole run as blocks (docs/stream.md)."""
    return answer(await hub.control(session, HistoryJson()))


@router.get(
    "/sessions/{session_id}/history.csv", response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "step,loss,min,max rows"}},
)
async def history_csv(session: SessionDep, hub: HubDep):
    """The loss history as CSV: step,loss."""
    return answer(
        await hub.control(session, HistoryCsv()),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="loss-{session.id}.csv"'},
    )
