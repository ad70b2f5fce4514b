"""Presenting a lesson: a slide's actions drive the teacher's session, one slide at a time,
and every follower is told which slide is shown (a `lesson` stream message, docs/stream.md).

The position lives with the session's feed (app/loop/feeds.py), so a follower who joins late, or
the teacher's own page after a reload, is sent the slide being shown.
"""

import asyncio

import orjson
from fastapi.exceptions import RequestValidationError

from app.classroom.lesson_actions import ACTIONS, ON_SHOW, ActionFailed, Run
from app.classroom.lessons import Lesson, LessonError, Problem
from app.crossing import Adopt, Rebuild
from app.worker import frames
from engine.errors import EngineError


class Presenter:
    """One lock a session: two slides asked for at once run one after the other, never
    interleaved (a clicker pressed twice). A slide's race (the `race` action) is the
    presentation's: it holds the race's token, and ends the race when another slide is shown
    (going back to the slide starts a new one) or the session ends, so none is left over."""

    def __init__(self, feeds, races=None) -> None:
        self.feeds = feeds
        self.races = races          # app/loop/races.py Races
        self.locks: dict[str, asyncio.Lock] = {}
        self.shown: dict = {}       # session id -> the race its slide plays (app/racing.Race)
        # session id -> ((lesson, digest), {slide: app/crossing.py SlideState}): each slide's state
        # as first reached, adopted again whenever the slide is shown
        self.states: dict = {}

    def lock(self, handle, store) -> asyncio.Lock:
        for gone in [i for i in self.locks if store.get(i) is None]:
            del self.locks[gone]
            self.states.pop(gone, None)
        return self.locks.setdefault(handle.id, asyncio.Lock())

    async def show(self, hub, store, handle, lesson: Lesson, index: int) -> dict:
        """Put the session in slide `index`'s state, start its race, then tell its followers."""
        if not 0 <= index < len(lesson.slides):
            raise LessonError([Problem(lesson.file, 1, "slide",
                                       f"this lesson has slides 0..{len(lesson.slides) - 1}")])
        slide = lesson.slides[index]
        async with self.lock(handle, store):
            self.end_race(handle.id)   # the slide shown before is left
            run = Run(hub, handle, self.races, pace=slide.pace)
            try:
                await self._reach(run, lesson, index)
                await _act(run, lesson, slide, lambda name: name in ON_SHOW)
            except BaseException:
                if run.race is not None:   # a slide that failed shows nothing, nor its race
                    self.races.end(run.race)
                raise
            if run.race is not None:
                self.shown[handle.id] = run.race
            position = {
                "type": "lesson",
                "lesson": lesson.name,
                "title": lesson.title,
                "slide": index,
                "count": len(lesson.slides),
                "highlight": slide.highlight,
                "race": _race(run.race),
                "loss": _loss(slide.loss, run.state),
            }
            self.feeds.of(handle).announce("lesson", frames.dumps(position))
        return position

    async def _reach(self, run: Run, lesson: Lesson, index: int) -> None:
        """The session in the state slide `index`'s actions make from the lesson's start,
        whatever it shows now: the state kept when the slide was first reached, else the
        nearest kept one before it (or the lesson's start) and the slides from there, each
        slide's state kept on the way. The runs replay bit for bit (the compiled loop decides
        every step, whichever are recorded), so a kept state is the one a replay would make."""
        ident, kept = self.states.get(run.handle.id, (None, {}))
        if ident != (lesson.name, lesson.digest):   # another lesson, or this file edited
            kept = {}
            self.states[run.handle.id] = ((lesson.name, lesson.digest), kept)
        if index in kept:
            await run.control(Adopt(kept[index]))
            return
        start = max((i for i in kept if i < index), default=-1)
        if start >= 0:
            await run.control(Adopt(kept[start]))
        else:
            await run.control(Rebuild(config=lesson.start()))
        for i in range(start + 1, index + 1):
            run.quiet = i < index
            await _act(run, lesson, lesson.slides[i], lambda name: name not in ON_SHOW)
            kept[i] = await run.hub.capture(run.handle)

    def end_race(self, session_id: str) -> None:
        race = self.shown.pop(session_id, None)
        if race is not None:
            self.races.end(race)   # nothing when it has ended already (a lane expired)

    def session_gone(self, handle) -> None:
        """The session ended (deleted, expired, evicted): its slide's race ends with it."""
        self.end_race(handle.id)
        self.locks.pop(handle.id, None)
        self.states.pop(handle.id, None)

    def position(self, handle) -> dict | None:
        feed = self.feeds.feeds.get(handle.id)
        text = feed.sticky.get("lesson") if feed is not None else None
        return None if text is None else orjson.loads(text)


async def _act(run: Run, lesson: Lesson, slide, chosen) -> None:
    """The slide's actions whose names are `chosen`, in order; a failure names its line."""
    for action in slide.actions:
        if not chosen(action.name):
            continue
        try:
            await ACTIONS[action.name].run(run, action.args)
        except (ActionFailed, EngineError, RequestValidationError) as err:
            raise LessonError(
                [Problem(lesson.file, action.line, action.field, _message(err))]
            ) from None


def _loss(which: str | None, state: dict) -> dict | None:
    """The loss the slide's narration means (its `loss` field), as the slide's state has it:
    E of the shown step's batch before its update, or the training loss after it."""
    if which is None:
        return None
    if which == "before":
        value = state["record"] and state["record"]["loss"]
    else:
        value = state["metrics"]["train_loss"]
    return {"shown": which, "value": value, "step": state["step"]}


def _race(race) -> dict | None:
    """The `lesson` message's `race` (docs/stream.md): what every follower's page follows."""
    return None if race is None else race.announced()


def _message(err: Exception) -> str:
    if isinstance(err, RequestValidationError):   # over a limit of the server's settings
        return "; ".join(e["msg"] for e in err.errors())
    return str(err)
