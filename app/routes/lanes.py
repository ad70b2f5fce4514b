"""A new race's lanes, made and validated in the worker they will live in, never on the loop.

Making a race's lanes validates the base's data once a lane: 4 lanes of 5,000 own points × 16
targets held the event loop 65–85 ms, every user and stream waiting, and each lane's config
was then pickled to the worker and validated there again (bench/bodies.py). POST /api/races
is a `LanesInWorker` route: its body goes unparsed to the worker the race will live in
(hub.place(), as Races.open places), which in one call parses and validates the RaceConfig as
FastAPI would (app/routes/bodies.py), makes and validates each lane's SessionConfig, and keeps them
(LANES). Each lane then opens from a `Lane`, which unpickles there as its kept model: nothing
is parsed or validated twice, and the event loop only moves bytes.

Every answer is as it was when FastAPI parsed the body and the route made the lanes on the
loop, in the same order around the route's dependencies (the create rate limit): a body that
is not JSON is refused before them, as FastAPI refused it; a RaceConfig that does not
validate, before them when the body is over PARSED_HERE_BYTES (as a Checked route refused
it), after them otherwise (as FastAPI validated it); a lane the base and its value cannot
make, after them: a 422 at body.vary…, as the route answered it. A worker too busy to make
them within create_timeout_seconds: the route's prompt 503, after them too, as when it was
too busy to open them."""

import asyncio
import secrets
from dataclasses import dataclass

from fastapi import HTTPException, Request
from pydantic import ValidationError

from app.routes import bodies
from app.routes.bodies import KEPT, PARSED_HERE_BYTES, Checked, Pending, stand_in
from app.routes.guards import brief
from app.schemas.race import MAX_LANES, RaceConfig
from app.schemas.session import SessionConfig
from app.schemas.step import MAX_ROWS


@dataclass(frozen=True)
class Refused:
    """Why a race's lanes were not made, and its answer: `at` "json" (not JSON), "body" (not
    a RaceConfig) or "lanes" (a lane the base and its value cannot make)."""

    at: str
    status: int
    detail: object

    def now(self, body: Pending) -> bool:
        """Answered before the route's dependencies, where FastAPI or Checked answered it."""
        return self.at == "json" or (self.at == "body" and len(body.body) > PARSED_HERE_BYTES)


@dataclass(frozen=True)
class Lane:
    """Lane `n` of the race made under `key`. Sent to its worker (hub.open), it unpickles as
    the SessionConfig kept there; `body` makes it again if the worker lost it (a restart)."""

    key: str
    n: int
    body: Pending

    def __reduce__(self):
        return _take, (self.key, self.n, self.body)


@dataclass(frozen=True)
class Made:
    """A race's lanes, made and kept in worker `worker`: what varies and its values (as the
    worker validated them), the session it is started from ({id, token}, or None), and each
    lane as Races.open takes it."""

    worker: int
    key: str
    body: Pending
    vary: str
    values: list
    source: dict | None = None

    @property
    def lanes(self) -> list[tuple[str, Lane]]:
        return [("config", Lane(self.key, n, self.body)) for n in range(len(self.values))]


class LanesInWorker(Checked):
    """A route whose RaceConfig body is sent to the worker the race will live in, which makes
    its lanes (`of` hands them to the route); FastAPI is handed a stand-in to pass through."""

    async def defer(self, request: Request, body: Pending) -> None:
        hub = request.app.state.hub
        try:
            async with asyncio.timeout(hub.settings.create_timeout_seconds):
                made = await make(hub, body)
        except TimeoutError as err:   # `of` raises it in the route, which answers 503
            made = err
        if isinstance(made, Refused) and made.now(body):
            raise HTTPException(made.status, made.detail)
        request.state.lanes = made
        request._json = stand_in(body.model)


async def make(hub, body: Pending) -> Made | Refused:
    """The race's lanes made in the worker it goes to, or why not."""
    index, key = hub.place(), secrets.token_hex(8)
    answer = await bodies.call(hub, hub.workers[index], make_lanes, body, key)
    if isinstance(answer, Refused):
        return answer
    return Made(index, key, body, *answer)


def of(request: Request) -> Made:
    """The race's lanes its route class made, or the 422 it put off until the route's
    dependencies were answered, or TimeoutError (its worker was too busy). A body FastAPI
    validated was JSON: it went to the worker."""
    lanes = request.state.lanes
    if isinstance(lanes, Refused):
        raise HTTPException(lanes.status, lanes.detail)
    if isinstance(lanes, TimeoutError):
        raise lanes
    return lanes


# --- in the worker ------------------------------------------------------------------------

LANES: dict[tuple[str, int], SessionConfig] = {}   # (key, n) -> a lane, until it opens


def _lanes(body: Pending) -> tuple[RaceConfig, list[SessionConfig]] | Refused:
    """The race and its lanes, or why not, with the answers FastAPI and the route gave."""
    value = bodies.loads(body)
    if isinstance(value, tuple):
        return Refused("json", *value)
    race = bodies.model_of(body, value)
    if isinstance(race, tuple):
        return Refused("body", *race)
    limit = MAX_ROWS.set(body.max_rows)   # as on the loop, where the request had set it
    try:
        return race, race.lanes()
    except ValidationError as err:
        errors = [{**e, "loc": ("body", "vary", *e["loc"])} for e in err.errors()]
        return Refused("lanes", 422, brief(errors, body.content_type))
    finally:
        MAX_ROWS.reset(limit)


def _keep(key: str, lanes: list[SessionConfig], skip: int | None = None) -> None:
    for n, lane in enumerate(lanes):
        if n != skip:
            LANES[key, n] = lane
    while len(LANES) > KEPT * MAX_LANES:   # lanes of races that never opened (a 429, a 503)
        del LANES[next(iter(LANES))]


def make_lanes(body: Pending, key: str) -> tuple[str, list, dict | None] | Refused:
    """In the race's worker: parse and validate its body, make its lanes and keep them under
    `key`; answer what varies, its values and the session it is started from, or why not."""
    made = _lanes(body)
    if isinstance(made, Refused):
        return made
    race, lanes = made
    _keep(key, lanes)
    source = race.from_session and race.from_session.model_dump()
    return race.vary.field, race.vary.values, source


def _take(key: str, n: int, body: Pending) -> SessionConfig | None:
    """Unpickling a Lane in its worker: the lane kept there, or (the worker was restarted or
    dropped it since) every lane made again from the body, the others kept for their turn.
    Never raises (it would break the worker); None fails the lane's build."""
    kept = LANES.pop((key, n), None)
    if kept is not None:
        return kept
    try:
        made = _lanes(body)
        if isinstance(made, Refused):
            return None
        _keep(key, made[1], skip=n)
        return made[1][n]
    except Exception:
        return None
