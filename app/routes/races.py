"""Races: 2–4 sessions side by side that differ in one setting, played in lockstep.

Routes are thin: they parse, ask app/loop/races.py (which asks the lanes' worker) and answer
with the bytes the worker made around the race's own few fields.
"""

import asyncio
from typing import Annotated

from fastapi import (
    APIRouter,
    Depends,
    Header,
    HTTPException,
    Path,
    Request,
    Response,
    WebSocket,
    WebSocketDisconnect,
)
from fastapi.responses import HTMLResponse

from app.classroom.qr import qr_svg
from app.classroom.reach import reach, students_url
from app.classroom.saved import off_loop
from app.crossing import Pause, Play, Read, Reset
from app.loop.following import forward
from app.loop.races import RACE_FORMAT, Race, Races
from app.loop.store import Handle, SessionStore
from app.routes import bodies, lanes
from app.routes.bodies import Checked
from app.routes.deps import SettingsDep, StoreDep
from app.routes.pages import missing_saved, not_found
from app.routes.sessions import (
    BAD_BODY,
    BUSY_RETRY_SECONDS,
    CREATES,
    FORBIDDEN,
    FULL,
    LIMITED,
)
from app.schemas.race import RaceConfig, RaceCreated, RaceState, SavedRace, SavedRaceLink
from app.schemas.session import PlayBody, Problem, StepBody
from app.schemas.step import check_limits

NO_RACE = {404: {"model": Problem, "description": "no such race (it may have ended)"}}

router = APIRouter(prefix="/api", tags=["races"], route_class=Checked)   # app/routes/bodies.py
pages = APIRouter(include_in_schema=False)


def get_races(request: Request) -> Races:
    return request.app.state.races


RacesDep = Annotated[Races, Depends(get_races)]


async def get_race(
    races: RacesDep, race_id: Annotated[str, Path(description="the race's id")]
) -> Race:
    race = races.get(race_id)
    if race is None:
        raise HTTPException(404, f"no race {race_id!r} (it may have ended)")
    return race   # a read is no use of its lanes, as of a session's (app/routes/deps.py)


async def get_controlled_race(
    race: Annotated[Race, Depends(get_race)],
    x_control_token: Annotated[
        str | None, Header(alias="X-Control-Token", description="the race's control token")
    ] = None,
) -> Race:
    if not SessionStore.authorised(race, x_control_token):
        raise HTTPException(
            403, "this race is read-only without its control token (header X-Control-Token)"
        )
    race.touch()
    return race


RaceDep = Annotated[Race, Depends(get_race)]
ControlDep = Annotated[Race, Depends(get_controlled_race)]


def _json(body: bytes, status_code: int = 200) -> Response:
    return Response(body, status_code=status_code, media_type="application/json")


def _too_busy() -> HTTPException:
    return HTTPException(
        503, "the server is too busy to start a race now; try again shortly",
        headers={"Retry-After": str(BUSY_RETRY_SECONDS)},
    )


def _from_session(store: SessionStore, source: dict | None) -> Handle | None:
    """The session a race is started from (RaceConfig.from_session), if its token controls it."""
    if source is None:
        return None
    handle = store.get(source["id"])
    if handle is None:
        raise HTTPException(422, [{"type": "value_error", "loc": ["body", "from_session", "id"],
                                   "msg": f"no session {source['id']!r} (it may have ended)"}])
    if not SessionStore.authorised(handle, source["token"]):
        raise HTTPException(403, "from_session.token: not that session's control token")
    return handle


async def _open(races: Races, sources: list[tuple[str, object]], vary: str, values: list,
                worker: int | None = None, session: Handle | None = None) -> Response:
    """A new race, answered 201 with its token; a prompt 503 if its worker is too busy."""
    try:
        race = await asyncio.wait_for(
            races.open(sources, vary, values, worker=worker, session=session),
            races.settings.create_timeout_seconds,
        )
        state = await races.control(race, Read())
    except TimeoutError:
        raise _too_busy() from None
    head = f'{{"id":"{race.id}","token":"{race.token}","watch_url":"{race.watch_url}","state":'
    return _json(head.encode() + state + b"}", status_code=201)


@bodies.post(   # the body is parsed and the lanes made in the race's worker (app/routes/lanes.py)
    router, "/races", route_class=lanes.LanesInWorker, status_code=201,
    response_model=RaceCreated, dependencies=CREATES,
    responses={**BAD_BODY, **FULL, **LIMITED, 403: {
        "model": Problem, "description": "from_session's token does not control that session"}},
)
async def create_race(cfg: RaceConfig, races: RacesDep, store: StoreDep, request: Request):
    """Start a race: the base's session once per value of the one setting that varies."""
    try:
        made = lanes.of(request)   # or its 422, e.g. a lane the base and its value cannot make
    except TimeoutError:
        raise _too_busy() from None
    session = _from_session(store, made.source)
    return await _open(races, made.lanes, made.vary, made.values, made.worker, session)


@router.get("/races/{race_id}", response_model=RaceState, responses=NO_RACE)
async def read_race(race: RaceDep, races: RacesDep):
    """The race: what varies, and each lane's session state."""
    return _json(await races.control(race, Read()))


@router.post(
    "/races/{race_id}/play", response_model=RaceState,
    responses={**NO_RACE, **FORBIDDEN, **BAD_BODY},
)
async def play_race(body: PlayBody, race: ControlDep, races: RacesDep):
    """Play every lane in lockstep at `speed` steps a second, or as fast as it goes."""
    return _json(await races.control(race, Play(body.speed)))


@router.get(
    "/races/{race_id}/qr.svg", response_class=Response,
    responses={**NO_RACE, 200: {"content": {"image/svg+xml": {}}, "description": "an SVG image"}},
)
async def race_qr_code(race: RaceDep, settings: SettingsDep):
    """A QR code of the race's watch link at the address students reach (app/reach.py)."""
    return qr_svg(students_url(settings, race.watch_url))


@router.post("/races/{race_id}/pause", response_model=RaceState,
             responses={**NO_RACE, **FORBIDDEN})
async def pause_race(race: ControlDep, races: RacesDep):
    """Pause every lane at the same step."""
    return _json(await races.control(race, Pause()))


@router.post(
    "/races/{race_id}/step", response_model=RaceState,
    responses={**NO_RACE, **FORBIDDEN, **BAD_BODY},
)
async def step_race(
    body: StepBody, race: ControlDep, races: RacesDep, settings: SettingsDep, request: Request
):
    """Take n steps in every lane now (the race pauses)."""
    check_limits(settings, steps=body.steps)
    return _json(await races.step(race, body.steps, request.is_disconnected))


@router.post("/races/{race_id}/reset", response_model=RaceState,
             responses={**NO_RACE, **FORBIDDEN})
async def reset_race(race: ControlDep, races: RacesDep):
    """Every lane back to step 0."""
    return _json(await races.control(race, Reset()))


@router.post("/races/{race_id}/save", response_model=SavedRaceLink,
             responses={**NO_RACE, **FORBIDDEN})
async def save_race(race: ControlDep, races: RacesDep, request: Request):
    """Save the race (every lane as it stands) under a short link that survives restarts."""
    code = await off_loop(request.app.state.saved_races.save, await races.export(race))
    return {"code": code, "url": f"/r/{code}"}


@router.delete("/races/{race_id}", status_code=204, response_class=Response,
               responses={**NO_RACE, **FORBIDDEN})
async def delete_race(race: ControlDep, races: RacesDep):
    """End the race and its lanes; its followers are told."""
    races.end(race)
    return Response(status_code=204)


async def _saved(request: Request, code: str) -> dict:
    saved = await off_loop(request.app.state.saved_races.load, code)
    if saved is None or saved.get("format") != RACE_FORMAT:
        raise HTTPException(404, f"no saved race {code!r}")
    return saved


@router.get("/saved-races/{code}", response_model=SavedRace,
            responses={404: {"model": Problem, "description": "no such saved race"}})
async def read_saved_race(code: str, request: Request):
    """A saved race: what varies and each lane's export."""
    return await _saved(request, code)


@router.post(
    "/saved-races/{code}/open", status_code=201, response_model=RaceCreated,
    responses={**FULL, **LIMITED, 404: {"model": Problem, "description": "no such saved race"}},
    dependencies=CREATES,
)
async def open_saved_race(code: str, request: Request, races: RacesDep):
    """Open a saved race as a new live race, every lane exactly as it was saved."""
    saved = await _saved(request, code)
    lanes = [("export", lane) for lane in saved["lanes"]]
    return await _open(races, lanes, saved["vary"], saved["values"])


@router.websocket("/races/{race_id}/stream")
async def stream(websocket: WebSocket, race_id: str):
    """Follow a race: every lane's state, frames and heatmaps side by side (docs/stream.md)."""
    races: Races = websocket.app.state.races
    race = races.get(race_id)
    cluster = websocket.app.state.cluster
    if race is None and cluster is not None:   # it lives on another instance: through Redis
        return await cluster.follow_race(websocket, race_id)
    await websocket.accept()
    if race is None:
        await websocket.close(code=4404, reason="no such race")
        return
    if race.followers >= races.settings.max_followers:
        await websocket.close(code=4429, reason="this race has its maximum of followers")
        return
    follower = None
    receiver = asyncio.ensure_future(websocket.receive())  # only to notice a close
    try:
        feed, follower = await races.join(race)
        await forward(websocket, feed, follower, receiver)
    except (WebSocketDisconnect, RuntimeError, OSError, KeyError):
        pass   # the follower went away mid-send, or the race ended while it joined
    finally:
        receiver.cancel()
        races.leave(race, follower)


def _page(request: Request, **ctx) -> HTMLResponse:
    ctx.setdefault("race_id", "")
    ctx.setdefault("saved_code", "")
    ctx["reach"] = reach(request.app.state.settings)   # students' links, as the share panel's
    return request.app.state.templates.TemplateResponse(request, "race.html", ctx)


@pages.get("/race/{race_id}", response_class=HTMLResponse)
def race_page(request: Request, race_id: str):
    """The race page: every lane side by side (controls for the tab that holds the token)."""
    if request.app.state.races.get(race_id) is None:
        return not_found(request, "There is no race here: it has ended or the link is wrong.")
    return _page(request, race_id=race_id)


@pages.get("/r/{code}", response_class=HTMLResponse)
def saved_race_page(request: Request, code: str):
    """A saved race: the page opens it as a new live race."""
    missing = missing_saved(request, request.app.state.saved_races, code, "race", f"/r/{code}")
    return missing or _page(request, saved_code=code)
