"""HTML pages and htmx fragments."""

from functools import lru_cache
from urllib.parse import quote

import numpy as np
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.classroom.reach import LECTURE_COMMAND, reach
from app.classroom.saved import StorageUnavailable
from app.loop.ratelimit import JOINS, join_missed
from app.routes.catalog import CLASS_COLORS
from app.schemas.presets import PRESETS
from engine.datasets import DATASETS
from engine.trainer import plane_extent

router = APIRouter(include_in_schema=False)

THUMB_POINTS = 120


@lru_cache(maxsize=1)
def dataset_thumbs() -> list[dict]:
    """A small SVG scatter of each data set (seed 0, no noise) for the picker."""
    thumbs = []
    for name, ds in DATASETS.items():
        X, y = ds.make(THUMB_POINTS, 0.0, np.random.default_rng(0))
        lo, hi = plane_extent(X)
        r = 1.3 if len(X) > 20 else 3.5   # the truth table's four points must still show
        dots = []
        for (x1, x2), label in zip(X[:THUMB_POINTS], y[:THUMB_POINTS], strict=True):
            # −1 and class 0 the first colour, +1 and class 1 the second, class 2 the third;
            # regression: the sign of the target picks the hue
            index = int(label) if ds.classes > 2 else int(label >= 0)
            fill = CLASS_COLORS[index]
            cx, cy = (x1 - lo) / (hi - lo) * 40, (hi - x2) / (hi - lo) * 40
            dots.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r}" fill="{fill}"/>')
        thumbs.append({"name": name, "kind": ds.kind, "svg": "".join(dots)})
    return thumbs


def render_block(request: Request, name: str, block: str, ctx: dict) -> HTMLResponse:
    """One named block of a template, rendered alone: the htmx fragment of that part of the page."""
    template = request.app.state.templates.get_template(name)
    context = template.new_context({"request": request, **ctx})
    return HTMLResponse("".join(template.blocks[block](context)))


def page(request: Request, **ctx) -> HTMLResponse:
    ctx.setdefault("readonly", False)
    ctx.setdefault("session_id", "")
    ctx.setdefault("saved_code", "")
    ctx["datasets"] = dataset_thumbs()
    ctx["settings"] = request.app.state.settings
    return request.app.state.templates.TemplateResponse(request, "index.html", ctx)


@router.get("/", response_class=HTMLResponse)
def index(request: Request):
    """The playground page."""
    return page(request)


def not_found(request: Request, message: str, status_code: int = 404) -> HTMLResponse:
    ctx = {"message": message, "heading": "Not found" if status_code == 404 else "Unavailable"}
    return request.app.state.templates.TemplateResponse(
        request, "notfound.html", ctx, status_code=status_code
    )


@router.get("/watch/{session_id}", response_class=HTMLResponse)
def watch(request: Request, session_id: str):
    """The playground page, read-only, following someone's session."""
    if request.app.state.store.get(session_id) is None:
        return not_found(request, "There is no session here: it has ended or the link is wrong.")
    return page(request, readonly=True, session_id=session_id)


@router.get("/join", response_class=HTMLResponse)
@router.get("/join/", response_class=HTMLResponse)
def join_form(request: Request, code: str = ""):
    """The address students are given: a box for the join code, which leads on to /join/{code}
    (the header's box sends its code here too; an empty one shows the box again)."""
    code = code.strip()
    if code:
        return RedirectResponse(f"/join/{quote(code, safe='')}", status_code=303)
    return request.app.state.templates.TemplateResponse(request, "join.html", {})


@router.get("/join/{code}", response_class=HTMLResponse, dependencies=JOINS)
def join(request: Request, code: str):
    """Follow the session with this join code (a redirect to its watch page)."""
    session = request.app.state.store.by_code(code)
    if session is None:
        join_missed(request)   # guesses are limited per address (app/loop/ratelimit.py)
        return not_found(request, f"No session has the join code “{code}”. Check it on the screen.")
    # a race's code leads to the whole race, not to its first lane alone
    where = f"/race/{session.race}" if session.race else session.watch_url
    return RedirectResponse(where, status_code=303)


def missing_saved(request: Request, saved, code: str, what: str, link: str) -> HTMLResponse | None:
    """None when `code` is in `saved` (sessions or races), else the page that says why not."""
    try:
        found = saved.load(code)
    except StorageUnavailable as err:
        return not_found(request, f"Saved {what}s are unavailable: {err}", status_code=503)
    if found is None:
        return not_found(request, f"No saved {what} has the link {link}.")
    return None


@router.get("/s/{code}", response_class=HTMLResponse)
def saved(request: Request, code: str):
    """A saved session: the page opens it as a new live session and continues there."""
    missing = missing_saved(request, request.app.state.saved, code, "session", f"/s/{code}")
    return missing or page(request, saved_code=code)


@router.get("/fragments/share/{session_id}", response_class=HTMLResponse)
def share(request: Request, session_id: str):
    """The share panel (watch link and join code): the block for htmx, else the watch page."""
    session = request.app.state.store.get(session_id)
    if session is None:
        raise HTTPException(404, "no such session")
    ctx = {"id": session.id, "watch_url": session.watch_url, "join_code": session.join_code,
           "reach": reach(request.app.state.settings), "lecture_command": LECTURE_COMMAND}
    if request.headers.get("HX-Request"):
        return render_block(request, "index.html", "share", {"share": True, **ctx})
    return page(request, readonly=True, session_id=session.id, share=True, **ctx)


@router.get("/fragments/saved/{code}", response_class=HTMLResponse)
def saved_link(request: Request, code: str):
    """The share panel's answer to "save": the saved session's full link, for htmx; else the
    saved session's page itself."""
    missing = missing_saved(request, request.app.state.saved, code, "session", f"/s/{code}")
    if missing:
        return missing
    if not request.headers.get("HX-Request"):
        return page(request, saved_code=code)
    # students' address when they have one (app/classroom/reach.py), else the address this page was
    # opened at
    base = reach(request.app.state.settings).base or str(request.base_url).rstrip("/")
    ctx = {"request": request, "link": f"{base}/s/{code}"}
    return request.app.state.templates.TemplateResponse(request, "saved-link.html", ctx)


@router.get("/fragments/presets", response_class=HTMLResponse)
def presets(request: Request):
    """The lecture-preset menu: the block for htmx, else the page with the menu filled in."""
    ctx = {"presets": list(PRESETS.values())}
    if request.headers.get("HX-Request"):
        return render_block(request, "index.html", "presets", ctx)
    return page(request, **ctx)
