"""ASGI middleware around every answer: request bodies over a size refused before parsing (413),
and the security headers every response carries (CSP, frame-ancestors, nosniff); the short
form of a 422, which names the field and the rule and never echoes the input back."""

import math
import reprlib

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.routes.surrogates import printable
from app.schemas.step import MAX_ROWS

# The pages load nothing from outside. KaTeX writes style attributes and loads its fonts from
# /static; htmx sets inline styles for its indicators, hence 'unsafe-inline' for styles only.
# 'self' covers the page's own WebSocket (ws:/wss: on the same host) in CSP Level 3.
CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]


def too_large(limit: int) -> str:
    return (
        f"the request body is over {limit:,} bytes, the most this server reads "
        f"(BACKPROP_MAX_BODY_BYTES)"
    )


class BodyLimit:
    """413 before any parsing: a Content-Length over `limit` is refused unread; a body without
    one (chunked) is counted as it arrives and refused as soon as it goes over. `max_rows`
    (Settings.max_points) is where the schemas count a request's points before parsing them."""

    def __init__(self, app: ASGIApp, limit: int, max_rows: int | None = None) -> None:
        self.app, self.limit, self.max_rows = app, limit, max_rows

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        MAX_ROWS.set(self.max_rows)   # this request's task only
        declared = Headers(scope=scope).get("content-length", "")
        if declared.strip().isdigit() and int(declared) > self.limit:
            await JSONResponse({"detail": too_large(self.limit)}, 413)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    # FastAPI re-raises an HTTPException met while reading the body, and
                    # its exception handler answers it: the body is never parsed.
                    raise HTTPException(413, too_large(self.limit))
            return message

        await self.app(scope, counted, send)


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every HTTP answer that has not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


# --- 422s that name the field and the rule, never echo the input --------------------------

MOST_ERRORS = 20  # a 422 lists this many problems at most, then how many more there were
EXCERPT = reprlib.Repr()  # bounded: a few items of a few levels, however large the value
EXCERPT.maxlevel, EXCERPT.maxlist, EXCERPT.maxtuple, EXCERPT.maxdict = 2, 3, 3, 3
EXCERPT.maxstring = EXCERPT.maxlong = EXCERPT.maxother = 40
EXCERPT_CHARS = 80


def excerpt(value):
    """A bounded excerpt of a refused value: short scalars as they came (a non-finite float
    as null), anything else as a short repr whose cost does not grow with the value."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, int) and abs(value) < 2**63:
        return value
    if isinstance(value, str) and len(value) <= EXCERPT_CHARS:
        return printable(value)   # a lone surrogate as its escape: the answer is UTF-8
    text = printable(EXCERPT.repr(value))
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"


NOT_AN_OBJECT = {"model_attributes_type", "model_type", "dict_type"}


def brief(errors: list, content_type: str | None = None) -> list:
    """Validation errors as JSON-safe dicts: type, loc, msg (each kept short) and an excerpt of
    the input; past MOST_ERRORS, one entry saying how many more were left out. A body that is
    not a JSON object is told what to send (`content_type`: the request's)."""
    out = []
    for error in errors[:MOST_ERRORS]:
        loc = tuple(error.get("loc", ()))
        msg = printable(str(error.get("msg", ""))[:300])
        if loc == ("body",) and error.get("type") in NOT_AN_OBJECT:
            got = "no Content-Type" if not content_type else f"Content-Type {content_type[:60]}"
            msg = (f"body: send a JSON object with Content-Type: application/json "
                   f"(got {got})" if "json" not in (content_type or "") else
                   "body: must be a JSON object ({…}), not another JSON value")
        item = {
            "type": str(error.get("type", "value_error"))[:EXCERPT_CHARS],
            "loc": [part if isinstance(part, int) else excerpt(str(part)) for part in loc],
            "msg": msg,
        }
        if "input" in error:
            item["input"] = excerpt(error["input"])
        if error.get("ctx"):
            item["ctx"] = {str(k): excerpt(v if isinstance(v, int | float) else str(v))
                           for k, v in list(error["ctx"].items())[:4]}
        out.append(item)
    if len(errors) > MOST_ERRORS:
        out.append({"type": "too_many_errors", "loc": ["body"],
                    "msg": f"{len(errors) - MOST_ERRORS} more problems not listed"})
    return out


def field_path(field: str | None) -> list:
    """An EngineError's field as a pydantic loc: "activations[1]" -> ["activations", 1],
    "optimizer_state.m" -> ["optimizer_state", "m"]; None (no one field) -> []."""
    if not field:
        return []
    path = []
    for part in field.split("."):
        name, *indices = part.replace("]", "").split("[")
        path += [name] if name else []
        path += [int(i) if i.isdigit() else i for i in indices]
    return path
