"""The ASGI factory: `uvicorn --factory app.main:create_app` or `TestClient(create_app())`."""

import asyncio
import contextlib
import gc
import logging
import math
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from app.classroom.presenting import Presenter
from app.classroom.saved import SavedRaces, SavedSessions, StorageUnavailable
from app.config import STATIC, TEMPLATES, Settings
from app.loop.connections import ConnectionLimit
from app.loop.feeds import Feeds
from app.loop.hub import Hub
from app.loop.races import Races
from app.loop.ratelimit import CreateLimiter, Running
from app.loop.sockets import adopt
from app.loop.store import SessionStore, StoreFull
from app.routes import (
    api,
    classroom,
    docs,
    graph,
    lessons,
    own_copy,
    pages,
    races,
    sessions,
    stream,
)
from app.routes.catalog import catalog
from app.routes.guards import BodyLimit, SecurityHeaders, brief, field_path
from app.routes.openapi import document
from app.routes.sessions import FORBIDDEN, FULL, NOT_FOUND
from app.routes.surrogates import printable
from engine.errors import EngineError

EXPIRY_CHECK_SECONDS = 30.0

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    # Plain `uvicorn app.main:create_app --factory` runs uvicorn's own WebSocket protocol:
    # the app's goes in its place, or no stalled follower is ever cut off.
    adopt(settings.follower_send_seconds)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        _check_storage(app.state.saved)
        await app.state.hub.start()
        # What starting made (FastAPI, pydantic, numpy: ~120,000 objects) lives as long as
        # the server: out of the collector's way, a full collection walks only what came
        # since, where it held the event loop 40–140 ms.
        gc.freeze()
        sweeper = asyncio.get_running_loop().create_task(_sweep(app))
        yield
        sweeper.cancel()
        app.state.races.end_all()
        app.state.feeds.end_all()
        await app.state.hub.stop()
        gc.unfreeze()   # an app made again in this process (the tests) starts as this one did

    app = FastAPI(
        docs_url=None,  # routes/docs.py serves Swagger UI from static/vendor, not a CDN
        redoc_url=None,
        title="Backprop Playground",
        summary="Watch backpropagation: single steps, training sessions and a live stream.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = SessionStore(
        settings.max_sessions, settings.session_idle_seconds, settings.eviction_grace_seconds,
        settings.sessions_per_address,
    )
    app.state.create_limiter = CreateLimiter(settings.creates_per_minute, settings.create_burst)
    app.state.join_limiter = CreateLimiter(settings.join_misses_per_minute,
                                           settings.join_miss_burst)
    app.state.stateless_running = Running(
        settings.stateless_per_address, "/api/step and /api/gradcheck requests",
        "BACKPROP_STATELESS_PER_ADDRESS",
    )
    app.state.feeds = Feeds(settings.fanout_rate)
    app.state.hub = Hub(settings, app.state.store, app.state.feeds)
    saved_file, busy = settings.data_dir / "saved.sqlite3", settings.save_busy_seconds
    app.state.saved = SavedSessions(saved_file, busy)
    app.state.saved_races = SavedRaces(saved_file, busy)
    app.state.cluster = None
    if settings.redis_url:   # several instances behind nginx, Redis between them
        from app.cluster.instance import install  # here: without Redis none of it is loaded
        install(app)   # the shared store, feeds, hub and saves in place of the embedded ones
        app.include_router(own_copy.router)   # before classroom's copy route: in its place
    app.state.races = (Races if app.state.cluster is None else app.state.cluster.races_class)(
        app.state.hub, app.state.store, settings)
    app.state.presenter = Presenter(app.state.feeds, app.state.races)   # lessons
    ending = _ending(app.state.feeds, app.state.hub, app.state.races, app.state.presenter)
    cluster = app.state.cluster
    app.state.store.on_remove = ending if cluster is None else cluster.removing(ending)
    app.state.templates = Jinja2Templates(directory=str(TEMPLATES))
    app.state.templates.env.globals["registry"] = catalog(settings)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    for module in (api, classroom, sessions, races, graph, stream, pages, docs):
        # classroom answers 404 (no such session, preset or code), 403 and 503 like sessions
        extra = {**NOT_FOUND, **FORBIDDEN, **FULL} if module is classroom else None
        app.include_router(module.router, responses=extra)
    app.include_router(races.pages)
    app.include_router(lessons.router, responses={**NOT_FOUND, **FORBIDDEN, **FULL})
    app.include_router(lessons.pages)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes, max_rows=settings.max_points)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(ConnectionLimit, per_address=settings.followers_per_address,
                       spare_files=settings.spare_files)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(EngineError, _engine_error)
    app.add_exception_handler(StoreFull, _store_full)
    app.add_exception_handler(StorageUnavailable, _storage_unavailable)
    document(app)   # OpenAPI links from a new session to its routes; Allow on every 405
    return app


def _check_storage(saved: SavedSessions) -> None:
    """Say at start, once, when saving cannot work: not at the first teacher's click."""
    problem = saved.check()
    if problem is not None:
        log.error("saving is unavailable: %s (sessions run as usual; save and /s/ links "
                  "answer 503 until BACKPROP_DATA_DIR is fixed)", problem)


def _ending(feeds: Feeds, hub: Hub, races: Races, presenter: Presenter):
    def end(handle) -> None:   # a session that goes: its followers hear it, its worker drops it
        feeds.discard(handle)
        hub.drop(handle)
        races.lane_gone(handle)   # a race ends with any of its lanes
        races.escort.session_gone(handle)   # a race started from it brings nobody back
        presenter.session_gone(handle)   # …and a lesson's race with the lesson's session

    return end


async def _sweep(app: FastAPI) -> None:
    while True:
        await asyncio.sleep(EXPIRY_CHECK_SECONDS)
        with contextlib.suppress(Exception):
            app.state.store.expire()


async def _invalid_request(request: Request, err: RequestValidationError) -> JSONResponse:
    # FastAPI's own handler echoes each bad input whole (a 21 MB body came back as 294 MB);
    # ours names the field and the rule, with at most a short excerpt of the value.
    detail = brief(err.errors(), request.headers.get("content-type"))
    return JSONResponse(status_code=422, content={"detail": detail})


async def _engine_error(request: Request, err: EngineError) -> JSONResponse:
    loc = ["body", *field_path(err.field)]
    return JSONResponse(
        status_code=422,
        content={"detail": [{"type": "value_error", "loc": loc, "msg": printable(str(err))}]},
    )


async def _storage_unavailable(request: Request, err: StorageUnavailable) -> JSONResponse:
    log.error("saved sessions: %s", err)
    return JSONResponse(status_code=503, content={"detail": f"saving is unavailable: {err}"})


async def _store_full(request: Request, err: StoreFull) -> JSONResponse:
    return JSONResponse(
        status_code=err.status_code,   # 503 the room is full; 429 this address's share is
        content={"detail": str(err)},
        headers={"Retry-After": str(math.ceil(err.retry_after))},
    )
