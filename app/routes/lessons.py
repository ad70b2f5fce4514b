"""Lessons: list and read the teacher's lesson files, present one on a session (its slides
drive the session, its followers see the slide), and the pages that show them."""

import orjson
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from app.classroom.lessons import Lesson, LessonError, lesson_json, listing, load
from app.routes.bodies import Checked
from app.routes.deps import ControlDep, HubDep, SessionDep, SettingsDep, StoreDep
from app.routes.pages import not_found, page
from app.routes.sessions import BAD_BODY, CREATES, LIMITED, open_session
from app.schemas.answers import SessionCreated
from app.schemas.lesson import LessonListed, LessonMove, LessonOut, LessonPosition

router = APIRouter(prefix="/api", tags=["lessons"], route_class=Checked)   # app/routes/bodies.py
pages = APIRouter(include_in_schema=False)
BROKEN = {422: {"description": "the lesson file has an error: file, line and field named"}}


def problems_detail(err: LessonError) -> list[dict]:
    """The 422 detail: each problem as a validation error whose loc names file, line, field."""
    return [
        {"type": "lesson_error", "loc": ["lesson", f"{p.file}:{p.line}: {p.field}"],
         "msg": p.message, "file": p.file, "line": p.line, "field": p.field}
        for p in err.problems
    ]


def lesson_or_error(settings, name: str, field: list[str] | None = None) -> Lesson:
    """The lesson called `name`; none: a 404 when the name is the path's, a 422 naming the
    field when a request body gave it (the session in the path exists)."""
    try:
        lesson = load(settings.lesson_folders, name)
    except LessonError as err:
        raise HTTPException(422, problems_detail(err)) from None
    if lesson is None:
        message = f"no lesson {name!r} in the lessons folder"
        if field is None:
            raise HTTPException(404, message)
        raise HTTPException(422, [{"type": "value_error", "loc": field, "msg": message}])
    return lesson


@router.get("/lessons", response_model=list[LessonListed])
async def list_lessons(settings: SettingsDep):
    """The bundled lessons and a teacher's own (BACKPROP_LESSONS_DIR): title and slide count,
    or the errors of each."""
    return listing(settings.lesson_folders)


@router.get("/lessons/{name}", response_model=LessonOut, responses=BROKEN)
async def read_lesson(name: str, settings: SettingsDep):
    """One lesson: its slides, each narration as HTML with its maths marked for KaTeX."""
    return lesson_json(lesson_or_error(settings, name))


@router.post(
    "/lessons/{name}/present", status_code=201, response_model=SessionCreated,
    responses={**LIMITED, **BROKEN}, dependencies=CREATES,
)
async def present_lesson(name: str, request: Request, store: StoreDep, hub: HubDep):
    """Start a session for a lesson, at its first slide (the state is the one before it)."""
    lesson = lesson_or_error(request.app.state.settings, name)
    response = await open_session(store, hub, "config", lesson.start(), request)
    handle = store.get(orjson.loads(response.body)["id"])
    try:
        await request.app.state.presenter.show(hub, store, handle, lesson, 0)
    except LessonError as err:
        store.remove(handle.id)
        raise HTTPException(422, problems_detail(err)) from None
    return response


@router.post(
    "/sessions/{session_id}/lesson", response_model=LessonPosition,
    responses={**BAD_BODY, **BROKEN},
)
async def show_slide(body: LessonMove, session: ControlDep, request: Request, hub: HubDep,
                     store: StoreDep):
    """Show a lesson's slide: its actions drive the session; followers are sent the slide."""
    lesson = lesson_or_error(request.app.state.settings, body.lesson, ["body", "lesson"])
    try:
        return await request.app.state.presenter.show(hub, store, session, lesson, body.slide)
    except LessonError as err:
        raise HTTPException(422, problems_detail(err)) from None


@router.get("/sessions/{session_id}/lesson", response_model=LessonPosition | None)
async def current_slide(session: SessionDep, request: Request):
    """The lesson and slide the session shows (null when none), as followers were sent it."""
    return request.app.state.presenter.position(session)


@pages.get("/lessons", response_class=HTMLResponse)
def lessons_page(request: Request):
    """The lessons, each a link to present it; a broken one with its errors."""
    return request.app.state.templates.TemplateResponse(
        request, "lessons.html", {"lessons": listing(request.app.state.settings.lesson_folders)}
    )


@pages.get("/lesson/{name}", response_class=HTMLResponse)
def lesson_page(request: Request, name: str):
    """The playground presenting a lesson: ←/→ (and a clicker's page keys) move the slides."""
    try:
        lesson = load(request.app.state.settings.lesson_folders, name)
    except LessonError as err:
        return request.app.state.templates.TemplateResponse(
            request, "lessons.html", {"lessons": [], "broken": name, "problems": err.problems},
            status_code=422,
        )
    if lesson is None:
        return not_found(request, f"There is no lesson “{name}”. See /lessons for the list.")
    return page(request, lesson=lesson.name)
