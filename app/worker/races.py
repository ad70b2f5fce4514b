"""A race's lanes in their worker (all of a race's lanes live in one): every call takes them
all, so between two calls every lane that has not diverged has taken the same steps.

A lane is an ordinary session of app/worker/process.py; here the same controls and the same slice
(compiled loop, then one recorded step) are applied to every lane at once. Answers are the
lanes' Outcomes, made as app/worker/process.py makes a session's, and the race's body, as bytes.
"""

import json
import time

from app.crossing import Control, Pause, Play, Read, Reset, Step
from app.worker import process as work
from app.worker.session import Session

SLICE_CHUNK_MAX = work.SLICE_CHUNK_MAX


def _lanes(ids: list[str], followers: list[int]) -> list[Session]:
    lanes = [work.SESSIONS[i] for i in ids]
    for session, count in zip(lanes, followers, strict=True):
        session.followers = count
    return lanes


def _status(lanes: list[Session]) -> str:
    statuses = {s.status for s in lanes}
    if "playing" in statuses:
        return "playing"
    return "diverged" if statuses == {"diverged"} else "paused"


def _answer(lanes: list[Session], outcomes: list, body: bool) -> tuple:
    """(outcomes, the race's body or None, status, speed, step)."""
    status = _status(lanes)
    speed = next((s.speed for s in lanes if s.status == "playing"), lanes[0].speed)
    step = max(s.trainer.step_count for s in lanes)
    text = None
    if body:
        head = f'"status":"{status}","speed":{json.dumps(speed)},"step":{step},"lanes":['.encode()
        text = head + b",".join(o.body for o in outcomes) + b"]"
    return outcomes, text, status, speed, step


def _live(lanes: list[Session]) -> list[Session]:
    return [s for s in lanes if s.status != "diverged"]


def _step(lane: Session, steps: int) -> None:
    if lane.trainer.diverged and lane.status != "diverged":
        work.take_steps(lane, 1, after_divergence=True)   # the parts stopped at its diverged step
    elif lane.status != "diverged":
        work.take_steps(lane, steps)


# Race controls: each takes every lane; a diverged lane stays where it stopped.
CONTROLS = {
    Read: lambda lanes, c: None,
    Play: lambda lanes, c: [work.play(s, c.speed) for s in _live(lanes)],
    Pause: lambda lanes, c: [work.pause(s) for s in lanes],
    Reset: lambda lanes, c: [work.reset(s) for s in lanes],
    Step: lambda lanes, c: [_step(s, c.steps) for s in lanes],
}


def race_call(ids: list[str], control: Control, followers: list[int], heatmap: bool) -> tuple:
    """A control on every lane; followers get what it changed."""
    lanes = _lanes(ids, followers)
    if isinstance(control, Step):
        for lane in _live(lanes):
            work.check_cost(lane, control.steps)
    CONTROLS[type(control)](lanes, control)
    outcomes = [
        work.outcome_of(s, work.dumps(work.session_view.session_state(s)), heatmap) for s in lanes
    ]
    return _answer(lanes, outcomes, body=True)


def race_step_part(ids: list[str], steps: int, seconds: float, asked: int | None) -> int:
    """Up to `steps` unrecorded steps of every live lane, about `seconds` in all (a long step
    request in parts, as app/worker/process.py step_part does for one session); answers the steps
    taken, the same for every lane that did not diverge on the way. A lane that diverges
    stops at that step, which the final `step` records."""
    lanes = _live([work.SESSIONS[i] for i in ids])
    if asked is not None:
        for lane in lanes:
            work.check_cost(lane, asked)
    for lane in lanes:
        lane.pause()
    lanes = [s for s in lanes if not s.trainer.diverged]
    if not lanes:
        return 0
    n = min(steps, _fitting(lanes, seconds))
    _advance(lanes, n, lambda lane, k: lane.trainer.advance(k))
    return n


def _fitting(lanes: list[Session], seconds: float) -> int:
    """Steps of every lane that fill about `seconds`, by their measured rates."""
    rate = sum(s.seconds_per_step for s in lanes)   # seconds a step of every lane
    return min(max(1, int(seconds / rate)), SLICE_CHUNK_MAX)


def _advance(lanes: list[Session], n: int, advance) -> None:
    """advance(lane, n) for each lane, each lane's seconds a step measured."""
    if n < 1:
        return
    for lane in lanes:
        started = time.perf_counter()
        advance(lane, n)
        spent = (time.perf_counter() - started) / n
        lane.seconds_per_step = 0.5 * lane.seconds_per_step + 0.5 * spent


def race_round(ids: list[str], budget: float, followers: list[int], heatmap: bool) -> tuple:
    """One frame of a playing race: every playing lane takes the same steps, about `budget`
    seconds of training for all of them (a set speed: the steps due), the last one recorded
    by the NumPy engine; then each lane publishes as a session's slice does."""
    lanes = _lanes(ids, followers)
    playing = [s for s in lanes if s.status == "playing"]
    if playing:
        n = _fitting(playing, budget)
        due = playing[0].due_steps(2.0 / work.SETTINGS.frame_rate)   # the lanes play as one
        if due is not None:
            n = min(n, due)
        _advance(playing, n - 1, Session.advance)   # a lane that diverges stops (and says so)
        for lane in playing if n >= 1 else []:
            if lane.status == "playing":
                lane.step(1)
            lane.changed()
            lane.played_since = playing[0].played_since   # one clock for all
    outcomes = [work.outcome_of(s, None, heatmap) for s in lanes]
    return _answer(lanes, outcomes, body=False)


def race_join(ids: list[str]) -> list:
    """What a new follower of the race needs, every lane as of the same moment."""
    return [work.join(i) for i in ids]


def race_export(ids: list[str]) -> bytes:
    """Every lane's export, as one JSON list (for a save)."""
    return b"[" + b",".join(work.export_bytes(work.SESSIONS[i]) for i in ids) + b"]"
