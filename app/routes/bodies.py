"""Request bodies parsed and validated in a worker process, never on the event loop.

FastAPI parses a body with json.loads and validates it with pydantic on the event loop, and
both hold the GIL (a thread would not help): a 1 MB create cost the loop ~25 ms, a 4 MB body
refused for its 270,000 points ~250 ms, with every user and stream waiting (bench/bodies.py).
A route made with `post()` hands the raw bytes to a worker instead, which parses and validates
them exactly as FastAPI would (json.loads, then the route's model: the same 400 and 422
answers, loc and all). A create or an import keeps the model in the worker its session will
live in and builds the session there from it (`place`), a new race its lanes (app/routes/lanes.py);
a step or a gradient check is bounded and opened as a job there, then worked in parts
(`answered`). Every other route with a body model is a `Checked` route: a body over
PARSED_HERE_BYTES (junk or padding) is validated in a worker, which sends the model back. The
event loop only moves bytes.

The route's signature and OpenAPI schema stay as they were: FastAPI still sees the model as the
body, and is handed a stand-in instance of it, which it passes through."""

import email.message
import json
import secrets
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import cache

from fastapi import APIRouter, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter, ValidationError

from app.routes import surrogates
from app.routes.guards import brief
from app.schemas import shape
from app.schemas.step import MAX_ROWS
from app.worker import process as work

BAD_JSON = "There was an error parsing the body"   # FastAPI's own 400
KEPT = 4   # validated bodies a worker keeps for the session about to open from them
PARSED_HERE_BYTES = 64 * 2**10   # a Checked route's body up to this size: json.loads here


@dataclass(frozen=True)
class Pending:
    """A JSON body FastAPI was not let parse: the route's model, the raw bytes, the request's
    Content-Type (a 422 quotes it) and Settings.max_points (rows counted before parsing)."""

    model: type[BaseModel]
    body: bytes
    content_type: str
    max_rows: int


class Checked(APIRoute):
    """A route whose JSON body, when over PARSED_HERE_BYTES, is parsed and validated in a
    worker, which sends the model back (FastAPI passes it through, and then looks at the token
    or session: a large bad body is a 422 before a 403/404). 4 MB of junk no longer holds the
    loop; smaller bodies are parsed here as before (≤ ~1 ms)."""

    def get_route_handler(self):
        handle = super().get_route_handler()
        body_field = self.body_field
        model = body_field.field_info.annotation if body_field is not None else None
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return handle

        async def route(request: Request):
            body = await request.body()   # over BACKPROP_MAX_BODY_BYTES: 413 here, unread
            content_type = request.headers.get("content-type")
            if body and is_json(content_type):
                pending = Pending(model, body, content_type,
                                  request.app.state.settings.max_points)
                await self.defer(request, pending)
            return await handle(request)   # other bodies: FastAPI's own 422, as before

        return route

    async def defer(self, request: Request, body: Pending) -> None:
        # a body that may hold a lone surrogate too: the worker refuses it (`loads`)
        if len(body.body) > PARSED_HERE_BYTES or surrogates.may_hold(body.body):
            request._json = await validated(request.app.state.hub, body)


class BodyInWorker(Checked):
    """A route whose JSON body is parsed in a worker and sent on by the route (`pending`)."""

    async def defer(self, request: Request, body: Pending) -> None:
        # FastAPI takes this as the parsed JSON and, as it is already an instance of the
        # model, passes it through: the body waits for the route to send it on.
        request._json = stand_in(body.model)
        request.state.pending = body


@cache
def stand_in(model: type[BaseModel]) -> BaseModel:
    """An instance of `model` for FastAPI to pass through. pydantic reruns a model's own
    after-checks even on an instance, so it must be a valid one: the model's documented example
    (every request body has one, tests/app/schemas/test_schema_examples.py), a few values."""
    examples = (model.model_config.get("json_schema_extra") or {}).get("examples")
    return model.model_validate(examples[0]) if examples else model.model_construct()


def post(router: APIRouter, path: str, route_class: type[Checked] = BodyInWorker, **options):
    """`@router.post(path, **options)` for a route whose body is parsed in a worker."""

    def register(endpoint):
        router.add_api_route(
            path, endpoint, methods=["POST"], route_class_override=route_class, **options
        )
        return endpoint

    return register


def is_json(content_type: str | None) -> bool:
    """FastAPI's rule for a body it parses as JSON (strict: no Content-Type is not JSON)."""
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def pending(request: Request, value: BaseModel) -> Pending | BaseModel:
    """The route's body as it goes to a worker: still unparsed when BodyInWorker kept it back,
    else the model FastAPI validated (a body that was not JSON cannot get here valid)."""
    waiting = getattr(request.state, "pending", None)
    return waiting if waiting is not None else value


@dataclass(frozen=True)
class Parsed:
    """A body validated in worker `worker` and kept there under `key`. Sent to that worker
    (hub.open), it unpickles as the validated model itself: nothing is parsed twice."""

    worker: int
    key: str
    pending: Pending

    def __reduce__(self):
        return _take, (self.key, self.pending)


async def place(hub, data) -> tuple[int, object]:
    """The worker a new session goes to, and its data: a pending body is parsed there first,
    and a bad one answered 400 or 422 as FastAPI would, before any session is made."""
    index = hub.place()
    if isinstance(data, BaseModel):
        return index, data.model_dump(mode="json")
    if not isinstance(data, Pending):
        return index, data
    key = secrets.token_hex(8)
    _refuse(await call(hub, hub.workers[index], check, data, key))
    return index, Parsed(index, key, data)


async def answered(hub, op: str, data: Pending | BaseModel, bounded, abandoned) -> bytes | None:
    """A stateless request (/api/step, /api/gradcheck) parsed, checked by `bounded(request,
    settings)` (a module-level function: it runs in the worker) and worked out in parts, all in
    one worker (app/loop/hub.py, stateless): the answer's bytes, or None when `abandoned()`."""
    answer = await hub.stateless(stateless, (op, data, bounded, hub.settings), abandoned)
    _refuse(answer if isinstance(answer, tuple) else None)
    return answer


async def validated(hub, body: Pending) -> BaseModel:
    """The body's model, validated in the worker with the fewest calls waiting; a bad body
    answered 400 or 422 as FastAPI would."""
    worker = min(hub.workers, key=lambda w: w.waiting)
    model = await call(hub, worker, validate, body)
    _refuse(model if isinstance(model, tuple) else None)
    return model


async def call(hub, worker, fn, *args):
    """fn(*args) in `worker`; a worker that died under it is revived and tried once more."""
    generation = worker.generation
    try:
        return await worker.run(fn, *args)
    except BrokenProcessPool:   # the worker died under it: revived, and tried once more
        await hub.revive(worker, generation)
        return await worker.run(fn, *args)


def _refuse(problem: tuple[int, object] | None) -> None:
    if problem is not None:
        raise HTTPException(*problem)   # {"detail": …} as the handlers in app/main.py answer


# --- in the worker ------------------------------------------------------------------------

PARSED: dict[str, BaseModel] = {}   # key -> a validated body, until its session opens


@cache
def _adapter(model: type[BaseModel]) -> TypeAdapter:
    return TypeAdapter(model)


def stateless(key: str, op: str, data: Pending | BaseModel, bounded, settings) -> tuple | None:
    """In a worker: the request's job opened under `key` (None), or the status and detail of
    a refusal. An EngineError (over a cost bound, or from the engine) crosses back and
    app/main.py answers it."""
    if isinstance(data, Pending):
        problem = check(data, parsed := secrets.token_hex(8))
        if problem is not None:
            return problem
        data = PARSED.pop(parsed)
    try:
        bounded(data, settings)
    except RequestValidationError as err:   # over the configured limits: as app/main.py does
        return 422, brief(err.errors())
    work.open_job(key, op, data)
    return None


def _validate(body: Pending) -> BaseModel:
    """The body as FastAPI validates it: json.loads, then the model from Python objects."""
    return _adapter(body.model).validate_python(json.loads(body.body), from_attributes=True)


def check(body: Pending, key: str) -> tuple[int, object] | None:
    """In a worker: validate `body` and keep it under `key` (None), or the status and detail
    of the answer FastAPI would have given, in the short form of app/routes/guards.py."""
    value = loads(body)
    model = value if isinstance(value, tuple) else model_of(body, value)
    if isinstance(model, tuple):
        return model
    PARSED[key] = model
    while len(PARSED) > KEPT:   # bodies whose session never came (a full store, a timeout)
        del PARSED[next(iter(PARSED))]
    return None


def loads(body: Pending) -> object:
    """In a worker: the body's JSON as FastAPI reads it, or the status and detail of its
    refusal as a tuple (json.loads never makes one): a list longer than any the model allows
    or nested deeper (app/schemas/shape.py, measured before a single item is built), or a
    string that is not Unicode text (a lone surrogate, app/routes/surrogates.py), is a 422
    naming where it is."""
    misshapen = shape.refusal(body.body, body.model, work.SETTINGS)
    if misshapen is not None:
        return 422, brief([{**misshapen, "loc": ("body", *misshapen["loc"])}], body.content_type)
    try:
        value = json.loads(body.body)
        lone = surrogates.found(value) if surrogates.may_hold(body.body) else []
        return (422, brief(lone, body.content_type)) if lone else value
    except json.JSONDecodeError as err:
        return 422, brief([{"type": "json_invalid", "loc": ("body", err.pos),
                            "msg": "JSON decode error", "input": {},
                            "ctx": {"error": err.msg}}], body.content_type)
    except Exception:   # not UTF-8/16/32, nested too deep: FastAPI answers these 400
        return 400, BAD_JSON


def model_of(body: Pending, value) -> BaseModel | tuple[int, object]:
    """In a worker: the parsed body validated as FastAPI validates it (rows counted before
    they are parsed item by item), or the status and detail of its 422."""
    limit = MAX_ROWS.set(body.max_rows)
    try:
        return _adapter(body.model).validate_python(value, from_attributes=True)
    except ValidationError as err:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in err.errors(include_url=False)]
        return 422, brief(errors, body.content_type)
    finally:
        MAX_ROWS.reset(limit)


def validate(body: Pending) -> BaseModel | tuple[int, object]:
    """In a worker: the body's model, or the status and detail of its refusal."""
    return check(body, key := secrets.token_hex(8)) or PARSED.pop(key)


def _take(key: str, body: Pending) -> BaseModel | None:
    """Unpickling a Parsed in its worker: the model kept there, or (the worker was restarted
    or dropped it since) the body validated again. Never raises: an exception while a call is
    unpickled would break the worker; None fails the session's build with a ValidationError."""
    kept = PARSED.pop(key, None)
    if kept is not None:
        return kept
    try:
        return _validate(body)
    except Exception:
        return None
